/**
 * The model card's class list: class names become object keys (probabilities, thresholds) and
 * finding ids, so they must be unique, must have their own threshold (not an inherited
 * property such as toString) and must not be JavaScript's special property names.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { modelCardSchema } from '../../../../src/core/inference/card';
import { REPO_ROOT } from '../../../helpers/corpus';

interface Outputs {
  classes: string[];
  thresholds: Record<string, number>;
  operatingPoints?: { id: string; label: string; thresholds: Record<string, number> }[];
}
const base = fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'resnet-basic-tiny.card.json'), 'utf8');

/** Issues of the fixture card with its outputs edited (JSON.parse, as the loader reads cards). */
function issues(edit: (o: Outputs) => void): string[] {
  const card = JSON.parse(base) as { outputs: Outputs };
  edit(card.outputs);
  const r = modelCardSchema.safeParse(JSON.parse(JSON.stringify(card)));
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

describe('model card classes', () => {
  it('the fixture card is valid', () => assert.deepEqual(issues(() => undefined), []));

  it('refuses a class listed twice', () => {
    assert.deepEqual(issues((o) => (o.classes = ['lung_nodule', 'lung_nodule'])), ["class 'lung_nodule' is listed twice in outputs.classes"]);
  });

  it('needs an own threshold for every class: an inherited property is not one', () => {
    for (const name of ['toString', 'hasOwnProperty', 'valueOf']) {
      assert.deepEqual(issues((o) => (o.classes = [name, 'liver_lesion'])), [`no operating threshold for class '${name}'`], name);
    }
    // with its own threshold such a name is an ordinary class
    assert.deepEqual(issues((o) => ((o.classes = ['toString', 'liver_lesion']), (o.thresholds = { toString: 0.5, liver_lesion: 0.5 }))), []);
    // and an operating point needs its own threshold for it too
    assert.deepEqual(
      issues((o) => {
        o.classes = ['toString', 'liver_lesion'];
        o.thresholds = { toString: 0.5, liver_lesion: 0.5 };
        o.operatingPoints = [{ id: 'strict', label: 'strict', thresholds: { liver_lesion: 0.9 } }];
      }),
      ["operating point 'strict' has no threshold for class 'toString'"],
    );
  });

  it('refuses __proto__, constructor and prototype as class names', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const got = issues((o) => {
        o.classes = [name, 'liver_lesion'];
        o.thresholds = JSON.parse(`{"${name}": 0.5, "liver_lesion": 0.5}`) as Record<string, number>;
      });
      assert.deepEqual(got, [`class name '${name}' is reserved (it is a JavaScript object property); rename the class`], name);
    }
  });
});

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
import { preprocessSpec } from '../../../../src/core/inference/preprocess';
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

/** Issues of the fixture card with any part edited. */
type EditableCard = { schema?: string; onnx: { file: string }; input: { dtype?: string; channels: { index: number }[] } };
function cardIssues(edit: (c: EditableCard) => void): string[] {
  const card = JSON.parse(base) as EditableCard;
  edit(card);
  const r = modelCardSchema.safeParse(JSON.parse(JSON.stringify(card)));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('model card input and file', () => {
  it('places channels by their index: any list order is the same tensor, a gap or a repeat is refused', () => {
    const card = JSON.parse(base) as { input: { channels: { index: number; name: string; window: { level: number; width: number } }[] } };
    const reversed = modelCardSchema.parse({ ...card, input: { ...card.input, channels: [...card.input.channels].reverse() } });
    const straight = modelCardSchema.parse(card);
    assert.deepEqual(preprocessSpec(reversed), preprocessSpec(straight), 'the same tensor whichever order the card lists them in');
    assert.match(cardIssues((c) => ((c.input.channels[0] as { index: number }).index = 5)).join(), /input\.channels: channel indices must be 0\.\.2, each once; the card gives 5, 1, 2/);
    assert.match(cardIssues((c) => ((c.input.channels[1] as { index: number }).index = 0)).join(), /each once; the card gives 0, 0, 2/);
  });

  it('refuses another card schema, a tensor type other than float32, and an ONNX file in another folder', () => {
    assert.deepEqual(cardIssues((c) => delete c.schema), [], 'a hand-written card may leave schema out');
    assert.match(cardIssues((c) => (c.schema = 'resight.model-card/2')).join(), /^schema: unknown card schema: this ReSight reads resight\.model-card\/1/);
    assert.match(cardIssues((c) => (c.input.dtype = 'float16')).join(), /^input\.dtype: ReSight feeds the model float32 tensors/);
    assert.deepEqual(cardIssues((c) => delete c.input.dtype), []);
    assert.match(cardIssues((c) => (c.onnx.file = 'sub/model.onnx')).join(), /^onnx\.file: 'sub\/model\.onnx': give the file name only; the ONNX file must sit beside its card/);
    assert.match(cardIssues((c) => (c.onnx.file = '..\\model.onnx')).join(), /give the file name only/);
  });
});

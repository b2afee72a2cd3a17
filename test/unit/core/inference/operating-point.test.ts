/**
 * Operating points: a card's `outputs.thresholds` is its default point; `outputs.operatingPoints`
 * may name others. The default is listed first (under the name of the listed point it equals),
 * an id the card lacks falls back to the default and says why, and the card schema refuses a
 * point that misses a class or repeats an id.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { modelCardSchema, type ModelCard } from '../../../../src/core/inference/card';
import { operatingPoints, resolveOperatingPoint, thresholdsEqual } from '../../../../src/core/inference/operating-point';
import { REPO_ROOT } from '../../../helpers/corpus';

const shipped = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json'), 'utf8')) as Record<string, unknown> & { outputs: Record<string, unknown> };

function card(outputs: Record<string, unknown>): ModelCard {
  return modelCardSchema.parse({ ...shipped, outputs: { ...shipped.outputs, classes: ['a', 'b'], thresholds: { a: 0.3, b: 0.4 }, operatingPoints: undefined, ...outputs } });
}

const balanced = { id: 'balanced', label: 'Balanced', thresholds: { a: 0.3, b: 0.4 } };
const strict = { id: 'specificity-90', label: 'High specificity', thresholds: { a: 0.7, b: 0.6 } };

describe('operating points', () => {
  it('a card without named points offers its thresholds as the one default point', () => {
    const c = card({});
    assert.deepEqual(operatingPoints(c), [{ id: 'default', label: "The card's operating thresholds", thresholds: { a: 0.3, b: 0.4 } }]);
    assert.deepEqual(resolveOperatingPoint(c).thresholds, { a: 0.3, b: 0.4 });
  });

  it('the default point takes the name of the listed point with the same thresholds, and comes first', () => {
    const c = card({ operatingPoints: [strict, balanced] });
    assert.deepEqual(operatingPoints(c).map((p) => p.id), ['balanced', 'specificity-90']);
    assert.equal(resolveOperatingPoint(c).id, 'balanced');
    assert.deepEqual(resolveOperatingPoint(c, 'specificity-90'), { ...strict });
  });

  it('listed points that all differ from the thresholds follow a default point', () => {
    const c = card({ operatingPoints: [strict] });
    assert.deepEqual(operatingPoints(c).map((p) => p.id), ['default', 'specificity-90']);
  });

  it('an id the card does not have gives the default, with the reason naming the ids it has', () => {
    const r = resolveOperatingPoint(card({ operatingPoints: [balanced, strict] }), 'sensitivity-95');
    assert.equal(r.id, 'balanced');
    assert.deepEqual(r.thresholds, balanced.thresholds);
    assert.match(r.fallback ?? '', /'sensitivity-95' is not in .*balanced, specificity-90.*using 'balanced'/);
    assert.match(r.notFound ?? '', /'sensitivity-95' is not in .*\(it has balanced, specificity-90\)$/, 'the reason alone, for a caller that refuses');
    assert.equal(resolveOperatingPoint(card({ operatingPoints: [balanced, strict] }), 'balanced').notFound, undefined);
  });

  it('the card schema refuses a point without a threshold for every class, a repeated, reserved or malformed id', () => {
    const bad = (ops: unknown[]) => modelCardSchema.safeParse({ ...shipped, outputs: { ...shipped.outputs, classes: ['a', 'b'], thresholds: { a: 0.3, b: 0.4 }, operatingPoints: ops } });
    const missing = bad([{ id: 'x', label: 'X', thresholds: { a: 0.5 } }]);
    assert.equal(missing.success, false);
    assert.match(JSON.stringify(missing.error?.issues), /operating point 'x' has no threshold for class 'b'/);
    const twice = bad([strict, strict]);
    assert.match(JSON.stringify(twice.error?.issues), /listed twice/);
    assert.equal(bad([{ ...strict, id: 'Has Spaces' }]).success, false);
    assert.match(JSON.stringify(bad([{ ...strict, id: 'default' }]).error?.issues), /reserved/);
    assert.equal(bad([{ ...strict, thresholds: { a: 1.5, b: 0.5 } }]).success, false);
  });

  it('thresholds compare per class; a record without thresholds never matches', () => {
    assert.equal(thresholdsEqual({ a: 0.3, b: 0.4 }, { b: 0.4, a: 0.3 }, ['a', 'b']), true);
    assert.equal(thresholdsEqual({ a: 0.3, b: 0.41 }, { a: 0.3, b: 0.4 }, ['a', 'b']), false);
    assert.equal(thresholdsEqual(undefined, { a: 0.3 }, ['a']), false);
  });
});

/**
 * The score strip's colours (components/ScoreStrip.tsx): a positive slice is as red as the model
 * is sure, so a finding it barely calls does not look like one it is certain of.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoreColour } from '../../../../src/renderer/components/score-colour';

const red = (c: string) => Number(/^rgb\((\d+),/.exec(c)?.[1]);
const th = { liver_lesion: 0.162, lung_nodule: 0.274 };
const at = (cls: keyof typeof th, p: number) => scoreColour({ cls, p, ratio: p / th[cls] }, th);

describe('score strip colours', () => {
  it('a weak positive (p 0.29 over a threshold of 0.16) is a dull red, a sure one (p 0.998) a bright one', () => {
    assert.ok(red(at('liver_lesion', 0.998)) - red(at('liver_lesion', 0.29)) >= 80, `${at('liver_lesion', 0.29)} vs ${at('liver_lesion', 0.998)}`);
    assert.equal(at('liver_lesion', 1), 'rgb(255,40,40)');
  });

  it('grows redder with the probability above the threshold, and stays apart from the negatives below it', () => {
    const reds = [0.3, 0.45, 0.6, 0.8, 0.95, 1].map((p) => red(at('lung_nodule', p)));
    assert.deepEqual([...reds].sort((a, b) => a - b), reds);
    assert.ok(new Set(reds).size === reds.length);
    // below the threshold: the olive scale, no red
    assert.match(at('lung_nodule', 0.2), /^rgb\(\d+,\d+,40\)$/);
    assert.ok(red(at('lung_nodule', 0.2)) < 130 + 1 && scoreColour(null, th) === 'rgb(40,40,40)');
  });
});

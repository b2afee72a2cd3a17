/**
 * The model card dialog's numbers: taken from the card's held-out metrics as they are, and a card
 * that holds less (a bring-your-own model) shows less, never invented figures.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cardMetrics } from '../../../../src/renderer/components/card-metrics';
import { REPO_ROOT } from '../../../helpers/corpus';

const card = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json'), 'utf8')) as { metrics: { perClass: Record<string, { rocAuc: number; sizeBins: { lesionSensitivity: number }[] }>; operatingPoints: unknown[] } };

describe('cardMetrics', () => {
  it('reads the shipped card: AUC with its interval per class, every operating point, and sensitivity by size', () => {
    const m = cardMetrics(card);
    assert.ok(m);
    assert.deepEqual(Object.keys(m.perClass), ['lung_nodule', 'liver_lesion']);
    assert.equal(m.perClass.lung_nodule.rocAuc, card.metrics.perClass.lung_nodule.rocAuc);
    assert.equal(m.perClass.lung_nodule.rocAuc95ci?.length, 2);
    assert.equal(m.operatingPoints.length, card.metrics.operatingPoints.length);
    assert.deepEqual(m.operatingPoints.map((p) => p.id), ['balanced', 'specificity-90', 'sensitivity-95']);
    const small = m.perClass.lung_nodule.sizeBins?.[0];
    assert.equal(small?.label, '< 8 mm');
    assert.equal(small?.lesionSensitivity, card.metrics.perClass.lung_nodule.sizeBins[0].lesionSensitivity);
  });

  it('a card without metrics, or with shapes it does not know, gives nothing rather than guesses', () => {
    assert.equal(cardMetrics({}), null);
    assert.equal(cardMetrics({ metrics: { perClass: { a: 'x' }, operatingPoints: [{ id: 1 }] } }), null);
    const partial = cardMetrics({ metrics: { perClass: { a: { rocAuc: 0.9, rocAuc95ci: [0.8, 'x'] } } } });
    assert.deepEqual(partial, { perClass: { a: { rocAuc: 0.9 } }, operatingPoints: [] });
  });

  it('a card with figures only at its operating points still gets a column per class', () => {
    const m = cardMetrics({ metrics: { operatingPoints: [{ id: 'a', label: 'A', perClass: { lung_nodule: { sensitivity: 0.9, specificity: 0.8 } } }] } });
    assert.deepEqual(Object.keys(m?.perClass ?? {}), ['lung_nodule']);
    assert.equal(m?.operatingPoints[0]?.perClass.lung_nodule?.sensitivity, 0.9);
  });
});

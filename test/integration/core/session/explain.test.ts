/**
 * A heatmap is the evidence for the model's scores: the session gives one only for a series the
 * model has scored, never for one it has not analysed (the viewer would show it as AI evidence).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dispatch } from '../../../../src/core/session/dispatch';
import { Session } from '../../../../src/core/session/session';
import { DEMO } from '../../../helpers/session';

describe('Session.explain', () => {
  it('refuses a heatmap before the series is analysed and gives it after', { timeout: 120_000 }, async (t) => {
    const s = new Session({ cacheDir: null, audit: null, sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => s.dispose());
    s.grant([DEMO]);
    const seriesId = (await s.open({ paths: [DEMO] })).studies[0]?.series[0]?.id as string;
    const before = await dispatch(s, 'explain.slice', { seriesId, slice: 33 });
    assert.ok(!before.ok);
    assert.equal(before.error.code, 'VALIDATION');
    assert.match(before.error.message, /analyse this series before asking for its heatmap/);
    const ended = new Promise<string>((resolve) => s.onEvent((e) => (e === 'analysis.done' || e === 'analysis.failed') && resolve(e)));
    s.startAnalysis({ seriesId });
    assert.equal(await ended, 'analysis.done');
    const after = await s.explain({ seriesId, slice: 33 });
    assert.ok(after.max > 0);
  });
});

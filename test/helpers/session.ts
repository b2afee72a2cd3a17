/**
 * A Session (the engine behind both transports) with the demo study open and analysed, for tests
 * of what comes after an analysis (exports, sending them).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Session } from '../../src/core/session/session';
import type { SessionOptions } from '../../src/core/session/session';
import { REPO_ROOT } from './corpus';

export const DEMO = path.join(REPO_ROOT, 'resources', 'demo');

export async function analysedDemo(t: { after: (fn: () => void | Promise<void>) => void }, opts: Partial<SessionOptions>): Promise<{ s: Session; seriesId: string }> {
  const s = new Session({ cacheDir: null, sliceUrl: (id) => `/s/${id}/{i}`, ...opts });
  t.after(() => s.dispose());
  s.grant([DEMO]);
  const seriesId = (await s.open({ paths: [DEMO] })).studies[0].series[0].id;
  const ended = new Promise<string>((resolve) => s.onEvent((e) => (e === 'analysis.done' || e === 'analysis.failed') && resolve(e)));
  s.startAnalysis({ seriesId });
  assert.equal(await ended, 'analysis.done');
  return { s, seriesId };
}

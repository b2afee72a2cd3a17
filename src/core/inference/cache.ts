/**
 * On-disk cache of series analyses, so reopening a study shows its AI results at once.
 * Keyed by what determines the result and nothing else: the model's sha256, the series UID and
 * the exact instances/frames in volume order (a re-sent series with an extra slice is a new
 * key), plus a format version. Not keyed by provider: GPU and CPU agree to ~1e-3 and a result
 * must not change because the user switched provider. Not keyed by the operating point either:
 * the slice scores are the result, and another point's findings are re-drawn from them.
 *
 * The cache lives in the app's own data folder (never the study folder). An entry is written
 * atomically and only for a complete analysis: a cancelled or failed run leaves nothing.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SeriesAnalysis } from '../../shared/analysis';
import type { AssembledSeries } from '../dicom/series';
import { writeFileAtomic } from '../io/atomic';

// v2: findings carry CAM centroids.
const FORMAT = 'resight.analysis-cache/2';

/** The app data folder (reviews, settings): RESIGHT_DATA_DIR, else the OS convention. */
export function defaultDataDir(): string {
  if (process.env.RESIGHT_DATA_DIR) return process.env.RESIGHT_DATA_DIR;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'ReSight');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'ReSight');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'resight');
}

/** Where cached analyses go when the caller does not say: RESIGHT_CACHE_DIR, else the OS cache folder. */
export function defaultCacheDir(): string {
  if (process.env.RESIGHT_CACHE_DIR) return process.env.RESIGHT_CACHE_DIR;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'ReSight', 'Cache', 'analysis');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'ReSight', 'analysis');
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'resight', 'analysis');
}

export function cacheKey(modelSha256: string, series: AssembledSeries, insistedModality: boolean): string {
  const h = createHash('sha256');
  h.update(`${FORMAT}\n${modelSha256}\n${series.seriesInstanceUid}\n${series.id}\n${insistedModality ? 1 : 0}\n`);
  for (const s of series.ordered) h.update(`${s.sopInstanceUid}/${s.frame}\n`);
  return h.digest('hex');
}

export class ResultCache {
  constructor(readonly dir: string = defaultCacheDir()) {}

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  get(key: string): SeriesAnalysis | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as { format?: string; key?: string; analysis?: SeriesAnalysis };
      if (entry.format !== FORMAT || entry.key !== key || !entry.analysis || !Array.isArray(entry.analysis.slices)) return undefined;
      return entry.analysis;
    } catch {
      return undefined; // a damaged entry is a miss; the next complete run overwrites it
    }
  }

  put(key: string, analysis: SeriesAnalysis): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file(key), JSON.stringify({ format: FORMAT, key, analysis: { ...analysis, cached: false } }));
  }

  entries(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  }
}

/**
 * On-disk cache of series analyses, so reopening a study shows its AI results at once.
 * Keyed by what determines the result and nothing else: the model's sha256 and the parts of its
 * card that change the scores or the findings' hot spots (preprocessing, outputs, classes,
 * activation, the CAM layer; not the thresholds), the series UID and the exact instances/frames
 * in volume order (a re-sent series with an extra slice is a new key) with each file's path, size
 * and modification time (a file rewritten in place is a new key), plus a format version. An
 * analysis in which a slice could not be read or decoded is not stored at all: the cause may not
 * be in the file (a permission since fixed, a network share's hiccup), and the next run tries again. Not keyed by provider: GPU and CPU agree to ~1e-3 and a result
 * must not change because the user switched provider. Not keyed by the operating point either:
 * the slice scores are the result, and another point's findings are re-drawn from them.
 *
 * The cache lives in the app's own data folder (never the study folder). An entry is written
 * atomically and only for a complete analysis: a cancelled or failed run leaves nothing. A cache
 * that cannot be written (a read-only home, a file where its folder should be) costs the next run
 * its speed, never this run its result: `put` reports the problem to `onError` and carries on.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SeriesAnalysis } from '../../shared/analysis';
import type { AssembledSeries } from '../dicom/series';
import { writeFileAtomic } from '../io/atomic';
import type { ModelCard } from './card';
import { absoluteEnv } from '../settings/env';

// v2: findings carry CAM centroids. v3: keyed by the card and the files too.
const FORMAT = 'resight.analysis-cache/3';

/** The app data folder (reviews, settings): RESIGHT_DATA_DIR, else the OS convention. */
export function defaultDataDir(): string {
  const own = absoluteEnv('RESIGHT_DATA_DIR');
  if (own) return own;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'ReSight');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'ReSight');
  return path.join(absoluteEnv('XDG_DATA_HOME') ?? path.join(home, '.local', 'share'), 'resight');
}

/** Where cached analyses go when the caller does not say: RESIGHT_CACHE_DIR, else the OS cache folder. */
export function defaultCacheDir(): string {
  const own = absoluteEnv('RESIGHT_CACHE_DIR');
  if (own) return own;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'ReSight', 'Cache', 'analysis');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'ReSight', 'analysis');
  return path.join(absoluteEnv('XDG_CACHE_HOME') ?? path.join(home, '.cache'), 'resight', 'analysis');
}

/** What of a model card changes a series' scores or its findings' hot spots: not its thresholds
 * (findings are drawn again from cached scores at other ones), nor its texts. */
export function cardFingerprint(card: Pick<ModelCard, 'input' | 'outputs' | 'cam'>): string {
  const { thresholds: _t, operatingPoints: _o, ...outputs } = card.outputs;
  return JSON.stringify({ input: card.input, outputs, camLayer: card.cam?.defaultLayer ?? null });
}

/** A file as the cache knows it: path, size and modification time ('missing' when it cannot be read). */
async function fileIdentity(p: string): Promise<string> {
  try {
    const st = await fs.promises.stat(p);
    return `${p}\t${st.size}\t${st.mtimeMs}`;
  } catch {
    return `${p}\tmissing`;
  }
}

/** The key of a series' analysis. Asynchronous: it looks at every file (a share of thousands must not stall the engine's event loop). */
export async function cacheKey(modelSha256: string, card: Pick<ModelCard, 'input' | 'outputs' | 'cam'>, series: AssembledSeries, insistedModality: boolean): Promise<string> {
  const paths = [...new Set(series.ordered.map((s) => s.path))];
  const ids = new Map<string, string>();
  // in batches: a few hundred stats in flight at most
  for (let i = 0; i < paths.length; i += 256) {
    const batch = paths.slice(i, i + 256);
    (await Promise.all(batch.map(fileIdentity))).forEach((id, j) => ids.set(batch[j] as string, id));
  }
  const h = createHash('sha256');
  h.update(`${FORMAT}\n${modelSha256}\n${cardFingerprint(card)}\n${series.seriesInstanceUid}\n${series.id}\n${insistedModality ? 1 : 0}\n`);
  for (const s of series.ordered) h.update(`${s.sopInstanceUid}/${s.frame}\t${ids.get(s.path) as string}\n`);
  return h.digest('hex');
}

export class ResultCache {
  constructor(
    readonly dir: string = defaultCacheDir(),
    private readonly onError?: (message: string) => void,
  ) {}

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  get(key: string): SeriesAnalysis | undefined {
    let text: string;
    try {
      const fd = fs.openSync(this.file(key), 'r');
      try {
        // an entry another account wrote, or could have changed, is not trusted: in a shared cache
        // folder it could carry scores that hide a finding
        const st = fs.fstatSync(fd);
        if (process.platform !== 'win32' && ((typeof process.getuid === 'function' && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0)) return undefined;
        text = fs.readFileSync(fd, 'utf8');
      } finally {
        fs.closeSync(fd);
      }
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

  /** Store an analysis; false (and `onError` told why) when the cache folder cannot take it. */
  put(key: string, analysis: SeriesAnalysis): boolean {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file(key), JSON.stringify({ format: FORMAT, key, analysis: { ...analysis, cached: false } }));
      return true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.onError?.(`the result cache ${this.dir} cannot be written (${e.code ?? e.message}): results are not cached (set RESIGHT_CACHE_DIR to a writable folder, or use --no-cache)`);
      return false;
    }
  }

  entries(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  }
}

/**
 * The inference engine on real DICOM and real ONNX models: it refuses models whose bytes or
 * graph do not match their card, falls back from an unavailable provider to the CPU and says
 * why, scores a series the same whatever the batch size, caches complete results only,
 * survives undecodable slices, guards the modality, and keeps its CPU work off the event loop.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { scanPaths } from '../../../../src/core/dicom/scan';
import type { AssembledSeries } from '../../../../src/core/dicom/series';
import type { ResightError } from '../../../../src/core/errors';
import { ResultCache } from '../../../../src/core/inference/cache';
import { Explainer } from '../../../../src/core/explain/explainer';
import { InferenceEngine } from '../../../../src/core/inference/engine';
import type { LoadedModel } from '../../../../src/core/inference/model';
import { loadModel } from '../../../../src/core/inference/model';
import { defaultProbe } from '../../../../src/core/inference/providers';
import { VolumeCache } from '../../../../src/core/imaging/volume';
import { WorkerPool } from '../../../../src/core/workers/pool';
import type { ProviderName, SeriesAnalysis } from '../../../../src/shared/analysis';
import { FALLBACK_KINDS } from '../../../../src/shared/analysis';
import { corpusPath, REPO_ROOT } from '../../../helpers/corpus';
import { tempDir } from '../../../helpers/tmp';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');
const DEFAULT_CARD = path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json');
const TINY_CARD = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'resnet-basic-tiny.card.json');

let demo: AssembledSeries;
let pool: WorkerPool;
let engine: InferenceEngine;
let model: LoadedModel;

before(async () => {
  const scan = await scanPaths([DEMO]);
  demo = scan.studies[0].series[0];
  pool = new WorkerPool(2);
  engine = new InferenceEngine({ volumes: new VolumeCache({ pool }) });
  model = await engine.model(DEFAULT_CARD, { force: 'cpu' });
});

after(async () => {
  await engine.release();
  await pool.close();
});

/** A copy of a model's card and ONNX file in `dir`, with the card edited by `edit`. */
interface CardJson {
  onnx: { file: string; sha256: string };
  input: { tensor: string; shape: (string | number)[]; resampling: { size: number[] } };
  outputs: { classes: string[]; thresholds: Record<string, number> };
}

function copyModel(dir: string, card: string, edit: (c: CardJson) => void): string {
  const c = JSON.parse(fs.readFileSync(card, 'utf8')) as CardJson;
  fs.copyFileSync(path.join(path.dirname(card), c.onnx.file), path.join(dir, c.onnx.file));
  edit(c);
  const out = path.join(dir, path.basename(card));
  fs.writeFileSync(out, JSON.stringify(c));
  return out;
}

const probsOf = (a: SeriesAnalysis) => a.slices.map((s) => (s.probabilities ? Object.values(s.probabilities) : null));

describe('loading a model', () => {
  it('checks the card against the graph and reports the provider', () => {
    assert.equal(model.provider.used, 'cpu');
    assert.deepEqual(model.provider.fallbacks, []);
    assert.equal(model.identity.sha256, JSON.parse(fs.readFileSync(DEFAULT_CARD, 'utf8')).onnx.sha256);
    assert.equal(model.fixedBatch, null);
    assert.equal(model.probabilitiesOutput, 'probabilities');
  });

  it('refuses a model whose bytes do not match the card sha256, and loads it once fixed', async (t) => {
    const dir = tempDir(t, 'model');
    const good = JSON.parse(fs.readFileSync(TINY_CARD, 'utf8')).onnx.sha256 as string;
    const card = copyModel(dir, TINY_CARD, (c) => (c.onnx.sha256 = '0'.repeat(64)));
    await assert.rejects(engine.model(card, { force: 'cpu' }), (e: ResightError) => e.code === 'MODEL_HASH_MISMATCH' && e.message.includes('refusing'));
    copyModel(dir, TINY_CARD, (c) => (c.onnx.sha256 = good));
    const m = await engine.model(card, { force: 'cpu' });
    assert.equal(m.identity.sha256, good);
    // the hash in upper case (Windows' Get-FileHash prints it so) is the same hash
    const upper = path.join(tempDir(t, 'upper'), 'x');
    fs.mkdirSync(upper);
    const m2 = await engine.model(copyModel(upper, TINY_CARD, (c) => (c.onnx.sha256 = good.toUpperCase())), { force: 'cpu' });
    assert.equal(m2.identity.sha256, good, 'and is given in lower case');
  });

  it('refuses a card that describes another input shape than the graph has', async (t) => {
    const card = copyModel(tempDir(t, 'model'), TINY_CARD, (c) => {
      c.input.shape = ['N', 3, 128, 128];
      c.input.resampling.size = [128, 128];
    });
    await assert.rejects(loadModel(card, { force: 'cpu' }), (e: ResightError) => e.code === 'MODEL_INVALID' && /shape \[N, 3, 96, 96\].*\[N, 3, 128, 128\]/.test(e.message));
  });

  it('refuses a card that names a tensor the graph does not have, or the wrong class count', async (t) => {
    const a = copyModel(tempDir(t, 'model'), TINY_CARD, (c) => (c.input.tensor = 'pixels'));
    await assert.rejects(loadModel(a, { force: 'cpu' }), (e: ResightError) => e.code === 'MODEL_INVALID' && e.message.includes("no input tensor 'pixels'"));
    const b = copyModel(tempDir(t, 'model'), TINY_CARD, (c) => {
      c.outputs.classes = ['a', 'b', 'c'];
      c.outputs.thresholds = { a: 0.5, b: 0.5, c: 0.5 };
    });
    await assert.rejects(loadModel(b, { force: 'cpu' }), (e: ResightError) => e.code === 'MODEL_INVALID' && e.message.includes('3 classes'));
  });

  it('falls back from a provider this platform lacks to the CPU and says why', async () => {
    const absent: ProviderName = process.platform === 'darwin' ? 'dml' : 'coreml';
    const m = await loadModel(TINY_CARD, { force: absent });
    try {
      assert.equal(m.provider.used, 'cpu');
      assert.deepEqual(m.provider.requested, [absent, 'cpu']);
      assert.equal(m.provider.fallbacks.length, 1);
      assert.equal(m.provider.fallbacks[0].provider, absent);
      assert.match(m.provider.fallbacks[0].reason, /not available in onnxruntime-node on/);
      assert.equal(m.provider.fallbacks[0].kind, 'not-built');
    } finally {
      await m.session.release();
    }
  });
});

describe('probing GPU providers', () => {
  it('a provider the probe rejects is skipped with the probe\'s reason, and the CPU is never probed', async () => {
    const asked: string[] = [];
    const m = await loadModel(TINY_CARD, {
      preference: ['webgpu', 'cpu'],
      probe: (p) => {
        asked.push(p);
        return Promise.resolve({ kind: 'failed' as const, reason: 'no GPU in this test' });
      },
    });
    try {
      assert.deepEqual(asked, ['webgpu']);
      assert.equal(m.provider.used, 'cpu');
      assert.deepEqual(m.provider.fallbacks, [{ provider: 'webgpu', kind: 'failed', reason: 'no GPU in this test' }]);
    } finally {
      await m.session.release();
    }
  });

  it('the default WebGPU probe runs in a child process, once per model, and answers', async () => {
    const onnx = path.join(path.dirname(TINY_CARD), 'resnet-basic-tiny.onnx');
    const first = defaultProbe('webgpu', onnx);
    assert.equal(defaultProbe('webgpu', onnx), first, 'cached');
    const answer = await first;
    assert.ok(answer === null || (FALLBACK_KINDS.includes(answer.kind) && answer.reason.length > 0), JSON.stringify(answer));
  });
});

describe('analyzing a series', () => {
  let reference: SeriesAnalysis;

  it('scores every slice of the demo study and finds each ground-truth lesion', async () => {
    const r = await engine.analyze(model, [demo]);
    reference = r.series[0];
    assert.equal(r.provider, 'cpu');
    assert.equal(reference.scored, true);
    assert.equal(reference.slices.length, 45);
    for (const s of reference.slices) {
      assert.ok(s.probabilities, `slice ${s.index} scored`);
      for (const p of Object.values(s.probabilities)) assert.ok(p >= 0 && p <= 1);
    }
    assert.equal(r.timing.slicesScored, 45);
    const truth = JSON.parse(fs.readFileSync(path.join(DEMO, 'ground-truth.json'), 'utf8')) as { lesions: { class: string; slices: [number, number] }[] };
    for (const l of truth.lesions) {
      const hit = reference.findings.find((f) => f.class === l.class && f.sliceStart <= l.slices[1] && f.sliceEnd >= l.slices[0]);
      assert.ok(hit, `${l.class} on slices ${l.slices.join('-')} is overlapped by a finding`);
      assert.ok(hit.score >= hit.threshold);
      assert.ok(hit.keySlice >= hit.sliceStart && hit.keySlice <= hit.sliceEnd);
      assert.equal(hit.keySopInstanceUid, reference.slices[hit.keySlice].sopInstanceUid);
    }
    const { defaultLayer } = (JSON.parse(fs.readFileSync(DEFAULT_CARD, 'utf8')) as { cam: { defaultLayer: string } }).cam;
    const explainer = new Explainer();
    try {
      for (const f of reference.findings) {
        assert.equal(f.centroidSource, `gradcam@${defaultLayer}`);
        const [x, y] = f.centroid ?? [NaN, NaN];
        assert.ok(x >= 0 && x < demo.columns && y >= 0 && y < demo.rows, `${f.id} centroid (${x}, ${y}) inside the slice`);
        // the map's top, as the viewer's heatmap of the key slice has it (its scale in model units starts there)
        const values = await engine.volumes.slice(demo, f.keySlice);
        const e = await explainer.explainSlice(model, { values, rows: demo.rows, columns: demo.columns, paddingRange: engine.volumes.peek(demo)?.paddingRange }, { class: f.class });
        const top = e.cam.map.reduce((m, v) => Math.max(m, v), 0);
        assert.ok(top > 0 && Math.abs((f.camMax ?? NaN) - top) <= 1e-4 * top, `${f.id}: camMax ${f.camMax}, the key slice's map ${top}`);
      }
    } finally {
      await explainer.release();
    }
  });

  it('without localization, findings have no centroid', async () => {
    const r = await engine.analyze(model, [demo], { localize: false });
    assert.ok(r.series[0].findings.length > 0);
    assert.ok(r.series[0].findings.every((f) => f.centroid === null));
  });

  it('gives the same probabilities whatever the batch size (within 1e-5)', async () => {
    for (const batchSize of [1, 7, 45]) {
      const r = await engine.analyze(model, [demo], { batchSize });
      const got = probsOf(r.series[0]);
      const want = probsOf(reference);
      got.forEach((row, i) => row!.forEach((p, c) => assert.ok(Math.abs(p - want[i]![c]) <= 1e-5, `batch ${batchSize}, slice ${i}, class ${c}: ${p} vs ${want[i]![c]}`)));
    }
  });

  it('reports progress per batch with rate and ETA', async () => {
    const events: { done: number; total: number; eta: number | null }[] = [];
    await engine.analyze(model, [demo], { batchSize: 10, onProgress: (p) => events.push({ done: p.done, total: p.total, eta: p.etaSeconds }) });
    assert.deepEqual(events.map((e) => e.done), [10, 20, 30, 40, 45]);
    assert.ok(events.every((e) => e.total === 45 && e.eta !== null && e.eta >= 0));
    assert.equal(events[events.length - 1].eta, 0);
  });

  it('serves a second run from the cache, keyed by the model; --no-cache bypasses it', async (t) => {
    const cache = new ResultCache(tempDir(t, 'cache'));
    const first = await engine.analyze(model, [demo], { cache });
    assert.equal(first.series[0].cached, false);
    assert.equal(cache.entries().length, 1);
    const second = await engine.analyze(model, [demo], { cache });
    assert.equal(second.series[0].cached, true);
    assert.equal(second.timing.slicesScored, 0);
    assert.deepEqual(probsOf(second.series[0]), probsOf(first.series[0]));
    assert.deepEqual(second.series[0].findings, first.series[0].findings);
    // Another model (another sha256) misses.
    const tiny = await engine.model(TINY_CARD, { force: 'cpu' });
    const other = await engine.analyze(tiny, [demo], { cache });
    assert.equal(other.series[0].cached, false);
    assert.equal(cache.entries().length, 2);
    const uncached = await engine.analyze(model, [demo], { cache: null });
    assert.equal(uncached.series[0].cached, false);
  });

  it('a card that preprocesses differently, or names other classes, misses the cache; other thresholds do not', async (t) => {
    const cache = new ResultCache(tempDir(t, 'cache'));
    await engine.analyze(model, [demo], { cache });
    const dir = tempDir(t, 'cards');
    const variant = async (name: string, edit: (c: CardJson & { input: { channels?: { window: { level: number; width: number } }[] } }) => void) => {
      fs.mkdirSync(path.join(dir, name));
      return engine.model(copyModel(path.join(dir, name), DEFAULT_CARD, edit as (c: CardJson) => void), { force: 'cpu' });
    };
    const windows = await variant('windows', (c) => {
      const w = c.input.channels?.[0]?.window;
      assert.ok(w, 'the card defines its channels by window');
      w.width *= 2;
    });
    assert.equal((await engine.analyze(windows, [demo], { cache })).series[0].cached, false, 'same ONNX file, other windows: scored again');
    const renamed = await variant('classes', (c) => {
      c.outputs.classes = c.outputs.classes.map((x) => `${x}_v2`);
      c.outputs.thresholds = Object.fromEntries(Object.entries(c.outputs.thresholds).map(([k, v]) => [`${k}_v2`, v]));
      delete (c.outputs as { operatingPoints?: unknown }).operatingPoints;
    });
    const r = (await engine.analyze(renamed, [demo], { cache })).series[0];
    assert.equal(r.cached, false, 'renamed classes: scored again');
    assert.ok(r.findings.length > 0 && r.findings.every((f) => f.class.endsWith('_v2')), 'with findings under the new names');
    const stricter = await variant('thresholds', (c) => {
      for (const k of Object.keys(c.outputs.thresholds)) c.outputs.thresholds[k] = 0.9;
    });
    assert.equal((await engine.analyze(stricter, [demo], { cache })).series[0].cached, true, 'only thresholds: the scores are reused');
  });

  it('an analysis with a slice that could not be read is not cached: the file copied again is scored', async (t) => {
    const cache = new ResultCache(tempDir(t, 'cache'));
    const dir = tempDir(t, 'recopied');
    for (const f of fs.readdirSync(DEMO).filter((f) => f.endsWith('.dcm'))) fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
    fs.truncateSync(path.join(dir, 'CT0010.dcm'), 100_000);
    const broken = (await engine.analyze(model, [(await scanPaths([dir])).studies[0].series[0]], { cache })).series[0];
    assert.equal(broken.slices[9].probabilities, null);
    assert.equal(cache.entries().length, 0, 'the cause may lie outside the file (a permission, a share): not kept');
    fs.copyFileSync(path.join(DEMO, 'CT0010.dcm'), path.join(dir, 'CT0010.dcm'));
    const fixed = (await engine.analyze(model, [(await scanPaths([dir])).studies[0].series[0]], { cache })).series[0];
    assert.equal(fixed.cached, false);
    assert.notEqual(fixed.slices[9].probabilities, null, 'the slice is scored now');
    assert.equal(cache.entries().length, 1);
  });

  it('a file rewritten in place (same size, same UIDs, other pixels) is scored again, not served from the cache', async (t) => {
    const cache = new ResultCache(tempDir(t, 'cache'));
    const dir = tempDir(t, 'rewritten');
    for (const f of fs.readdirSync(DEMO).filter((f) => f.endsWith('.dcm'))) fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
    const first = (await engine.analyze(model, [(await scanPaths([dir])).studies[0].series[0]], { cache })).series[0];
    // the last 64 KiB of the pixel data of slice index 33 (a nodule slice) set to one value: same size
    const file = path.join(dir, 'CT0034.dcm');
    const bytes = fs.readFileSync(file);
    bytes.fill(0x40, bytes.length - 65536);
    fs.writeFileSync(file, bytes);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(file, later, later);
    const again = (await engine.analyze(model, [(await scanPaths([dir])).studies[0].series[0]], { cache })).series[0];
    assert.equal(again.cached, false, 'a new key: the file is not what was scored');
    assert.notDeepEqual(again.slices[33].probabilities, first.slices[33].probabilities, 'and its slice scores as it is now');
  });

  it('a cache folder that cannot be written leaves the analysis whole and says why', async (t) => {
    const blocker = path.join(tempDir(t, 'cache-file'), 'not-a-folder');
    fs.writeFileSync(blocker, 'a file where the cache folder should be');
    const said: string[] = [];
    const cache = new ResultCache(path.join(blocker, 'analysis'), (m) => said.push(m));
    const r = await engine.analyze(model, [demo], { cache });
    assert.equal(r.series[0].scored, true);
    assert.deepEqual(probsOf(r.series[0]), probsOf(reference));
    assert.equal(said.length, 1);
    assert.match(said[0] as string, /^the result cache .+ cannot be written \((ENOTDIR|EEXIST)\): results are not cached/);
  });

  it('a series none of whose slices decodes is not scored, and says why: never "no finding"', async (t) => {
    const dir = tempDir(t, 'all-broken');
    for (const f of ['CT0010.dcm', 'CT0011.dcm']) {
      fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
      fs.truncateSync(path.join(dir, f), 100_000);
    }
    const cache = new ResultCache(tempDir(t, 'cache'));
    const r = (await engine.analyze(model, [(await scanPaths([dir])).studies[0].series[0]], { cache })).series[0];
    assert.equal(r.scored, false);
    assert.match(r.skipped?.code ?? '', /^(FILE|PIXEL_DATA)_TRUNCATED$/);
    assert.match(r.skipped?.message ?? '', /^none of the 2 slices could be scored \(the first: (FILE|PIXEL_DATA)_TRUNCATED: /);
    assert.deepEqual(r.findings, []);
    assert.equal(cache.entries().length, 0, 'and it is not cached');
  });

  it('draws findings at the operating point asked for; a cached series gets them re-drawn from its scores, not re-scored', async (t) => {
    const cache = new ResultCache(tempDir(t, 'cache'));
    const first = await engine.analyze(model, [demo], { cache });
    const classes = model.card.outputs.classes;
    assert.deepEqual(first.series[0].thresholds, model.card.outputs.thresholds, 'default: the card thresholds, recorded');
    // a stricter point: every class's threshold just above the weakest finding's score, so that finding goes
    const weakest = first.series[0].findings.reduce((a, b) => (b.score < a.score ? b : a));
    const strict = Object.fromEntries(classes.map((c) => [c, c === weakest.class ? Math.min(0.999, weakest.score + 1e-4) : model.card.outputs.thresholds[c]]));
    const second = await engine.analyze(model, [demo], { cache, thresholds: strict, operatingPoint: 'strict' });
    const s2 = second.series[0];
    assert.equal(s2.cached, true);
    assert.equal(second.timing.slicesScored, 0, 'no slice scored again');
    assert.deepEqual(probsOf(s2), probsOf(first.series[0]));
    assert.deepEqual(s2.thresholds, strict);
    assert.equal(s2.operatingPoint, 'strict');
    assert.deepEqual(second.thresholds, strict);
    assert.ok(!s2.findings.some((f) => f.id === weakest.id), `${weakest.id} (score ${weakest.score}) is gone at the stricter point`);
    assert.ok(s2.findings.every((f) => f.score >= strict[f.class] && f.threshold === strict[f.class]));
    for (const f of s2.findings) assert.ok(f.centroid, `${f.id} localized`);
    // the same point again is served as it is; back at the default, the first findings come back
    const stored = () => (JSON.parse(fs.readFileSync(path.join(cache.dir, cache.entries()[0]), 'utf8')) as { analysis: SeriesAnalysis }).analysis;
    assert.deepEqual(stored().thresholds, strict, 'the re-drawn findings are what the cache holds now');
    const third = await engine.analyze(model, [demo], { cache, thresholds: strict, operatingPoint: 'strict' });
    assert.deepEqual(third.series[0].findings, s2.findings);
    const back = await engine.analyze(model, [demo], { cache });
    assert.deepEqual(back.series[0].findings, first.series[0].findings);
    assert.equal(back.series[0].operatingPoint, undefined, 'no stale point from the cache entry');
    assert.deepEqual(stored().thresholds, model.card.outputs.thresholds);
    assert.equal(cache.entries().length, 1, 'one entry per series and model, whatever the point');
  });

  it('cancelled mid-series: rejects with CANCELLED and caches nothing', async (t) => {
    const cache = new ResultCache(tempDir(t, 'cache'));
    const ctl = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      engine.analyze(model, [demo], {
        cache,
        batchSize: 4,
        signal: ctl.signal,
        onProgress: (p) => {
          seen.push(p.done);
          if (p.done >= 8) ctl.abort();
        },
      }),
      (e: ResightError) => e.code === 'CANCELLED',
    );
    assert.ok(seen.length >= 2 && seen[seen.length - 1] < 45, `stopped early (${seen.join(',')})`);
    assert.deepEqual(cache.entries(), []);
    // The engine is still usable and the next complete run is cached.
    const r = await engine.analyze(model, [demo], { cache });
    assert.equal(r.series[0].slices.length, 45);
    assert.equal(cache.entries().length, 1);
  });

  it('scores the rest of a series when a slice cannot be decoded', async (t) => {
    const dir = tempDir(t, 'broken');
    for (const f of fs.readdirSync(DEMO).filter((f) => f.endsWith('.dcm'))) fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
    // CT0010 is slice index 9: keep its header, cut its pixel data short.
    fs.truncateSync(path.join(dir, 'CT0010.dcm'), 100_000);
    const series = (await scanPaths([dir])).studies[0].series[0];
    const r = (await engine.analyze(model, [series])).series[0];
    const broken = r.slices[9];
    assert.equal(broken.probabilities, null);
    assert.match(broken.error?.code ?? '', /^(FILE|PIXEL_DATA)_TRUNCATED$/);
    assert.match(broken.error?.path ?? '', /CT0010\.dcm$/);
    assert.ok(r.slices.filter((s) => s.index !== 9).every((s) => s.probabilities !== null));
    for (const f of r.findings) assert.ok(f.sliceStart > 9 || f.sliceEnd < 9, `finding ${f.id} does not span the broken slice`);
    const want = probsOf(reference);
    assert.deepEqual(probsOf(r).filter((_, i) => i !== 9), want.filter((_, i) => i !== 9));
  });

  it('does not score a series of another modality unless the user insists', async () => {
    const mr = (await scanPaths([corpusPath('pydicom_MR_small.dcm')])).studies[0].series[0];
    const tiny = await engine.model(TINY_CARD, { force: 'cpu' });
    const refused = (await engine.analyze(tiny, [mr])).series[0];
    assert.equal(refused.scored, false);
    assert.equal(refused.skipped?.code, 'MODALITY_MISMATCH');
    assert.match(refused.skipped!.message, /meant for CT; this series is MR/);
    const insisted = (await engine.analyze(tiny, [mr], { insistModality: true })).series[0];
    assert.equal(insisted.scored, true);
    assert.equal(insisted.outsideIntendedModality, true);
    assert.equal(insisted.slices.length, 1);
  });

  it('decodes and preprocesses in the worker threads, leaving the event loop free', async () => {
    const before = { ...pool.jobsPosted };
    engine.volumes.clear();
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    await engine.analyze(model, [demo], { batchSize: 8 });
    h.disable();
    assert.ok(pool.jobsPosted.input - before.input >= 6, 'decode+preprocess jobs went to the pool');
    assert.equal(engine.volumes.peek(demo), undefined, 'no volume was built for the analysis alone');
    // The structural checks above are the test; this bound only catches gross blocking (a
    // whole series decoded on this thread), loose enough for a 2-core CI machine under load
    // (a 319 ms scheduling stall was seen there with nothing running on this thread).
    assert.ok(h.max / 1e6 < 1000, `longest event-loop stall ${(h.max / 1e6).toFixed(0)} ms`);
  });

  it('uses the decoded volume when the viewer has one, with the same results', async () => {
    await engine.volumes.load(demo);
    const before = { ...pool.jobsPosted };
    const r = await engine.analyze(model, [demo], { batchSize: 8 });
    assert.ok(pool.jobsPosted.preprocess - before.preprocess >= 6, 'preprocess jobs over the volume');
    assert.equal(pool.jobsPosted.input, before.input, 'no file was decoded again');
    assert.deepEqual(probsOf(r.series[0]), probsOf(reference));
    engine.volumes.clear();
  });

  it('runs without worker threads too (RESIGHT_WORKERS=0), with the same results', async () => {
    const inThread = new InferenceEngine({ volumes: new VolumeCache({ pool: null }) });
    try {
      const m = await inThread.model(DEFAULT_CARD, { force: 'cpu' });
      const a = await inThread.analyze(m, [demo], { batchSize: 16 });
      assert.deepEqual(probsOf(a.series[0]), probsOf(reference));
      await inThread.volumes.load(demo);
      const b = await inThread.analyze(m, [demo], { batchSize: 16 });
      assert.deepEqual(probsOf(b.series[0]), probsOf(reference));
    } finally {
      await inThread.release();
    }
  });
});

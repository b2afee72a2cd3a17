/**
 * The inference engine: the one long-lived owner of ONNX Runtime sessions in the process
 * (ARCHITECTURE.md "Processes"), reused across studies. It scores whole series:
 *
 *   decode (worker threads) -> preprocess (worker threads) -> session.run (ORT's own threads)
 *
 * as a pipeline: while ORT runs batch k, the workers decode and preprocess batches k+1 and k+2
 * into shared input buffers, so this thread only schedules work and copies a few numbers out;
 * ORT's `run` is asynchronous, so the event loop stays free for the UI throughout.
 */
import type { AnalysisProgress, AnalysisResult, Finding, SeriesAnalysis, SliceResult } from '../../shared/analysis';
import type { AssembledSeries } from '../dicom/series';
import type { ErrorInfo } from '../../shared/errors';
import { ResightError, toErrorInfo } from '../errors';
import type { Volume } from '../imaging/volume';
import { VolumeCache } from '../imaging/volume';
import { Explainer } from '../explain/explainer';
import { hotSpot, layerToSlice, mapMax } from '../explain/geometry';
import * as ort from './ort';
import type { ResultCache } from './cache';
import { cacheKey } from './cache';
import { findingsFrom, withCores } from './findings';
import { thresholdsEqual } from './operating-point';
import type { LoadedModel } from './model';
import { loadModel } from './model';
import { inputLength, preprocessInto } from './preprocess';
import type { SliceInputReply } from './slice-input';
import { SliceInputScratch, sliceInputs } from './slice-input';
import type { SessionOptions } from './providers';
import { activate } from './activation';

export interface AnalyzeOptions {
  /** Slices per session.run (default 16; a model with a fixed batch dimension uses that). */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: AnalysisProgress) => void;
  /** Result cache; null or undefined: no caching. */
  cache?: ResultCache | null;
  /** Score series whose modality the model is not meant for. */
  insistModality?: boolean;
  /**
   * Locate each finding in-plane (default true): Grad-CAM at the card's default layer on the
   * finding's key slice; the centroid is the hot spot's centre in slice pixels.
   */
  localize?: boolean;
  /**
   * Per-class thresholds for the findings (an operating point, core/inference/operating-point.ts);
   * default the card's `outputs.thresholds`. A cached analysis drawn at other thresholds keeps
   * its slice scores and gets its findings re-drawn (no re-scoring).
   */
  thresholds?: Readonly<Record<string, number>>;
  /** The operating point's id, recorded in the analysis. */
  operatingPoint?: string;
}

interface SeriesTiming {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  slicesScored: number;
}

/** Input buffers in flight at once: the batch ORT is running plus this many prepared ahead. */
const PREFETCH = 2;

interface Prepared {
  /** Which volume slice each scored batch slot holds. */
  scored: { index: number; slot: number }[];
  /** Batch length given to session.run. */
  count: number;
  input: Float32Array;
}
const DEFAULT_BATCH = 16;

const now = () => performance.now();

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ResightError('CANCELLED', 'analysis cancelled');
}

export class InferenceEngine {
  private readonly models = new Map<string, Promise<LoadedModel>>();
  readonly volumes: VolumeCache;
  /** Analyses run one at a time: two series fighting over the same cores are both slower. */
  private queue: Promise<unknown> = Promise.resolve();
  private ring: { shared: SharedArrayBuffer[]; plain: Float32Array[] } | undefined;
  /** Locates findings (Grad-CAM on their key slices). */
  readonly explainer = new Explainer();
  /** For in-thread input when the worker pool is disabled. */
  private readonly scratch = new SliceInputScratch();

  constructor(opts: { volumes?: VolumeCache } = {}) {
    this.volumes = opts.volumes ?? new VolumeCache();
  }

  /** The model for a card, loaded once per (card, provider choice, threads). */
  model(cardPath: string, opts: SessionOptions = {}): Promise<LoadedModel> {
    const key = JSON.stringify([cardPath, opts.force ?? null, opts.preference ?? null, opts.threads ?? null]);
    let p = this.models.get(key);
    if (!p) {
      p = loadModel(cardPath, opts);
      this.models.set(key, p);
      // A model that failed to load is not remembered: the user may fix the file and retry.
      p.catch(() => this.models.delete(key));
    }
    return p;
  }

  /** Score several series with one model; series the model is not for are listed as skipped. */
  analyze(model: LoadedModel, series: readonly AssembledSeries[], opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
    const run = this.queue.then(() => this.analyzeNow(model, series, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async analyzeNow(model: LoadedModel, list: readonly AssembledSeries[], opts: AnalyzeOptions): Promise<AnalysisResult> {
    const t0 = now();
    const total: SeriesTiming = { decodeMs: 0, preprocessMs: 0, inferenceMs: 0, slicesScored: 0 };
    const results: SeriesAnalysis[] = [];
    for (const s of list) {
      const { analysis, timing } = await this.analyzeSeries(model, s, opts);
      results.push(analysis);
      total.decodeMs += timing.decodeMs;
      total.preprocessMs += timing.preprocessMs;
      total.inferenceMs += timing.inferenceMs;
      total.slicesScored += timing.slicesScored;
    }
    const totalMs = now() - t0;
    const { card } = model;
    return {
      model: model.identity,
      provider: model.provider.used,
      providerReport: model.provider,
      classes: [...card.outputs.classes],
      thresholds: { ...(opts.thresholds ?? card.outputs.thresholds) },
      series: results,
      timing: {
        totalMs,
        ...total,
        modelLoadMs: model.loadMs,
        slicesPerSecond: total.slicesScored > 0 ? total.slicesScored / (totalMs / 1000) : 0,
      },
      notForClinicalUse: card.notForClinicalUse !== false,
    };
  }

  /** Why the model should not score this series, if it should not. */
  private refusal(model: LoadedModel, series: AssembledSeries, insist: boolean): ResightError | undefined {
    const h0 = series.headers[0];
    if (!h0 || series.slices === 0) return new ResightError('SERIES_NOT_FOUND', `series ${series.id} has no image slices`);
    if (h0.samplesPerPixel !== 1 || h0.photometric === 'PALETTE COLOR') {
      return new ResightError('UNSUPPORTED_PIXEL_FORMAT', `the model reads single-sample modality values; this series is ${h0.photometric}`);
    }
    const mods = model.card.modalities;
    if (!mods.includes(series.modality) && !insist) {
      return new ResightError('MODALITY_MISMATCH', `${model.card.name} is meant for ${mods.join('/')}; this series is ${series.modality || 'of unknown modality'} (not scored; to score it anyway: Analyse anyway in the viewer, --insist-modality with resight analyze)`);
    }
    return undefined;
  }

  /** Score one series: cache lookup, then the decode/preprocess/run pipeline, then findings. */
  async analyzeSeries(model: LoadedModel, series: AssembledSeries, opts: AnalyzeOptions = {}): Promise<{ analysis: SeriesAnalysis; timing: SeriesTiming }> {
    const timing: SeriesTiming = { decodeMs: 0, preprocessMs: 0, inferenceMs: 0, slicesScored: 0 };
    const base = { seriesInstanceUid: series.seriesInstanceUid, seriesId: series.id, modality: series.modality };
    const refusal = this.refusal(model, series, opts.insistModality === true);
    if (refusal) return { analysis: { ...base, scored: false, skipped: toErrorInfo(refusal), slices: [], findings: [], cached: false }, timing };
    const outside = !model.card.modalities.includes(series.modality);
    // only with a cache: the key looks at every file
    const key = opts.cache ? await cacheKey(model.identity.sha256, model.card, series, outside) : '';
    const thresholds = { ...(opts.thresholds ?? model.card.outputs.thresholds) };
    const point = opts.operatingPoint !== undefined ? { operatingPoint: opts.operatingPoint } : {};
    const cachedEntry = key ? opts.cache?.get(key) : undefined;
    let slices: SliceResult[];
    if (cachedEntry) {
      opts.onProgress?.({ seriesId: series.id, done: series.slices, total: series.slices, slicesPerSecond: 0, etaSeconds: 0 });
      // the entry records the point it was last drawn at: this call's point (or none) replaces it
      const { operatingPoint: _stale, ...hit } = cachedEntry;
      // a result cached before findings had a core gets it from its own scores (the same runs:
      // cached centroids are kept)
      if (thresholdsEqual(hit.thresholds, thresholds, model.card.outputs.classes)) return { analysis: { ...hit, findings: withCores(hit.findings, hit.slices), ...point, cached: true }, timing };
      // same scores, another operating point: only the findings (and their hot spots) are drawn again
      slices = hit.slices;
    } else {
      const { probs, failures } = await this.score(model, series, opts, timing);
      slices = series.ordered.map((ref, i) => {
        const r: SliceResult = { index: i, sopInstanceUid: ref.sopInstanceUid, frame: ref.frame, probabilities: probs[i] ?? null };
        const failure = failures.get(i);
        if (failure) r.error = failure;
        return r;
      });
    }
    // not one slice decoded: the series was not read, which must not look like "no finding"
    const failed = slices.filter((x) => x.probabilities === null);
    if (slices.length && failed.length === slices.length) {
      const first = failed[0]?.error;
      const why = first ? `${first.code}: ${first.message}` : 'no slice decoded';
      const n = slices.length;
      return {
        analysis: { ...base, scored: false, skipped: { code: first?.code ?? 'INFERENCE_FAILED', message: `none of the ${n === 1 ? 'slice' : `${n} slices`} could be scored (${n === 1 ? '' : 'the first: '}${why})` }, slices, findings: [], cached: false },
        timing,
      };
    }
    const analysis: SeriesAnalysis = {
      ...base,
      scored: true,
      ...(outside ? { outsideIntendedModality: true } : {}),
      slices,
      findings: findingsFrom(slices, model.card.outputs.classes, thresholds),
      thresholds,
      ...point,
      cached: false,
    };
    if (opts.localize !== false && analysis.findings.length) await this.localize(model, series, analysis.findings, opts.signal);
    // a finding left unlocated by a failure of this run (not by the model) is not kept: the next
    // run tries again instead of serving the gap from the cache
    // nor one with a slice that could not be read or decoded: the cause may lie outside the file
    // (a permission since fixed, a share's hiccup) and must not be served for ever
    if (key && !analysis.findings.some((f) => f.centroidError) && !slices.some((x) => x.error)) opts.cache?.put(key, analysis);
    return { analysis: { ...analysis, cached: cachedEntry !== undefined }, timing };
  }

  /**
   * The pipeline. Returns per-slice probabilities and the slices that could not be decoded.
   * Input comes from the series' Volume when the viewer has decoded it all, else straight from
   * the files (slice-input.ts: no volume allocated).
   */
  private async score(model: LoadedModel, series: AssembledSeries, opts: AnalyzeOptions, timing: SeriesTiming): Promise<{ probs: (Record<string, number> | undefined)[]; failures: Map<number, ErrorInfo> }> {
    const { signal } = opts;
    cancelled(signal);
    const classes = model.card.outputs.classes;
    const batch = model.fixedBatch ?? Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_BATCH));
    const per = inputLength(model.spec);
    const [c, h, w] = [model.spec.channels.length, model.spec.size[0], model.spec.size[1]];
    const n = series.slices;
    const batches: number[][] = [];
    for (let s = 0; s < n; s += batch) batches.push(Array.from({ length: Math.min(batch, n - s) }, (_, k) => s + k));
    const { shared: buffers, plain: inputs } = this.inputRing(batch * per);
    const volume = this.volumes.peek(series);
    const fromVolume = volume !== undefined && volume.isComplete();
    const failures = new Map<number, ErrorInfo>(fromVolume ? volume.failures : []);

    const prepare = async (k: number): Promise<Prepared> => {
      cancelled(signal);
      const buffer = buffers[k % buffers.length];
      const t = now();
      const scored = fromVolume ? await this.fromVolume(volume, batches[k], buffer, model) : await this.fromFiles(series, batches[k], buffer, model, failures, timing);
      cancelled(signal);
      // A fixed-batch model always gets its full batch (unused slots hold stale input, ignored).
      const count = model.fixedBatch ?? (fromVolume ? scored.length : batches[k].length);
      // onnxruntime-node refuses tensors over shared memory ("Invalid argument"): the batch is
      // copied once into ordinary memory (a memcpy, ~1/20 of the preprocessing it follows).
      const input = inputs[k % inputs.length].subarray(0, count * per);
      input.set(new Float32Array(buffer, 0, count * per));
      if (fromVolume) timing.preprocessMs += now() - t;
      return { scored, count, input };
    };

    const probs: (Record<string, number> | undefined)[] = new Array(n);
    const started = now();
    let done = 0;
    const inflight: Promise<Prepared>[] = [];
    // A batch prepared ahead may fail (cancel, decode) while the loop still awaits an earlier
    // one: mark it handled at once, or Node reports an unhandled rejection. Awaiting it later
    // still throws.
    const ahead = (k: number) => {
      const p = prepare(k);
      p.catch(() => undefined);
      inflight.push(p);
    };
    for (let k = 0; k < Math.min(PREFETCH, batches.length); k++) ahead(k);
    for (let k = 0; k < batches.length; k++) {
      const ready = await (inflight.shift() as Promise<Prepared>);
      if (k + PREFETCH < batches.length) ahead(k + PREFETCH);
      cancelled(signal);
      if (ready.scored.length) {
        const t = now();
        let out: ort.InferenceSession.OnnxValueMapType;
        try {
          out = await model.session.run({ [model.card.input.tensor]: new ort.Tensor('float32', ready.input, [ready.count, c, h, w]) });
        } catch (err) {
          throw new ResightError('INFERENCE_FAILED', `the model failed on slices ${batches[k][0]}-${batches[k][batches[k].length - 1]}: ${(err as Error).message}`);
        }
        timing.inferenceMs += now() - t;
        const p = this.probabilities(model, out, ready.count);
        const nc = classes.length;
        const logits = out[model.card.outputs.tensor].data as Float32Array;
        for (const { index, slot } of ready.scored) {
          // A NaN probability is below every threshold: unchecked, a broken model (or a numeric
          // overflow) would read as "no lesion". Such a slice is not scored, and says why.
          const row = p.subarray(slot * nc, (slot + 1) * nc);
          const logitRow = logits.subarray(slot * nc, (slot + 1) * nc);
          if (!row.every(Number.isFinite) || !logitRow.every(Number.isFinite)) {
            failures.set(index, { code: 'INFERENCE_FAILED', message: `the model's output for this slice is not finite (logits ${Array.from(logitRow).join(', ')}; probabilities ${Array.from(row).join(', ')}): not scored` });
            continue;
          }
          const rec: Record<string, number> = {};
          classes.forEach((cls, ci) => (rec[cls] = row[ci]));
          probs[index] = rec;
          timing.slicesScored++;
        }
      }
      done += batches[k].length;
      const rate = done / ((now() - started) / 1000);
      opts.onProgress?.({ seriesId: series.id, done, total: n, slicesPerSecond: rate, etaSeconds: rate > 0 ? (n - done) / rate : null });
    }
    return { probs, failures };
  }

  /** Fill each finding's centroid from the CAM of its key slice (one gradient-graph run each). */
  private async localize(model: LoadedModel, series: AssembledSeries, findings: Finding[], signal: AbortSignal | undefined): Promise<void> {
    const per = inputLength(model.spec);
    const buffer = new SharedArrayBuffer(per * 4);
    for (const f of findings) {
      cancelled(signal);
      const volume = this.volumes.peek(series);
      let ok: boolean;
      if (volume?.loaded[f.keySlice]) ok = (await this.fromVolume(volume, [f.keySlice], buffer, model)).length === 1;
      else ok = (await this.fromFiles(series, [f.keySlice], buffer, model, new Map(), { decodeMs: 0, preprocessMs: 0, inferenceMs: 0, slicesScored: 0 })).length === 1;
      if (!ok) continue;
      try {
        const e = await this.explainer.explainInput(model, new Float32Array(buffer).slice(), { class: f.class, method: 'gradcam' });
        const max = mapMax(e.cam.map);
        if (max > 0 && Number.isFinite(max)) f.camMax = max;
        const spot = hotSpot(e.cam);
        if (spot) {
          const [x, y] = layerToSlice(spot[0], spot[1], e.cam, series.rows, series.columns);
          f.centroid = [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
          f.centroidSource = `${e.method}@${e.layer}`;
        }
      } catch (err) {
        // A model the explain engine cannot differentiate, or whose map is not finite on this
        // slice (a finite score can still come with an overflowing gradient), still gets its
        // findings: the scores stand, only this one is unlocated, and says why.
        const code = (err as ResightError).code;
        if (code !== 'EXPLAIN_UNSUPPORTED' && code !== 'INFERENCE_FAILED') throw err;
        f.centroidError = { code, message: (err as ResightError).message };
      }
    }
  }

  /** Preprocess decoded volume slices into `buffer` (slot j = j-th decodable slice). */
  private async fromVolume(volume: Volume, indices: number[], buffer: SharedArrayBuffer, model: LoadedModel): Promise<{ index: number; slot: number }[]> {
    const scored = indices.filter((i) => volume.loaded[i] === 1 && !volume.failures.has(i)).map((index, slot) => ({ index, slot }));
    const { rows, columns } = volume.geometry;
    const pool = this.volumes.workerPool;
    if (pool) {
      const job = { buffer: volume.data.buffer as SharedArrayBuffer, storage: volume.kind, rows, columns, paddingRange: volume.paddingRange, spec: model.spec, out: buffer };
      const share = Math.ceil(scored.length / pool.size);
      const jobs = [];
      for (let j = 0; j < scored.length; j += share) jobs.push(pool.preprocess({ ...job, items: scored.slice(j, j + share).map(({ index, slot }) => ({ slice: index, slot })) }));
      await Promise.all(jobs);
    } else {
      const out = new Float32Array(buffer);
      const per = inputLength(model.spec);
      for (const { index, slot } of scored) preprocessInto({ values: volume.slice(index), rows, columns, paddingRange: volume.paddingRange }, model.spec, out, slot * per);
    }
    return scored;
  }

  /** Decode and preprocess slices straight from their files into `buffer` (slot j = j-th of the batch). */
  private async fromFiles(series: AssembledSeries, indices: number[], buffer: SharedArrayBuffer, model: LoadedModel, failures: Map<number, ErrorInfo>, timing: SeriesTiming): Promise<{ index: number; slot: number }[]> {
    const byFile = new Map<string, { frame: number; slot: number }[]>();
    indices.forEach((index, slot) => {
      const ref = series.ordered[index];
      let list = byFile.get(ref.path);
      if (!list) byFile.set(ref.path, (list = []));
      list.push({ frame: ref.frame, slot });
    });
    const files = [...byFile].map(([path, items]) => ({ path, items }));
    const base = { rows: series.rows, columns: series.columns, spec: model.spec, out: buffer };
    const pool = this.volumes.workerPool;
    const replies: SliceInputReply[] = [];
    if (pool) {
      // One job per worker, files dealt round-robin so a multi-frame file does not land whole on one.
      const shares: (typeof files)[] = Array.from({ length: Math.min(pool.size, files.length) }, () => []);
      files.forEach((f, i) => shares[i % shares.length].push(f));
      replies.push(...(await Promise.all(shares.map((share) => pool.input({ ...base, files: share })))));
    } else {
      replies.push(await sliceInputs({ ...base, files }, this.scratch));
    }
    const scored: { index: number; slot: number }[] = [];
    for (const reply of replies) {
      timing.decodeMs += reply.decodeMs;
      timing.preprocessMs += reply.preprocessMs;
      for (const r of reply.results) {
        const index = indices[r.slot];
        if (r.ok) {
          scored.push({ index, slot: r.slot });
          failures.delete(index);
        } else failures.set(index, r.error ?? { code: 'INTERNAL', message: 'decode failed' });
      }
    }
    return scored;
  }

  /**
   * Input buffers, reused round-robin within an analysis and kept for the next one: fresh
   * multi-megabyte allocations cost a page fault per 4 KiB on first touch, which on some
   * machines is more than the preprocessing itself. A buffer is handed out again only after its
   * batch has run (analyses are serialized).
   */
  private inputRing(floats: number): { shared: SharedArrayBuffer[]; plain: Float32Array[] } {
    if (!this.ring || this.ring.plain[0].length !== floats) {
      const shared = Array.from({ length: PREFETCH + 1 }, () => new SharedArrayBuffer(floats * 4));
      this.ring = { shared, plain: shared.map(() => new Float32Array(floats)) };
    }
    return this.ring;
  }

  /** Probabilities [m x classes] from the model's own output, or from the logits per the card. */
  private probabilities(model: LoadedModel, out: ort.InferenceSession.OnnxValueMapType, m: number): Float32Array | Float64Array {
    const k = model.card.outputs.classes.length;
    if (model.probabilitiesOutput) return out[model.probabilitiesOutput].data as Float32Array;
    return activate(out[model.card.outputs.tensor].data as Float32Array, m, k, model.card.outputs.activation);
  }

  /** Release every session (the app is closing, or the model folder changed). */
  async release(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    this.ring = undefined;
    await this.explainer.release();
    await Promise.all(all.map((p) => p.then((m) => m.session.release(), () => undefined)));
  }
}


/**
 * The Volume: one series' modality values in one contiguous typed array (slice-major), with
 * the geometry to place every voxel in patient space. Int16 when every value is an integer that
 * fits (typical CT: half the memory of float32), Float32 otherwise.
 *
 * Slices are decoded on demand; `VolumeCache` holds each series once and evicts whole volumes
 * least-recently-used when a byte budget is exceeded.
 */
import { createHash } from 'node:crypto';
import type { Vec3, WindowInfo } from '../../shared/dicom';
import { ResightError, toErrorInfo } from '../errors';
import type { ErrorInfo } from '../../shared/errors';
import type { AssembledSeries } from '../dicom/series';
import { cross } from '../dicom/series';
import type { OpenedFile } from '../dicom/frame';
import { openDicomFile } from '../dicom/frame';
import { ScratchBuffer } from '../dicom/read';
import { lookupTransferSyntax } from '../dicom/transfer-syntax';
import type { WorkerPool } from '../workers/pool';
import { sharedWorkerPool } from '../workers/pool';
import { modalityValuesInto, rescaleFor } from './modality';
import { decodeSlice } from './slice-decode';
import { paddingRangeOf } from './voi';

export type VoxelArray = Int16Array | Float32Array;

export interface VolumeGeometry {
  rows: number;
  columns: number;
  slices: number;
  /** [row spacing, column spacing] in mm (PixelSpacing order). */
  pixelSpacing?: [number, number];
  /** Distance between adjacent slices along the normal, mm. */
  sliceSpacing?: number;
  rowCosines?: Vec3;
  columnCosines?: Vec3;
  normal?: Vec3;
  /** ImagePositionPatient of each slice (first voxel center), in volume order. */
  positions: (Vec3 | undefined)[];
}

export class Volume {
  readonly seriesId: string;
  readonly geometry: VolumeGeometry;
  /** Int16 until a value does not fit, then Float32 (see `promoteToFloat32`). */
  data: VoxelArray;
  readonly samplesPerPixel: number;
  /** 1 when slice i has been decoded. */
  readonly loaded: Uint8Array;
  /** Modality-value range that is padding (PixelPaddingValue/RangeLimit), if the series has it. */
  readonly paddingRange: [number, number] | undefined;
  readonly windows: WindowInfo[];
  readonly modality: string;
  /** Slices that failed to decode, with the typed reason (the rest of the series still opens). */
  readonly failures = new Map<number, ErrorInfo>();

  constructor(init: {
    seriesId: string;
    geometry: VolumeGeometry;
    kind: 'int16' | 'float32';
    samplesPerPixel: number;
    paddingRange?: [number, number];
    windows: WindowInfo[];
    modality: string;
  }) {
    this.seriesId = init.seriesId;
    this.geometry = init.geometry;
    this.samplesPerPixel = init.samplesPerPixel;
    const n = init.geometry.rows * init.geometry.columns * init.geometry.slices * init.samplesPerPixel;
    // Shared memory: decode workers write slices in place (no copy back to this thread).
    this.data = init.kind === 'int16' ? new Int16Array(new SharedArrayBuffer(n * 2)) : new Float32Array(new SharedArrayBuffer(n * 4));
    this.loaded = new Uint8Array(init.geometry.slices);
    this.paddingRange = init.paddingRange;
    this.windows = init.windows;
    this.modality = init.modality;
  }

  get kind(): 'int16' | 'float32' {
    return this.data instanceof Int16Array ? 'int16' : 'float32';
  }

  get byteLength(): number {
    return this.data.byteLength;
  }

  get sliceLength(): number {
    return this.geometry.rows * this.geometry.columns * this.samplesPerPixel;
  }

  /** A view (no copy) of slice i's values. */
  slice(i: number): VoxelArray {
    const n = this.sliceLength;
    return this.data.subarray(i * n, (i + 1) * n);
  }

  /** Switch storage to Float32 (a decoded value did not fit in Int16), keeping what is loaded. */
  promoteToFloat32(): void {
    if (this.data instanceof Float32Array) return;
    const f32 = new Float32Array(new SharedArrayBuffer(this.data.length * 4));
    const n = this.sliceLength;
    // Only decoded slices hold values; the others may hold partial writes of the failed attempt.
    for (let i = 0; i < this.loaded.length; i++) if (this.loaded[i]) f32.set(this.data.subarray(i * n, (i + 1) * n), i * n);
    this.data = f32;
  }

  isComplete(): boolean {
    return this.loaded.every((v) => v === 1);
  }
}

/** Geometry of an assembled series. */
export function volumeGeometry(series: AssembledSeries): VolumeGeometry {
  const iop = series.geometry.orientation;
  const g: VolumeGeometry = {
    rows: series.rows,
    columns: series.columns,
    slices: series.slices,
    positions: series.ordered.map((s) => s.position),
  };
  if (series.pixelSpacing) g.pixelSpacing = series.pixelSpacing;
  if (series.sliceSpacing !== undefined) g.sliceSpacing = series.sliceSpacing;
  if (iop) {
    g.rowCosines = [iop[0], iop[1], iop[2]];
    g.columnCosines = [iop[3], iop[4], iop[5]];
    g.normal = series.geometry.normal ?? cross(g.rowCosines, g.columnCosines);
  }
  return g;
}

/**
 * Int16 storage when the values can be integers in range (integer rescale, at most 16 bits, no
 * Modality LUT); the first value that does not fit promotes the volume to Float32. Typical CT
 * (signed 16-bit, intercept -1024) is stored at half the memory this way.
 */
function chooseKind(series: AssembledSeries): 'int16' | 'float32' {
  for (const h of series.headers) {
    if (h.samplesPerPixel !== 1 || h.bitsAllocated > 16 || h.photometric === 'PALETTE COLOR' || h.hasModalityLut) return 'float32';
    const frames = h.perFrame ? h.frames : 1;
    for (let f = 0; f < frames; f++) {
      const r = rescaleFor(h, f);
      if (!Number.isInteger(r.slope) || !Number.isInteger(r.intercept)) return 'float32';
    }
  }
  return 'int16';
}

export function createVolume(series: AssembledSeries): Volume {
  const h0 = series.headers[0];
  if (!h0) throw new ResightError('SERIES_NOT_FOUND', `series ${series.id} has no instances`);
  const init: ConstructorParameters<typeof Volume>[0] = {
    seriesId: series.id,
    geometry: volumeGeometry(series),
    kind: chooseKind(series),
    samplesPerPixel: h0.photometric === 'PALETTE COLOR' ? 3 : h0.samplesPerPixel,
    windows: h0.windows,
    modality: series.modality,
  };
  const padding = paddingRangeOf(h0);
  if (padding) init.paddingRange = padding;
  return new Volume(init);
}

/**
 * Decode slices [from, to) of `series` into `volume`. A slice that fails is recorded in
 * `volume.failures` (and left at 0) instead of failing the whole series.
 */
export async function loadSlices(
  series: AssembledSeries,
  volume: Volume,
  indices: Iterable<number>,
  onSlice?: (index: number) => void,
): Promise<void> {
  // Multi-frame files hold many slices: parse each once per call (in its own buffer). Single-
  // frame files are read into one reused scratch buffer: no per-slice allocation.
  const framesOf = new Map(series.headers.map((h) => [h.path, h.frames]));
  const opened = new Map<string, OpenedFile>();
  const scratch = new ScratchBuffer();
  for (const i of indices) {
    if (volume.loaded[i]) continue;
    const ref = series.ordered[i];
    try {
      let file = opened.get(ref.path);
      if (!file) {
        const multi = (framesOf.get(ref.path) ?? 1) > 1;
        file = openDicomFile(ref.path, multi ? undefined : scratch);
        if (multi) opened.set(ref.path, file);
      }
      const { data, rescale } = await decodeSlice(file, ref.frame, { ...volume.geometry, samplesPerPixel: volume.samplesPerPixel });
      if (!modalityValuesInto(data, rescale, volume.slice(i), file.modalityLut)) {
        volume.promoteToFloat32();
        modalityValuesInto(data, rescale, volume.slice(i), file.modalityLut);
      }
      volume.loaded[i] = 1;
      volume.failures.delete(i);
    } catch (err) {
      volume.failures.set(i, toErrorInfo(err, ref.path));
    }
    onSlice?.(i);
  }
}

/**
 * Decode slices with the worker pool: one job per file (all its requested frames), at most a
 * few jobs in flight per worker. A slice whose values overflow the Int16 volume promotes it to
 * Float32 once all in-flight writes are done, then is decoded again.
 */
export async function loadSlicesParallel(
  series: AssembledSeries,
  volume: Volume,
  indices: Iterable<number>,
  pool: WorkerPool,
  onSlice?: (index: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const byFile = new Map<string, { frame: number; slice: number }[]>();
  for (const i of indices) {
    if (volume.loaded[i]) continue;
    const ref = series.ordered[i];
    let list = byFile.get(ref.path);
    if (!list) byFile.set(ref.path, (list = []));
    list.push({ frame: ref.frame, slice: i });
  }
  // Split big multi-frame files so every worker gets a share (each share parses the file once).
  const queue: { path: string; items: { frame: number; slice: number }[] }[] = [];
  for (const [path, items] of byFile) {
    const chunk = items.length > 8 ? Math.ceil(items.length / pool.size) : items.length;
    for (let k = 0; k < items.length; k += chunk) queue.push({ path, items: items.slice(k, k + chunk) });
  }
  const retry: typeof queue = [];
  const maxInFlight = pool.size * 4;
  let inFlight = 0;
  let overflowed = false;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (signal?.aborted) {
        if (inFlight === 0) reject(signal.reason ?? new Error('aborted'));
        return;
      }
      if (overflowed && inFlight === 0) {
        volume.promoteToFloat32();
        overflowed = false;
        queue.unshift(...retry.splice(0));
      }
      while (!overflowed && inFlight < maxInFlight && queue.length) {
        const job = queue.shift() as (typeof queue)[number];
        inFlight++;
        const sent = volume.data.buffer;
        pool
          .decode({
            path: job.path,
            items: job.items,
            buffer: sent as SharedArrayBuffer,
            storage: volume.kind,
            rows: volume.geometry.rows,
            columns: volume.geometry.columns,
            samplesPerPixel: volume.samplesPerPixel,
          })
          .then(
            (reply) => {
              const again: { frame: number; slice: number }[] = [];
              // Another load of this volume (the viewer asks for several slices at once) promoted
              // it to Float32 while this job ran: its samples went into the old buffer, so they
              // are decoded again into the new one rather than marked loaded as zeros.
              const stale: { frame: number; slice: number }[] = [];
              for (const r of reply.results) {
                if (r.ok && volume.data.buffer !== sent) {
                  stale.push(job.items.find((it) => it.slice === r.slice) as { frame: number; slice: number });
                  continue;
                }
                if (r.ok) {
                  volume.loaded[r.slice] = 1;
                  volume.failures.delete(r.slice);
                } else if (r.overflow) {
                  overflowed = true;
                  again.push(job.items.find((it) => it.slice === r.slice) as { frame: number; slice: number });
                  continue;
                } else {
                  volume.failures.set(r.slice, r.error ?? { code: 'INTERNAL', message: 'decode failed', path: job.path });
                }
                onSlice?.(r.slice);
              }
              if (again.length) retry.push({ path: job.path, items: again });
              if (stale.length) queue.push({ path: job.path, items: stale });
            },
            (err: Error) => {
              for (const it of job.items) {
                volume.failures.set(it.slice, { code: 'INTERNAL', message: `decode worker failed: ${err.message}`, path: job.path });
                onSlice?.(it.slice);
              }
            },
          )
          .finally(() => {
            inFlight--;
            pump();
          });
      }
      if (inFlight === 0 && !queue.length && !retry.length) resolve();
    };
    pump();
  });
}

export interface VolumeCacheOptions {
  /** Total bytes of decoded volumes to keep (default 2 GiB). */
  budgetBytes?: number;
  /** Worker pool for whole-series decodes; null decodes in-thread. Default: the shared pool. */
  pool?: WorkerPool | null;
}

/** Below this many slices a whole-series load stays in-thread (worker start-up is not free). */
const PARALLEL_MIN_SLICES = 16;

/** Holds each decoded series once; evicts least-recently-used volumes beyond the budget. */
const fingerprints = new WeakMap<AssembledSeries, string>();

/** Which files and frames, in which order, a series' volume is made of. */
function fingerprint(series: AssembledSeries): string {
  let fp = fingerprints.get(series);
  if (fp === undefined) {
    fp = createHash('sha1')
      .update(series.ordered.map((s) => `${s.path}\0${s.frame}`).join('\n'))
      .digest('hex');
    fingerprints.set(series, fp);
  }
  return fp;
}

/** Some slice of the series has encapsulated (compressed) pixel data, i.e. needs an image codec. */
function needsCodec(series: AssembledSeries): boolean {
  return series.transferSyntaxes.some((uid) => lookupTransferSyntax(uid)?.encapsulated === true);
}

export class VolumeCache {
  private readonly volumes = new Map<string, Volume>();
  private readonly sources = new WeakMap<Volume, string>();
  readonly budgetBytes: number;
  private readonly pool: WorkerPool | null;

  constructor(opts: VolumeCacheOptions = {}) {
    this.budgetBytes = opts.budgetBytes ?? 2 * 1024 ** 3;
    this.pool = opts.pool === undefined ? sharedWorkerPool() : opts.pool;
  }

  get bytesHeld(): number {
    let n = 0;
    for (const v of this.volumes.values()) n += v.byteLength;
    return n;
  }

  has(seriesId: string): boolean {
    return this.volumes.has(seriesId);
  }

  ids(): string[] {
    return [...this.volumes.keys()];
  }

  /** The volume of a series if this cache holds it (for these files), without allocating one. */
  peek(series: AssembledSeries): Volume | undefined {
    const v = this.volumes.get(series.id);
    return v && this.sources.get(v) === fingerprint(series) ? v : undefined;
  }

  /** The volume of a series (allocated, maybe not decoded yet), marked most recently used. */
  volumeFor(series: AssembledSeries): Volume {
    const fp = fingerprint(series);
    let v = this.volumes.get(series.id);
    // The same series UID read from other files (another copy, a re-sent series) is another
    // volume: never serve one folder's pixels for another's.
    if (v && this.sources.get(v) === fp) {
      this.volumes.delete(series.id);
      this.volumes.set(series.id, v);
      return v;
    }
    if (v) this.volumes.delete(series.id);
    v = createVolume(series);
    this.sources.set(v, fp);
    this.volumes.set(series.id, v);
    this.evict(series.id);
    return v;
  }

  /** Decode (if needed) and return slice i of a series. */
  async slice(series: AssembledSeries, i: number): Promise<VoxelArray> {
    if (i < 0 || i >= series.slices || !Number.isInteger(i)) {
      throw new ResightError('FRAME_OUT_OF_RANGE', `slice ${i} requested, series has ${series.slices}`);
    }
    const v = this.volumeFor(series);
    if (!v.loaded[i]) {
      // A compressed slice (JPEG 2000 at ~350 ms, JPEG-LS, ...) is decoded by a worker: the
      // viewer's slice requests arrive on the Electron main process, which must not stall (and
      // must not run a codec on untrusted bytes). Native slices cost a few ms and stay in-thread,
      // where a worker round trip would cost more than the decode.
      if (this.pool && needsCodec(series)) await this.loadIndices(series, [i], undefined, undefined, true);
      else {
        await loadSlices(series, v, [i]);
        this.evict(series.id); // a Float32 promotion may have grown it
      }
    }
    const failure = v.failures.get(i);
    if (failure) throw new ResightError(failure.code, failure.message, failure.path ? { path: failure.path } : {});
    return v.slice(i);
  }

  /** Decode the whole series (skipping what is already loaded). */
  async load(series: AssembledSeries, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Volume> {
    const v = this.volumeFor(series);
    let done = v.loaded.reduce((n, x) => n + x, 0);
    const all = Array.from({ length: series.slices }, (_, i) => i);
    return this.loadIndices(series, all, () => onProgress?.(++done, series.slices), signal);
  }

  /**
   * Decode the given slices of a series (skipping what is already loaded). `offThread` sends
   * even a few slices to the workers: a caller on the Electron main process's event loop (the
   * analysis pipeline) must not parse untrusted files in-thread.
   */
  async loadIndices(series: AssembledSeries, indices: readonly number[], onSlice?: (index: number) => void, signal?: AbortSignal, offThread = false): Promise<Volume> {
    const v = this.volumeFor(series);
    const todo = indices.filter((i) => !v.loaded[i]);
    if (this.pool && todo.length > 0 && (offThread || todo.length >= PARALLEL_MIN_SLICES)) await loadSlicesParallel(series, v, todo, this.pool, onSlice, signal);
    else await loadSlices(series, v, todo, onSlice);
    this.evict(series.id); // a Float32 promotion may have grown it
    return v;
  }

  /** The worker pool this cache decodes with (null: in-thread). */
  get workerPool(): WorkerPool | null {
    return this.pool;
  }

  private evict(keep: string): void {
    let total = this.bytesHeld;
    for (const [id, v] of this.volumes) {
      if (total <= this.budgetBytes) break;
      if (id === keep) continue;
      this.volumes.delete(id);
      total -= v.byteLength;
    }
  }

  /** Drop a series' volume (its study was closed). */
  drop(seriesId: string): boolean {
    return this.volumes.delete(seriesId);
  }

  clear(): void {
    this.volumes.clear();
  }
}

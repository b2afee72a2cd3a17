/**
 * Model input straight from files: read, decode, rescale and preprocess each requested frame
 * into its slot of a batch buffer, without building the series' Volume. Analysis streams a
 * series this way when the viewer has not decoded it: no volume-sized allocation (on some
 * machines first-touching that memory costs more than decoding), and a 1,000-slice series is
 * scored in the memory of a few batches. Runs in the worker threads (workers/worker.ts), or
 * in-thread when the pool is disabled.
 */
import type { ErrorInfo } from '../../shared/errors';
import type { OpenedFile } from '../dicom/frame';
import { openDicomFile } from '../dicom/frame';
import { ScratchBuffer } from '../dicom/read';
import { toErrorInfo } from '../errors';
import { modalityValuesInto } from '../imaging/modality';
import { decodeSlice } from '../imaging/slice-decode';
import { paddingRangeOf } from '../imaging/voi';
import type { PreprocessSpec } from './preprocess';
import { inputLength, preprocessInto } from './preprocess';

export interface SliceInputJob {
  /** Per file, its frames and the batch slot each goes to (each file parsed once). */
  files: { path: string; items: { frame: number; slot: number }[] }[];
  rows: number;
  columns: number;
  spec: PreprocessSpec;
  out: SharedArrayBuffer;
}

export interface SliceInputResult {
  slot: number;
  ok: boolean;
  error?: ErrorInfo;
}

/**
 * Reusable per-thread buffers: the file bytes and one slice of modality values. One job at a
 * time uses them (`sliceInputs` queues behind the previous job): decoding awaits, and a second
 * job reading its file into the same buffer meanwhile would corrupt the first.
 */
export class SliceInputScratch {
  readonly file = new ScratchBuffer();
  private values = new Float32Array(0);
  /** The job now using the buffers. */
  busy: Promise<unknown> = Promise.resolve();

  valuesFor(n: number): Float32Array {
    if (this.values.length < n) this.values = new Float32Array(n);
    return this.values.subarray(0, n);
  }
}

export interface SliceInputReply {
  results: SliceInputResult[];
  /** Time this thread spent reading + decoding + rescaling, and preprocessing. */
  decodeMs: number;
  preprocessMs: number;
}

export function sliceInputs(job: SliceInputJob, scratch: SliceInputScratch): Promise<SliceInputReply> {
  const run = scratch.busy.then(async () => {
    const reply: SliceInputReply = { results: [], decodeMs: 0, preprocessMs: 0 };
    for (const f of job.files) reply.results.push(...(await fileInputs(job, f.path, f.items, scratch, reply)));
    return reply;
  });
  scratch.busy = run.catch(() => undefined);
  return run;
}

async function fileInputs(job: SliceInputJob, path: string, items: { frame: number; slot: number }[], scratch: SliceInputScratch, time: SliceInputReply): Promise<SliceInputResult[]> {
  let file: OpenedFile;
  let t = performance.now();
  try {
    file = openDicomFile(path, scratch.file);
  } catch (err) {
    time.decodeMs += performance.now() - t;
    const error = toErrorInfo(err, path);
    return items.map(({ slot }) => ({ slot, ok: false, error }));
  }
  const out = new Float32Array(job.out);
  const per = inputLength(job.spec);
  const values = scratch.valuesFor(job.rows * job.columns);
  const paddingRange = paddingRangeOf(file.header);
  const results: SliceInputResult[] = [];
  for (const { frame, slot } of items) {
    try {
      const { data, rescale } = await decodeSlice(file, frame, { rows: job.rows, columns: job.columns, samplesPerPixel: 1 });
      modalityValuesInto(data, rescale, values, file.modalityLut);
      const t1 = performance.now();
      time.decodeMs += t1 - t;
      preprocessInto({ values, rows: job.rows, columns: job.columns, paddingRange }, job.spec, out, slot * per);
      t = performance.now();
      time.preprocessMs += t - t1;
      results.push({ slot, ok: true });
    } catch (err) {
      const t1 = performance.now();
      time.decodeMs += t1 - t;
      t = t1;
      results.push({ slot, ok: false, error: toErrorInfo(err, path) });
    }
  }
  return results;
}

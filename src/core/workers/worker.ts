/**
 * Worker thread body (see pool.ts). Untrusted files are parsed here, off the main thread, so a
 * pathological file cannot stall the UI's event loop:
 *  - scan jobs read a batch of headers (dicom/scan.ts `scanFile`);
 *  - decode jobs read and parse one file once and write modality values for its frames
 *    straight into slots of a SharedArrayBuffer-backed volume;
 *  - preprocess jobs turn decoded volume slices into model input;
 *  - input jobs decode frames and preprocess them into model input without a volume.
 */
import { parentPort } from 'node:worker_threads';
import type { OpenedFile } from '../dicom/frame';
import { openDicomFile } from '../dicom/frame';
import { ScratchBuffer } from '../dicom/read';
import { scanFile } from '../dicom/scan';
import { toErrorInfo } from '../errors';
import { modalityValuesInto } from '../imaging/modality';
import { decodeSlice } from '../imaging/slice-decode';
import { inputLength, preprocessInto } from '../inference/preprocess';
import { SliceInputScratch, sliceInputs } from '../inference/slice-input';
import type { DecodeItemResult, DecodeJob, DecodeReply, InputJob, InputReply, PreprocessJob, PreprocessReply, ScanJob, ScanReply, WorkerJob } from './protocol';

const scratch = new ScratchBuffer();
const inputScratch = new SliceInputScratch();

async function decodeItem(job: DecodeJob, file: OpenedFile, frame: number, slice: number): Promise<DecodeItemResult> {
  const { data, rescale } = await decodeSlice(file, frame, job);
  const n = job.rows * job.columns * job.samplesPerPixel;
  const out = job.storage === 'int16' ? new Int16Array(job.buffer, slice * n * 2, n) : new Float32Array(job.buffer, slice * n * 4, n);
  if (!modalityValuesInto(data, rescale, out, file.modalityLut)) return { slice, ok: false, overflow: true };
  return { slice, ok: true };
}

async function runDecode(job: DecodeJob): Promise<DecodeReply> {
  let file: OpenedFile;
  try {
    file = openDicomFile(job.path, scratch);
  } catch (err) {
    const error = toErrorInfo(err, job.path);
    return { id: job.id, results: job.items.map(({ slice }) => ({ slice, ok: false, error })) };
  }
  const results: DecodeItemResult[] = [];
  for (const { frame, slice } of job.items) {
    try {
      results.push(await decodeItem(job, file, frame, slice));
    } catch (err) {
      results.push({ slice, ok: false, error: toErrorInfo(err, job.path) });
    }
  }
  return { id: job.id, results };
}

function runScan(job: ScanJob): ScanReply {
  return { id: job.id, results: job.paths.map((p) => scanFile(p, scratch)) };
}

function runPreprocess(job: PreprocessJob): PreprocessReply {
  const n = job.rows * job.columns;
  const volume = job.storage === 'int16' ? new Int16Array(job.buffer) : new Float32Array(job.buffer);
  const out = new Float32Array(job.out);
  const per = inputLength(job.spec);
  for (const { slice, slot } of job.items) {
    preprocessInto({ values: volume.subarray(slice * n, (slice + 1) * n), rows: job.rows, columns: job.columns, paddingRange: job.paddingRange }, job.spec, out, slot * per);
  }
  return { id: job.id, done: job.items.length };
}

async function runInput(job: InputJob): Promise<InputReply> {
  return { id: job.id, ...(await sliceInputs(job, inputScratch)) };
}

async function handle(job: WorkerJob): Promise<void> {
  if (job.kind === 'scan') parentPort?.postMessage(runScan(job));
  else if (job.kind === 'preprocess') parentPort?.postMessage(runPreprocess(job));
  else if (job.kind === 'input') parentPort?.postMessage(await runInput(job));
  else parentPort?.postMessage(await runDecode(job));
}

// Jobs run one after another: they share this thread's scratch buffers, and a job that awaits
// a codec must not let the next job's file overwrite the bytes it is still decoding.
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (job: WorkerJob) => {
  queue = queue.then(() => handle(job));
});

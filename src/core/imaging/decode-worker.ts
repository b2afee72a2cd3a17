/**
 * Worker thread body for parallel slice decoding (see decode-pool.ts). Each job names a file,
 * its frames and their slots in a SharedArrayBuffer-backed volume; the worker reads and parses
 * the file once and writes modality values straight into the slots. Untrusted files are parsed
 * here, off the main thread, so a pathological file cannot stall the UI's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { decodeFrame } from '../dicom/decode';
import type { OpenedFile } from '../dicom/frame';
import { openDicomFile } from '../dicom/frame';
import { ScratchBuffer } from '../dicom/read';
import { ResightError } from '../errors';
import { modalityValuesInto, rescaleFor } from './modality';
import type { DecodeItemResult, DecodeJob, DecodeReply } from './decode-protocol';

const scratch = new ScratchBuffer();

const describe = (err: unknown, path: string) =>
  `${path}: ${err instanceof ResightError ? `${err.code}: ${err.detail}` : err instanceof Error ? err.message : String(err)}`;

async function decodeItem(job: DecodeJob, file: OpenedFile, frame: number, slice: number): Promise<DecodeItemResult> {
  const h = file.header;
  if (h.rows !== job.rows || h.columns !== job.columns) {
    throw new ResightError('INCONSISTENT_SERIES', `image is ${h.columns}x${h.rows}, the series is ${job.columns}x${job.rows}`);
  }
  const decoded = await decodeFrame(file.parsed, h, frame);
  if (decoded.samplesPerPixel !== job.samplesPerPixel) {
    throw new ResightError('INCONSISTENT_SERIES', `image has ${decoded.samplesPerPixel} samples per pixel, the series ${job.samplesPerPixel}`);
  }
  const n = job.rows * job.columns * job.samplesPerPixel;
  const out = job.kind === 'int16' ? new Int16Array(job.buffer, slice * n * 2, n) : new Float32Array(job.buffer, slice * n * 4, n);
  const rescale = decoded.samplesPerPixel === 3 ? { slope: 1, intercept: 0 } : rescaleFor(h, frame);
  if (!modalityValuesInto(decoded.data, rescale, out, file.modalityLut)) return { slice, ok: false, overflow: true };
  return { slice, ok: true };
}

async function run(job: DecodeJob): Promise<DecodeReply> {
  let file: OpenedFile;
  try {
    file = openDicomFile(job.path, scratch);
  } catch (err) {
    const error = describe(err, job.path);
    return { id: job.id, results: job.items.map(({ slice }) => ({ slice, ok: false, error })) };
  }
  const results: DecodeItemResult[] = [];
  for (const { frame, slice } of job.items) {
    try {
      results.push(await decodeItem(job, file, frame, slice));
    } catch (err) {
      results.push({ slice, ok: false, error: describe(err, job.path) });
    }
  }
  return { id: job.id, results };
}

parentPort?.on('message', (job: DecodeJob) => {
  void run(job).then((reply) => parentPort?.postMessage(reply));
});

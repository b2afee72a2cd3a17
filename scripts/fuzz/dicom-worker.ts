/**
 * Worker thread body for DICOM cases (started by runner.ts through tsx): receives
 * `{id, path, maxFrames}`, answers `{id, result}`. A crash, an out-of-memory or a hang ends
 * the thread; the runner sees that from outside and records it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DicomCaseResult } from './dicom-case';
import { Canaries, runDicomCase } from './dicom-case';

export interface DicomJob {
  id: number;
  path: string;
  maxFrames: number;
}

export interface DicomWorkerData {
  /** Decoder -> known-good file, decoded again after each case that used that decoder. */
  canaries?: Record<string, string>;
}

async function runJob(job: DicomJob, canaries: Canaries | undefined): Promise<DicomCaseResult> {
  const result = await runDicomCase(job.path, job.maxFrames);
  if (result.status === 'finding' || !canaries || !result.codec) return result;
  const poisoned = await canaries.check(result.codec);
  if (!poisoned) return result;
  return { ...result, status: 'finding', stage: 'decode', kind: 'codec-poisoned', message: poisoned };
}

const port = parentPort;
if (port) {
  const data = (workerData ?? {}) as DicomWorkerData;
  const ready = data.canaries ? Canaries.create(data.canaries) : Promise.resolve(undefined);
  // One job at a time (the runner never sends a second before the first is answered).
  port.on('message', (job: DicomJob) => {
    void ready
      .then((canaries) => runJob(job, canaries))
      .then(
        (result) => port.postMessage({ id: job.id, result }),
        (err: unknown) => port.postMessage({ id: job.id, harnessError: String((err as Error)?.stack ?? err) }),
      );
  });
}

/**
 * A small pool of worker threads that read headers (scanning) and decode slices into
 * SharedArrayBuffer-backed volumes. Parsing untrusted files is CPU-bound JavaScript/WebAssembly;
 * in the Electron main process it must not run on the event loop (ARCHITECTURE.md: no
 * main-process task over ~50 ms), and on a multi-core workstation it scales with the cores.
 *
 * Workers are created lazily, kept for reuse, and unref'd while idle so they never keep a
 * process alive. `RESIGHT_WORKERS=0` disables the pool (everything runs in-thread).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DecodeJob, DecodeReply, InputJob, InputReply, PreprocessJob, PreprocessReply, ScanJob, ScanReply, WorkerJob, WorkerReply } from './protocol';
import { envPositiveInt } from '../settings/env';

interface Slot {
  worker: Worker;
  inFlight: number;
}

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 1;
  private closed = false;
  /** Jobs posted so far, by kind (diagnostics and tests: which work went off-thread). */
  readonly jobsPosted: Record<WorkerJob['kind'], number> = { scan: 0, decode: 0, preprocess: 0, input: 0 };

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  private spawn(): Slot {
    // Under tsx (tests, dev) this module is TypeScript: the worker registers the same loader
    // before loading its TypeScript body. Built code (app/dist) loads the .js directly.
    const ts = __filename.endsWith('.ts');
    const file = path.join(__dirname, `worker.${ts ? 'ts' : 'js'}`);
    const worker = ts
      ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, { eval: true })
      : new Worker(file);
    const slot: Slot = { worker, inFlight: 0 };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (--slot.inFlight === 0) worker.unref();
      p.resolve(reply);
    });
    const fail = (err: Error) => {
      // A crashed worker fails its jobs and is replaced on next use; the app keeps running.
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(err);
      }
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => code !== 0 && fail(new Error(`worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private pick(): Slot {
    if (this.slots.length < this.size) {
      const idle = this.slots.find((s) => s.inFlight === 0);
      return idle ?? this.spawn();
    }
    return this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
  }

  private post(job: Omit<DecodeJob, 'id'> | Omit<ScanJob, 'id'> | Omit<PreprocessJob, 'id'> | Omit<InputJob, 'id'>): Promise<WorkerReply> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const slot = this.pick();
    const id = this.nextId++;
    this.jobsPosted[job.kind]++;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      if (slot.inFlight++ === 0) slot.worker.ref();
      slot.worker.postMessage({ ...job, id } as WorkerJob);
    });
  }

  /** Decode frames of one file into a shared volume. */
  decode(job: Omit<DecodeJob, 'id' | 'kind'>): Promise<DecodeReply> {
    return this.post({ ...job, kind: 'decode' }) as Promise<DecodeReply>;
  }

  /** Read the headers of a batch of files. */
  scan(paths: string[]): Promise<ScanReply> {
    return this.post({ kind: 'scan', paths }) as Promise<ScanReply>;
  }

  /** Preprocess volume slices into a shared batch buffer (inference input). */
  preprocess(job: Omit<PreprocessJob, 'id' | 'kind'>): Promise<PreprocessReply> {
    return this.post({ ...job, kind: 'preprocess' }) as Promise<PreprocessReply>;
  }

  /** Decode frames of one file straight into model input (no volume). */
  input(job: Omit<InputJob, 'id' | 'kind'>): Promise<InputReply> {
    return this.post({ ...job, kind: 'input' }) as Promise<InputReply>;
  }

  /**
   * Stop the idle workers (they are started again on demand). A worker's heap keeps views of
   * the shared volumes it last worked on until its own GC runs, which an idle worker may never
   * do: after a study is closed this is what gives that memory back.
   */
  async trim(): Promise<void> {
    const idle = this.slots.filter((s) => s.inFlight === 0);
    for (const s of idle) this.slots.splice(this.slots.indexOf(s), 1);
    await Promise.all(idle.map((s) => s.worker.terminate()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}

let shared: WorkerPool | null | undefined;

/** The process-wide pool, or null when disabled (RESIGHT_WORKERS=0). */
export function sharedWorkerPool(): WorkerPool | null {
  if (shared !== undefined) return shared;
  const env = envPositiveInt('RESIGHT_WORKERS', true);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const size = env ?? Math.min(cores, 8);
  shared = Number.isFinite(size) && size > 0 ? new WorkerPool(size) : null;
  return shared;
}

/**
 * Runs DICOM cases in worker threads, each under a heap limit (`resourceLimits`) and a
 * wall-clock timeout, and turns what happens to the thread into an outcome:
 *
 *   ok / typed        the case finished with success or a ResightError
 *   finding           another exception type (from inside the thread), or:
 *     timeout         no answer within the timeout (a hang): the thread is terminated
 *     oom             the thread ran out of its heap (ERR_WORKER_OUT_OF_MEMORY)
 *     memory          the process's resident memory passed the cap (ArrayBuffers are outside
 *                     the V8 heap limit): the thread is terminated
 *     crash           the thread died (uncaught error, exit, abort)
 *
 * Threads are reused across cases (starting one under tsx costs ~0.5 s) and replaced after any
 * finding. Case files go to a private folder under os.tmpdir(), removed after each case and
 * when the runner closes (or the process exits).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DicomCaseResult } from './dicom-case';
import type { DicomJob, DicomWorkerData } from './dicom-worker';
import { CANARY_FILES } from './dicom-case';

export interface RunnerOptions {
  /** Worker threads run side by side. */
  jobs?: number;
  timeoutMs?: number;
  /** V8 old-generation limit of each thread. */
  maxOldGenerationSizeMb?: number;
  /** Process resident-memory cap (MB) while cases run. */
  maxRssMb?: number;
  /** Frames decoded per case at most. */
  maxFrames?: number;
  /** The corpus folder: its canary files check the decoders for poisoning (none: no check). */
  corpusDir?: string;
}

export interface CaseOutcome extends DicomCaseResult {
  ms: number;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** The case in flight and how to settle it. */
  current?: { id: number; settle: (o: CaseOutcome) => void; started: number; timer: NodeJS.Timeout };
  stderr: string;
}

const WORKER_FILE = path.join(__dirname, 'dicom-worker.ts');

function spawnWorker(maxOld: number, workerData: DicomWorkerData): Worker {
  // Under tsx this harness is TypeScript: register the same loader in the thread (as
  // src/core/workers/pool.ts does) before loading the worker body.
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(WORKER_FILE)});`;
  return new Worker(code, {
    eval: true,
    resourceLimits: { maxOldGenerationSizeMb: maxOld, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 },
    stdout: true,
    stderr: true,
    env: { ...process.env, RESIGHT_WORKERS: '0' },
    workerData,
  });
}

export class DicomRunner {
  readonly jobs: number;
  readonly timeoutMs: number;
  readonly maxFrames: number;
  private readonly maxOld: number;
  private readonly maxRss: number;
  private readonly workerData: DicomWorkerData;
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly dir: string;
  private nextId = 1;
  private closed = false;
  private rssTimer: NodeJS.Timeout | undefined;
  private readonly cleanup = () => fs.rmSync(this.dir, { recursive: true, force: true });
  /** Threads started so far (diagnostics). */
  started = 0;

  constructor(opts: RunnerOptions = {}) {
    this.jobs = Math.max(1, opts.jobs ?? 1);
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxFrames = opts.maxFrames ?? 4;
    this.maxOld = opts.maxOldGenerationSizeMb ?? 512;
    this.maxRss = (opts.maxRssMb ?? 6144) * 1024 * 1024;
    const corpus = opts.corpusDir;
    this.workerData = corpus ? { canaries: Object.fromEntries(Object.entries(CANARY_FILES).map(([k, f]) => [k, path.join(corpus, f)])) } : {};
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-fuzz-'));
    process.once('exit', this.cleanup);
  }

  /** Start the threads now (so that their start-up is not charged to the first cases). */
  async warm(): Promise<void> {
    const probe = path.join(this.dir, 'warm.dcm');
    fs.writeFileSync(probe, new Uint8Array(0));
    await Promise.all(Array.from({ length: this.jobs }, () => this.runFile(probe)));
    fs.rmSync(probe, { force: true });
  }

  private newSlot(): Slot {
    const worker = spawnWorker(this.maxOld, this.workerData);
    this.started++;
    const slot: Slot = { worker, busy: false, stderr: '' };
    // Keep the threads' output off our stdout (codecs may print), but keep the tail for crashes.
    worker.stdout.on('data', () => {});
    worker.stderr.setEncoding('utf8').on('data', (d: string) => {
      slot.stderr = (slot.stderr + d).slice(-4000);
    });
    worker.on('message', (msg: { id: number; result?: DicomCaseResult; harnessError?: string }) => {
      const cur = slot.current;
      if (!cur || cur.id !== msg.id) return;
      if (msg.harnessError) {
        this.finish(slot, { status: 'finding', kind: 'harness', stage: 'scan', message: msg.harnessError, codes: [], framesDecoded: 0, ms: 0 }, true);
        return;
      }
      const result = msg.result as DicomCaseResult;
      this.finish(slot, { ...result, ms: 0 }, result.status === 'finding');
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      const message = oom ? `worker ran out of memory (maxOldGenerationSizeMb ${this.maxOld}): ${err.message}` : `worker crashed: ${err.stack ?? err.message}`;
      this.finish(slot, { status: 'finding', kind: oom ? 'oom' : 'crash', message, codes: [], framesDecoded: 0, ms: 0 }, true);
    });
    worker.on('exit', (code) => {
      if (slot.current) {
        this.finish(slot, { status: 'finding', kind: 'crash', message: `worker exited with code ${code}${slot.stderr ? `; stderr: ${slot.stderr.slice(-1000)}` : ''}`, codes: [], framesDecoded: 0, ms: 0 }, true);
      }
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.release();
    });
    this.slots.push(slot);
    return slot;
  }

  /** Settle the slot's case; `retire` replaces the thread (after any finding). */
  private finish(slot: Slot, outcome: CaseOutcome, retire: boolean): void {
    const cur = slot.current;
    if (!cur) return;
    clearTimeout(cur.timer);
    slot.current = undefined;
    outcome.ms = performance.now() - cur.started;
    if (retire) {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      void slot.worker.terminate();
    }
    slot.busy = false;
    cur.settle(outcome);
    this.release();
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
  }

  private async acquire(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new Error('runner is closed');
      // Claimed synchronously: two callers must never get the same thread.
      const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.jobs ? this.newSlot() : undefined);
      if (slot) {
        slot.busy = true;
        return slot;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private watchRss(): void {
    if (this.rssTimer) return;
    this.rssTimer = setInterval(() => {
      const busy = this.slots.filter((s) => s.current);
      if (!busy.length) {
        clearInterval(this.rssTimer);
        this.rssTimer = undefined;
        return;
      }
      const rss = process.memoryUsage.rss();
      if (rss <= this.maxRss) return;
      // Charge it to the case that has run longest (the minimiser re-runs findings alone).
      const slot = busy.reduce((a, b) => ((a.current?.started ?? 0) <= (b.current?.started ?? 0) ? a : b));
      this.finish(slot, { status: 'finding', kind: 'memory', message: `process RSS ${Math.round(rss / 2 ** 20)} MB passed the cap of ${Math.round(this.maxRss / 2 ** 20)} MB`, codes: [], framesDecoded: 0, ms: 0 }, true);
    }, 20);
    this.rssTimer.unref();
  }

  /** Run one case on a file that already exists. */
  async runFile(file: string): Promise<CaseOutcome> {
    const slot = await this.acquire();
    const id = this.nextId++;
    return new Promise<CaseOutcome>((settle) => {
      const timer = setTimeout(() => {
        this.finish(slot, { status: 'finding', kind: 'timeout', message: `no result within ${this.timeoutMs} ms`, codes: [], framesDecoded: 0, ms: 0 }, true);
      }, this.timeoutMs);
      slot.current = { id, settle, started: performance.now(), timer };
      this.watchRss();
      const job: DicomJob = { id, path: file, maxFrames: this.maxFrames };
      slot.worker.postMessage(job);
    });
  }

  /** Run one case on bytes (written to a temporary file for the duration of the case). */
  async run(bytes: Uint8Array): Promise<CaseOutcome> {
    const file = path.join(this.dir, `case-${this.nextId}-${Math.random().toString(36).slice(2, 8)}.dcm`);
    fs.writeFileSync(file, bytes);
    try {
      return await this.runFile(file);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** Replace every idle thread (the next case starts in a fresh one). */
  async recycle(): Promise<void> {
    const idle = this.slots.filter((s) => !s.busy);
    for (const s of idle) this.slots.splice(this.slots.indexOf(s), 1);
    await Promise.all(idle.map((s) => s.worker.terminate()));
  }

  /**
   * Run the same input up to `times` times in one fresh thread, stopping at the first finding:
   * for failures that build up across cases (a decoder left in a bad state).
   */
  async runRepeated(bytes: Uint8Array, times: number): Promise<CaseOutcome & { runs: number }> {
    await this.recycle();
    let last: CaseOutcome | undefined;
    for (let k = 1; k <= times; k++) {
      last = await this.run(bytes);
      if (last.status === 'finding') return { ...last, runs: k };
    }
    await this.recycle();
    return { ...(last as CaseOutcome), runs: times };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w();
    if (this.rssTimer) clearInterval(this.rssTimer);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
    this.cleanup();
    process.removeListener('exit', this.cleanup);
  }
}

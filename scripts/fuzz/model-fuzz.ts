/**
 * Model fuzzing: truncated and byte-corrupted copies of the default ONNX model, each with a
 * card whose sha256 matches the corrupted bytes (so ONNX Runtime's parser is reached), and
 * corrupted or ill-typed card JSON. `loadModel` must reject with a ResightError
 * (MODEL_INVALID, MODEL_HASH_MISMATCH, PROVIDER_UNAVAILABLE, ...) or load a usable model; it must
 * never throw anything else or crash the process. Cases run in a child process (model-child.ts)
 * under a timeout and a resident-memory cap; the child is replaced after any finding.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './corpus';
import { listFindings, saveFinding } from './findings';
import type { ModelCaseResult, ModelJob } from './model-child';
import { Rng } from './prng';

export const DEFAULT_CARD = path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json');

export interface ModelCase {
  onnx: Uint8Array;
  /** The card's JSON text. */
  card: string;
  steps: string[];
}

export interface ModelFinding {
  iteration: number;
  kind: string;
  message: string;
  steps: string[];
  name?: string;
  stack?: string;
  savedTo?: string;
}

export interface ModelFuzzOptions {
  seed: number;
  iterations: number;
  timeoutMs?: number;
  maxRssMb?: number;
  outDir?: string | null;
  log?: (line: string) => void;
  cardPath?: string;
}

export interface ModelFuzzResult {
  iterations: number;
  counts: Record<string, number>;
  findings: ModelFinding[];
  ms: number;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside a JSON tree (objects and arrays), breadth limited. */
function jsonPaths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (out.length > 2000) return out;
  if (v && typeof v === 'object') {
    const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x] as [number, Json]) : Object.entries(v);
    for (const [k, child] of entries) {
      out.push([...prefix, k]);
      jsonPaths(child, [...prefix, k], out);
    }
  }
  return out;
}

function setPath(root: Json, p: (string | number)[], value: Json | undefined): void {
  let cur = root as { [k: string]: Json };
  for (const k of p.slice(0, -1)) cur = cur[k as string] as { [k: string]: Json };
  const last = p[p.length - 1];
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last as string];
  } else Object.defineProperty(cur, last as string, { value, enumerable: true, writable: true, configurable: true });
}

function randomJson(rng: Rng): Json {
  return rng.pick<Json>([
    null, true, false, 0, -1, 1, 0.5, -0.5, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 53, '', 'N', 'x', '1', 'NaN', '../../etc/passwd', 'a'.repeat(10_000),
    [], [0], ['N', 3, 256, 256], [1, 2, 3, 4, 5], {}, { a: 1 }, [[[[]]]],
  ]);
}

const SEMANTIC: readonly [string, (c: { [k: string]: Json }) => void][] = [
  ['input.tensor renamed', (c) => setPath(c, ['input', 'tensor'], 'not_input')],
  ['outputs.tensor renamed', (c) => setPath(c, ['outputs', 'tensor'], 'nope')],
  ['input.shape channels 4', (c) => setPath(c, ['input', 'shape'], ['N', 4, 256, 256])],
  ['input.shape size 0', (c) => setPath(c, ['input', 'shape'], ['N', 3, 0, 0])],
  ['input.shape negative batch', (c) => setPath(c, ['input', 'shape'], [-1, 3, 256, 256])],
  ['resampling size disagrees', (c) => setPath(c, ['input', 'resampling', 'size'], [128, 128])],
  ['resampling size huge', (c) => { setPath(c, ['input', 'resampling', 'size'], [2 ** 31 - 1, 2 ** 31 - 1]); setPath(c, ['input', 'shape'], ['N', 3, 2 ** 31 - 1, 2 ** 31 - 1]); }],
  ['one class only', (c) => setPath(c, ['outputs', 'classes'], ['lung_nodule'])],
  ['three classes', (c) => { setPath(c, ['outputs', 'classes'], ['a', 'b', 'c']); setPath(c, ['outputs', 'thresholds'], { a: 0.5, b: 0.5, c: 0.5 }); }],
  ['threshold 2', (c) => setPath(c, ['outputs', 'thresholds', 'lung_nodule'], 2)],
  ['empty normalization', (c) => setPath(c, ['input', 'normalization'], { mean: [], std: [] })],
  ['window width 0', (c) => setPath(c, ['input', 'channels', 0, 'window', 'width'], 0)],
  ['window level 1e308', (c) => setPath(c, ['input', 'channels', 0, 'window', 'level'], 1e308)],
  ['padding fill 1e308', (c) => setPath(c, ['input', 'padding', 'fill'], -1e308)],
  ['onnx.file escapes', (c) => setPath(c, ['onnx', 'file'], '../../../../etc/passwd')],
  ['onnx.file missing', (c) => setPath(c, ['onnx', 'file'], 'missing.onnx')],
  ['onnx.file is a folder', (c) => setPath(c, ['onnx', 'file'], '.')],
  ['sha256 upper case', (c) => setPath(c, ['onnx', 'sha256'], String((c.onnx as { sha256: string }).sha256).toUpperCase())],
  ['cam.defaultLayer missing from layers', (c) => setPath(c, ['cam', 'defaultLayer'], 'layer9')],
  ['probabilities names a missing output', (c) => setPath(c, ['outputs', 'probabilities'], 'nope')],
  ['__proto__ keys', (c) => { setPath(c, ['__proto__'], { polluted: true }); setPath(c, ['input', '__proto__'], { tensor: 'x' }); }],
  ['modalities empty', (c) => setPath(c, ['modalities'], [])],
  ['100k classes', (c) => { const names = Array.from({ length: 100_000 }, (_, i) => `c${i}`); setPath(c, ['outputs', 'classes'], names); setPath(c, ['outputs', 'thresholds'], Object.fromEntries(names.map((n) => [n, 0.5]))); }],
];

/** Build iteration i's model case (a pure function of seed, i and the original files). */
export function modelCase(seed: number, iteration: number, onnx: Uint8Array, cardText: string): ModelCase {
  const rng = new Rng(seed ^ 0x0dde1, iteration);
  const card = JSON.parse(cardText) as { [k: string]: Json };
  const steps: string[] = [];
  let bytes = onnx;
  const target = rng.weighted([['onnx', 5], ['card', 4], ['both', 1]] as const);
  if (target === 'onnx' || target === 'both') {
    const op = rng.weighted([['truncate', 3], ['flip', 4], ['run', 2], ['header', 3], ['empty', 1], ['append', 1]] as const);
    const out = new Uint8Array(bytes);
    switch (op) {
      case 'truncate': {
        const at = rng.pick([0, 1, 2, 8, 16, 64, 512, rng.int(4096), rng.int(bytes.length), bytes.length - 1, bytes.length - rng.range(1, 64)]);
        bytes = bytes.slice(0, at);
        steps.push(`onnx truncate @${at}`);
        break;
      }
      case 'flip': {
        const n = rng.smallLength(64);
        for (let i = 0; i < n; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
        bytes = out;
        steps.push(`onnx bitflip x${n}`);
        break;
      }
      case 'run': {
        const o = rng.bool(0.6) ? rng.int(8192) : rng.int(out.length);
        const len = rng.smallLength(4096);
        const v = rng.pick([0, 0xff, 0x7f, 0x80]);
        out.fill(v, o, Math.min(out.length, o + len));
        bytes = out;
        steps.push(`onnx run 0x${v.toString(16)} x${len} @${o}`);
        break;
      }
      case 'header': {
        // The graph structure (nodes, attributes, shapes, names) sits around the initializers;
        // flip varint-length bytes where the protobuf framing is dense: the first and last KB.
        const n = rng.smallLength(16);
        for (let i = 0; i < n; i++) {
          const o = rng.bool() ? rng.int(Math.min(out.length, 2048)) : out.length - 1 - rng.int(Math.min(out.length, 16_384));
          out[o] = rng.pick([0x00, 0xff, 0x80, 0x7f, 0x08, 0x12, 0x1a, out[o] ^ 0x01]);
        }
        bytes = out;
        steps.push(`onnx framing bytes x${n}`);
        break;
      }
      case 'empty':
        bytes = new Uint8Array(0);
        steps.push('onnx empty');
        break;
      default: {
        const extra = new Uint8Array(rng.smallLength(1024)).map(() => rng.int(256));
        const joined = new Uint8Array(bytes.length + extra.length);
        joined.set(bytes, 0);
        joined.set(extra, bytes.length);
        bytes = joined;
        steps.push(`onnx append ${extra.length} random bytes`);
      }
    }
    // Keep the card's sha256 in step with the bytes (unless told otherwise), so ORT parses them.
    if (rng.bool(0.95)) (card.onnx as { [k: string]: Json }).sha256 = sha256(bytes);
    else steps.push('card sha256 left stale');
  }
  let text: string;
  if (target === 'card' || target === 'both') {
    const op = rng.weighted([['semantic', 4], ['retype', 4], ['delete', 2], ['syntax', 2]] as const);
    if (op === 'semantic') {
      const [name, apply] = rng.pick(SEMANTIC);
      apply(card);
      steps.push(`card ${name}`);
      text = JSON.stringify(card);
    } else if (op === 'retype' || op === 'delete') {
      const paths = jsonPaths(card);
      const n = rng.smallLength(4);
      for (let i = 0; i < n; i++) {
        const p = rng.pick(paths);
        const value = op === 'delete' ? undefined : randomJson(rng);
        try {
          setPath(card, p, value);
        } catch {
          continue; // the path went away with an earlier change
        }
        steps.push(`card ${op} ${p.join('.')}${value === undefined ? '' : ` = ${JSON.stringify(value).slice(0, 30)}`}`);
      }
      text = JSON.stringify(card);
    } else {
      const t = JSON.stringify(card, null, 2);
      const how = rng.pick(['truncate', 'byte', 'bom', 'nan', 'deep', 'empty']);
      if (how === 'truncate') text = t.slice(0, rng.int(t.length));
      else if (how === 'byte') {
        const o = rng.int(t.length);
        text = t.slice(0, o) + rng.pick(['"', '{', '}', ',', '\\', '\u0000', '\ud800', ']']) + t.slice(o + 1);
      } else if (how === 'bom') text = `\ufeff${t}`;
      else if (how === 'nan') text = t.replace(/"width": 1500.0|"width": 1500/, '"width": NaN');
      else if (how === 'deep') text = t.replace(/^\{/, `{"deep": ${'['.repeat(100_000)}${']'.repeat(100_000)},`);
      else text = '';
      steps.push(`card syntax ${how}`);
    }
  } else text = JSON.stringify(card, null, 2);
  return { onnx: bytes, card: text, steps };
}

/** Runs model cases in a child process, one at a time. */
export class ModelRunner {
  private child: ChildProcess | undefined;
  private stderr = '';
  private nextId = 1;
  readonly dir: string;
  private readonly cleanup = () => fs.rmSync(this.dir, { recursive: true, force: true });

  constructor(
    readonly timeoutMs = 60_000,
    readonly maxRssMb = 4096,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-fuzz-model-'));
    process.once('exit', this.cleanup);
  }

  private async start(): Promise<ChildProcess> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const file = path.join(__dirname, 'model-child.ts');
    this.stderr = '';
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), file], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, RESIGHT_ORT_LOG: '' } });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`model child did not start: ${this.stderr}`)), 60_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`model child exited with ${code} at start: ${this.stderr}`));
      });
    });
    this.child = child;
    return child;
  }

  private stop(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  private rssMb(pid: number | undefined): number {
    if (!pid) return 0;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  }

  /** Load `cardPath` in the child. */
  async runCard(cardPath: string): Promise<ModelCaseResult> {
    const child = await this.start();
    const id = this.nextId++;
    const t0 = performance.now();
    return new Promise<ModelCaseResult>((resolve) => {
      let done = false;
      const finish = (r: ModelCaseResult, kill: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(watch);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (kill || r.status === 'finding') this.stop();
        resolve(r);
      };
      const onMessage = (m: { id?: number; result?: ModelCaseResult }) => {
        if (m.id === id && m.result) finish(m.result, false);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        finish({ status: 'finding', kind: 'crash', message: `model child died (code ${code}, signal ${signal}): ${this.stderr.trim().slice(-3000)}`, ms: performance.now() - t0 }, true);
      };
      const timer = setTimeout(() => finish({ status: 'finding', kind: 'timeout', message: `no result within ${this.timeoutMs} ms`, ms: performance.now() - t0 }, true), this.timeoutMs);
      const watch = setInterval(() => {
        const rss = this.rssMb(child.pid);
        if (rss > this.maxRssMb) finish({ status: 'finding', kind: 'memory', message: `model child RSS ${Math.round(rss)} MB passed the cap of ${this.maxRssMb} MB`, ms: performance.now() - t0 }, true);
      }, 50);
      child.on('message', onMessage);
      child.once('exit', onExit);
      const job: ModelJob = { id, cardPath };
      child.send(job);
    });
  }

  /** Write a case's files to a fresh folder and load it. */
  async run(c: { onnx: Uint8Array; card: string }): Promise<ModelCaseResult> {
    const dir = fs.mkdtempSync(path.join(this.dir, 'case-'));
    fs.writeFileSync(path.join(dir, 'resight-ct-lesion.onnx'), c.onnx);
    const cardPath = path.join(dir, 'resight-ct-lesion.card.json');
    fs.writeFileSync(cardPath, c.card);
    try {
      return await this.runCard(cardPath);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  close(): void {
    this.child?.disconnect();
    this.child = undefined;
    this.cleanup();
    process.removeListener('exit', this.cleanup);
  }
}

export function modelOutcomeKey(r: ModelCaseResult): string {
  if (r.status === 'ok') return 'ok';
  if (r.status === 'typed') return `typed ${r.code}`;
  return `finding ${r.kind}`;
}

export async function runModelFuzz(opts: ModelFuzzOptions): Promise<ModelFuzzResult> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const cardPath = opts.cardPath ?? DEFAULT_CARD;
  const cardText = fs.readFileSync(cardPath, 'utf8');
  const onnxFile = path.join(path.dirname(cardPath), path.basename((JSON.parse(cardText) as { onnx: { file: string } }).onnx.file));
  const onnx = new Uint8Array(fs.readFileSync(onnxFile));
  const originalSha = sha256(onnx);
  const runner = new ModelRunner(opts.timeoutMs ?? 60_000, opts.maxRssMb ?? 4096);
  const counts: Record<string, number> = {};
  const findings: ModelFinding[] = [];
  const seen = new Set<string>();
  const alreadySaved = new Set(opts.outDir ? listFindings(opts.outDir).filter((g) => g.meta.target === 'model').map((g) => `${g.meta.kind}|${g.meta.message}`) : []);
  try {
    for (let i = 0; i < opts.iterations; i++) {
      const c = modelCase(opts.seed, i, onnx, cardText);
      const r = await runner.run(c);
      const key = modelOutcomeKey(r);
      counts[key] = (counts[key] ?? 0) + 1;
      if (r.status !== 'finding') continue;
      const f: ModelFinding = { iteration: i, kind: r.kind ?? 'unknown', message: r.message ?? '', steps: c.steps, name: r.name, stack: r.stack };
      findings.push(f);
      const sig = `${f.kind}|${(r.stack ?? '').split('\n').find((l) => /[/\\]src[/\\]/.test(l))?.trim() ?? f.message.slice(0, 80)}`;
      if (seen.has(sig)) continue;
      seen.add(sig);
      log(`  model finding at iteration ${i}: ${f.kind} ${f.message.split('\n')[0].slice(0, 200)}  [${c.steps.join(' | ')}]`);
      if (opts.outDir && !alreadySaved.has(`${f.kind}|${f.message}`)) {
        // Replay writes the pair back under the names the case had (resight-ct-lesion.*). An
        // ONNX file the case did not change is referenced, not copied.
        const unchanged = sha256(c.onnx) === originalSha;
        const saved = saveFinding(
          opts.outDir,
          {
            target: 'model',
            kind: f.kind,
            message: f.message,
            seed: opts.seed,
            iteration: i,
            mutators: c.steps,
            source: path.relative(REPO_ROOT, cardPath),
            name: f.name,
            stack: f.stack,
            ...(unchanged ? { onnxSource: path.relative(REPO_ROOT, onnxFile), onnxSha256: originalSha } : {}),
          },
          unchanged ? [{ ext: '.card.json', bytes: c.card }] : [{ ext: '.onnx', bytes: c.onnx }, { ext: '.card.json', bytes: c.card }],
        );
        if (saved) f.savedTo = saved;
      }
    }
    return { iterations: opts.iterations, counts, findings, ms: performance.now() - t0 };
  } finally {
    runner.close();
  }
}

/**
 * Replay a saved model fixture: its card and ONNX, written under the names the case had. When
 * the ONNX is the repository's own model (`restamp`: the sha256 it had when the finding was
 * saved), a card that named that sha256 is given the file's current one, so that a retrained
 * model does not turn the replay into a mere hash mismatch.
 */
export async function replayModelFixture(onnxPath: string, cardPath: string, timeoutMs = 60_000, restamp?: string): Promise<ModelCaseResult> {
  const runner = new ModelRunner(timeoutMs);
  try {
    const onnx = new Uint8Array(fs.readFileSync(onnxPath));
    let card = fs.readFileSync(cardPath, 'utf8');
    if (restamp) card = card.split(restamp).join(sha256(onnx));
    return await runner.run({ onnx, card });
  } finally {
    runner.close();
  }
}

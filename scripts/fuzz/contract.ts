/**
 * Contract fuzzing: start the browser bridge (src/bridge/server.ts) with the demo folder
 * granted, connect a WebSocket client with the token and send random and malformed payloads to
 * every call in METHODS: wrong types, missing and extra fields, huge strings, deep nesting,
 * non-JSON, arrays for objects, prototype-pollution keys, NaN / -1 / 1e308 / 1e309, unknown
 * methods. Every reply must be `{ok: false, error: {code, message}}` with a code from
 * ERROR_CODES (INTERNAL counts as a finding: it means an unexpected exception in a handler),
 * or `{ok: true, value}` for a payload that was valid by chance; no stack traces, no paths the
 * caller did not send. The server must still answer `studies.list` afterwards.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import type { Bridge } from '../../src/bridge/server';
import { startBridge } from '../../src/bridge/server';
import type { Method } from '../../src/shared/api';
import { CAM_METHOD_NAMES, DECISIONS, METHODS } from '../../src/shared/api';
import { ERROR_CODES } from '../../src/shared/errors';
import { REPO_ROOT } from './corpus';
import { listFindings, saveFinding } from './findings';
import { Rng } from './prng';

export const DEMO_DIR = path.join(REPO_ROOT, 'resources', 'demo');

export interface ContractFinding {
  kind: string;
  method: string;
  payload: string;
  message: string;
  iteration: number;
  savedTo?: string;
}

export interface ContractFuzzOptions {
  seed: number;
  /** Payloads to send (spread round-robin over METHODS, plus unknown methods). */
  iterations: number;
  /** Per-reply timeout, ms. */
  timeoutMs?: number;
  outDir?: string | null;
  log?: (line: string) => void;
  /**
   * Include WebSocket protocol errors (default true): text frames of invalid UTF-8 among the
   * payloads, and one message over the bridge's 1 MiB limit at the end. Either may close that
   * connection (1007, 1009); the server must live on.
   */
  protocolErrors?: boolean;
}

export interface ContractFuzzResult {
  sent: number;
  /** 'ok <method>' / 'error <code>' -> replies. */
  counts: Record<string, number>;
  findings: ContractFinding[];
  /** studies.list answered after the campaign (and after an oversized message). */
  stillAnswering: boolean;
  ms: number;
}

/** A literal token written into the JSON text as is (NaN, 1e309, ...): makes non-JSON or edge numbers. */
class Raw {
  constructor(readonly text: string) {}
}

type Value = null | boolean | number | string | Raw | Value[] | { [k: string]: Value };

/** JSON.stringify that also writes Raw tokens and keeps own "__proto__" keys. */
export function toText(v: Value): string {
  if (v instanceof Raw) return v.text;
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toText).join(',')}]`;
  return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${toText(v[k])}`).join(',')}}`;
}

/** An object with the given entries as own properties (including "__proto__"). */
function obj(entries: [string, Value][]): { [k: string]: Value } {
  const o: { [k: string]: Value } = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const EVIL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', ' ', 'then', 'x'.repeat(300)];
const RAW_NUMBERS = ['NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '1e308', '-1e308', '-0', '9007199254740993', '1e-400', '0.5', '-1', '4294967296', '0x10', 'undefined'];
const STRINGS = ['', ' ', 'a', '\u0000', '../../../../etc/passwd', '/etc/passwd', 'C:\\Windows\\system32', '%2e%2e%2f', '\ud800', '<script>alert(1)</script>', '${7*7}', '__proto__', 'constructor', '😀'.repeat(50), 'NaN'];

function randomValue(rng: Rng, depth = 0): Value {
  const kind = rng.weighted([
    ['null', 1], ['bool', 1], ['int', 2], ['float', 1], ['raw', 2], ['string', 3], ['huge', depth ? 0 : 1],
    ['array', depth < 3 ? 2 : 0], ['object', depth < 3 ? 2 : 0], ['deep', depth ? 0 : 1],
  ] as const);
  switch (kind) {
    case 'null':
      return null;
    case 'bool':
      return rng.bool();
    case 'int':
      return rng.pick([0, -1, 1, 2, 255, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1_000_000, 1_000_001]);
    case 'float':
      return rng.pick([0.5, -0.5, 1e308, -1e308, 5e-324, 1.0000001, Math.PI]);
    case 'raw':
      return new Raw(rng.pick(RAW_NUMBERS));
    case 'string':
      return rng.pick(STRINGS);
    case 'huge':
      return rng.pick(['x', '\\', '\u00e9', '\u0000', '/']).repeat(rng.pick([257, 4097, 10_001, 100_000, 400_000]));
    case 'array':
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    case 'object':
      return obj(Array.from({ length: rng.int(4) }, () => [rng.bool(0.5) ? rng.pick(EVIL_KEYS) : `k${rng.int(10)}`, randomValue(rng, depth + 1)] as [string, Value]));
    default:
      return new Raw(deepText(rng));
  }
}

/** Deeply nested arrays/objects as text (no recursion on either side of ours). */
function deepText(rng: Rng): string {
  const n = rng.pick([100, 1000, 10_000, 100_000]);
  return rng.bool() ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
}

export interface ContractState {
  seriesIds: string[];
  studyUids: string[];
}

/** Plausible params for a method (the starting point for mutations). */
function baseParams(method: Method, rng: Rng, state: ContractState): { [k: string]: Value } {
  const fakeId = () => rng.pick(['1.2.3', 'nope', 'x'.repeat(256), '1.2.840.113619.2.55.3#2', ...state.seriesIds.slice(0, 1)]);
  switch (method) {
    case 'studies.open':
      return { paths: [rng.pick([DEMO_DIR, path.join(DEMO_DIR, 'CT0001.dcm'), path.join(DEMO_DIR, '..'), '/etc', path.join(DEMO_DIR, 'missing.dcm'), path.join(DEMO_DIR, '..', '..', 'package.json')])] };
    case 'studies.close':
      return { studyInstanceUid: rng.pick(['1.2.3', ...state.studyUids]) };
    case 'series.get':
    case 'analysis.get':
    case 'review.get':
      return { seriesId: fakeId() };
    case 'analysis.start':
      // Never a real series: a real one would start a full inference job.
      return { seriesId: rng.pick(['1.2.3', 'nope']), provider: rng.pick(['cpu', 'cuda', 'webgpu']) };
    case 'analysis.cancel':
      return { jobId: rng.pick(['00000000-0000-0000-0000-000000000000', 'job']) };
    case 'explain.slice':
      return { seriesId: rng.pick(['1.2.3', 'nope']), slice: rng.int(3), method: rng.pick(CAM_METHOD_NAMES) };
    case 'review.set':
      return { seriesId: fakeId(), findingId: 'f1', decision: rng.pick(DECISIONS), comment: 'ok' };
    default:
      return {};
  }
}

function mutateParams(params: { [k: string]: Value }, rng: Rng): Value {
  const keys = Object.keys(params);
  const op = rng.weighted([
    ['wrong-type', 4], ['missing', 2], ['extra', 3], ['huge-string', 2], ['replace', 2], ['none', 1], ['evil-keys', 2], ['numbers', 2],
  ] as const);
  const out = obj(keys.map((k) => [k, params[k]]));
  switch (op) {
    case 'wrong-type':
      if (keys.length) out[rng.pick(keys)] = randomValue(rng);
      else out[`k${rng.int(5)}`] = randomValue(rng);
      return out;
    case 'missing':
      if (keys.length) delete out[rng.pick(keys)];
      return out;
    case 'extra':
      return obj([...keys.map((k) => [k, params[k]] as [string, Value]), [rng.pick([...EVIL_KEYS, 'extra', 'paths', 'seriesId']), randomValue(rng)]]);
    case 'huge-string':
      if (keys.length) out[rng.pick(keys)] = 'A'.repeat(rng.pick([257, 4097, 70_000, 500_000]));
      return out;
    case 'replace':
      return rng.pick<Value>([[], [params], 'params', 0, -1, null, true, new Raw('NaN'), new Raw(deepText(rng)), [[[]]]]);
    case 'evil-keys':
      return obj([...keys.map((k) => [k, params[k]] as [string, Value]), ['__proto__', obj([['polluted', true], ['ok', true]])], ['constructor', obj([['prototype', obj([['polluted', true]])]])]]);
    case 'numbers':
      for (const k of keys) if (rng.bool()) out[k] = new Raw(rng.pick(RAW_NUMBERS));
      if (!keys.length) out.slice = new Raw(rng.pick(RAW_NUMBERS));
      return out;
    default:
      return out;
  }
}

/** One message's text (and the method it names, for the record). */
export function contractPayload(seed: number, iteration: number, state: ContractState, protocolErrors = true): { method: string; text: string } {
  const rng = new Rng(seed ^ 0x5eed, iteration);
  const id = iteration + 1;
  const method: string = iteration % 12 < METHODS.length ? METHODS[iteration % 12] : rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'STUDIES.LIST', 'studies.list ', 'studies', 'x'.repeat(5000), 'studies.open\u0000']);
  const shape = rng.weighted([['call', 14], ['envelope', 3], ['non-json', 3]] as const);
  if (shape === 'call') {
    const params = METHODS.includes(method as Method) ? mutateParams(baseParams(method as Method, rng, state), rng) : randomValue(rng);
    return { method, text: toText(obj([['id', id], ['method', method], ['params', params]])) };
  }
  if (shape === 'envelope') {
    const variants: Value[] = [
      obj([['id', id], ['method', method]]),
      obj([['id', id], ['params', {}]]),
      obj([['id', id], ['method', rng.pick<Value>([1, null, [], {}, true, new Raw('NaN')])], ['params', {}]]),
      obj([['id', rng.pick<Value>([{}, [], true, null, 1.5, 'str', '', new Raw('1e309')])], ['method', 'studies.list'], ['params', {}]]),
      obj([['__proto__', obj([['method', 'studies.list']])], ['id', id]]),
      [obj([['id', id], ['method', 'studies.list']])],
      null,
      rng.pick<Value>([1, 'studies.list', true]),
      obj([['id', id], ['method', method], ['params', {}], ['extra', randomValue(rng)]]),
    ];
    return { method, text: toText(rng.pick(variants)) };
  }
  const garbage = rng.pick(([
    '', ' ', 'NaN', 'undefined', '{', '}', '{"id":1,"method":"studies.list"', "{'id':1}", '{"id":1,"method":"studies.list","params":{}}}',
    '\ufeff{"id":1,"method":"studies.list","params":{}}', '{"id":1,"method":"series.get","params":{"seriesId":"\\ud800"}}', '\u0000\u0001\u0002',
    '{"id":1,"method":"explain.slice","params":{"seriesId":"a","slice":1e999}}', '['.repeat(50_000), '"' + 'a'.repeat(100_000),
    // Invalid UTF-8 in a text frame (a lone continuation byte, an overlong form, a surrogate).
    `__utf8__:${Buffer.from('{"id":1,"method":"studies.list","params":{}}').toString('hex')}80`,
    `__utf8__:7b226964223a312c226d6574686f64223a22c0af227d`,
    `__utf8__:eda080`,
    // Binary frames (the bridge reads them as text).
    `__binary__:${Buffer.from(`{"id":${id},"method":"studies.list","params":{}}`).toString('hex')}`,
    `__binary__:00ff00ff`,
  ] as string[]).filter((g) => protocolErrors || !g.startsWith('__utf8__:')));
  return { method, text: garbage };
}

interface ReplyMessage {
  id?: unknown;
  reply?: { ok?: unknown; value?: unknown; error?: { code?: unknown; message?: unknown } };
  event?: unknown;
}

/** One WebSocket connection that sends a message and waits for the next reply (events skipped). */
export class ContractClient {
  private waiting: ((m: ReplyMessage | Error) => void) | undefined;
  closed = false;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      let msg: ReplyMessage;
      try {
        msg = JSON.parse(String(d)) as ReplyMessage;
      } catch {
        msg = { reply: { ok: 'unparseable reply' } };
      }
      if (msg && typeof msg === 'object' && 'event' in msg && !('reply' in msg)) return;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(msg);
    });
    ws.on('close', () => {
      this.closed = true;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(new Error('connection closed'));
    });
    ws.on('error', () => {});
  }

  static open(bridge: { port: number; token: string }): Promise<ContractClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/ws?token=${bridge.token}`);
      ws.once('open', () => resolve(new ContractClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Send a payload (see `materialise`); resolve with the reply, an Error (closed), or 'timeout'. */
  send(payload: string, timeoutMs: number): Promise<ReplyMessage | Error | 'timeout'> {
    const { data, binary } = materialise(payload);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve('timeout');
      }, timeoutMs);
      this.waiting = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.ws.send(data, { binary }, (err) => {
        if (err) {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve(err);
        }
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The bridge's message limit (src/bridge/server.ts MAX_MESSAGE): a bigger one may close the connection. */
const MAX_MESSAGE = 1 << 20;

const SECRET_PATHS = [REPO_ROOT, os.tmpdir(), os.homedir()].filter((p) => p.length > 4);

/**
 * What a recorded payload sends. Plain text is a text frame; three prefixes stand for what a
 * text fixture cannot hold: `__oversized__:N` (a studies.list call padded to N bytes),
 * `__utf8__:HEX` (a text frame of raw, possibly invalid UTF-8) and `__binary__:HEX` (a binary frame).
 */
export function materialise(payload: string): { data: string | Buffer; binary: boolean } {
  const m = /^__(oversized|utf8|binary)__:(.*)$/s.exec(payload);
  if (!m) return { data: payload, binary: false };
  if (m[1] === 'oversized') return { data: JSON.stringify({ id: 'big', method: 'studies.list', params: { pad: 'x'.repeat(Number(m[2])) } }), binary: false };
  return { data: Buffer.from(m[2], 'hex'), binary: m[1] === 'binary' };
}

/** The id a reply must carry: the message's own id when it is JSON with a number/string id, else null. */
export function expectedId(payload: string): number | string | null {
  const { data } = materialise(payload);
  try {
    const v = JSON.parse(String(data)) as { id?: unknown } | null;
    // A non-finite number id (1e309 parses to Infinity) cannot be written back as JSON: null.
    return v && typeof v === 'object' && ((typeof v.id === 'number' && Number.isFinite(v.id)) || typeof v.id === 'string') ? v.id : null;
  } catch {
    return null;
  }
}

/** The method a payload really calls (for the counts), or a label for what it is. */
export function calledMethod(payload: string): string {
  const { data, binary } = materialise(payload);
  if (binary) return '(binary frame)';
  if (typeof data !== 'string') return '(invalid UTF-8)';
  try {
    const v = JSON.parse(data) as { method?: unknown } | null;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return '(not an object)';
    return typeof v.method === 'string' ? v.method.slice(0, 40) : '(no method)';
  } catch {
    return '(not JSON)';
  }
}

/** The line of a crash report that names the error ("Error: Invalid WebSocket frame: ..."). */
function errorLine(message: string): string {
  return message.split('\n').find((l) => /^\w*Error\b.*:/.test(l.trim()))?.trim() ?? '';
}

/** What makes two contract findings the same bug. */
function findingKey(kind: string, method: string, message: string): string {
  return kind === 'server-crash' || kind === 'disconnected' ? `${kind}|${errorLine(message)}` : `${kind}|${method}`;
}

/** A payload over 1 MiB is saved as `__oversized__:N` (the replay rebuilds one that size): fixtures stay small. */
function compactPayload(payload: string): string {
  const n = Buffer.byteLength(payload);
  return n > 1 << 20 && !payload.startsWith('__') ? `__oversized__:${n}` : payload;
}

/** Check one reply; returns a finding kind and message, or undefined when it keeps the contract. */
export function checkReply(text: string, r: ReplyMessage | Error | 'timeout'): { kind: string; message: string } | { ok: true; key: string } {
  if (r === 'timeout') return { kind: 'no-reply', message: 'no reply within the timeout' };
  if (r instanceof Error) return { kind: 'disconnected', message: r.message };
  const reply = r.reply;
  if (!reply || typeof reply !== 'object' || typeof reply.ok !== 'boolean') return { kind: 'malformed-reply', message: JSON.stringify(r).slice(0, 500) };
  const expectId = expectedId(text);
  if (r.id !== expectId) return { kind: 'id-mismatch', message: `sent id ${JSON.stringify(expectId)}, reply id ${JSON.stringify(r.id)}` };
  if (reply.ok) {
    if (!('value' in reply)) return { kind: 'malformed-reply', message: 'ok: true without a value' };
    return { ok: true, key: 'ok' };
  }
  const err = reply.error;
  const code = err?.code;
  if (!err || typeof code !== 'string' || !(ERROR_CODES as readonly string[]).includes(code) || typeof err.message !== 'string') {
    return { kind: 'bad-error', message: JSON.stringify(reply).slice(0, 500) };
  }
  if (code === 'INTERNAL') return { kind: 'internal', message: err.message.slice(0, 1000) };
  if (/\n\s+at .+:\d+:\d+/.test(err.message)) return { kind: 'stack-leak', message: err.message.slice(0, 1000) };
  for (const p of SECRET_PATHS) if (err.message.includes(p) && !text.includes(p)) return { kind: 'path-leak', message: err.message.slice(0, 1000) };
  return { ok: true, key: `error ${code}` };
}

export async function startFuzzBridge(): Promise<Bridge> {
  // No data folder (reviews stay in memory), no result cache: nothing is written anywhere.
  return startBridge({ grant: [DEMO_DIR], cacheDir: null, provider: 'cpu', threads: 1 });
}

/** The bridge in a child process (bridge-child.ts under tsx). */
export class BridgeProcess {
  private stderr = '';
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly token: string,
  ) {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000);
    });
    child.on('exit', (code, signal) => {
      this.exited = { code, signal };
    });
  }

  /** The last of its stderr (a crash's stack). */
  get stderrTail(): string {
    return this.stderr;
  }

  static start(): Promise<BridgeProcess> {
    const file = path.join(__dirname, 'bridge-child.ts');
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), file], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, RESIGHT_WORKERS: '1' },
    });
    return new Promise((resolve, reject) => {
      let err = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`bridge did not start within 60 s: ${err}`));
      }, 60_000);
      child.once('message', (m: { port: number; token: string }) => {
        clearTimeout(timer);
        const bp = new BridgeProcess(child, m.port, m.token);
        resolve(bp);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`bridge exited with code ${code} before listening: ${err}`));
      });
    });
  }

  /** Wait briefly for the process to exit (after a suspected crash). */
  async waitExit(ms: number): Promise<boolean> {
    const t0 = Date.now();
    while (!this.exited && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
    return this.exited !== undefined;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}

export async function runContractFuzz(opts: ContractFuzzOptions): Promise<ContractFuzzResult> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t0 = performance.now();
  const counts: Record<string, number> = {};
  const findings: ContractFinding[] = [];
  const kinds = new Set<string>();
  // Bugs saved by earlier runs (same kind and error line, or same kind and method) are not saved again.
  const savedKeys = new Set(opts.outDir ? listFindings(opts.outDir).filter((f) => f.meta.target === 'contract').map((f) => findingKey(f.meta.kind, f.meta.method ?? '', f.meta.message)) : []);
  let bridge = await BridgeProcess.start();
  let client = await ContractClient.open(bridge);
  const state: ContractState = { seriesIds: [], studyUids: [] };
  const record = (kind: string, method: string, payload: string, message: string, iteration: number) => {
    const f: ContractFinding = { kind, method, payload, message, iteration };
    findings.push(f);
    const key = findingKey(kind, method, message);
    if (!kinds.has(key)) {
      kinds.add(key);
      log(`  contract finding (${kind}) on ${method.slice(0, 40)}: ${message.split('\n')[0].slice(0, 200)}  [payload ${payload.slice(0, 120)}${payload.length > 120 ? '...' : ''}]`);
      if (opts.outDir && !savedKeys.has(key)) {
        const saved = saveFinding(opts.outDir, { target: 'contract', kind, message, seed: opts.seed, iteration, mutators: [], source: 'bridge', method }, [{ ext: '.txt', bytes: compactPayload(payload) }]);
        if (saved) f.savedTo = saved;
      }
    }
  };
  /** After a closed connection or a timeout: did the server die? Restart what is needed. */
  const recover = async (method: string, payload: string, iteration: number): Promise<boolean> => {
    client.close();
    let crashed = false;
    if (await bridge.waitExit(300)) {
      const ex = bridge.exited;
      record('server-crash', method, payload, `the bridge process exited (code ${ex?.code}, signal ${ex?.signal}): ${bridge.stderrTail.trim().slice(-3000)}`, iteration);
      bridge = await BridgeProcess.start();
      crashed = true;
    }
    client = await ContractClient.open(bridge);
    return crashed;
  };
  let sent = 0;
  let stillAnswering = false;
  try {
    // Real ids to aim at: open the demo once.
    const opened = await client.send(JSON.stringify({ id: 'setup', method: 'studies.open', params: { paths: [DEMO_DIR] } }), timeoutMs);
    if (opened !== 'timeout' && !(opened instanceof Error) && opened.reply?.ok) {
      const value = opened.reply.value as { studies: { studyInstanceUid: string; series: { id: string }[] }[] };
      for (const st of value.studies) {
        state.studyUids.push(st.studyInstanceUid);
        for (const s of st.series) state.seriesIds.push(s.id);
      }
    }
    for (let i = 0; i < opts.iterations; i++) {
      const { text } = contractPayload(opts.seed, i, state, opts.protocolErrors !== false);
      const method = calledMethod(text);
      const r = await client.send(text, timeoutMs);
      sent++;
      const count = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);
      const verdict = checkReply(text, r);
      if ('ok' in verdict) count(verdict.key === 'ok' ? `ok ${method}` : verdict.key);
      else if (verdict.kind !== 'disconnected') {
        count(`finding ${verdict.kind}`);
        record(verdict.kind, method, text, verdict.message, i);
      }
      if (client.closed || r === 'timeout' || r instanceof Error) {
        // A closed connection is judged here: did the server die?
        const crashed = await recover(method, text, i);
        if (crashed) count('finding server-crash');
        else if (text.startsWith('__utf8__:')) count('closed (invalid UTF-8, 1007)');
        else if (Buffer.byteLength(text) > MAX_MESSAGE) count('closed (oversized message, 1009)');
        else {
          // The server may close a connection on a protocol error, but on nothing else.
          count('finding disconnected');
          record('disconnected', method, text, 'the bridge closed the connection', i);
        }
      }
    }
    if (opts.protocolErrors !== false) {
      // A message over the bridge's 1 MiB limit may close that connection; the server must live on.
      const text = `__oversized__:${(1 << 20) + 16}`;
      const big = await client.send(text, timeoutMs);
      sent++;
      if (!(big instanceof Error) && big !== 'timeout') {
        const v = checkReply(text, big);
        if (!('ok' in v)) record(v.kind, 'studies.list', text, v.message, -1);
      }
      if (await recover('studies.list', text, -1)) counts['finding server-crash'] = (counts['finding server-crash'] ?? 0) + 1;
      else counts['closed (oversized message, 1009)'] = (counts['closed (oversized message, 1009)'] ?? 0) + 1;
    }
    const final = await client.send(JSON.stringify({ id: 'final', method: 'studies.list', params: {} }), timeoutMs);
    stillAnswering = final !== 'timeout' && !(final instanceof Error) && final.reply?.ok === true;
    if (!stillAnswering) record('unresponsive', 'studies.list', '{"method":"studies.list"}', `after the campaign: ${final instanceof Error ? final.message : JSON.stringify(final).slice(0, 300)}`, -1);
    return { sent, counts, findings, stillAnswering, ms: performance.now() - t0 };
  } finally {
    client.close();
    await bridge.stop();
  }
}

/** Replay saved payloads (regression): each reply must keep the contract and the server must live. */
export async function replayContractPayloads(texts: readonly string[], timeoutMs = 30_000): Promise<{ text: string; verdict: ReturnType<typeof checkReply> | { kind: string; message: string } }[]> {
  let bridge = await BridgeProcess.start();
  let client = await ContractClient.open(bridge);
  const out: { text: string; verdict: ReturnType<typeof checkReply> | { kind: string; message: string } }[] = [];
  try {
    for (const text of texts) {
      const r = await client.send(text, timeoutMs);
      let verdict: ReturnType<typeof checkReply> | { kind: string; message: string } = checkReply(text, r);
      if (client.closed || r === 'timeout' || r instanceof Error) {
        client.close();
        if (await bridge.waitExit(300)) {
          verdict = { kind: 'server-crash', message: bridge.stderrTail.trim().slice(-2000) };
          bridge = await BridgeProcess.start();
        } else if (r instanceof Error && /^__(oversized|utf8)__:/.test(text)) {
          verdict = { ok: true, key: 'closed (protocol error)' };
        }
        client = await ContractClient.open(bridge);
      }
      out.push({ text, verdict });
    }
    return out;
  } finally {
    client.close();
    await bridge.stop();
  }
}

/**
 * Malformed input, built from real files (the shared corpus and files ReSight generates): files
 * cut at many offsets (preamble, File Meta, mid-element, mid-pixel-data; native, deflated and
 * encapsulated), empty files, lengths pointing past the end, deeply nested and unterminated
 * sequences, pixel data shorter than the header promises, absurd Rows/Columns/NumberOfFrames,
 * random bytes after a valid header, corrupted codestreams, a folder given as a file.
 *
 * For every one, `scanFile` (header) and `loadFrame` (decode) either succeed or fail with a
 * ResightError whose code fits the damage and whose message names the file: never another
 * exception type, never a hang, each call within 1 s (measured in a worker thread, which a
 * watchdog kills if a call hangs). The inputs are byte-identical afterwards. The built CLI,
 * given some of them, exits 1 with one JSON error line, no stack trace and no output file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { DataSet, Element } from 'dicom-parser';
import { parseDicomBytes, pixelDataElement } from '../../../../src/core/dicom/parse';
import type { SimpleElement } from '../../../../src/core/dicom/write-simple';
import { writePart10 } from '../../../../src/core/dicom/write-simple';
import { rng, writeSyntheticSeries } from '../../../../src/core/synthetic/ct-series';
import type { ErrorCode } from '../../../../src/shared/errors';
import { ERROR_CODES } from '../../../../src/shared/errors';
import { ensureCliBuilt, runCli, stackTraceLines } from '../../../helpers/cli';
import { CORPUS_DIR, corpusPath, readReference } from '../../../helpers/corpus';
import type { WorkRequest, WorkResult } from './bad-input.worker';

/** Every scanFile / loadFrame call on bad input must finish within this. */
const TIME_LIMIT_MS = 1000;
/** A call still running after this is a hang: the worker is killed. */
const WATCHDOG_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// The isolated runner: one worker thread, one request at a time, a watchdog per request.

type Outcome = (WorkResult & { kind: 'done' }) | { kind: 'hung'; ms: number } | { kind: 'crashed'; why: string };

const WORKER_SOURCE = `require(${JSON.stringify(require.resolve('tsx/cjs'))});
require(${JSON.stringify(path.join(__dirname, 'bad-input.worker.ts'))});`;

/** Valid corpus files, one per codec: decoded once in each fresh worker so WASM start-up is not timed. */
const WARM_UP = [
  'pydicom_CT_small.dcm',
  'cswado_CTImage_j2k_lossless_90.dcm',
  'cswado_CTImage_jpegls_lossless_80.dcm',
  'cswado_CTImage_jpeg_baseline_50.dcm',
  'pydicom_JPEG-lossy.dcm',
  'cswado_CTImage_jpeg_lossless_sv1_70.dcm',
  'pydicom_MR_small_RLE.dcm',
  'cswado_CTImage_deflated.dcm',
];

class IsolatedDecoder {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending: { id: number; resolve: (o: Outcome) => void; timer: NodeJS.Timeout } | undefined;
  /** Workers started so far (a hang or crash costs one). */
  started = 0;

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    this.started++;
    w.on('message', (res: WorkResult) => {
      if (this.worker === w) this.settle(res.id, { ...res, kind: 'done' });
    });
    w.on('error', (err) => {
      if (this.worker === w) this.crash(`worker error: ${err.message}`);
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.crash(`worker exited (code ${code})`);
    });
    return w;
  }

  private settle(id: number, outcome: Outcome): void {
    if (!this.pending || this.pending.id !== id) return;
    const { resolve, timer } = this.pending;
    clearTimeout(timer);
    this.pending = undefined;
    resolve(outcome);
  }

  private crash(why: string): void {
    this.worker = undefined;
    if (this.pending) this.settle(this.pending.id, { kind: 'crashed', why });
  }

  private send(worker: Worker, req: Omit<WorkRequest, 'id'>, watchdogMs: number): Promise<Outcome> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        this.pending = undefined;
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
        resolve({ kind: 'hung', ms: Date.now() - started });
      }, watchdogMs);
      this.pending = { id, resolve, timer };
      worker.postMessage({ ...req, id } satisfies WorkRequest);
    });
  }

  async run(req: Omit<WorkRequest, 'id'>, watchdogMs = WATCHDOG_MS): Promise<Outcome> {
    if (!this.worker) {
      const w = this.spawn();
      this.worker = w;
      for (const f of WARM_UP) {
        const o = await this.send(w, { file: corpusPath(f), frames: [0], decodeOnly: true }, 60_000);
        if (o.kind !== 'done' || !o.decodes[0]?.ok) throw new Error(`warm-up decode of ${f} failed: ${JSON.stringify(o)}`);
      }
    }
    return this.send(this.worker!, req, watchdogMs);
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// What each case may produce, and the checks every outcome gets.

interface Allowed {
  /** Success is acceptable. */
  ok: boolean;
  codes: readonly ErrorCode[];
}

interface Expectation {
  scan: Allowed;
  decode: Allowed;
  /** Frames whose data is missing or broken: decoding them must fail. */
  mustFail?: number[];
  /** Frames that must decode (controls). */
  mustDecode?: number[];
}

const fail = (...codes: ErrorCode[]): Allowed => ({ ok: false, codes });
const okOr = (...codes: ErrorCode[]): Allowed => ({ ok: true, codes });
/** Whatever a damaged file may be reported as (not INTERNAL, USAGE or series-level codes). */
const ANY_INPUT_ERROR: ErrorCode[] = [
  'NOT_DICOM',
  'FILE_EMPTY',
  'FILE_TRUNCATED',
  'PARSE_FAILED',
  'NO_PIXEL_DATA',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'UNSUPPORTED_PIXEL_FORMAT',
  'PIXEL_DATA_TRUNCATED',
  'CODEC_FAILED',
];
const same = (a: Allowed, extra: Partial<Expectation> = {}): Expectation => ({ scan: a, decode: a, ...extra });

const shortText = (s: string | undefined, n = 300) => (s && s.length > n ? `${s.slice(0, n)}...` : (s ?? ''));

/** Everything wrong with one outcome, as readable lines (empty: all good). */
function problemsOf(label: string, file: string, o: Outcome, exp: Expectation): string[] {
  if (o.kind === 'hung') return [`${label}: no answer after ${o.ms} ms: a hang`];
  if (o.kind === 'crashed') return [`${label}: the worker died (${o.why})`];
  const out: string[] = [];
  const s = o.scan;
  if (s) {
    if (s.ms > TIME_LIMIT_MS) out.push(`${label}: scanFile took ${s.ms.toFixed(0)} ms`);
    if (s.threw) out.push(`${label}: scanFile threw ${s.threw.name} (${s.threw.code ?? '-'}): ${shortText(s.threw.message)}`);
    if (s.fileError) {
      const e = s.fileError;
      if (!(ERROR_CODES as readonly string[]).includes(e.code)) out.push(`${label}: scanFile: unknown code ${e.code}`);
      if (!exp.scan.codes.includes(e.code as ErrorCode)) out.push(`${label}: scanFile reported ${e.code} (${shortText(e.message, 160)}), expected ${exp.scan.ok ? 'success or ' : ''}${exp.scan.codes.join('|')}`);
      if (e.path !== file) out.push(`${label}: scanFile error names ${e.path}, not the file`);
    }
    if (s.header) {
      if (!exp.scan.ok) out.push(`${label}: scanFile accepted it (${s.header.columns}x${s.header.rows}x${s.header.frames}), expected ${exp.scan.codes.join('|')}`);
      if (s.header.path !== file) out.push(`${label}: header path ${s.header.path}`);
    }
  }
  for (const d of o.decodes) {
    const at = `${label} frame ${d.frame}`;
    if (d.ms > TIME_LIMIT_MS) out.push(`${at}: loadFrame took ${d.ms.toFixed(0)} ms`);
    if (d.ok) {
      if (!exp.decode.ok || exp.mustFail?.includes(d.frame)) out.push(`${at}: decoded (${d.ok.columns}x${d.ok.rows}) although its data is broken`);
      continue;
    }
    const e = d.error!;
    if (exp.mustDecode?.includes(d.frame)) out.push(`${at}: must decode, failed with ${e.code}: ${shortText(e.message)}`);
    if (!e.resight) {
      out.push(`${at}: loadFrame threw a foreign ${e.name}${e.code ? ` (${e.code})` : ''}: ${shortText(e.message)}\n${shortText(e.stack, 600)}`);
      continue;
    }
    if (e.code === 'INTERNAL' || !(ERROR_CODES as readonly string[]).includes(e.code!)) out.push(`${at}: code ${e.code}`);
    else if (!exp.decode.codes.includes(e.code as ErrorCode)) out.push(`${at}: failed with ${e.code} (${shortText(e.message, 200)}), expected ${exp.decode.ok ? 'success or ' : ''}${exp.decode.codes.join('|')}`);
    if (e.path !== file) out.push(`${at}: error path is ${e.path}, not the file`);
    if (!e.message.includes(file)) out.push(`${at}: message does not name the file: ${shortText(e.message)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bytes: hashing, reading the corpus, building and patching data sets.

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const sha256File = (p: string) => sha256(fs.readFileSync(p));

/** sha256 of every file under `dir`, by relative path. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.statSync(p);
      if (st.isDirectory()) {
        out[`${path.relative(dir, p)}/`] = 'dir';
        walk(p);
      } else out[path.relative(dir, p)] = sha256File(p);
    }
  };
  walk(dir);
  return out;
}

/** Corpus files this test read, with their sha256 at first read. */
const corpusUsed = new Map<string, string>();
function readCorpus(name: string): Uint8Array {
  const bytes = new Uint8Array(fs.readFileSync(corpusPath(name)));
  if (!corpusUsed.has(name)) corpusUsed.set(name, sha256(bytes));
  return bytes;
}

const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
function u16(n: number, be = false): Uint8Array {
  const b = Buffer.alloc(2);
  if (be) b.writeUInt16BE(n);
  else b.writeUInt16LE(n);
  return b;
}
function u32(n: number, be = false): Uint8Array {
  const b = Buffer.alloc(4);
  if (be) b.writeUInt32BE(n >>> 0);
  else b.writeUInt32LE(n >>> 0);
  return b;
}
const tagBytes = (tag: number) => cat(u16(tag >>> 16), u16(tag & 0xffff));

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

/** One Explicit VR Little Endian element (length UNDEFINED: undefined length, value as given). */
function explicitEl(tag: number, vr: string, value: Uint8Array, length = value.length): Uint8Array {
  if (LONG_VRS.has(vr)) return cat(tagBytes(tag), ascii(vr), u16(0), u32(length), value);
  return cat(tagBytes(tag), ascii(vr), u16(length), value);
}
const implicitEl = (tag: number, value: Uint8Array, length = value.length) => cat(tagBytes(tag), u32(length), value);
const itemStart = (length = UNDEFINED) => cat(tagBytes(0xfffee000), u32(length));
const ITEM_END = cat(tagBytes(0xfffee00d), u32(0));
const SEQ_END = cat(tagBytes(0xfffee0dd), u32(0));
const REQUEST_ATTRIBUTES_SEQ = 0x00400275;

/** `levels` nested sequences, each with one item, around one PN element. */
function nestedSequences(levels: number, undefinedLength: boolean): Uint8Array {
  const innermost = explicitEl(0x00100010, 'PN', ascii('DEEP'));
  if (undefinedLength) {
    const open = cat(explicitEl(REQUEST_ATTRIBUTES_SEQ, 'SQ', new Uint8Array(0), UNDEFINED), itemStart());
    const close = cat(ITEM_END, SEQ_END);
    return cat(...Array<Uint8Array>(levels).fill(open), innermost, ...Array<Uint8Array>(levels).fill(close));
  }
  let inner = innermost;
  for (let i = 0; i < levels; i++) inner = explicitEl(REQUEST_ATTRIBUTES_SEQ, 'SQ', cat(itemStart(inner.length), inner));
  return inner;
}

const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const META = { sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.826.0.1.3680043.10.1453.99.1' };

/** A small CT image's attributes (no Pixel Data). */
function imageAttributes(rows: number, columns: number, extra: SimpleElement[] = [], bits = 16, spp = 1): SimpleElement[] {
  return [
    { tag: 0x00080016, vr: 'UI', value: CT_IMAGE },
    { tag: 0x00080018, vr: 'UI', value: META.sopInstanceUid },
    { tag: 0x00080060, vr: 'CS', value: 'CT' },
    { tag: 0x00100010, vr: 'PN', value: 'Bad^Input' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.826.0.1.3680043.10.1453.99.2' },
    { tag: 0x0020000e, vr: 'UI', value: '1.2.826.0.1.3680043.10.1453.99.3' },
    { tag: 0x00280002, vr: 'US', value: spp },
    { tag: 0x00280004, vr: 'CS', value: spp === 3 ? 'RGB' : 'MONOCHROME2' },
    ...(spp === 3 ? [{ tag: 0x00280006, vr: 'US', value: 0 }] : []),
    { tag: 0x00280010, vr: 'US', value: rows },
    { tag: 0x00280011, vr: 'US', value: columns },
    { tag: 0x00280100, vr: 'US', value: bits },
    { tag: 0x00280101, vr: 'US', value: bits },
    { tag: 0x00280102, vr: 'US', value: bits - 1 },
    { tag: 0x00280103, vr: 'US', value: bits === 16 ? 1 : 0 },
    ...extra,
  ];
}

const ramp = (n: number) => new Uint8Array(n).map((_, i) => (i * 7) & 0xff);

/** A complete small image (Explicit VR LE, native 16-bit) with `pixelBytes` bytes of pixel data. */
function smallImage(rows: number, columns: number, pixelBytes: number, extra: SimpleElement[] = []): Uint8Array {
  return writePart10([...imageAttributes(rows, columns, extra), { tag: 0x7fe00010, vr: 'OW', value: ramp(pixelBytes) }], META);
}

/** The bytes before Pixel Data (meta + data set) of a generated image, for hand-built tails. */
const headerOnly = (rows: number, columns: number, extra: SimpleElement[] = []) => writePart10(imageAttributes(rows, columns, extra), META);

interface Parsed {
  ds: DataSet;
  ts: string;
  explicit: boolean;
  bigEndian: boolean;
}

function parse(bytes: Uint8Array): Parsed {
  const p = parseDicomBytes(bytes, '(test input)');
  const ts = p.transferSyntaxUid;
  return { ds: p.dataSet, ts, explicit: ts !== '1.2.840.10008.1.2', bigEndian: ts === '1.2.840.10008.1.2.2' };
}

/** Offset of an element's tag (its header start). */
function headerStart(el: Element, p: Parsed): number {
  const meta = el.tag < 'x00030000';
  const explicit = meta || p.explicit;
  return el.dataOffset - (!explicit ? 8 : LONG_VRS.has(el.vr ?? '') ? 12 : 8);
}

/** Offset of an element's length field, and its width. */
function lengthField(el: Element, p: Parsed): { at: number; width: 2 | 4 } {
  const explicit = el.tag < 'x00030000' || p.explicit;
  if (explicit && !LONG_VRS.has(el.vr ?? '')) return { at: el.dataOffset - 2, width: 2 };
  return { at: el.dataOffset - 4, width: 4 };
}

/** Rewrite one top-level element's length field (the value is left alone: the length lies). */
function withLength(bytes: Uint8Array, tag: string, length: number): Uint8Array {
  const p = parse(bytes);
  const el = p.ds.elements[tag];
  assert.ok(el, `no element ${tag}`);
  const { at, width } = lengthField(el, p);
  const out = new Uint8Array(bytes);
  const be = p.bigEndian && el.tag >= 'x00030000';
  out.set(width === 2 ? u16(length, be) : u32(length, be), at);
  return out;
}

/** Replace one top-level element's value (Explicit or Implicit VR Little Endian files). */
function withValue(bytes: Uint8Array, tag: string, value: Uint8Array): Uint8Array {
  const p = parse(bytes);
  assert.ok(!p.bigEndian);
  const el = p.ds.elements[tag];
  assert.ok(el, `no element ${tag}`);
  const { at, width } = lengthField(el, p);
  const head = new Uint8Array(bytes.subarray(0, el.dataOffset));
  head.set(width === 2 ? u16(value.length) : u32(value.length), at);
  return cat(head, value, bytes.subarray(el.dataOffset + el.length));
}

/** Insert an encoded element before the first top-level data set element with a higher tag. */
function withInserted(bytes: Uint8Array, tag: number, encoded: Uint8Array): Uint8Array {
  const p = parse(bytes);
  const key = `x${tag.toString(16).padStart(8, '0')}`;
  const next = Object.values(p.ds.elements)
    .filter((e) => e.tag > key)
    .sort((a, b) => a.dataOffset - b.dataOffset)[0];
  const at = next ? headerStart(next, p) : bytes.length;
  return cat(bytes.subarray(0, at), encoded, bytes.subarray(at));
}

// ---------------------------------------------------------------------------------------------
// Truncation plans: where to cut a file, and what each cut may produce.

type Region = 'preamble' | 'meta' | 'data set' | 'pixel data' | 'after pixel data' | 'deflate stream';

interface Cut {
  at: number;
  region: Region;
  exp: Expectation;
}

/** Up to `n` items spread evenly over `items`. */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

function truncationPlan(bytes: Uint8Array): { cuts: Cut[]; frames: number } {
  const p = parse(bytes);
  const all = Object.values(p.ds.elements).sort((a, b) => a.dataOffset - b.dataOffset);
  const meta = all.filter((e) => e.tag < 'x00030000');
  const metaEnd = meta.reduce((end, e) => Math.max(end, e.dataOffset + e.length), 132);
  const frames = Math.max(1, p.ds.intString('x00280008') ?? 1);
  const last = frames - 1;
  const offsets = new Map<number, Region>();
  const add = (at: number, region: Region) => {
    if (at > 0 && at < bytes.length && !offsets.has(at)) offsets.set(at, region);
  };
  for (const at of [1, 64, 127, 128, 130, 131]) add(at, 'preamble');
  for (const at of [132, 134, 136, 140, 143, metaEnd]) add(at, 'meta');
  for (const e of meta) {
    add(headerStart(e, p) + 3, 'meta');
    add(headerStart(e, p) + 6, 'meta');
    if (e.length >= 2) add(e.dataOffset + (e.length >> 1), 'meta');
  }
  const deflated = p.ts === '1.2.840.10008.1.2.1.99';
  if (deflated) {
    // Data set offsets refer to the inflated stream: cut the compressed bytes at fractions.
    for (let k = 0; k < 12; k++) add(metaEnd + 1 + Math.floor(((bytes.length - metaEnd - 1) * k) / 12), 'deflate stream');
    add(bytes.length - 1, 'deflate stream');
  } else {
    const px = pixelDataElement(p.ds);
    assert.ok(px, 'the file has pixel data');
    const pxStart = headerStart(px, p);
    const body = all.filter((e) => e.tag >= 'x00030000' && e.dataOffset < pxStart);
    for (const e of spread(body, 40)) {
      const h = headerStart(e, p);
      add(h + 3, 'data set');
      add(e.dataOffset - 1, 'data set'); // inside the length field
      if (e.length >= 2) add(e.dataOffset + (e.length >> 1), 'data set');
    }
    for (const d of [2, 6, 10]) if (pxStart + d < px.dataOffset) add(pxStart + d, 'pixel data');
    for (let k = 0; k < 8; k++) add(px.dataOffset + Math.floor((px.length * k) / 8), 'pixel data');
    for (const f of spread(px.fragments ?? [], 6)) {
      add(f.position - 4, 'pixel data');
      add(f.position + (f.length >> 1), 'pixel data');
    }
    const lastFragment = px.fragments?.[px.fragments.length - 1];
    const dataEnd = lastFragment ? lastFragment.position + lastFragment.length : px.dataOffset + px.length;
    if (lastFragment) {
      add(dataEnd, 'after pixel data'); // every fragment complete, the Sequence Delimitation Item missing
      add(dataEnd + 4, 'after pixel data');
    } else add(dataEnd - 1, 'pixel data');
    for (const e of all.filter((x) => x.dataOffset > px.dataOffset)) {
      add(headerStart(e, p) + 3, 'after pixel data');
      if (e.length >= 2) add(e.dataOffset + (e.length >> 1), 'after pixel data');
    }
    add(bytes.length - 1, bytes.length - 1 < dataEnd ? 'pixel data' : 'after pixel data');
  }
  const expect: Record<Region, Expectation> = {
    preamble: same(fail('NOT_DICOM', 'FILE_TRUNCATED')),
    meta: same(fail('FILE_TRUNCATED')),
    'data set': same(fail('FILE_TRUNCATED')),
    // The header may still be complete; the last frame's data never is.
    'pixel data': { scan: okOr('FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED'), decode: okOr('FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED'), mustFail: [last] },
    'after pixel data': same(okOr('FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED')),
    'deflate stream': same(fail('FILE_TRUNCATED')),
  };
  const cuts = [...offsets].sort((a, b) => a[0] - b[0]).map(([at, region]) => ({ at, region, exp: expect[region] }));
  return { cuts, frames };
}

// ---------------------------------------------------------------------------------------------

let tmp: string;
let casesDir: string;
let caseSnapshot: Record<string, string>;
const runner = new IsolatedDecoder();

/** Write a case file into the persistent cases folder. */
function writeCase(name: string, bytes: Uint8Array): string {
  const p = path.join(casesDir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** The case files, built once in `before` (name -> path). */
const C: Record<string, string> = {};

/** Run one file through scanFile + loadFrame(frames) and check the outcome. */
async function check(label: string, file: string, frames: number[], exp: Expectation, watchdogMs?: number): Promise<string[]> {
  const o = await runner.run({ file, frames }, watchdogMs);
  return problemsOf(label, file, o, exp);
}

async function checkCase(name: string, frames: number[], exp: Expectation): Promise<void> {
  const problems = await check(name, C[name], frames, exp);
  assert.deepEqual(problems, [], problems.join('\n'));
}

function buildCases(): void {
  const put = (name: string, bytes: Uint8Array) => (C[name] = writeCase(name, bytes));
  // Empty, not DICOM, a folder.
  put('empty.dcm', new Uint8Array(0));
  put('text.dcm', ascii('This is a README, not a DICOM file.\n'.repeat(20)));
  fs.mkdirSync(path.join(casesDir, 'folder.dcm'));
  C['folder.dcm'] = path.join(casesDir, 'folder.dcm');
  C['missing.dcm'] = path.join(casesDir, 'no-such-file.dcm');

  // Valid files with a preamble that is not all zeros (PS3.10 7.1: the preamble may hold anything).
  for (const src of ['cswado_CTImage_deflated.dcm', 'pydicom_CT_small.dcm']) {
    const c = readCorpus(src);
    const r = rng(4242);
    for (let i = 0; i < 128; i++) c[i] = Math.floor(r() * 256);
    put(`preamble-noise-${src}`, c);
  }

  // Lengths pointing past the end.
  const named = smallImage(16, 16, 512);
  put('len-short-vr.dcm', withLength(named, 'x00100010', 0xfff0));
  put('len-pixel-data.dcm', withLength(named, 'x7fe00010', 0xfffffff0));
  const big = fs.readFileSync(writeSyntheticSeries(path.join(tmp, 'synthetic'), { slices: 1, rows: 128, columns: 128 }).files[0]);
  put('synthetic.dcm', big);
  put('len-long-vr-large-file.dcm', withInserted(big, 0x00204000, explicitEl(0x00204000, 'UT', ascii('comment!'), 0x7ffffff0)));
  put('len-implicit.dcm', withLength(readCorpus('cswado_CTImage_implicitLE.dcm'), 'x00100010', 0x7ffffff0));
  put('len-big-endian.dcm', withLength(readCorpus('cswado_CTImage_explicitBE.dcm'), 'x00100010', 0xfff0));
  put('len-sequence-item.dcm', cat(headerOnly(16, 16), explicitEl(REQUEST_ATTRIBUTES_SEQ, 'SQ', cat(itemStart(0x7ffffff0), explicitEl(0x00100010, 'PN', ascii('AB')))), explicitEl(0x7fe00010, 'OW', ramp(512))));

  // Nesting.
  const px512 = explicitEl(0x7fe00010, 'OW', ramp(512));
  put('nested-20.dcm', cat(headerOnly(16, 16), nestedSequences(20, true), px512));
  put('nested-200-undefined.dcm', cat(headerOnly(16, 16), nestedSequences(200, true), px512));
  put('nested-200-defined.dcm', cat(headerOnly(16, 16), nestedSequences(200, false), px512));
  put('nested-20000-undefined.dcm', cat(headerOnly(16, 16), nestedSequences(20000, true), px512));

  // Undefined-length sequences that never end.
  const openSeq = cat(explicitEl(REQUEST_ATTRIBUTES_SEQ, 'SQ', new Uint8Array(0), UNDEFINED), itemStart());
  put('unterminated-sequence.dcm', cat(headerOnly(16, 16), openSeq, explicitEl(0x00100010, 'PN', ascii('AB')), px512));
  put('unterminated-50-deep.dcm', cat(headerOnly(16, 16), ...Array.from({ length: 50 }, () => openSeq), px512));
  put('unterminated-large-file.dcm', cat(headerOnly(128, 128), openSeq, explicitEl(0x7fe00010, 'OW', ramp(128 * 128 * 2))));
  put('unterminated-item-only.dcm', cat(headerOnly(16, 16), openSeq, explicitEl(0x00100010, 'PN', ascii('AB')), SEQ_END, px512));
  const implicitHead = writePart10(imageAttributes(16, 16), { ...META, transferSyntaxUid: '1.2.840.10008.1.2' });
  put('unterminated-implicit.dcm', cat(implicitHead, implicitEl(REQUEST_ATTRIBUTES_SEQ, new Uint8Array(0), UNDEFINED), itemStart(), implicitEl(0x00100010, ascii('AB')), implicitEl(0x7fe00010, ramp(512))));

  // Pixel data shorter than Rows x Columns x Frames.
  put('short-pixels.dcm', smallImage(64, 64, 1000));
  put('short-pixels-odd.dcm', smallImage(64, 64, 64 * 64 * 2 - 2));
  put('short-frames.dcm', smallImage(64, 64, 64 * 64 * 2, [{ tag: 0x00280008, vr: 'IS', value: '3' }]));
  put('short-rgb.dcm', writePart10([...imageAttributes(32, 32, [], 8, 3), { tag: 0x7fe00010, vr: 'OB', value: ramp(3000) }], META));
  const rle = readCorpus('dicomparser_CT0012_notfrag_bot_rle.dcm');
  put('short-rle-rows.dcm', withValue(rle, 'x00280010', u16(1024)));

  // Absurd Rows/Columns/NumberOfFrames.
  const huge = (bytes: Uint8Array, n = 65535) => withValue(withValue(bytes, 'x00280010', u16(n)), 'x00280011', u16(n));
  put('huge-native.dcm', smallImage(65535, 65535, 1000));
  put('huge-rle.dcm', huge(rle));
  put('large-rle.dcm', huge(rle, 30000));
  put('huge-j2k.dcm', huge(readCorpus('cswado_CTImage_j2k_lossless_90.dcm')));
  put('huge-jpegls.dcm', huge(readCorpus('cswado_CTImage_jpegls_lossless_80.dcm')));
  put('huge-jpeg8.dcm', huge(readCorpus('cswado_CTImage_jpeg_baseline_50.dcm')));
  put('huge-jpeg12.dcm', huge(readCorpus('pydicom_JPEG-lossy.dcm')));
  put('huge-jpeg-lossless.dcm', huge(readCorpus('cswado_CTImage_jpeg_lossless_sv1_70.dcm')));
  put('huge-frames-native.dcm', smallImage(16, 16, 512, [{ tag: 0x00280008, vr: 'IS', value: '2147483647' }]));

  // NumberOfFrames larger than the fragments.
  put('frames-rle-9.dcm', withValue(rle, 'x00280008', ascii('9 ')));
  put('frames-j2k-4.dcm', withInserted(readCorpus('cswado_CTImage_j2k_lossless_90.dcm'), 0x00280008, explicitEl(0x00280008, 'IS', ascii('4 '))));
  put('frames-jpegls-5.dcm', withValue(readCorpus('dicomparser_CT0012_frag_nobot_jpegls_81.dcm'), 'x00280008', ascii('5 ')));
  put('frames-jpeg-ext-12.dcm', withValue(readCorpus('dicomparser_CT0012_frag_nobot_jpeg_ext_51.dcm'), 'x00280008', ascii('12')));
  put('frames-enhanced-huge.dcm', withValue(readCorpus('pydicom_eCT_Supplemental.dcm'), 'x00280008', ascii('99999999')));
}

/** Files whose pixel data is replaced by / followed by noise, or whose codestreams are corrupted. */
const NOISE_SOURCES = [
  'pydicom_CT_small.dcm',
  'cswado_CTImage_implicitLE.dcm',
  'cswado_CTImage_explicitBE.dcm',
  'cswado_CTImage_j2k_lossless_90.dcm',
  'dicomparser_CT0012_notfrag_bot_rle.dcm',
  'cswado_CTImage_jpegls_lossless_80.dcm',
  'cswado_CTImage_jpeg_baseline_50.dcm',
  'pydicom_JPEG-lossy.dcm',
  'cswado_CTImage_jpeg_lossless_sv1_70.dcm',
  'pydicom_MR2_J2KI.dcm',
];
const ENCAPSULATED_SOURCES = NOISE_SOURCES.filter((f) => !/CT_small|implicitLE|explicitBE/.test(f)).concat([
  'pydicom_MR_small_RLE.dcm',
  'pydicom_emri_small_jpeg_2k_lossless.dcm',
  'dicomparser_CT0012_frag_nobot_jpeg_lossless_57.dcm',
  'dicomparser_CT0012_frag_nobot_jpegls_81.dcm',
]);

function noiseCases(): { name: string; file: string; frames: number[]; exp: Expectation }[] {
  const out: { name: string; file: string; frames: number[]; exp: Expectation }[] = [];
  let seed = 1;
  for (const src of NOISE_SOURCES) {
    const bytes = readCorpus(src);
    const p = parse(bytes);
    const px = pixelDataElement(p.ds)!;
    const start = headerStart(px, p);
    for (const n of [7, 2000, 9000]) {
      const r = rng(seed++);
      const noise = new Uint8Array(n).map(() => Math.floor(r() * 256));
      const name = `noise-after-header-${n}-${src}`;
      // The pixel data is gone: random bytes where it was must not decode into an image.
      out.push({ name, file: writeCase(name, cat(bytes.subarray(0, start), noise)), frames: [0], exp: { scan: okOr(...ANY_INPUT_ERROR), decode: fail(...ANY_INPUT_ERROR) } });
    }
    if (!px.fragments) {
      // Native: random pixel values are still pixel values.
      const r = rng(seed++);
      const c = new Uint8Array(bytes);
      for (let i = px.dataOffset; i < px.dataOffset + px.length; i++) c[i] = Math.floor(r() * 256);
      const name = `noise-native-values-${src}`;
      out.push({ name, file: writeCase(name, c), frames: [0], exp: { scan: okOr(), decode: okOr(), mustDecode: [0] } });
    }
  }
  for (const src of ENCAPSULATED_SOURCES) {
    const bytes = readCorpus(src);
    const p = parse(bytes);
    const px = pixelDataElement(p.ds)!;
    const frames = Math.max(1, p.ds.intString('x00280008') ?? 1);
    // Keep 0, 16 or 120 bytes of each fragment (codestream headers survive), randomise the rest.
    for (const keep of [0, 16, 120]) {
      const r = rng(seed++);
      const c = new Uint8Array(bytes);
      for (const f of px.fragments ?? []) for (let i = f.position + Math.min(keep, f.length); i < f.position + f.length; i++) c[i] = Math.floor(r() * 256);
      const name = `garbled-keep${keep}-${src}`;
      out.push({ name, file: writeCase(name, c), frames: Array.from({ length: frames }, (_, i) => i), exp: { scan: okOr(), decode: okOr('CODEC_FAILED', 'PIXEL_DATA_TRUNCATED') } });
    }
    // The second half of each fragment zeroed: a codestream cut short inside intact DICOM.
    const z = new Uint8Array(bytes);
    for (const f of px.fragments ?? []) z.fill(0, f.position + (f.length >> 1), f.position + f.length);
    const name = `half-zeroed-${src}`;
    out.push({ name, file: writeCase(name, z), frames: Array.from({ length: frames }, (_, i) => i), exp: { scan: okOr(), decode: okOr('CODEC_FAILED', 'PIXEL_DATA_TRUNCATED') } });
  }
  return out;
}

let noise: ReturnType<typeof noiseCases>;

describe('bad input: scanFile and loadFrame fail typed, fast, and never touch the files', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-bad-input-'));
    casesDir = path.join(tmp, 'cases');
    fs.mkdirSync(casesDir);
    buildCases();
    noise = noiseCases();
    caseSnapshot = hashTree(tmp);
    // Start the worker (and warm its codecs) outside any test's timing.
    const o = await runner.run({ file: C['synthetic.dcm'], frames: [0] });
    assert.equal(o.kind, 'done');
  });

  after(async () => {
    await runner.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('files cut short at many offsets', () => {
    const sources: [string, string][] = [
      ['pydicom_CT_small.dcm', 'Explicit VR LE, native, trailing padding'],
      ['cswado_CTImage_implicitLE.dcm', 'Implicit VR LE, native, 512x512'],
      ['cswado_CTImage_explicitBE.dcm', 'Explicit VR Big Endian'],
      ['cswado_CTImage_deflated.dcm', 'Deflated'],
      ['pydicom_emri_small.dcm', 'native, 10 frames, enhanced MR'],
      ['cswado_CTImage_j2k_lossless_90.dcm', 'JPEG 2000, one fragment'],
      ['dicomparser_CT0012_notfrag_bot_rle.dcm', 'RLE, 2 frames, Basic Offset Table'],
      ['dicomparser_CT0012_frag_nobot_jpegls_81.dcm', 'JPEG-LS, 2 frames in 8 fragments, no offset table'],
    ];
    for (const [src, what] of sources) {
      it(`${src} (${what})`, async (t) => {
        const bytes = readCorpus(src);
        const { cuts, frames } = truncationPlan(bytes);
        const dir = fs.mkdtempSync(path.join(tmp, 'cut-'));
        const files = cuts.map((c) => {
          const p = path.join(dir, `${src}.cut${c.at}`);
          fs.writeFileSync(p, bytes.subarray(0, c.at));
          return p;
        });
        const before = hashTree(dir);
        const problems: string[] = [];
        const seen = new Set<Region>();
        for (let i = 0; i < cuts.length; i++) {
          seen.add(cuts[i].region);
          const allFrames = Array.from({ length: frames }, (_, f) => f);
          problems.push(...(await check(`cut at ${cuts[i].at} (${cuts[i].region})`, files[i], allFrames, cuts[i].exp)));
        }
        assert.deepEqual(hashTree(dir), before, 'the cut files were modified');
        fs.rmSync(dir, { recursive: true });
        assert.deepEqual(problems, [], `${problems.length} problem(s):\n${problems.slice(0, 40).join('\n')}`);
        // The plan really covered the regions it claims to.
        const want: Region[] = src.includes('deflated') ? ['preamble', 'meta', 'deflate stream'] : ['preamble', 'meta', 'data set', 'pixel data'];
        for (const r of want) assert.ok(seen.has(r), `no cut in the ${r}`);
        assert.ok(cuts.length >= 20, `only ${cuts.length} cuts`);
        const perRegion = [...seen].map((r) => `${r} ${cuts.filter((c) => c.region === r).length}`).join(', ');
        t.diagnostic(`${cuts.length} cuts x (scan + ${frames} frame${frames > 1 ? 's' : ''}): ${perRegion}`);
      });
    }
  });

  describe('empty, not DICOM, not a file', () => {
    it('a zero-length file is FILE_EMPTY', () => checkCase('empty.dcm', [0], same(fail('FILE_EMPTY'))));
    it('a text file is NOT_DICOM', () => checkCase('text.dcm', [0], same(fail('NOT_DICOM'))));
    it('a directory passed as a file is FILE_UNREADABLE', () => checkCase('folder.dcm', [0], same(fail('FILE_UNREADABLE'))));
    it('a path that does not exist is FILE_UNREADABLE', () => checkCase('missing.dcm', [0], same(fail('FILE_UNREADABLE'))));
  });

  describe('valid files with random bytes in the preamble decode like the originals', () => {
    for (const src of ['cswado_CTImage_deflated.dcm', 'pydicom_CT_small.dcm']) {
      it(src, async () => {
        const name = `preamble-noise-${src}`;
        const o = await runner.run({ file: C[name], frames: [0] });
        assert.deepEqual(problemsOf(name, C[name], o, { scan: okOr(), decode: okOr(), mustDecode: [0] }), []);
        assert.equal(o.kind === 'done' && o.decodes[0].ok?.sha256, readReference()[src].frameStats[0].sha256);
      });
    }
  });

  describe('element lengths pointing past the end of the file', () => {
    it('a short-VR element (PN, 16-bit length)', () => checkCase('len-short-vr.dcm', [0], same(fail('FILE_TRUNCATED'))));
    it('a long-VR element (UT, 32-bit length) in a file larger than the header read', () =>
      checkCase('len-long-vr-large-file.dcm', [0], same(fail('FILE_TRUNCATED'))));
    it('Pixel Data itself (0xFFFFFFF0, not undefined length)', () =>
      checkCase('len-pixel-data.dcm', [0], { scan: okOr('FILE_TRUNCATED'), decode: fail('FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED') }));
    it('an Implicit VR element', () => checkCase('len-implicit.dcm', [0], same(fail('FILE_TRUNCATED'))));
    it('a Big Endian element', () => checkCase('len-big-endian.dcm', [0], same(fail('FILE_TRUNCATED'))));
    it('a sequence item', () => checkCase('len-sequence-item.dcm', [0], same(fail('FILE_TRUNCATED', 'PARSE_FAILED'))));
  });

  describe('sequences', () => {
    it('20 nested levels are fine (control)', () => checkCase('nested-20.dcm', [0], { scan: okOr(), decode: okOr(), mustDecode: [0] }));
    it('200 nested undefined-length levels', () => checkCase('nested-200-undefined.dcm', [0], same(fail('PARSE_FAILED'))));
    it('200 nested defined-length levels', () => checkCase('nested-200-defined.dcm', [0], same(fail('PARSE_FAILED'))));
    it('20000 nested levels (deeper than the call stack)', () => checkCase('nested-20000-undefined.dcm', [0], same(fail('PARSE_FAILED'))));
    // The unterminated sequence swallows Pixel Data: there must be no image to decode.
    const swallowed = same(fail('NO_PIXEL_DATA', 'FILE_TRUNCATED', 'PARSE_FAILED'));
    it('an undefined-length sequence and item with no delimiters', () => checkCase('unterminated-sequence.dcm', [0], swallowed));
    it('50 nested unterminated sequences', () => checkCase('unterminated-50-deep.dcm', [0], swallowed));
    it('an unterminated sequence in a file larger than the header read', () => checkCase('unterminated-large-file.dcm', [0], swallowed));
    it('an item without its delimiter inside a terminated sequence', () => checkCase('unterminated-item-only.dcm', [0], swallowed));
    it('an unterminated sequence in Implicit VR', () => checkCase('unterminated-implicit.dcm', [0], swallowed));
  });

  describe('pixel data shorter than Rows x Columns x Frames', () => {
    const short = { scan: okOr('PIXEL_DATA_TRUNCATED'), decode: fail('PIXEL_DATA_TRUNCATED') };
    it('1000 of 8192 bytes', () => checkCase('short-pixels.dcm', [0], short));
    it('2 bytes short', () => checkCase('short-pixels-odd.dcm', [0], short));
    it('RGB, 3000 of 3072 bytes', () => checkCase('short-rgb.dcm', [0], short));
    it('3 frames declared, 1 present: frame 0 decodes, frames 1 and 2 fail', () =>
      checkCase('short-frames.dcm', [0, 1, 2], { scan: okOr(), decode: okOr('PIXEL_DATA_TRUNCATED'), mustFail: [1, 2], mustDecode: [0] }));
    it('RLE with Rows doubled', () => checkCase('short-rle-rows.dcm', [0, 1], { scan: okOr(), decode: fail('PIXEL_DATA_TRUNCATED', 'CODEC_FAILED') }));
  });

  describe('absurd Rows/Columns/NumberOfFrames', () => {
    it('native 65535x65535 with 1000 bytes', () => checkCase('huge-native.dcm', [0], { scan: okOr(), decode: fail('PIXEL_DATA_TRUNCATED') }));
    const huge = { scan: okOr(), decode: fail('CODEC_FAILED', 'PIXEL_DATA_TRUNCATED', 'UNSUPPORTED_PIXEL_FORMAT') };
    it('RLE claiming 65535x65535 (no allocation of the claimed size)', () => checkCase('huge-rle.dcm', [0, 1], huge));
    it('RLE claiming 30000x30000', () => checkCase('large-rle.dcm', [0], { scan: okOr(), decode: fail('PIXEL_DATA_TRUNCATED') }));
    it('JPEG 2000 claiming 65535x65535', () => checkCase('huge-j2k.dcm', [0], huge));
    it('JPEG-LS claiming 65535x65535', () => checkCase('huge-jpegls.dcm', [0], huge));
    it('JPEG baseline claiming 65535x65535', () => checkCase('huge-jpeg8.dcm', [0], huge));
    it('JPEG 12-bit claiming 65535x65535', () => checkCase('huge-jpeg12.dcm', [0], huge));
    it('JPEG lossless claiming 65535x65535', () => checkCase('huge-jpeg-lossless.dcm', [0], huge));
    // Series assembly makes one slice per frame, so an absurd count is refused up front
    // (header.ts MAX_FRAMES) rather than trusted for the one frame that is there.
    it('NumberOfFrames 2147483647 with one frame of data is refused as implausible', () =>
      checkCase('huge-frames-native.dcm', [0, 1, 2147483646], { scan: fail('UNSUPPORTED_PIXEL_FORMAT'), decode: fail('UNSUPPORTED_PIXEL_FORMAT'), mustFail: [0, 1, 2147483646] }));
  });

  describe('NumberOfFrames larger than the fragments', () => {
    it('RLE: 9 frames declared, 2 fragments (offset table of 2)', () =>
      checkCase('frames-rle-9.dcm', [0, 1, 8], { scan: okOr(), decode: okOr('PIXEL_DATA_TRUNCATED'), mustFail: [8] }));
    it('JPEG 2000: 4 frames declared, 1 fragment', () =>
      checkCase('frames-j2k-4.dcm', [0, 3], { scan: okOr(), decode: okOr('PIXEL_DATA_TRUNCATED'), mustFail: [3] }));
    it('JPEG-LS: 5 frames declared, 2 codestreams in 8 fragments', () =>
      checkCase('frames-jpegls-5.dcm', [0, 4], { scan: okOr(), decode: okOr('PIXEL_DATA_TRUNCATED'), mustFail: [4] }));
    it('JPEG extended: 12 frames declared, 11 fragments', () =>
      checkCase('frames-jpeg-ext-12.dcm', [0, 11], { scan: okOr(), decode: okOr('PIXEL_DATA_TRUNCATED'), mustFail: [11] }));
  });

  describe('random bytes', () => {
    it('after a valid header, and inside codestreams: typed errors only', async (t) => {
      const problems: string[] = [];
      for (const c of noise) problems.push(...(await check(c.name, c.file, c.frames, c.exp)));
      t.diagnostic(`${noise.length} files`);
      assert.ok(noise.length >= 60, `only ${noise.length} cases`);
      assert.deepEqual(problems, [], `${problems.length} problem(s):\n${problems.slice(0, 40).join('\n')}`);
    });

    it('afterwards the codecs still decode valid files bit-exactly (no poisoned decoder state)', async () => {
      const reference = readReference();
      const lossless = ['cswado_CTImage_j2k_lossless_90.dcm', 'cswado_CTImage_jpegls_lossless_80.dcm', 'cswado_CTImage_jpeg_lossless_sv1_70.dcm', 'pydicom_MR_small_RLE.dcm', 'dicomparser_CT0012_frag_nobot_jpeg_lossless_57.dcm', 'pydicom_emri_small_jpeg_2k_lossless.dcm'];
      for (const f of lossless) {
        readCorpus(f);
        const o = await runner.run({ file: corpusPath(f), frames: [0], decodeOnly: true });
        assert.equal(o.kind, 'done', `${f}: ${JSON.stringify(o)}`);
        if (o.kind !== 'done') continue;
        assert.equal(o.decodes[0].ok?.sha256, reference[f].frameStats[0].sha256, `${f}: ${JSON.stringify(o.decodes[0].error ?? o.decodes[0].ok)}`);
      }
    });
  });

  describe('absurd frame counts', () => {
    // Per-frame bookkeeping is O(NumberOfFrames): an enhanced CT declaring 99999999 frames must be
    // refused quickly (header.ts MAX_FRAMES), not looped over.
    it('enhanced CT declaring 99999999 frames (header.ts functionalGroups)', async () => {
      const problems = await check('frames-enhanced-huge.dcm', C['frames-enhanced-huge.dcm'], [0], { scan: okOr('UNSUPPORTED_PIXEL_FORMAT'), decode: okOr('PIXEL_DATA_TRUNCATED', 'UNSUPPORTED_PIXEL_FORMAT') }, 4000);
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  });

  describe('the CLI never dies on bad input', () => {
    before(() => ensureCliBuilt());

    const cases: [string, string[]][] = [
      ['empty.dcm', []],
      ['folder.dcm', []],
      ['nested-20000-undefined.dcm', []],
      ['huge-rle.dcm', []],
      ['frames-rle-9.dcm', ['--frame', '8']],
      ['short-pixels.dcm', []],
      ['unterminated-sequence.dcm', []],
    ];
    for (const [name, extra] of cases) {
      it(`decode ${name} ${extra.join(' ')}: exit 1, one JSON error line, no stack, no output`, () => {
        const outDir = fs.mkdtempSync(path.join(tmp, 'out-'));
        const out = path.join(outDir, 'frame.f32');
        const r = runCli(['decode', C[name], ...extra, '--out', out, '--json'], { timeoutMs: 30_000 });
        assert.equal(r.signal, null, `killed by ${r.signal} (hang?)`);
        assert.equal(r.status, 1, `exit ${r.status}; stderr: ${r.stderr}`);
        assert.equal(r.stdout, '', 'nothing on stdout');
        assertJsonError(r.stderr, C[name]);
        assert.deepEqual(fs.readdirSync(outDir), [], 'no output or temp file left in the out folder');
        fs.rmSync(outDir, { recursive: true });
      });
    }

    it('a truncated JPEG 2000 file leaves an existing --out file untouched and no temp file beside it', () => {
      const bytes = readCorpus('cswado_CTImage_j2k_lossless_90.dcm');
      const bad = path.join(tmp, 'j2k-cut-mid-pixels.dcm');
      fs.writeFileSync(bad, bytes.subarray(0, bytes.length >> 1));
      const outDir = fs.mkdtempSync(path.join(tmp, 'out-'));
      const out = path.join(outDir, 'frame.f32');
      fs.writeFileSync(out, 'previous result');
      const r = runCli(['decode', bad, '--out', out, '--json'], { timeoutMs: 30_000 });
      assert.equal(r.status, 1, r.stderr);
      assertJsonError(r.stderr, bad, ['FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED']);
      assert.equal(fs.readFileSync(out, 'utf8'), 'previous result');
      assert.deepEqual(fs.readdirSync(outDir), ['frame.f32']);
      fs.rmSync(outDir, { recursive: true });
      fs.rmSync(bad);
    });

    it('without --json: one plain line naming the file and the code, no stack', () => {
      const outDir = fs.mkdtempSync(path.join(tmp, 'out-'));
      const r = runCli(['decode', C['short-pixels.dcm'], '--out', path.join(outDir, 'x.f32')], { timeoutMs: 30_000 });
      assert.equal(r.status, 1);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].includes(C['short-pixels.dcm']) && lines[0].includes('[PIXEL_DATA_TRUNCATED]'), lines[0]);
      assert.deepEqual(stackTraceLines(r.stderr), []);
      assert.deepEqual(fs.readdirSync(outDir), []);
      fs.rmSync(outDir, { recursive: true });
    });
  });

  it('every input is byte-identical afterwards (cases folder, corpus files used)', () => {
    // The cut files and the CLI's scratch files were checked and removed by their tests.
    const now = hashTree(tmp);
    for (const k of Object.keys(now)) if (/^(out-|cut-|j2k-cut)/.test(k)) delete now[k];
    assert.deepEqual(now, caseSnapshot);
    const published = new Map(
      fs
        .readFileSync(path.join(CORPUS_DIR, 'SHA256SUMS'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .map(([hash, file]) => [file.replace(/^\.\//, ''), hash]),
    );
    assert.ok(corpusUsed.size >= 10, `only ${corpusUsed.size} corpus files used`);
    for (const [name, hash] of corpusUsed) {
      const current = sha256File(corpusPath(name));
      assert.equal(current, hash, `${name} changed during the test`);
      assert.equal(current, published.get(name), `${name} differs from SHA256SUMS`);
    }
  });
});

/** stderr is exactly one JSON line {"error":{code,message,path}} for `file`, with no stack trace. */
function assertJsonError(stderr: string, file: string, codes?: ErrorCode[]): void {
  assert.deepEqual(stackTraceLines(stderr), [], `stack trace in stderr:\n${stderr}`);
  assert.ok(stderr.endsWith('\n'), 'stderr ends with a newline');
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected:\n${stderr}`);
  const parsed = JSON.parse(lines[0]) as { error: { code: string; message: string; path: string } };
  assert.deepEqual(Object.keys(parsed), ['error']);
  const { code, message, path: p } = parsed.error;
  assert.ok((ERROR_CODES as readonly string[]).includes(code) && code !== 'INTERNAL' && code !== 'USAGE', `code ${code}`);
  if (codes) assert.ok(codes.includes(code as ErrorCode), `code ${code}, expected ${codes.join('|')}`);
  assert.equal(typeof message, 'string');
  assert.ok(message.length > 0);
  assert.equal(p, file);
}

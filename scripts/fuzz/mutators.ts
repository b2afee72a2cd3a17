/**
 * Mutators for DICOM files. Each takes the bytes (never modified in place), their structure
 * and a seeded Rng, and returns new bytes plus a short description of what it did, which is
 * recorded with every finding. Most aim at the structure (element headers, length fields, VRs,
 * sequences, Pixel Data) rather than at random bytes: that is where parsers go wrong.
 */
import type { DicomStructure, ElementInfo } from './dicom-structure';
import {
  concatBytes,
  dicomStructure,
  elementHeader,
  ITEM,
  ITEM_DELIM,
  LONG_VRS,
  PIXEL_DATA,
  SEQ_DELIM,
  tagLabel,
  VALID_VRS,
  writeU16,
  writeU32,
} from './dicom-structure';
import type { Rng } from './prng';

export interface CorpusFile {
  name: string;
  bytes: Uint8Array;
  structure: DicomStructure;
}

export interface MutationContext {
  rng: Rng;
  /** Other corpus files (for splices). */
  corpus: readonly CorpusFile[];
}

export interface Mutated {
  bytes: Uint8Array;
  what: string;
}

export type Mutator = (bytes: Uint8Array, s: DicomStructure, ctx: MutationContext) => Mutated;

const copy = (b: Uint8Array) => new Uint8Array(b);

/** The part of the file a header-aimed mutator should hit: up to the Pixel Data value. */
function headerEnd(s: DicomStructure): number {
  return s.pixelData ? Math.min(s.size, s.pixelData.valueOffset + 64) : Math.min(s.size, 16 * 1024);
}

/** A random offset, biased (3:1) to the header. */
function offset(bytes: Uint8Array, s: DicomStructure, rng: Rng): number {
  if (!bytes.length) return 0;
  return rng.bool(0.75) ? rng.int(Math.max(1, headerEnd(s))) : rng.int(bytes.length);
}

function someElement(s: DicomStructure, rng: Rng, filter: (e: ElementInfo) => boolean = () => true): ElementInfo | undefined {
  const els = s.elements.filter(filter);
  return els.length ? rng.pick(els) : undefined;
}

const bitFlip: Mutator = (bytes, s, { rng }) => {
  const out = copy(bytes);
  const n = rng.smallLength(32);
  for (let i = 0; i < n; i++) {
    const o = offset(out, s, rng);
    out[o] ^= 1 << rng.int(8);
  }
  return { bytes: out, what: `bitflip x${n}` };
};

const byteRun: Mutator = (bytes, s, { rng }) => {
  const out = copy(bytes);
  const value = rng.weighted([[0x00, 4], [0xff, 4], [rng.int(256), 1]] as const);
  const len = rng.smallLength(rng.bool(0.8) ? 64 : 4096);
  const o = offset(out, s, rng);
  out.fill(value, o, Math.min(out.length, o + len));
  return { bytes: out, what: `run 0x${value.toString(16).padStart(2, '0')} x${len} @${o}` };
};

const truncate: Mutator = (bytes, s, { rng }) => {
  const el = someElement(s, rng);
  const where = rng.weighted([
    ['random', 3],
    ['preamble', 1],
    ['meta', s.part10 ? 2 : 0],
    ['element-header', el ? 3 : 0],
    ['element-value', el ? 2 : 0],
    ['pixel-data', s.pixelData ? 3 : 0],
    ['boundary', el ? 2 : 0],
  ] as const);
  let at: number;
  switch (where) {
    case 'preamble':
      at = rng.int(Math.min(bytes.length, 132));
      break;
    case 'meta':
      at = 132 + rng.int(Math.max(1, s.dataStart - 132));
      break;
    case 'element-header':
      at = el ? el.offset + 1 + rng.int(Math.max(1, el.headerLength - 1)) : 0;
      break;
    case 'element-value':
      at = el ? el.valueOffset + rng.int(Math.max(1, Math.min(el.length === 0xffffffff ? 64 : el.length, bytes.length - el.valueOffset))) : 0;
      break;
    case 'pixel-data': {
      const pd = s.pixelData as ElementInfo;
      const span = Math.max(1, Math.min(bytes.length, pd.end) - pd.valueOffset);
      at = pd.valueOffset + rng.pick([0, 1, 2, 4, 8, rng.int(span), span - 1, span - 2, Math.floor(span / 2)]);
      break;
    }
    case 'boundary':
      at = el ? rng.pick([el.offset, el.valueOffset, el.end]) : 0;
      break;
    default:
      at = rng.int(bytes.length + 1);
  }
  at = Math.max(0, Math.min(bytes.length, at));
  return { bytes: bytes.slice(0, at), what: `truncate ${where} @${at}` };
};

const INTERESTING_32 = [0xffffffff, 0xfffffffe, 0x7ffffff0, 0x7fffffff, 0x80000000, 0xfffffff0, 0x10000, 0xffff, 0];
const INTERESTING_16 = [0xffff, 0xfffe, 0x8000, 0x7fff, 0xff, 0x100, 0];

const lengthCorruption: Mutator = (bytes, s, { rng }) => {
  const el = someElement(s, rng, (e) => e.lengthOffset + e.lengthBytes <= bytes.length);
  if (!el) return bitFlip(bytes, s, { rng, corpus: [] });
  const out = copy(bytes);
  const len = el.length === 0xffffffff ? 0 : el.length;
  const kind = rng.weighted([
    ['huge', 3],
    ['odd', 2],
    ['off-by', 3],
    ['undefined', el.lengthBytes === 4 ? 2 : 0],
    ['zero', 1],
    ['double', 1],
    ['to-eof', 1],
  ] as const);
  let v: number;
  switch (kind) {
    case 'huge':
      v = el.lengthBytes === 4 ? rng.pick(INTERESTING_32) : rng.pick(INTERESTING_16);
      break;
    case 'odd':
      v = len | 1;
      break;
    case 'off-by':
      v = len + rng.pick([-8, -4, -3, -2, -1, 1, 2, 3, 4, 8]);
      break;
    case 'undefined':
      v = 0xffffffff;
      break;
    case 'zero':
      v = 0;
      break;
    case 'double':
      v = len * 2;
      break;
    default:
      v = bytes.length - el.valueOffset + rng.range(-2, 2);
  }
  v = el.lengthBytes === 2 ? ((v % 0x10000) + 0x10000) % 0x10000 : v >>> 0;
  if (el.lengthBytes === 2) writeU16(out, el.lengthOffset, v, el.littleEndian);
  else writeU32(out, el.lengthOffset, v, el.littleEndian);
  return { bytes: out, what: `length ${tagLabel(el.tag)} ${el.length}->${v} (${kind})` };
};

const INVALID_VRS = ['XX', '\0\0', '  ', 'ob', 'sq', 'O\0', '\xff\xff', 'Q1'];

const vrSwap: Mutator = (bytes, s, { rng }) => {
  const el = someElement(s, rng, (e) => e.vr !== undefined);
  if (!el) return bitFlip(bytes, s, { rng, corpus: [] });
  const out = copy(bytes);
  const vr = rng.bool(0.75) ? rng.pick(VALID_VRS) : rng.pick(INVALID_VRS);
  out[el.offset + 4] = vr.charCodeAt(0) & 0xff;
  out[el.offset + 5] = vr.charCodeAt(1) & 0xff;
  return { bytes: out, what: `vr ${tagLabel(el.tag)} ${el.vr}->${JSON.stringify(vr)}` };
};

const reorder: Mutator = (bytes, s, { rng }) => {
  const top = s.topLevel.map((i) => s.elements[i]).filter((e) => e.end <= bytes.length);
  const meta = s.metaElements.map((i) => s.elements[i]).filter((e) => e.end <= bytes.length);
  const list = rng.bool(0.8) || meta.length < 2 ? top : meta;
  if (list.length < 2) return bitFlip(bytes, s, { rng, corpus: [] });
  const i = rng.int(list.length - 1);
  const a = list[i];
  const b = list[i + 1];
  if (a.end !== b.offset) return bitFlip(bytes, s, { rng, corpus: [] });
  const out = concatBytes([bytes.subarray(0, a.offset), bytes.subarray(b.offset, b.end), bytes.subarray(a.offset, a.end), bytes.subarray(b.end)]);
  return { bytes: out, what: `swap ${tagLabel(a.tag)}<->${tagLabel(b.tag)}` };
};

/** A deep chain of sequences and items with undefined lengths, inserted at a top-level boundary. */
const sequenceBomb: Mutator = (bytes, s, { rng }) => {
  const depth = rng.pick([65, 66, 100, 500, 2000, 10_000, 50_000]);
  const closed = rng.bool(0.6);
  const explicit = s.explicit;
  const le = s.littleEndian;
  // (0008,1140) Referenced Image Sequence; implicit VR readers see an SQ from the undefined length.
  const seqTag = rng.pick([0x00081140, 0x52009229, 0x00283000, 0x0009_1010]);
  const open = concatBytes([elementHeader(seqTag, 'SQ', 0xffffffff, explicit, le), elementHeader(ITEM, undefined, 0xffffffff, explicit, le)]);
  const close = concatBytes([elementHeader(ITEM_DELIM, undefined, 0, explicit, le), elementHeader(SEQ_DELIM, undefined, 0, explicit, le)]);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < depth; i++) parts.push(open);
  if (closed) for (let i = 0; i < depth; i++) parts.push(close);
  const bomb = concatBytes(parts);
  const top = s.topLevel.map((i) => s.elements[i]);
  const before = s.pixelData ?? (top.length ? rng.pick(top) : undefined);
  const at = before ? before.offset : s.dataStart;
  const out = concatBytes([bytes.subarray(0, at), bomb, bytes.subarray(at)]);
  return { bytes: out, what: `seq-bomb depth ${depth}${closed ? ' closed' : ' open'} @${at}` };
};

/** Declare a huge length for Pixel Data or a string element (rewriting the header to a long VR if needed). */
const hugeLength: Mutator = (bytes, s, { rng }) => {
  const strings = (e: ElementInfo) => e.depth === 0 && !e.meta && e.tag !== PIXEL_DATA && e.end <= bytes.length && ['LO', 'SH', 'CS', 'UI', 'PN', 'DS', 'IS', 'LT', 'ST', 'UT', 'AE', 'DA', 'TM', undefined].includes(e.vr);
  const target = s.pixelData && rng.bool(0.5) ? s.pixelData : someElement(s, rng, strings);
  if (!target) return lengthCorruption(bytes, s, { rng, corpus: [] });
  const value = rng.pick([0x7ffffff0, 0x7fffffff, 0xfffffff0, 0x40000000, 0x10000000]);
  if (target.lengthBytes === 4) {
    const out = copy(bytes);
    writeU32(out, target.lengthOffset, value, target.littleEndian);
    return { bytes: out, what: `huge-length ${tagLabel(target.tag)} ->0x${value.toString(16)}` };
  }
  // A short-form explicit VR: rewrite as UT (long form) with the huge length.
  const vr = rng.pick(['UT', 'UN', 'OB']);
  const header = elementHeader(target.tag, vr, value, true, target.littleEndian);
  const out = concatBytes([bytes.subarray(0, target.offset), header, bytes.subarray(target.valueOffset)]);
  return { bytes: out, what: `huge-length ${tagLabel(target.tag)} as ${vr} ->0x${value.toString(16)}` };
};

/** Prefix of this file + suffix of another, cut at element boundaries (or anywhere). */
const splice: Mutator = (bytes, s, { rng, corpus }) => {
  if (!corpus.length) return truncate(bytes, s, { rng, corpus });
  const other = rng.pick(corpus);
  const cutA = (st: DicomStructure, len: number) => {
    const top = st.topLevel.map((i) => st.elements[i]).filter((e) => e.offset <= len);
    return top.length && rng.bool(0.8) ? rng.pick(top).offset : rng.int(len + 1);
  };
  const mode = rng.weighted([['boundary', 3], ['header+pixels', other.structure.pixelData ? 2 : 0], ['random', 1]] as const);
  let a: number;
  let b: number;
  if (mode === 'header+pixels' && s.pixelData && other.structure.pixelData) {
    a = s.pixelData.offset;
    b = other.structure.pixelData.offset;
  } else if (mode === 'random') {
    a = rng.int(bytes.length + 1);
    b = rng.int(other.bytes.length + 1);
  } else {
    a = cutA(s, bytes.length);
    b = cutA(other.structure, other.bytes.length);
  }
  return { bytes: concatBytes([bytes.subarray(0, a), other.bytes.subarray(b)]), what: `splice ${mode} [0,${a}) + ${other.name}[${b},)` };
};

/** Numeric attributes the decoder trusts: set to edge values. */
const US_TAGS: readonly [number, string][] = [
  [0x00280010, 'Rows'],
  [0x00280011, 'Columns'],
  [0x00280100, 'BitsAllocated'],
  [0x00280101, 'BitsStored'],
  [0x00280102, 'HighBit'],
  [0x00280103, 'PixelRepresentation'],
  [0x00280002, 'SamplesPerPixel'],
  [0x00280006, 'PlanarConfiguration'],
  [0x00280120, 'PixelPaddingValue'],
];
const STRING_TAGS: readonly [number, string][] = [
  [0x00280008, 'NumberOfFrames'],
  [0x00281052, 'RescaleIntercept'],
  [0x00281053, 'RescaleSlope'],
  [0x00281050, 'WindowCenter'],
  [0x00281051, 'WindowWidth'],
  [0x00280004, 'PhotometricInterpretation'],
  [0x00080005, 'SpecificCharacterSet'],
  [0x00200032, 'ImagePositionPatient'],
  [0x00200037, 'ImageOrientationPatient'],
  [0x00280030, 'PixelSpacing'],
  [0x00100010, 'PatientName'],
];
const TS_UIDS = [
  '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.100',
  '1.2.840.10008.1.2.4.110', '1.2.3.4', '',
];
const STRING_VALUES = [
  '0', '-1', '1', '2', '3', '65535', '100000', '100001', '99999999999', '1e308', '-1e308', '1e-308', 'NaN', 'Infinity', '-0',
  '0.0000001', '1\\2\\3', '\\\\\\', '', ' ', 'MONOCHROME1', 'MONOCHROME2', 'RGB', 'PALETTE COLOR', 'YBR_FULL', 'YBR_FULL_422',
  'ISO 2022 IR 87', 'ISO_IR 192', 'GB18030', '\\ISO 2022 IR 149', 'x'.repeat(70), '\u00ff\u00fe\u001b$B',
];

/** Rewrite the value of an element (any length), fixing its length field; even padding. */
function setValue(bytes: Uint8Array, el: ElementInfo, value: Uint8Array, explicit: boolean): Uint8Array {
  const padded = value.length % 2 ? concatBytes([value, new Uint8Array([0x20])]) : value;
  const vr = el.vr;
  const short = explicit && vr !== undefined && !LONG_VRS.has(vr);
  const header = elementHeader(el.tag, vr, short ? Math.min(padded.length, 0xffff) : padded.length, explicit && vr !== undefined, el.littleEndian);
  const end = el.length === 0xffffffff ? el.end : el.valueOffset + el.length;
  return concatBytes([bytes.subarray(0, el.offset), header, padded, bytes.subarray(Math.min(bytes.length, end))]);
}

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);

const fieldValue: Mutator = (bytes, s, { rng }) => {
  const find = (tag: number) => s.elements.find((e) => e.tag === tag && e.depth === 0 && e.end <= bytes.length && e.length !== 0xffffffff);
  const kind = rng.weighted([['us', 4], ['string', 3], ['transfer-syntax', 2]] as const);
  if (kind === 'transfer-syntax') {
    const el = s.elements.find((e) => e.tag === 0x00020010 && e.end <= bytes.length);
    if (el) {
      const uid = rng.pick(TS_UIDS);
      return { bytes: setValue(bytes, el, ascii(uid.length % 2 ? `${uid}\0` : uid), true), what: `transfer syntax -> ${uid || '(empty)'}` };
    }
  }
  if (kind === 'string' || kind === 'transfer-syntax') {
    const [tag, name] = rng.pick(STRING_TAGS);
    const el = find(tag);
    const value = rng.pick(STRING_VALUES);
    if (el) return { bytes: setValue(bytes, el, ascii(value), s.explicit), what: `${name} = ${JSON.stringify(value.slice(0, 20))}` };
  }
  const present = US_TAGS.filter(([tag]) => find(tag));
  if (!present.length) return bitFlip(bytes, s, { rng, corpus: [] });
  const [tag, name] = rng.pick(present);
  const el = find(tag) as ElementInfo;
  const out = copy(bytes);
  const v = rng.pick([0, 1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 64, 0x7fff, 0x8000, 0xffff, rng.int(0x10000)]);
  if (el.length >= 2) writeU16(out, el.valueOffset, v, el.littleEndian);
  return { bytes: out, what: `${name} = ${v}` };
};

/** Inside Pixel Data: the codestream's own header (SOF/SIZ dimensions, markers), fragment lengths, the BOT. */
const pixels: Mutator = (bytes, s, { rng }) => {
  const pd = s.pixelData;
  if (!pd) return fieldValue(bytes, s, { rng, corpus: [] });
  const items = s.elements.filter((e) => e.tag === ITEM && e.offset >= pd.valueOffset && e.offset < pd.end && e.depth === 1);
  const out = copy(bytes);
  // The first fragment after the Basic Offset Table, or the native data.
  const frag = items.length > 1 ? items[1] : undefined;
  const start = frag ? frag.valueOffset : pd.valueOffset;
  const span = Math.max(1, Math.min(out.length - start, frag ? frag.length : 4096, 1024));
  const op = rng.weighted([
    ['flip', 3],
    ['word', 3],
    ['fragment-length', items.length ? 2 : 0],
    ['bot', items.length ? 1 : 0],
    ['drop-marker', frag ? 1 : 0],
  ] as const);
  switch (op) {
    case 'flip': {
      const n = rng.smallLength(16);
      for (let i = 0; i < n; i++) out[start + rng.int(span)] ^= 1 << rng.int(8);
      return { bytes: out, what: `pixels flip x${n} in [${start},+${span})` };
    }
    case 'word': {
      const o = start + rng.int(span);
      const v = rng.pick([0x0000, 0xffff, 0x0001, 0x8000, 0x7fff, 0x00ff, 0xff00, rng.int(0x10000)]);
      out[o] = v >>> 8;
      if (o + 1 < out.length) out[o + 1] = v & 0xff;
      return { bytes: out, what: `pixels word 0x${v.toString(16)} @${o}` };
    }
    case 'fragment-length': {
      const it = rng.pick(items);
      const v = rng.pick([0, 1, 2, 3, it.length - 1, it.length + 1, it.length >>> 1, 0x7ffffff0, 0xffffffff]) >>> 0;
      writeU32(out, it.lengthOffset, v, it.littleEndian);
      return { bytes: out, what: `fragment @${it.offset} length ${it.length}->${v}` };
    }
    case 'bot': {
      const bot = items[0];
      if (bot.length >= 4) {
        const o = bot.valueOffset + 4 * rng.int(Math.floor(bot.length / 4));
        const v = rng.pick([0, 1, 0xffffffff, 0x7fffffff, rng.int(out.length)]);
        writeU32(out, o, v, bot.littleEndian);
        return { bytes: out, what: `BOT entry @${o} -> ${v}` };
      }
      // An empty BOT: claim entries that are not there.
      writeU32(out, bot.lengthOffset, rng.pick([4, 8, 16, 0x100]), bot.littleEndian);
      return { bytes: out, what: `empty BOT given a length` };
    }
    default: {
      // Remove the codestream's start marker (SOI / SOC).
      out[start] = 0;
      out[start + 1] = 0;
      return { bytes: out, what: `codestream start marker zeroed @${start}` };
    }
  }
};

export const MUTATORS: Readonly<Record<string, Mutator>> = {
  bitflip: bitFlip,
  byterun: byteRun,
  truncate,
  length: lengthCorruption,
  vr: vrSwap,
  reorder,
  'seq-bomb': sequenceBomb,
  'huge-length': hugeLength,
  splice,
  field: fieldValue,
  pixels,
};

export type MutatorName = keyof typeof MUTATORS;

/** How often each mutator is chosen. */
const WEIGHTS: readonly (readonly [string, number])[] = [
  ['bitflip', 3],
  ['byterun', 2],
  ['truncate', 3],
  ['length', 4],
  ['vr', 2],
  ['reorder', 1],
  ['seq-bomb', 1],
  ['huge-length', 2],
  ['splice', 2],
  ['field', 4],
  ['pixels', 3],
];

export interface Mutation {
  bytes: Uint8Array;
  /** One entry per mutator applied: "name: what". */
  steps: string[];
}

/** Apply 1-3 stacked mutators to `file` (the structure is re-read between steps). */
export function mutate(file: CorpusFile, ctx: MutationContext, only?: readonly string[]): Mutation {
  const { rng } = ctx;
  const count = rng.weighted([[1, 6], [2, 3], [3, 1]] as const);
  const weights = only?.length ? WEIGHTS.filter(([n]) => only.includes(n)) : WEIGHTS;
  let bytes = file.bytes;
  let structure = file.structure;
  const steps: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = rng.weighted(weights);
    const r = MUTATORS[name](bytes, structure, ctx);
    steps.push(`${name}: ${r.what}`);
    bytes = r.bytes;
    if (i + 1 < count) structure = dicomStructure(bytes);
  }
  return { bytes, steps };
}

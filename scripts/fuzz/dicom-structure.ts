/**
 * A tolerant, independent walk over a DICOM file's elements, for the mutators: where the
 * preamble, the File Meta and each element header, length field and value lie. It shares no code
 * with src/ on purpose (a bug there must not hide the structure the fuzzer aims at) and never
 * throws: it stops at the first thing that does not look like an element.
 */

export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
export const VALID_VRS = [
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
] as const;
const VR_SET = new Set<string>(VALID_VRS);

export const ITEM = 0xfffee000;
export const ITEM_DELIM = 0xfffee00d;
export const SEQ_DELIM = 0xfffee0dd;
export const PIXEL_DATA = 0x7fe00010;

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
} as const;

export interface ElementInfo {
  /** Offset of the tag. */
  offset: number;
  tag: number;
  /** Explicit VR as read (undefined for implicit VR and item/delimiter tags). */
  vr: string | undefined;
  headerLength: number;
  lengthOffset: number;
  lengthBytes: 2 | 4;
  /** The length field as read (0xFFFFFFFF: undefined). */
  length: number;
  valueOffset: number;
  /** Offset just past the element (value and, for undefined lengths, its delimiter). */
  end: number;
  /** 0: top level of the data set (or the File Meta); items and their contents are deeper. */
  depth: number;
  littleEndian: boolean;
  /** In the File Meta group. */
  meta: boolean;
}

export interface DicomStructure {
  size: number;
  part10: boolean;
  /** Offset where the data set (after the File Meta) starts. */
  dataStart: number;
  transferSyntaxUid: string;
  explicit: boolean;
  littleEndian: boolean;
  /** Deflated data sets: only the File Meta is walked. */
  deflated: boolean;
  elements: ElementInfo[];
  /** Indices into `elements` of the top-level data set elements (File Meta excluded). */
  topLevel: number[];
  /** Indices of the File Meta elements. */
  metaElements: number[];
  pixelData: ElementInfo | undefined;
}

const MAX_ELEMENTS = 20_000;
const MAX_DEPTH = 256;

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000 : b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

export function hasDicm(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

function vrAt(b: Uint8Array, o: number): string | undefined {
  if (o + 2 > b.length) return undefined;
  const vr = String.fromCharCode(b[o], b[o + 1]);
  return VR_SET.has(vr) ? vr : undefined;
}

class Walker {
  readonly elements: ElementInfo[] = [];
  constructor(
    private readonly b: Uint8Array,
    private readonly explicit: boolean,
    private readonly le: boolean,
    private readonly meta: boolean,
  ) {}

  /** Read one element header at `o`; undefined when it does not fit or makes no sense. */
  private header(o: number, depth: number): ElementInfo | undefined {
    const b = this.b;
    if (o + 8 > b.length) return undefined;
    // Item and delimiter tags are little/big endian like the data set, and never have a VR.
    const tag = u16(b, o, this.le) * 0x10000 + u16(b, o + 2, this.le);
    if (tag === ITEM || tag === ITEM_DELIM || tag === SEQ_DELIM) {
      const length = u32(b, o + 4, this.le);
      return { offset: o, tag, vr: undefined, headerLength: 8, lengthOffset: o + 4, lengthBytes: 4, length, valueOffset: o + 8, end: o + 8, depth, littleEndian: this.le, meta: this.meta };
    }
    if (this.explicit) {
      const vr = vrAt(b, o + 4);
      if (!vr) return undefined;
      if (LONG_VRS.has(vr)) {
        if (o + 12 > b.length) return undefined;
        const length = u32(b, o + 8, this.le);
        return { offset: o, tag, vr, headerLength: 12, lengthOffset: o + 8, lengthBytes: 4, length, valueOffset: o + 12, end: o + 12, depth, littleEndian: this.le, meta: this.meta };
      }
      const length = u16(b, o + 6, this.le);
      return { offset: o, tag, vr, headerLength: 8, lengthOffset: o + 6, lengthBytes: 2, length, valueOffset: o + 8, end: o + 8, depth, littleEndian: this.le, meta: this.meta };
    }
    const length = u32(b, o + 4, this.le);
    return { offset: o, tag, vr: undefined, headerLength: 8, lengthOffset: o + 4, lengthBytes: 4, length, valueOffset: o + 8, end: o + 8, depth, littleEndian: this.le, meta: this.meta };
  }

  /**
   * Walk elements from `o` until `limit` (or a sequence/item delimiter when `untilDelim`).
   * Returns the offset reached (past the delimiter when one ended the walk).
   */
  walk(o: number, limit: number, depth: number, untilDelim: number | undefined, stopAt?: (e: ElementInfo) => boolean, fragments = false): number {
    const b = this.b;
    if (depth > MAX_DEPTH) return limit; // a sequence bomb: do not follow it down
    while (o < limit && this.elements.length < MAX_ELEMENTS) {
      const e = this.header(o, depth);
      if (!e) return o;
      if (stopAt?.(e)) return o;
      this.elements.push(e);
      if (e.tag === ITEM_DELIM || e.tag === SEQ_DELIM) {
        e.end = e.valueOffset;
        if (untilDelim !== undefined && e.tag === untilDelim) return e.end;
        o = e.end;
        continue;
      }
      const undef = e.length === 0xffffffff;
      const isSeq = e.vr === 'SQ' || (undef && e.tag !== ITEM && !this.explicit) || (undef && e.tag === PIXEL_DATA);
      if (e.tag === ITEM) {
        if (fragments) e.end = e.valueOffset + (undef ? 0 : e.length); // an encapsulated fragment
        else if (undef) e.end = this.walk(e.valueOffset, limit, depth + 1, ITEM_DELIM);
        else {
          const end = Math.min(limit, e.valueOffset + e.length);
          this.walk(e.valueOffset, end, depth + 1, undefined);
          e.end = e.valueOffset + e.length;
        }
      } else if (isSeq || (undef && e.vr !== undefined)) {
        if (undef) e.end = this.walk(e.valueOffset, limit, depth + 1, SEQ_DELIM, undefined, e.tag === PIXEL_DATA);
        else {
          const end = Math.min(limit, e.valueOffset + e.length);
          this.walk(e.valueOffset, end, depth + 1, undefined);
          e.end = e.valueOffset + e.length;
        }
      } else {
        e.end = e.valueOffset + e.length;
      }
      if (e.end <= o || e.end > b.length) {
        // A length past the end: record it, stop walking at this level.
        return Math.min(e.end, b.length);
      }
      o = e.end;
    }
    return o;
  }
}

function sniffRaw(b: Uint8Array): { explicit: boolean; le: boolean } | undefined {
  if (b.length < 8) return undefined;
  const gLE = b[0] | (b[1] << 8);
  const gBE = (b[0] << 8) | b[1];
  const ok = (g: number) => g === 0x0002 || g === 0x0008 || (g > 0 && g <= 0x0028 && g % 2 === 0);
  const vr = vrAt(b, 4);
  if (ok(gLE)) return { explicit: vr !== undefined, le: true };
  if (ok(gBE) && vr) return { explicit: true, le: false };
  return undefined;
}

/** Walk a file's structure (never throws). */
export function dicomStructure(bytes: Uint8Array): DicomStructure {
  const part10 = hasDicm(bytes);
  const elements: ElementInfo[] = [];
  let dataStart = 0;
  let ts: string = TS.implicitLE;
  let explicit = false;
  let le = true;
  const metaElements: number[] = [];
  if (part10) {
    const mw = new Walker(bytes, true, true, true);
    dataStart = mw.walk(132, bytes.length, 0, undefined, (e) => (e.tag >>> 16) !== 0x0002);
    for (const e of mw.elements) {
      metaElements.push(elements.length);
      elements.push(e);
      if (e.tag === 0x00020010) {
        ts = String.fromCharCode(...bytes.subarray(e.valueOffset, Math.min(bytes.length, e.valueOffset + Math.min(e.length, 64)))).replace(/\0/g, '').trim();
      }
    }
    explicit = ts !== TS.implicitLE;
    le = ts !== TS.explicitBE;
  } else {
    const s = sniffRaw(bytes);
    if (s) {
      explicit = s.explicit;
      le = s.le;
      ts = !explicit ? TS.implicitLE : le ? TS.explicitLE : TS.explicitBE;
    }
  }
  const deflated = ts === TS.deflated;
  const topLevel: number[] = [];
  let pixelData: ElementInfo | undefined;
  if (!deflated) {
    const w = new Walker(bytes, explicit, le, false);
    w.walk(dataStart, bytes.length, 0, undefined);
    for (const e of w.elements) {
      if (e.depth === 0) topLevel.push(elements.length);
      if (e.depth === 0 && e.tag === PIXEL_DATA) pixelData = e;
      elements.push(e);
    }
  }
  return { size: bytes.length, part10, dataStart, transferSyntaxUid: ts, explicit, littleEndian: le, deflated, elements, topLevel, metaElements, pixelData };
}

export function writeU16(b: Uint8Array, o: number, v: number, le: boolean): void {
  if (o + 2 > b.length) return;
  if (le) {
    b[o] = v & 0xff;
    b[o + 1] = (v >>> 8) & 0xff;
  } else {
    b[o] = (v >>> 8) & 0xff;
    b[o + 1] = v & 0xff;
  }
}

export function writeU32(b: Uint8Array, o: number, v: number, le: boolean): void {
  if (o + 4 > b.length) return;
  v >>>= 0;
  if (le) {
    b[o] = v & 0xff;
    b[o + 1] = (v >>> 8) & 0xff;
    b[o + 2] = (v >>> 16) & 0xff;
    b[o + 3] = (v >>> 24) & 0xff;
  } else {
    b[o] = (v >>> 24) & 0xff;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
  }
}

/** Encode one element header (tag, VR, length) in the given syntax. */
export function elementHeader(tag: number, vr: string | undefined, length: number, explicit: boolean, le: boolean): Uint8Array {
  const item = tag === ITEM || tag === ITEM_DELIM || tag === SEQ_DELIM;
  if (!explicit || item || vr === undefined) {
    const out = new Uint8Array(8);
    writeU16(out, 0, tag >>> 16, le);
    writeU16(out, 2, tag & 0xffff, le);
    writeU32(out, 4, length, le);
    return out;
  }
  const long = LONG_VRS.has(vr) || !VR_SET.has(vr);
  const out = new Uint8Array(long ? 12 : 8);
  writeU16(out, 0, tag >>> 16, le);
  writeU16(out, 2, tag & 0xffff, le);
  out[4] = vr.charCodeAt(0) & 0xff;
  out[5] = vr.charCodeAt(1) & 0xff;
  if (long) writeU32(out, 8, length, le);
  else writeU16(out, 6, length, le);
  return out;
}

export { concatBytes } from '../../src/core/io/bytes';

export const tagLabel = (tag: number): string => `(${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')})`.toUpperCase();

/**
 * A deliberately small DICOM Part 10 writer (Explicit or Implicit VR Little Endian, native
 * pixel data) for data ReSight generates itself: synthetic test series, benchmark input, the
 * demo study. It is not the export path (reports and SR/SC go through dcmjs in core/report).
 */
import { concatBytes } from '../io/bytes';

export type SimpleValue = string | number | number[] | string[] | Uint8Array | Int16Array | Uint16Array;

export interface SimpleElement {
  tag: number; // (group << 16) | element
  vr: string;
  value: SimpleValue;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'OV']);

/** VRs padded with a space to an even length; every other VR (UI, binary) pads with NUL. */
const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UR', 'UT']);

/** DICOM value lengths are even: pad odd-length raw bytes (e.g. a Latin-1 name given as bytes). */
function padEven(vr: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = TEXT_VRS.has(vr) ? 0x20 : 0;
  return out;
}

function valueBytes(vr: string, value: SimpleValue): Uint8Array {
  if (value instanceof Uint8Array) return padEven(vr, value);
  if (value instanceof Int16Array || value instanceof Uint16Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (vr === 'US' || vr === 'SS') {
    const nums = (Array.isArray(value) ? value : [value]).map(Number);
    const out = new Uint8Array(nums.length * 2);
    const dv = new DataView(out.buffer);
    nums.forEach((n, i) => (vr === 'US' ? dv.setUint16(2 * i, n, true) : dv.setInt16(2 * i, n, true)));
    return out;
  }
  if (vr === 'UL') {
    const nums = (Array.isArray(value) ? value : [value]).map(Number);
    const out = new Uint8Array(nums.length * 4);
    const dv = new DataView(out.buffer);
    nums.forEach((n, i) => dv.setUint32(4 * i, n, true));
    return out;
  }
  const text = Array.isArray(value) ? value.map(String).join('\\') : String(value);
  let bytes = Buffer.from(text, vr === 'UI' ? 'latin1' : 'utf8');
  if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** One element's bytes (little endian). Exported so tests can nest items inside SQ values. */
export function encodeElement(el: SimpleElement, explicit: boolean): Uint8Array {
  const data = valueBytes(el.vr, el.value);
  const long = LONG_VRS.has(el.vr);
  const headerLen = !explicit ? 8 : long ? 12 : 8;
  const out = new Uint8Array(headerLen + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, el.tag >>> 16, true);
  dv.setUint16(2, el.tag & 0xffff, true);
  if (!explicit) {
    dv.setUint32(4, data.length, true);
  } else {
    out[4] = el.vr.charCodeAt(0);
    out[5] = el.vr.charCodeAt(1);
    if (long) dv.setUint32(8, data.length, true);
    else dv.setUint16(6, data.length, true);
  }
  out.set(data, headerLen);
  return out;
}


/** Serialize a data set (elements in any order) as a Part 10 file. */
export function writePart10(
  elements: SimpleElement[],
  opts: { sopClassUid: string; sopInstanceUid: string; transferSyntaxUid?: string; preamble?: boolean },
): Uint8Array {
  const ts = opts.transferSyntaxUid ?? '1.2.840.10008.1.2.1';
  const explicit = ts !== '1.2.840.10008.1.2';
  const metaBody = [
    { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) },
    { tag: 0x00020002, vr: 'UI', value: opts.sopClassUid },
    { tag: 0x00020003, vr: 'UI', value: opts.sopInstanceUid },
    { tag: 0x00020010, vr: 'UI', value: ts },
    { tag: 0x00020012, vr: 'UI', value: '1.2.826.0.1.3680043.10.1453.1' },
    { tag: 0x00020013, vr: 'SH', value: 'RESIGHT_GEN' },
  ].map((e) => encodeElement(e, true));
  const metaLen = metaBody.reduce((n, p) => n + p.length, 0);
  const groupLength = encodeElement({ tag: 0x00020000, vr: 'UL', value: metaLen }, true);
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const body = sorted.map((e) => encodeElement(e, explicit));
  const prefix = opts.preamble === false ? [] : [new Uint8Array(128), new Uint8Array([0x44, 0x49, 0x43, 0x4d])];
  const meta = opts.preamble === false ? [] : [groupLength, ...metaBody];
  return concatBytes([...prefix, ...meta, ...body]);
}

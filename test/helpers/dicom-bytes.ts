/**
 * Byte-level edits of real DICOM files (Explicit VR Little Endian) for tests of damaged or
 * lying input: where an element's header is, a short element's bytes, a file with one more.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

/** Offset of the first occurrence of an explicit-VR element header (tag + VR) in a file. */
export function elementOffset(bytes: Uint8Array, group: number, element: number, vr: string): number {
  const needle = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8, vr.charCodeAt(0), vr.charCodeAt(1)]);
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(needle);
  assert.ok(at > 0, `element (${group.toString(16)},${element.toString(16)}) ${vr} not found`);
  return at;
}

/** Explicit VR Little Endian element bytes (short-VR form), value padded to even length. */
export function shortElement(group: number, element: number, vr: string, value: string): Uint8Array {
  const v = Buffer.from(value.length % 2 ? `${value} ` : value, 'latin1');
  const out = Buffer.alloc(8 + v.length);
  out.writeUInt16LE(group, 0);
  out.writeUInt16LE(element, 2);
  out.write(vr, 4, 'latin1');
  out.writeUInt16LE(v.length, 6);
  v.copy(out, 8);
  return out;
}

/** The file at `file` (Explicit VR LE, no NumberOfFrames) with NumberOfFrames inserted before Rows. */
export function withNumberOfFrames(file: string, frames: string): Buffer {
  const bytes = fs.readFileSync(file);
  const rows = elementOffset(bytes, 0x0028, 0x0010, 'US');
  return Buffer.concat([bytes.subarray(0, rows), shortElement(0x0028, 0x0008, 'IS', frames), bytes.subarray(rows)]);
}

/** `bytes` with the value of a short explicit-VR element (e.g. NumberOfFrames, IS) replaced, its length fixed. */
export function withShortValue(bytes: Uint8Array, group: number, element: number, vr: string, value: string): Buffer {
  const at = elementOffset(bytes, group, element, vr);
  const old = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt16LE(at + 6);
  return Buffer.concat([bytes.subarray(0, at), shortElement(group, element, vr, value), bytes.subarray(at + 8 + old)]);
}

/** One explicit-VR element (long form for OB/OW/UN/UT, else short), little- or big-endian, value padded to even length. */
export function explicitElement(group: number, element: number, vr: string, value: Uint8Array, littleEndian = true): Buffer {
  const v = Buffer.alloc(value.length + (value.length % 2), vr === 'OB' || vr === 'OW' ? 0 : 0x20);
  Buffer.from(value.buffer, value.byteOffset, value.byteLength).copy(v);
  const long = ['OB', 'OW', 'UN', 'UT', 'OF', 'SQ'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  const u16 = (n: number, at: number) => (littleEndian ? head.writeUInt16LE(n, at) : head.writeUInt16BE(n, at));
  u16(group, 0);
  u16(element, 2);
  head.write(vr, 4, 'latin1');
  if (long && littleEndian) head.writeUInt32LE(v.length, 8);
  else if (long) head.writeUInt32BE(v.length, 8);
  else u16(v.length, 6);
  return Buffer.concat([head, v]);
}

/** A 16-bit value (US or SS) in the given byte order. */
export function u16Bytes(values: number[], littleEndian = true): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((n, i) => (littleEndian ? b.writeUInt16LE(n & 0xffff, i * 2) : b.writeUInt16BE(n & 0xffff, i * 2)));
  return b;
}

/** `bytes` (an explicit-VR file) with `elements` inserted just before Pixel Data (7FE0,0010). */
export function withElementsBeforePixelData(bytes: Uint8Array, elements: Uint8Array[], littleEndian = true): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = littleEndian ? Buffer.from([0xe0, 0x7f, 0x10, 0x00]) : Buffer.from([0x7f, 0xe0, 0x00, 0x10]);
  let at = -1;
  for (let i = buf.indexOf(tag); i >= 0; i = buf.indexOf(tag, i + 1)) {
    const vr = buf.toString('latin1', i + 4, i + 6);
    if (vr === 'OW' || vr === 'OB') at = i;
  }
  assert.ok(at > 0, 'Pixel Data not found');
  return Buffer.concat([buf.subarray(0, at), ...elements, buf.subarray(at)]);
}

/** The Image Pixel module of a grey image (write-simple elements): one sample, MONOCHROME2, unsigned, `bits` stored in as many allocated. */
export function greyPixelModule(rows: number, columns: number, bits: 8 | 16): { tag: number; vr: string; value: number | string }[] {
  return [
    { tag: 0x00280002, vr: 'US', value: 1 },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: rows },
    { tag: 0x00280011, vr: 'US', value: columns },
    { tag: 0x00280100, vr: 'US', value: bits },
    { tag: 0x00280101, vr: 'US', value: bits },
    { tag: 0x00280102, vr: 'US', value: bits - 1 },
    { tag: 0x00280103, vr: 'US', value: 0 },
  ];
}

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

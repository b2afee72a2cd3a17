/**
 * Color pixel conversions to interleaved RGB: planar -> interleaved, YBR_FULL(_422) -> RGB
 * (PS3.3 C.7.6.3.1.2), PALETTE COLOR lookup (8/16-bit LUTs, 16-bit output scaled to 8).
 */
import type { DataSet } from 'dicom-parser';
import { ResightError } from '../errors';
import type { StoredArray } from '../dicom/decode';

export function planarToInterleaved(data: StoredArray, pixels: number): StoredArray {
  const Ctor = data.constructor as new (n: number) => StoredArray;
  const out = new Ctor(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = data[i];
    out[3 * i + 1] = data[pixels + i];
    out[3 * i + 2] = data[2 * pixels + i];
  }
  return out;
}

/**
 * YBR_FULL (interleaved) -> RGB, in a new array of the same sample width (or in `out`, which may
 * be `data` itself: each pixel is read before it is written): the chroma offset is half the stored
 * range (128 at 8 bits, 32768 at 16), so 16-bit colour is not clipped at 255.
 */
export function ybrToRgb(data: StoredArray, bits = 8, out: Uint8Array | Uint16Array = bits <= 8 ? new Uint8Array(data.length) : new Uint16Array(data.length)): Uint8Array | Uint16Array {
  const max = 2 ** bits - 1;
  const mid = 2 ** (bits - 1);
  const clamp = (v: number) => (v < 0 ? 0 : v > max ? max : Math.round(v));
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i] as number;
    const cb = (data[i + 1] as number) - mid;
    const cr = (data[i + 2] as number) - mid;
    out[i] = clamp(y + 1.402 * cr);
    out[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    out[i + 2] = clamp(y + 1.772 * cb);
  }
  return out;
}

/** Native YBR_FULL_422: Y1 Y2 Cb Cr per pixel pair (samples of `bits` bits) -> RGB. */
export function ybr422ToRgb(data: Uint8Array | Uint16Array, rows: number, columns: number, bits = 8): Uint8Array | Uint16Array {
  const pixels = rows * columns;
  const full = bits <= 8 ? new Uint8Array(pixels * 3) : new Uint16Array(pixels * 3);
  for (let p = 0, i = 0; p < pixels && i + 3 < data.length; p += 2, i += 4) {
    full[3 * p] = data[i] as number;
    full[3 * p + 1] = data[i + 2] as number;
    full[3 * p + 2] = data[i + 3] as number;
    if (p + 1 < pixels) {
      full[3 * p + 3] = data[i + 1] as number;
      full[3 * p + 4] = data[i + 2] as number;
      full[3 * p + 5] = data[i + 3] as number;
    }
  }
  return ybrToRgb(full, bits, full);
}

interface Lut {
  entries: number;
  first: number;
  bits: number;
  data: Uint16Array | Uint8Array;
}

function readLut(ds: DataSet, descTag: string, dataTag: string, channel: string): Lut {
  const desc = ds.elements[descTag];
  const el = ds.elements[dataTag];
  if (!desc || !el) {
    if (ds.elements['x00281221']) throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', 'segmented palette color LUTs are not supported');
    throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `PALETTE COLOR without a ${channel} lookup table`);
  }
  const entries = ds.uint16(descTag, 0) || 65536;
  const first = ds.uint16(descTag, 1) ?? 0;
  const bits = ds.uint16(descTag, 2) ?? 16;
  const bytes = (ds.byteArray as Uint8Array).subarray(el.dataOffset, el.dataOffset + el.length);
  let data: Uint16Array | Uint8Array;
  if (bits === 8 && el.length === entries) data = bytes;
  else {
    data = new Uint16Array(Math.floor(el.length / 2));
    for (let i = 0; i < data.length; i++) data[i] = ds.byteArrayParser.readUint16(ds.byteArray, el.dataOffset + 2 * i);
    if (bits === 8) data = Uint8Array.from(data, (v) => v & 0xff);
  }
  return { entries, first, bits, data };
}

/** PALETTE COLOR stored values -> interleaved 8-bit RGB. */
export function applyPalette(ds: DataSet, indices: StoredArray): Uint8Array {
  const luts = [
    readLut(ds, 'x00281101', 'x00281201', 'red'),
    readLut(ds, 'x00281102', 'x00281202', 'green'),
    readLut(ds, 'x00281103', 'x00281203', 'blue'),
  ];
  const out = new Uint8Array(indices.length * 3);
  for (let c = 0; c < 3; c++) {
    const { first, data, bits } = luts[c];
    const last = data.length - 1;
    const shift = bits > 8 ? bits - 8 : 0;
    for (let i = 0; i < indices.length; i++) {
      let k = indices[i] - first;
      if (k < 0) k = 0;
      else if (k > last) k = last;
      out[3 * i + c] = data[k] >> shift;
    }
  }
  return out;
}

/**
 * Stored values -> modality values (PS3.3 C.11.1): the Modality LUT Sequence when present,
 * else RescaleSlope/RescaleIntercept (per frame for enhanced objects). CT comes out in HU.
 *
 * Values are computed in float64 and stored as float32 (what the viewer and the model see), or
 * kept as Int16 when every value is an integer that fits: half the memory for typical CT.
 */
import type { DataSet } from 'dicom-parser';
import type { InstanceHeader, RescaleInfo } from '../../shared/dicom';
import type { DecodedFrame, StoredArray } from '../dicom/decode';

export interface ModalityLut {
  firstMapped: number;
  data: Uint16Array | Int16Array | Uint8Array;
}

/** Modality LUT Sequence (0028,3000) item, if any. */
export function readModalityLut(ds: DataSet | undefined): ModalityLut | undefined {
  const item = ds?.elements['x00283000']?.items?.[0]?.dataSet;
  if (!item) return undefined;
  const el = item.elements['x00283006'];
  if (!item.elements['x00283002'] || !el) return undefined;
  const entries = item.uint16('x00283002', 0) || 65536;
  const firstRaw = item.uint16('x00283002', 1) ?? 0;
  const bits = item.uint16('x00283002', 2) ?? 16;
  const signedFirst = item.elements['x00283002'].vr === 'SS' ? (firstRaw << 16) >> 16 : firstRaw;
  let data: Uint16Array | Uint8Array;
  if (bits <= 8 && el.length === entries) {
    data = (item.byteArray as Uint8Array).subarray(el.dataOffset, el.dataOffset + el.length);
  } else {
    data = new Uint16Array(Math.min(entries, Math.floor(el.length / 2)));
    for (let i = 0; i < data.length; i++) data[i] = item.byteArrayParser.readUint16(item.byteArray, el.dataOffset + 2 * i);
  }
  return { firstMapped: signedFirst, data };
}

/** The rescale that applies to frame `frame` of this instance. */
export function rescaleFor(h: InstanceHeader, frame: number): RescaleInfo {
  return h.perFrame?.[frame]?.rescale ?? h.rescale;
}

/**
 * Modality values into `out` (Float32Array or Int16Array of rows*columns*spp). For an Int16
 * target returns false, leaving `out` partly written, when a value is not an integer in
 * [-32768, 32767]; the caller then switches to float32.
 */
export function modalityValuesInto(
  data: StoredArray,
  rescale: RescaleInfo,
  out: Float32Array | Int16Array,
  lut?: ModalityLut,
): boolean {
  const n = data.length;
  if (lut) {
    const last = lut.data.length - 1;
    const int16 = out instanceof Int16Array;
    for (let i = 0; i < n; i++) {
      let k = data[i] - lut.firstMapped;
      if (k < 0) k = 0;
      else if (k > last) k = last;
      const v = lut.data[k];
      if (int16 && v > 32767) return false;
      out[i] = v;
    }
    return true;
  }
  const { slope, intercept } = rescale;
  if (out instanceof Int16Array) {
    if (slope !== 1 || !Number.isInteger(intercept)) {
      if (!Number.isInteger(slope)) return false;
      for (let i = 0; i < n; i++) {
        const v = data[i] * slope + intercept;
        if (v < -32768 || v > 32767 || v !== Math.floor(v)) return false;
        out[i] = v;
      }
      return true;
    }
    if (intercept === 0 && data instanceof Int16Array) {
      out.set(data);
      return true;
    }
    // Hot path for CT: integer intercept.
    if (data instanceof Int16Array) return offsetInt16FromInt16(data, out, intercept);
    if (data instanceof Uint16Array) return offsetInt16FromUint16(data, out, intercept);
    return offsetInt16Generic(data, out, intercept);
  }
  if (data instanceof Int16Array) linearF32FromInt16(data, out, slope, intercept);
  else if (data instanceof Uint16Array) linearF32FromUint16(data, out, slope, intercept);
  else linearF32Generic(data, out, slope, intercept);
  return true;
}

/*
 * Monomorphic kernels. One generic loop over "any typed array" runs ~10x slower in V8 (element
 * access goes megamorphic); these keep each loop to one array type so it compiles tight.
 */
function offsetInt16FromInt16(data: Int16Array, out: Int16Array, intercept: number): boolean {
  const n = data.length;
  // One pass: write, and track the extremes to detect values that wrapped.
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    out[i] = v + intercept;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  return lo + intercept >= -32768 && hi + intercept <= 32767;
}

function offsetInt16FromUint16(data: Uint16Array, out: Int16Array, intercept: number): boolean {
  const n = data.length;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    out[i] = v + intercept;
    hi = v > hi ? v : hi;
  }
  return intercept >= -32768 && hi + intercept <= 32767;
}

function offsetInt16Generic(data: StoredArray, out: Int16Array, intercept: number): boolean {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i] + intercept;
    if (v < -32768 || v > 32767 || v !== Math.floor(v)) return false;
    out[i] = v;
  }
  return true;
}

function linearF32FromInt16(data: Int16Array, out: Float32Array, slope: number, intercept: number): void {
  const n = data.length;
  for (let i = 0; i < n; i++) out[i] = data[i] * slope + intercept;
}

function linearF32FromUint16(data: Uint16Array, out: Float32Array, slope: number, intercept: number): void {
  const n = data.length;
  for (let i = 0; i < n; i++) out[i] = data[i] * slope + intercept;
}

function linearF32Generic(data: StoredArray, out: Float32Array, slope: number, intercept: number): void {
  const n = data.length;
  for (let i = 0; i < n; i++) out[i] = data[i] * slope + intercept;
}

/** Float32 modality values of one decoded frame (the `resight decode` output). */
export function modalityValues(frame: DecodedFrame, rescale: RescaleInfo, lut?: ModalityLut): Float32Array {
  const out = new Float32Array(frame.data.length);
  // Color data have no modality transform: RGB samples pass through.
  if (frame.samplesPerPixel === 3) {
    for (let i = 0; i < out.length; i++) out[i] = frame.data[i];
    return out;
  }
  modalityValuesInto(frame.data, rescale, out, lut);
  return out;
}

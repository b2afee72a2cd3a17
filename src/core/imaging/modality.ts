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

/** True when all modality values of this frame are integers that fit in Int16. */
export function fitsInt16(frame: DecodedFrame, rescale: RescaleInfo, lut?: ModalityLut): boolean {
  if (frame.samplesPerPixel !== 1 || lut) return false;
  const { data } = frame;
  if (data instanceof Float32Array || data instanceof Float64Array) return false;
  if (!Number.isInteger(rescale.slope) || !Number.isInteger(rescale.intercept)) return false;
  const bits = data.BYTES_PER_ELEMENT * 8;
  const lo = frame.signed ? -(2 ** (Math.min(frame.bitsStored, bits) - 1)) : 0;
  const hi = frame.signed ? 2 ** (Math.min(frame.bitsStored, bits) - 1) - 1 : 2 ** Math.min(frame.bitsStored, bits) - 1;
  const a = lo * rescale.slope + rescale.intercept;
  const b = hi * rescale.slope + rescale.intercept;
  return Math.min(a, b) >= -32768 && Math.max(a, b) <= 32767;
}

/** Modality values into `out` (Float32Array or Int16Array of rows*columns*spp). */
export function modalityValuesInto(
  data: StoredArray,
  rescale: RescaleInfo,
  out: Float32Array | Int16Array,
  lut?: ModalityLut,
): void {
  const n = data.length;
  if (lut) {
    const last = lut.data.length - 1;
    for (let i = 0; i < n; i++) {
      let k = data[i] - lut.firstMapped;
      if (k < 0) k = 0;
      else if (k > last) k = last;
      out[i] = lut.data[k];
    }
    return;
  }
  const { slope, intercept } = rescale;
  if (slope === 1 && intercept === 0) {
    if (out.constructor === data.constructor) (out as Int16Array).set(data as Int16Array);
    else for (let i = 0; i < n; i++) out[i] = data[i];
  } else if (slope === 1) {
    for (let i = 0; i < n; i++) out[i] = data[i] + intercept;
  } else {
    for (let i = 0; i < n; i++) out[i] = data[i] * slope + intercept;
  }
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

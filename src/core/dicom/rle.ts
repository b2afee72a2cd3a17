/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits
 * segment per byte plane (most significant byte first) per sample. Small enough to own.
 */
import { ResightError } from '../errors';

/**
 * Decode one RLE frame into little-endian, sample-interleaved bytes
 * (bytesPerSample * samplesPerPixel bytes per pixel).
 */
export function decodeRle(frame: Uint8Array, pixels: number, samplesPerPixel: number, bytesPerSample: number): Uint8Array {
  if (frame.length < 64) throw new ResightError('CODEC_FAILED', `RLE frame of ${frame.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) {
    throw new ResightError('CODEC_FAILED', `RLE frame has ${segments} segments, expected ${expected} (${samplesPerPixel} samples x ${bytesPerSample} bytes)`);
  }
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  // Validate every segment before allocating the output: the header's Rows x Columns are
  // untrusted, and a PackBits run (2 bytes) expands to at most 128 bytes, so a segment can
  // never decode to more than 64x its length.
  for (let s = 0; s < segments; s++) {
    const start = offsets[s];
    const end = s + 1 < segments ? offsets[s + 1] : frame.length;
    if (start < 64 || start > frame.length || end > frame.length || end < start) {
      throw new ResightError('CODEC_FAILED', `RLE segment ${s + 1} offset ${start} is outside the frame (${frame.length} bytes)`);
    }
    const most = Math.ceil((end - start) / 2) * 128;
    if (most < pixels) {
      throw new ResightError('PIXEL_DATA_TRUNCATED', `RLE segment ${s + 1} (${end - start} bytes) cannot hold ${pixels} pixels`);
    }
  }
  const stride = expected;
  if (pixels * stride > 2 ** 32) {
    throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `an RLE frame of ${pixels} pixels x ${stride} bytes is too large to decode`);
  }
  const out = new Uint8Array(pixels * stride);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s];
    const end = s + 1 < segments ? offsets[s + 1] : frame.length;
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // MSB segment first -> LE position
    let o = sample * bytesPerSample + byteInSample;
    let written = 0;
    let i = start;
    while (i < end && written < pixels) {
      const n = frame[i++];
      if (n < 128) {
        const count = Math.min(n + 1, pixels - written, end - i);
        for (let k = 0; k < count; k++, o += stride) out[o] = frame[i + k];
        i += n + 1;
        written += count;
      } else if (n > 128) {
        const count = Math.min(257 - n, pixels - written);
        const v = frame[i++];
        for (let k = 0; k < count; k++, o += stride) out[o] = v;
        written += count;
      }
      // n === 128: no-op
    }
    if (written < pixels) {
      throw new ResightError('PIXEL_DATA_TRUNCATED', `RLE segment ${s + 1} decodes to ${written} of ${pixels} pixels`);
    }
  }
  return out;
}

/** Byte-array helpers shared by the DICOM writer, the pixel-data reader and the fuzzer. */

/** The parts one after another in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The unsigned 32-bit little-endian integer at `offset` (exact above 2^31, unlike `<< 24`). */
export function readU32LE(b: Uint8Array, offset: number): number {
  return (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16)) + b[offset + 3] * 0x1000000;
}

/**
 * The pixel pipeline on formats the corpus does not cover, built as real Part 10 files:
 * 1-bit packed frames, signed 8-bit, 32-bit with rescale, BitsStored/HighBit masking and sign
 * extension, planar RGB, YBR_FULL, native YBR_FULL_422, PALETTE COLOR and the Modality LUT Sequence.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadFrame } from '../../../../src/core/dicom/frame';
import type { SimpleElement } from '../../../../src/core/dicom/write-simple';
import { encodeElement } from '../../../../src/core/dicom/write-simple';
import { writeImageFile } from '../../../helpers/image-file';
import type { ImageAttrs } from '../../../helpers/image-file';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-pixfmt-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (attrs: ImageAttrs, pixels: Uint8Array, extra: SimpleElement[] = []) => writeImageFile(tmp, attrs, pixels, extra);

const bytesOf = (a: Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('native pixel formats', () => {
  it('1-bit frames are unpacked LSB first, and frames need not start on a byte boundary', async () => {
    // 3 frames of 5x3 = 15 bits each: frame k has pixel i set when (i + k) % 3 === 0.
    const bits: number[] = [];
    for (let k = 0; k < 3; k++) for (let i = 0; i < 15; i++) bits.push((i + k) % 3 === 0 ? 1 : 0);
    const packed = new Uint8Array(Math.ceil(bits.length / 8));
    bits.forEach((b, i) => (packed[i >> 3] |= b << (i & 7)));
    const file = write({ rows: 3, columns: 5, bitsAllocated: 1, frames: 3 }, packed);
    for (let k = 0; k < 3; k++) {
      const { values } = await loadFrame(file, k);
      assert.deepEqual(Array.from(values), bits.slice(15 * k, 15 * (k + 1)), `frame ${k}`);
    }
  });

  it('signed 8-bit values keep their sign', async () => {
    const px = Int8Array.from([-128, -1, 0, 1, 127, -50]);
    const { values } = await loadFrame(write({ rows: 2, columns: 3, bitsAllocated: 8, pixelRepresentation: 1 }, bytesOf(px)), 0);
    assert.deepEqual(Array.from(values), [-128, -1, 0, 1, 127, -50]);
  });

  it('32-bit unsigned and signed values get RescaleSlope/Intercept in float64, stored as float32', async () => {
    const u = Uint32Array.from([0, 1, 4000000000, 123456789]);
    const uf = write({ rows: 2, columns: 2, bitsAllocated: 32 }, bytesOf(u), [
      { tag: 0x00281052, vr: 'DS', value: '-10.5' },
      { tag: 0x00281053, vr: 'DS', value: '0.25' },
    ]);
    const { values } = await loadFrame(uf, 0);
    assert.deepEqual(Array.from(values), Array.from(Float32Array.from([0, 1, 4000000000, 123456789].map((v) => v * 0.25 - 10.5))));
    const s = Int32Array.from([-2147483648, -1, 0, 2147483647]);
    const { values: sv } = await loadFrame(write({ rows: 2, columns: 2, bitsAllocated: 32, pixelRepresentation: 1 }, bytesOf(s)), 0);
    assert.deepEqual(Array.from(sv), Array.from(Float32Array.from([-2147483648, -1, 0, 2147483647])));
  });

  it('bits above BitsStored (e.g. old overlay bits) are masked off, and signed 12-bit data are sign-extended', async () => {
    // unsigned 12-bit with junk in bits 12..15
    const u = Uint16Array.from([0xf000 | 4095, 0x1000 | 0, 0xa000 | 1234]);
    const { values } = await loadFrame(write({ rows: 1, columns: 3, bitsAllocated: 16, bitsStored: 12 }, bytesOf(u)), 0);
    assert.deepEqual(Array.from(values), [4095, 0, 1234]);
    // signed 12-bit: 0x800 is -2048, 0xfff is -1, 0x7ff is 2047 (junk above bit 11 ignored)
    const s = Uint16Array.from([0x0800, 0x0fff, 0x07ff, 0xf000 | 0x0800]);
    const { values: sv } = await loadFrame(write({ rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1 }, bytesOf(s)), 0);
    assert.deepEqual(Array.from(sv), [-2048, -1, 2047, -2048]);
  });

  it('HighBit above BitsStored-1 means the stored bits sit high in the word: they are shifted down', async () => {
    const v = Uint16Array.from([100 << 4, 4095 << 4, (7 << 4) | 0xf]);
    const { values } = await loadFrame(write({ rows: 1, columns: 3, bitsAllocated: 16, bitsStored: 12, highBit: 15 }, bytesOf(v)), 0);
    assert.deepEqual(Array.from(values), [100, 4095, 7]);
  });
});

describe('color', () => {
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];

  it('RGB with PlanarConfiguration 1 comes out interleaved', async () => {
    const planar = Uint8Array.from([255, 0, 0, 10, 0, 255, 0, 20, 0, 0, 255, 30]);
    const { values, decoded } = await loadFrame(write({ rows: 2, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB', planar: 1 }, planar), 0);
    assert.equal(decoded.samplesPerPixel, 3);
    assert.deepEqual(Array.from(values), rgb);
  });

  it('YBR_FULL is converted to RGB (PS3.3 C.7.6.3.1.2)', async () => {
    // gray (128,128,128) and pure red in YCbCr (76, 85, 255)
    const ybr = Uint8Array.from([128, 128, 128, 76, 85, 255]);
    const { values, decoded } = await loadFrame(write({ rows: 1, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL' }, ybr), 0);
    assert.equal(decoded.photometric, 'RGB');
    assert.deepEqual(Array.from(values.slice(0, 3)), [128, 128, 128]);
    const [r, g, b] = Array.from(values.slice(3));
    assert.ok(r >= 253 && g <= 2 && b <= 2, `red came out as ${r},${g},${b}`);
  });

  it('native YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair, 2 bytes a pixel) is upsampled and converted to RGB', async () => {
    // two pixel pairs: grey/grey, then red-ish luminances sharing red's chroma (Cb 85, Cr 255)
    const ybr = Uint8Array.from([128, 128, 128, 128, 76, 76, 85, 255]);
    const { values, decoded } = await loadFrame(write({ rows: 1, columns: 4, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL_422' }, ybr), 0);
    assert.equal(decoded.photometric, 'RGB');
    assert.equal(values.length, 4 * 3);
    assert.deepEqual(Array.from(values.slice(0, 6)), [128, 128, 128, 128, 128, 128]);
    for (const px of [values.slice(6, 9), values.slice(9, 12)]) {
      const [r, g, b] = Array.from(px);
      assert.ok(r >= 253 && g <= 2 && b <= 2, `red came out as ${r},${g},${b}`);
    }
  });

  it('PALETTE COLOR indices are looked up in the 16-bit red/green/blue LUTs (scaled to 8 bits)', async () => {
    const lut = (f: (i: number) => number) => bytesOf(Uint16Array.from({ length: 4 }, (_, i) => f(i)));
    const desc = (tag: number): SimpleElement => ({ tag, vr: 'US', value: [4, 10, 16] }); // 4 entries, first index 10
    const idx = Uint8Array.from([10, 11, 12, 13, 9, 200]); // below/above the range clamp to the ends
    const file = write({ rows: 2, columns: 3, bitsAllocated: 8, photometric: 'PALETTE COLOR' }, idx, [
      desc(0x00281101), desc(0x00281102), desc(0x00281103),
      { tag: 0x00281201, vr: 'OW', value: lut((i) => i * 0x5500) },
      { tag: 0x00281202, vr: 'OW', value: lut((i) => 0xffff - i * 0x5500) },
      { tag: 0x00281203, vr: 'OW', value: lut(() => 0x8000) },
    ]);
    const { values, decoded } = await loadFrame(file, 0);
    assert.equal(decoded.photometric, 'RGB');
    assert.deepEqual(Array.from(values), [0, 255, 128, 85, 170, 128, 170, 85, 128, 255, 0, 128, 0, 255, 128, 255, 0, 128]);
  });
});

describe('Modality LUT Sequence', () => {
  it('replaces the rescale: stored values index the LUT (clamped at both ends)', async () => {
    const item = [
      encodeElement({ tag: 0x00283002, vr: 'US', value: [3, 100, 16] }, true), // 3 entries, first 100
      encodeElement({ tag: 0x00283006, vr: 'OW', value: Uint16Array.from([7, 700, 7000]) }, true),
    ];
    const body = new Uint8Array(item.reduce((k, b) => k + b.length, 0));
    let o = 0;
    for (const b of item) {
      body.set(b, o);
      o += b.length;
    }
    const itemHeader = new Uint8Array(8);
    new DataView(itemHeader.buffer).setUint16(0, 0xfffe, true);
    new DataView(itemHeader.buffer).setUint16(2, 0xe000, true);
    new DataView(itemHeader.buffer).setUint32(4, body.length, true);
    const seq = new Uint8Array(8 + body.length);
    seq.set(itemHeader, 0);
    seq.set(body, 8);
    const px = Uint16Array.from([99, 100, 101, 102, 5000]);
    const file = write({ rows: 1, columns: 5, bitsAllocated: 16 }, bytesOf(px), [
      { tag: 0x00283000, vr: 'SQ', value: seq },
      { tag: 0x00281052, vr: 'DS', value: '-1000' }, // ignored: the LUT wins
    ]);
    const { values } = await loadFrame(file, 0);
    assert.deepEqual(Array.from(values), [7, 7, 700, 7000, 7000]);
  });
});

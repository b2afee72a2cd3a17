/**
 * Overlay planes (60xx): a real Siemens MR's graphics read bit for bit as pydicom reads them;
 * multi-frame overlays pick each frame's bits (packed without padding between frames); a
 * big-endian file gives the same bits as a little-endian one; planes that cannot be shown
 * (embedded in the pixel data, data cut short) are listed with why, not dropped silently.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readOverlays } from '../../../../src/core/dicom/overlays';
import type { OverlayPlane } from '../../../../src/shared/dicom';
import { corpusPath } from '../../../helpers/corpus';
import { explicitElement, u16Bytes, withElementsBeforePixelData } from '../../../helpers/dicom-bytes';
import { tempDir } from '../../../helpers/tmp';

const bitsOf = (o: OverlayPlane) => Buffer.from(o.bits, 'base64');
const pixel = (o: OverlayPlane, r: number, c: number) => (bitsOf(o)[(r * o.columns + c) >> 3] >> ((r * o.columns + c) & 7)) & 1;
const setBits = (o: OverlayPlane) => {
  let n = 0;
  for (let i = 0; i < o.rows * o.columns; i++) n += pixel(o, Math.floor(i / o.columns), i % o.columns);
  return n;
};

describe('overlay planes', () => {
  it('a real Siemens MR: one 484 x 484 graphics plane, bit for bit as pydicom reads it', () => {
    const { overlays, skipped } = readOverlays(corpusPath('pydicom_MR-SIEMENS-DICOM-WithOverlays.dcm'), 0);
    assert.deepEqual(skipped, []);
    assert.equal(overlays.length, 1);
    const o = overlays[0];
    assert.equal(o.group, 0x6000);
    assert.deepEqual([o.rows, o.columns, o.type], [484, 484, 'G']);
    assert.deepEqual(o.origin, [0, 0], 'Overlay Origin 1\\1 is the first pixel');
    assert.equal(o.description, 'Siemens MedCom Object Graphics');
    // pydicom 2.x: ds.overlay_array(0x6000) -> 323 pixels set, rows 136-422, columns 46-434;
    // sha256 of np.packbits(array, bitorder='little')
    assert.equal(setBits(o), 323);
    assert.equal(createHash('sha256').update(bitsOf(o)).digest('hex'), '5d1636b49bc9c0809341103b02441da81fe255ea6ee76f55b44ee3817c3e67bc');
    // a single-frame overlay belongs to frame 0 only
    assert.deepEqual(readOverlays(corpusPath('pydicom_MR-SIEMENS-DICOM-WithOverlays.dcm'), 1).overlays, []);
  });

  // A 3 x 5 overlay over two frames: 15 bits each, so frame 1 starts inside a byte.
  const frameA = [1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0];
  const frameB = [0, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1];
  const packed = (bits: number[]) => {
    const out = new Uint8Array(Math.ceil(bits.length / 16) * 2);
    bits.forEach((b, i) => (out[i >> 3] |= b << (i & 7)));
    return out;
  };
  const withOverlay = (file: string, littleEndian: boolean, extra: { frames?: number; frameOrigin?: number; bits?: number[]; dataBytes?: number; group?: number; embedded?: boolean } = {}) => {
    const g = extra.group ?? 0x6002;
    let data = packed(extra.bits ?? [...frameA, ...frameB]);
    if (extra.dataBytes !== undefined) data = data.subarray(0, extra.dataBytes);
    // OW in a big-endian file: each 16-bit word stored most significant byte first
    if (!littleEndian) data = Uint8Array.from(data, (_, i) => data[i ^ 1] ?? 0);
    const els = [
      explicitElement(g, 0x0010, 'US', u16Bytes([3], littleEndian), littleEndian),
      explicitElement(g, 0x0011, 'US', u16Bytes([5], littleEndian), littleEndian),
      explicitElement(g, 0x0015, 'IS', Buffer.from(String(extra.frames ?? 2)), littleEndian),
      explicitElement(g, 0x0022, 'LO', Buffer.from('CAD marks'), littleEndian),
      explicitElement(g, 0x0040, 'CS', Buffer.from('R'), littleEndian),
      explicitElement(g, 0x0050, 'SS', u16Bytes([2, -1], littleEndian), littleEndian),
      explicitElement(g, 0x0051, 'US', u16Bytes([extra.frameOrigin ?? 1], littleEndian), littleEndian),
      explicitElement(g, 0x0100, 'US', u16Bytes([extra.embedded ? 16 : 1], littleEndian), littleEndian),
      explicitElement(g, 0x0102, 'US', u16Bytes([extra.embedded ? 12 : 0], littleEndian), littleEndian),
      ...(extra.embedded ? [] : [explicitElement(g, 0x3000, 'OW', data, littleEndian)]),
    ];
    return withElementsBeforePixelData(fs.readFileSync(corpusPath(file)), els, littleEndian);
  };
  const asArray = (o: OverlayPlane) => Array.from({ length: 15 }, (_, i) => pixel(o, Math.floor(i / 5), i % 5));

  it('a multi-frame overlay gives each frame its own bits, packed without padding between frames', (t) => {
    const dir = tempDir(t, 'ovl');
    const file = path.join(dir, 'le.dcm');
    fs.writeFileSync(file, withOverlay('pydicom_MR_small.dcm', true));
    const f0 = readOverlays(file, 0).overlays;
    const f1 = readOverlays(file, 1).overlays;
    assert.equal(f0.length, 1);
    assert.deepEqual(asArray(f0[0]), frameA);
    assert.deepEqual(asArray(f1[0]), frameB);
    assert.deepEqual(readOverlays(file, 2).overlays, [], 'frame 3 has no overlay');
    assert.deepEqual({ ...f0[0], bits: '' }, { group: 0x6002, rows: 3, columns: 5, origin: [1, -2], type: 'R', description: 'CAD marks', bits: '' });
    // Image Frame Origin 2: the overlay's first frame is the image's second
    fs.writeFileSync(file, withOverlay('pydicom_MR_small.dcm', true, { frameOrigin: 2 }));
    assert.deepEqual(readOverlays(file, 0).overlays, []);
    assert.deepEqual(asArray(readOverlays(file, 1).overlays[0]), frameA);
    assert.deepEqual(asArray(readOverlays(file, 2).overlays[0]), frameB);
  });

  it('a big-endian file gives the same bits as a little-endian one', (t) => {
    const dir = tempDir(t, 'ovl');
    const file = path.join(dir, 'be.dcm');
    fs.writeFileSync(file, withOverlay('pydicom_MR_small_bigendian.dcm', false));
    const [o] = readOverlays(file, 1).overlays;
    assert.deepEqual(asArray(o), frameB);
    assert.deepEqual(asArray(readOverlays(file, 0).overlays[0]), frameA);
    assert.deepEqual(o.origin, [1, -2]);
  });

  it('planes that cannot be shown are listed with why', (t) => {
    const dir = tempDir(t, 'ovl');
    const embedded = path.join(dir, 'embedded.dcm');
    fs.writeFileSync(embedded, withOverlay('pydicom_MR_small.dcm', true, { embedded: true }));
    const e = readOverlays(embedded, 0);
    assert.deepEqual(e.overlays, []);
    assert.equal(e.skipped.length, 1);
    assert.equal(e.skipped[0].group, 0x6002);
    assert.match(e.skipped[0].reason, /embedded in the pixel data/);
    const short = path.join(dir, 'short.dcm');
    fs.writeFileSync(short, withOverlay('pydicom_MR_small.dcm', true, { dataBytes: 2 }));
    assert.equal(readOverlays(short, 0).overlays.length, 1, 'frame 0 fits in the 2 bytes');
    assert.match(readOverlays(short, 1).skipped[0]?.reason ?? '', /holds 2 bytes, 4 needed/);
  });

  it('a frame\'s planes together are bounded: a hostile file with many full-size planes gets the first two, the rest skipped with why', (t) => {
    const dir = tempDir(t, 'ovl');
    const file = path.join(dir, 'many.dcm');
    const big = new Uint8Array((4096 * 4096) / 8);
    const planes = [0x6000, 0x6002, 0x6004].flatMap((g) => [
      explicitElement(g, 0x0010, 'US', u16Bytes([4096])),
      explicitElement(g, 0x0011, 'US', u16Bytes([4096])),
      explicitElement(g, 0x0100, 'US', u16Bytes([1])),
      explicitElement(g, 0x3000, 'OW', big),
    ]);
    fs.writeFileSync(file, withElementsBeforePixelData(fs.readFileSync(corpusPath('pydicom_MR_small.dcm')), planes));
    const r = readOverlays(file, 0);
    assert.deepEqual(r.overlays.map((o) => o.group), [0x6000, 0x6002]);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]?.group, 0x6004);
    assert.match(r.skipped[0]?.reason ?? '', /already hold 33554432 pixels/);
  });

  it('a file without overlays has none', () => {
    assert.deepEqual(readOverlays(corpusPath('pydicom_CT_small.dcm'), 0), { overlays: [], skipped: [] });
  });
});

/**
 * HTJ2K (1.2.840.10008.1.2.4.201): the corpus has no such file, so one is made here with
 * OpenJPH's own encoder (lossless), wrapped as encapsulated Pixel Data, and must decode back to
 * exactly the pixels that went in, signed 16-bit CT values with rescale included.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, it } from 'node:test';
import { loadFrame } from '../../../../src/core/dicom/frame';
import { writePart10 } from '../../../../src/core/dicom/write-simple';
import { phantomSlice, rng } from '../../../../src/core/synthetic/ct-series';

interface Encoder {
  getDecodedBuffer(info: { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean; isUsingColorTransform: boolean }): Uint8Array;
  setQuality(lossless: boolean, quantizationStep: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-htj2k-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function item(tagElement: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xfffe, true);
  dv.setUint16(2, tagElement, true);
  dv.setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

it('a lossless HTJ2K CT slice decodes to exactly the encoded values', async () => {
  const rows = 64;
  const columns = 80;
  const stored = phantomSlice(rows, columns, 20, rng(5)).map((v) => v - 1024); // signed, around HU
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS factory without types
  const factory = require('@cornerstonejs/codec-openjph/wasmjs') as (o: object) => Promise<{ HTJ2KEncoder: new () => Encoder }>;
  const mod = await factory({ print: () => undefined, printErr: () => undefined });
  const enc = new mod.HTJ2KEncoder();
  const raw = enc.getDecodedBuffer({ width: columns, height: rows, bitsPerSample: 16, componentCount: 1, isSigned: true, isUsingColorTransform: false });
  raw.set(new Uint8Array(stored.buffer));
  enc.setQuality(true, 0);
  enc.encode();
  const codestream = new Uint8Array(enc.getEncodedBuffer());
  assert.equal(codestream[0], 0xff);
  assert.equal(codestream[1], 0x4f, 'a J2K codestream (SOC)');

  const ts = '1.2.840.10008.1.2.4.201';
  const sop = '1.2.826.0.1.3680043.10.1453.88.1';
  const header = writePart10(
    [
      { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' },
      { tag: 0x00080018, vr: 'UI', value: sop },
      { tag: 0x00080060, vr: 'CS', value: 'CT' },
      { tag: 0x00280002, vr: 'US', value: 1 },
      { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
      { tag: 0x00280010, vr: 'US', value: rows },
      { tag: 0x00280011, vr: 'US', value: columns },
      { tag: 0x00280100, vr: 'US', value: 16 },
      { tag: 0x00280101, vr: 'US', value: 16 },
      { tag: 0x00280102, vr: 'US', value: 15 },
      { tag: 0x00280103, vr: 'US', value: 1 },
      { tag: 0x00281052, vr: 'DS', value: '-1024' },
      { tag: 0x00281053, vr: 'DS', value: '1' },
    ],
    { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: sop, transferSyntaxUid: ts },
  );
  const frag = codestream.length % 2 ? Uint8Array.from([...codestream, 0]) : codestream;
  const pixelHeader = Uint8Array.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]); // (7FE0,0010) OB, undefined length
  const parts = [header, pixelHeader, item(0xe000, new Uint8Array(0)), item(0xe000, frag), item(0xe0dd, new Uint8Array(0))];
  const file = path.join(tmp, 'htj2k.dcm');
  fs.writeFileSync(file, Buffer.concat(parts));

  const { values, header: h } = await loadFrame(file, 0);
  assert.equal(h.transferSyntaxUid, ts);
  assert.deepEqual(Array.from(values), Array.from(stored, (v) => v - 1024));
});

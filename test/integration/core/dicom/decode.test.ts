/**
 * Decoding, specified on real files: a compressed frame whose codestream size disagrees with
 * the header's Rows/Columns is refused (CODEC_FAILED, both sizes named) by every JPEG process,
 * including those whose decoders trust the header (lossless, 12-bit): with Rows and Columns
 * swapped the sample count still matches, and the image would come out scrambled.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadFrame } from '../../../../src/core/dicom/frame';
import { parseDicomBytes } from '../../../../src/core/dicom/parse';
import { ResightError } from '../../../../src/core/errors';
import { corpusPath } from '../../../helpers/corpus';
import { tempDir } from '../../../helpers/tmp';

/** A corpus file with new Rows and Columns (US values rewritten in place). */
function withSize(file: string, rows: number, columns: number): Buffer {
  const bytes = Buffer.from(fs.readFileSync(corpusPath(file)));
  const ds = parseDicomBytes(bytes, file, { untilPixelData: true }).dataSet;
  bytes.writeUInt16LE(rows, ds.elements['x00280010'].dataOffset);
  bytes.writeUInt16LE(columns, ds.elements['x00280011'].dataOffset);
  return bytes;
}

describe('decoding: the codestream must have the size the header says', () => {
  const cases: [string, string, [number, number], [number, number]][] = [
    // [file, what, stream columns x rows, header rows/columns written]
    ['cswado_CTImage_jpeg_lossless_sv1_70.dcm', 'JPEG Lossless SV1 (4.70)', [512, 512], [256, 1024]],
    ['dicomparser_CT0012_frag_nobot_jpeg_lossless_57.dcm', 'JPEG Lossless (4.57), fragmented', [512, 512], [1024, 256]],
    ['pydicom_JPEG-lossy.dcm', 'JPEG Extended 12-bit (4.51)', [256, 1024], [256, 1024]],
    ['cswado_CTImage_jpeg_baseline_50.dcm', 'JPEG Baseline (4.50)', [512, 512], [256, 1024]],
  ];
  for (const [file, what, [w, h], [rows, columns]] of cases) {
    it(`${what}: a ${w}x${h} stream under a header saying ${columns}x${rows} is CODEC_FAILED`, async (t) => {
      const out = path.join(tempDir(t, 'size'), file);
      fs.writeFileSync(out, withSize(file, rows, columns));
      await assert.rejects(loadFrame(out, 0), (err: unknown) => {
        assert.ok(err instanceof ResightError, String(err));
        assert.equal(err.code, 'CODEC_FAILED');
        assert.equal(err.path, out);
        assert.match(err.message, new RegExp(`codestream is ${w}x${h}, the header says ${columns}x${rows}`));
        return true;
      });
    });
  }
});

describe('decoding: encapsulated data that lost its end (no sequence delimiter)', () => {
  /** A corpus file cut just before the item of its last fragment: every fragment left is whole. */
  function withoutLastFragment(file: string): Buffer {
    const bytes = fs.readFileSync(corpusPath(file));
    const px = parseDicomBytes(bytes, file).dataSet.elements['x7fe00010'];
    const last = px.fragments?.[px.fragments.length - 1];
    assert.ok(last, 'fragments');
    return bytes.subarray(0, last.position - 8);
  }
  const truncated = (err: unknown) => err instanceof ResightError && err.code === 'PIXEL_DATA_TRUNCATED';

  it('one fragment per frame: the frames before the cut decode as in the complete file, the lost one is refused', async (t) => {
    const out = path.join(tempDir(t, 'cut'), 'emri.dcm');
    fs.writeFileSync(out, withoutLastFragment('pydicom_emri_small_jpeg_2k_lossless.dcm'));
    for (const f of [0, 8]) {
      const got = await loadFrame(out, f);
      const want = await loadFrame(corpusPath('pydicom_emri_small_jpeg_2k_lossless.dcm'), f);
      assert.deepEqual(Array.from(got.values), Array.from(want.values), `frame ${f}`);
    }
    await assert.rejects(loadFrame(out, 9), truncated);
  });

  it('several fragments per frame, no offset table: a frame that lost its last fragments is refused, not decoded from part of its data', async (t) => {
    const out = path.join(tempDir(t, 'cut'), 'ct0012.dcm');
    fs.writeFileSync(out, withoutLastFragment('dicomparser_CT0012_frag_nobot_jpeg_lossless_57.dcm'));
    const first = await loadFrame(out, 0);
    const want = await loadFrame(corpusPath('dicomparser_CT0012_frag_nobot_jpeg_lossless_57.dcm'), 0);
    assert.deepEqual(Array.from(first.values), Array.from(want.values), 'frame 0 is whole');
    await assert.rejects(loadFrame(out, 1), truncated);
  });
});

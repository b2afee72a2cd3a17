/**
 * Every file of the shared corpus decodes to the values independent decoders produce
 * (pydicom + GDCM, cross-checked with DCMTK; see test/fixtures/corpus/make_reference.py):
 * bit-exact for lossless syntaxes, mean absolute difference within 1% of the value range for
 * lossy ones. Files that are malformed on purpose give typed errors naming the file.
 */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDicomFile, decodeOpenedFrame } from '../../../../src/core/dicom/frame';
import { ResightError } from '../../../../src/core/errors';
import { corpusPath, readManifest, readReference } from '../../../helpers/corpus';

const manifest = readManifest();
const reference = readReference();

/** Malformed on purpose: the typed error each must produce. */
const EXPECTED_ERRORS: Record<string, string[]> = {
  'pydicom_MR_truncated.dcm': ['FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED'],
  'pydicom_no_meta.dcm': ['NOT_DICOM', 'PARSE_FAILED'],
  'pydicom_JPEG2000-embedded-sequence-delimiter.dcm': ['CODEC_FAILED'],
};

/**
 * Malformed on purpose, but with every frame intact: decoded to what the reference's salvage
 * (its fragments re-encapsulated by hand, decoded by GDCM) gives. pydicom and GDCM refuse them.
 */
const SALVAGED = new Set(['pydicom_emri_small_jpeg_2k_lossless_too_short.dcm']);

function sha256(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

async function decodeAll(file: string): Promise<{ values: Float32Array[]; photometric: string; rows: number; columns: number }> {
  const opened = openDicomFile(corpusPath(file));
  const values: Float32Array[] = [];
  let photometric = '';
  for (let f = 0; f < opened.header.frames; f++) {
    const frame = await decodeOpenedFrame(opened, f);
    values.push(frame.values);
    photometric = frame.decoded.sourcePhotometric;
  }
  return { values, photometric, rows: opened.header.rows, columns: opened.header.columns };
}

describe('corpus: every manifest file', () => {
  it('has a committed reference for each manifest row', () => {
    for (const row of manifest) assert.ok(reference[row.file], `no reference for ${row.file}`);
  });

  for (const row of manifest) {
    const ref = reference[row.file];
    const expectedErrors = EXPECTED_ERRORS[row.file];
    if (expectedErrors) {
      it(`${row.file}: malformed on purpose -> typed error ${expectedErrors.join('|')}`, async () => {
        const started = Date.now();
        await assert.rejects(decodeAll(row.file), (err: unknown) => {
          assert.ok(err instanceof ResightError, `expected ResightError, got ${String(err)}`);
          assert.ok(expectedErrors.includes(err.code), `code ${err.code}: ${err.message}`);
          assert.ok(err.message.includes(row.file), 'the error names the file');
          return true;
        });
        assert.ok(Date.now() - started < 1000, 'fails within 1 s');
      });
      continue;
    }
    if (SALVAGED.has(row.file)) {
      it(`${row.file}: only its Sequence Delimitation Item is missing -> every frame decodes, bit-exactly as the salvaged reference`, async () => {
        const salvage = ref.salvage;
        assert.ok(salvage, 'the reference has a salvage');
        const got = await decodeAll(row.file);
        assert.equal(got.values.length, salvage.frameStats.length);
        got.values.forEach((values, f) => assert.equal(sha256(values), salvage.frameStats[f]?.sha256, `frame ${f}`));
      });
      continue;
    }
    it(`${row.file}: ${row.rows}x${row.cols}x${row.frames} ${row.photometric} matches ${ref?.lossy ? 'within 1% (lossy)' : 'bit-exactly'}`, async () => {
      assert.equal(ref.status, 'ok', `reference decoders failed: ${ref.referenceError}`);
      const got = await decodeAll(row.file);
      assert.equal(got.rows, row.rows);
      assert.equal(got.columns, row.cols);
      assert.equal(got.values.length, row.frames, 'frames');
      assert.equal(got.photometric, row.photometric);
      got.values.forEach((values, f) => {
        const fr = ref.frameStats[f];
        assert.equal(values.length, ref.rows * ref.columns * ref.samplesPerPixel, `frame ${f} length`);
        if (!ref.lossy) {
          if (sha256(values) !== fr.sha256) {
            const bad = fr.sampleIndices.findIndex((idx, k) => values[idx] !== fr.sampleValues[k]);
            assert.fail(`frame ${f} differs from the reference (first differing sample index ${fr.sampleIndices[bad]}: got ${values[fr.sampleIndices[bad]]}, want ${fr.sampleValues[bad]})`);
          }
        } else {
          let mad = 0;
          fr.sampleIndices.forEach((idx, k) => (mad += Math.abs(values[idx] - fr.sampleValues[k])));
          mad /= fr.sampleIndices.length;
          const range = Math.max(fr.max - fr.min, 1e-6);
          assert.ok(mad <= 0.01 * range, `frame ${f}: mean absolute difference ${mad} > 1% of range ${range}`);
          let sum = 0;
          for (let i = 0; i < values.length; i++) sum += values[i];
          assert.ok(Math.abs(sum / values.length - fr.mean) <= 0.01 * range, `frame ${f}: mean ${sum / values.length} vs ${fr.mean}`);
        }
      });
    });
  }
});

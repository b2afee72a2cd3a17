/**
 * The viewer words the engine's series warnings in the user's language. Each case here makes the
 * real assembly code raise a warning (synthetic series written to disk and scanned), so a change
 * of the engine's wording fails this test instead of leaving the viewer in English.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { scanPaths } from '../../../../src/core/dicom/scan';
import { writeSyntheticSeries } from '../../../../src/core/synthetic/ct-series';
import type { SyntheticSeriesOptions } from '../../../../src/core/synthetic/ct-series';
import { sayWarning } from '../../../../src/renderer/i18n/warnings';
import { en, ja } from '../../../../src/renderer/i18n/messages';
import { corpusPath } from '../../../helpers/corpus';
import { withNumberOfFrames } from '../../../helpers/dicom-bytes';
import { tempDir } from '../../../helpers/tmp';

/** A translator that shows which key was used and with what. */
const probe = (key: string, params?: Record<string, string | number>) => `${key}${params ? JSON.stringify(params) : ''}`;
const SMALL: Partial<SyntheticSeriesOptions> = { rows: 32, columns: 32 };

async function warningsOf(dir: string): Promise<string[]> {
  const r = await scanPaths([dir]);
  return r.studies.flatMap((st) => st.series.flatMap((s) => s.warnings));
}

describe('series warnings in the user\'s language', () => {
  it('each warning the engine raises is recognised, with its numbers', async (t) => {
    const root = tempDir(t, 'warn');
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['gap', (d) => writeSyntheticSeries(d, { ...SMALL, slices: 6, seed: 1, omit: [2] }), /^warn\.gap\{"gaps":"warn\.gapOne\{\\"a\\":\\"-97\.5\\",\\"b\\":\\"-92\.5\\",\\"d\\":\\"5\\",\\"k\\":\\"1\\",\\"s\\":\\"2\.5\\"\}"\}$/],
      ['tilt', (d) => writeSyntheticSeries(d, { ...SMALL, slices: 5, seed: 2, tiltDeg: 15 }), /^warn\.tilt\{"deg":"1[45](\.\d+)?"\}$/],
      ['no position', (d) => writeSyntheticSeries(d, { ...SMALL, slices: 4, seed: 3, noPosition: true }), /^warn\.byInstance$/],
      ['no preamble', (d) => writeSyntheticSeries(d, { ...SMALL, slices: 4, seed: 4, preamble: false }), /^warn\.raw$/],
      [
        'duplicate position',
        (d) => {
          const a = writeSyntheticSeries(path.join(d, 'a'), { ...SMALL, slices: 5, seed: 5 });
          writeSyntheticSeries(path.join(d, 'b'), { ...SMALL, slices: 5, seed: 6, omit: [0, 1, 2, 3], seriesInstanceUid: a.seriesInstanceUid, studyInstanceUid: a.studyInstanceUid });
        },
        /^warn\.duplicates\{"n":"1"\}$/,
      ],
      [
        'cut file',
        (d) => {
          const w = writeSyntheticSeries(d, { ...SMALL, slices: 4, seed: 7 });
          const f = w.files[1] as string;
          fs.truncateSync(f, fs.statSync(f).size - 50);
        },
        /^warn\.truncated\{"file":"slice_0002\.dcm","got":"\d+","want":"2048"\}$/,
      ],
      [
        'cut compressed file',
        (d) => {
          fs.mkdirSync(d);
          const whole = fs.readFileSync(corpusPath('pydicom_MR_small_RLE.dcm'));
          fs.writeFileSync(path.join(d, 'cut.dcm'), whole.subarray(0, whole.length - 200));
        },
        /^warn\.truncatedFragments\{"file":"cut\.dcm","n":"1"\}$/,
      ],
      [
        'more frames declared than held',
        (d) => {
          fs.mkdirSync(d);
          fs.writeFileSync(path.join(d, 'mf.dcm'), withNumberOfFrames(corpusPath('pydicom_MR_small.dcm'), '12'));
        },
        /^warn\.framesClamped\{"file":"mf\.dcm","declared":"12","fit":"1","kept":"1"\}$/,
      ],
    ];
    for (const [name, write, want] of cases) {
      const dir = path.join(root, name.replace(/ /g, '-'));
      write(dir);
      const warnings = await warningsOf(dir);
      assert.ok(warnings.length, `${name}: the engine warns`);
      const said = warnings.map((w) => sayWarning(w, probe as never));
      assert.ok(said.some((s) => want.test(s)), `${name}: ${JSON.stringify(warnings)} -> ${JSON.stringify(said)}`);
    }
  });

  it('every warning key is in every language, and an unknown warning is shown as written', () => {
    const keys = Object.keys(en).filter((k) => k.startsWith('warn.'));
    assert.ok(keys.length >= 12);
    for (const k of keys) assert.ok(k in ja, `ja lacks ${k}`);
    assert.equal(sayWarning('something new from dicom-parser', probe as never), 'something new from dicom-parser');
  });
});

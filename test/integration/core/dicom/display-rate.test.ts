/**
 * The rate a series' frames are meant to play at (cine ultrasound, angiography, cardiac MR): the
 * viewer's cine starts there. RecommendedDisplayFrameRate, else CineRate, else 1000 / FrameTime;
 * a rate no display shows is ignored, and a file that gives none has none (the viewer's default).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { scanFile, scanPaths } from '../../../../src/core/dicom/scan';
import type { SimpleElement } from '../../../../src/core/dicom/write-simple';
import { writePart10 } from '../../../../src/core/dicom/write-simple';
import { greyPixelModule } from '../../../helpers/dicom-bytes';
import { tempDir } from '../../../helpers/tmp';

const US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1';
let n = 0;

/** A 2-frame 8 x 8 ultrasound clip with the rate elements given. */
function clip(dir: string, rate: SimpleElement[]): string {
  const sop = `1.2.826.0.1.3680043.10.1453.91.${process.pid}.${++n}`;
  const els: SimpleElement[] = [
    { tag: 0x00080016, vr: 'UI', value: US_MULTIFRAME },
    { tag: 0x00080018, vr: 'UI', value: sop },
    { tag: 0x00080060, vr: 'CS', value: 'US' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.826.0.1.3680043.10.1453.91' },
    { tag: 0x0020000e, vr: 'UI', value: `1.2.826.0.1.3680043.10.1453.91.${n}` },
    { tag: 0x00280008, vr: 'IS', value: '2' },
    ...greyPixelModule(8, 8, 8),
    { tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(2 * 64).map((_, i) => i) },
    ...rate,
  ].sort((a, b) => a.tag - b.tag);
  const file = path.join(dir, `c${n}.dcm`);
  fs.writeFileSync(file, writePart10(els, { sopClassUid: US_MULTIFRAME, sopInstanceUid: sop }));
  return file;
}

const fpsOf = (file: string) => {
  const h = scanFile(file);
  assert.ok('sopInstanceUid' in h, JSON.stringify(h));
  return h.displayFps;
};

describe('display frame rate', () => {
  it('RecommendedDisplayFrameRate first, then CineRate, then 1000 / FrameTime (ms)', (t) => {
    const dir = tempDir(t, 'fps');
    assert.equal(fpsOf(clip(dir, [{ tag: 0x00082144, vr: 'IS', value: '25' }, { tag: 0x00180040, vr: 'IS', value: '30' }, { tag: 0x00181063, vr: 'DS', value: '20' }])), 25);
    assert.equal(fpsOf(clip(dir, [{ tag: 0x00180040, vr: 'IS', value: '30' }, { tag: 0x00181063, vr: 'DS', value: '20' }])), 30);
    assert.equal(fpsOf(clip(dir, [{ tag: 0x00181063, vr: 'DS', value: '33.333333' }])), 1000 / 33.333333);
  });

  it('none given, zero, or more than a display shows: none (the viewer keeps its own)', (t) => {
    const dir = tempDir(t, 'fps-none');
    assert.equal(fpsOf(clip(dir, [])), undefined);
    assert.equal(fpsOf(clip(dir, [{ tag: 0x00181063, vr: 'DS', value: '0' }])), undefined);
    assert.equal(fpsOf(clip(dir, [{ tag: 0x00082144, vr: 'IS', value: '5000' }])), undefined);
  });

  it('one rate no display shows does not hide a good one after it', (t) => {
    const dir = tempDir(t, 'fps-fallback');
    assert.equal(fpsOf(clip(dir, [{ tag: 0x00082144, vr: 'IS', value: '0' }, { tag: 0x00181063, vr: 'DS', value: '40' }])), 25);
  });

  it('the series carries its first image\'s rate to the viewer', async (t) => {
    const dir = tempDir(t, 'fps-series');
    clip(dir, [{ tag: 0x00181063, vr: 'DS', value: '40' }]);
    const s = (await scanPaths([dir])).studies[0]?.series[0];
    assert.equal(s?.displayFps, 25);
  });
});

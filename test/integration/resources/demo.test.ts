/**
 * The bundled demo study (resources/demo, made by training/make_demo.py) is a real CT series:
 * it opens in the ingest engine as one uniform 512x512 series, its ground truth points at real
 * slices where the lesions are visible in HU, and DICOM validators accept it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { scanPaths } from '../../../src/core/dicom/scan';
import type { AssembledSeries } from '../../../src/core/dicom/series';
import { VolumeCache } from '../../../src/core/imaging/volume';
import { REPO_ROOT } from '../../helpers/corpus';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');

interface Lesion {
  class: string;
  slices: [number, number];
  sopInstanceUids: string[];
  keySlice: { index: number; sopInstanceUid: string };
  centroid: [number, number];
  diameter_mm: number;
}
const truth = JSON.parse(fs.readFileSync(path.join(DEMO, 'ground-truth.json'), 'utf8')) as { lesions: Lesion[]; study: { seriesInstanceUid: string } };

describe('demo study', () => {
  let series: AssembledSeries;
  let errors: { path: string; code: string }[];

  before(async () => {
    const r = await scanPaths([DEMO]);
    errors = r.errors;
    assert.equal(r.studies.length, 1);
    assert.equal(r.studies[0].series.length, 1);
    series = r.studies[0].series[0];
  });

  it('is one uniform axial CT series of 512x512 slices, under 25 MB, with nothing else unused but its ground truth', () => {
    assert.equal(series.modality, 'CT');
    assert.equal(series.seriesInstanceUid, truth.study.seriesInstanceUid);
    assert.equal(series.rows, 512);
    assert.equal(series.columns, 512);
    assert.ok(series.slices >= 40, `${series.slices} slices`);
    assert.ok(series.geometry.uniform);
    assert.deepEqual(series.warnings, []);
    assert.deepEqual(errors.map((e) => path.basename(e.path)), ['ground-truth.json']);
    const bytes = fs.readdirSync(DEMO).reduce((n, f) => n + fs.statSync(path.join(DEMO, f)).size, 0);
    assert.ok(bytes < 25 * 1024 * 1024, `${bytes} bytes`);
  });

  it('has at least one lung nodule and one liver lesion, each on the slices its ground truth names, visible in HU', async () => {
    assert.ok(truth.lesions.some((l) => l.class === 'lung_nodule'));
    assert.ok(truth.lesions.some((l) => l.class === 'liver_lesion'));
    const volume = await new VolumeCache({ pool: null }).load(series);
    for (const l of truth.lesions) {
      const [first, last] = l.slices;
      assert.deepEqual(l.sopInstanceUids, series.ordered.slice(first, last + 1).map((s) => s.sopInstanceUid), `${l.class} slices`);
      assert.equal(series.ordered[l.keySlice.index].sopInstanceUid, l.keySlice.sopInstanceUid);
      // The lesion differs from its surroundings at the centroid of its key slice.
      const s = volume.slice(l.keySlice.index);
      // 5x5 means: single pixels carry the phantom's 8-35 HU noise.
      const at = (x: number, y: number) => {
        let sum = 0;
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) sum += s[(Math.round(y) + dy) * 512 + Math.round(x) + dx];
        return sum / 25;
      };
      const [cx, cy] = l.centroid;
      const ring = (series.pixelSpacing ? l.diameter_mm / series.pixelSpacing[1] : 20) * 0.9;
      const inside = at(cx, cy);
      const outside = [at(cx + ring, cy), at(cx - ring, cy), at(cx, cy + ring), at(cx, cy - ring)].sort((a, b) => a - b);
      const median = (outside[1] + outside[2]) / 2;
      assert.ok(Math.abs(inside - median) > 25, `${l.class}: ${inside} HU at the centroid vs ${median} HU around it`);
    }
  });

  it('passes dciodvfy (dicom3tools) without errors', () => {
    const probe = spawnSync('dciodvfy', ['-help'], { encoding: 'utf8' });
    assert.ok(!probe.error, 'dciodvfy is missing: bash scripts/setup.sh installs dicom3tools');
    for (const f of series.ordered.filter((_, i) => i % 11 === 0).map((s) => s.path)) {
      const r = spawnSync('dciodvfy', [f], { encoding: 'utf8' });
      const out = `${r.stdout}${r.stderr}`;
      assert.ok(!/^Error/m.test(out), `${path.basename(f)}:\n${out}`);
    }
  });
});

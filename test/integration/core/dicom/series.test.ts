/**
 * Series assembly, specified on real files: synthetic CT series written into temporary folders
 * (shuffled names, gantry tilt, oblique planes, gaps, localizers, missing positions,
 * duplicates) and the corpus' real 3-slice CT. A radiologist relies on these rules: slices are
 * ordered by position along the slice normal (never by file name), spacing comes from the
 * positions, and whatever is irregular is reported rather than silently fixed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { scanPaths } from '../../../../src/core/dicom/scan';
import type { AssembledSeries, AssembledStudy } from '../../../../src/core/dicom/series';
import type { SyntheticSeriesOptions, WrittenSeries } from '../../../../src/core/synthetic/ct-series';
import { writeSyntheticSeries } from '../../../../src/core/synthetic/ct-series';
import { corpusPath } from '../../../helpers/corpus';
import { writeImageFile } from '../../../helpers/image-file';
import { tempDir } from '../../../helpers/tmp';

type Vec = readonly number[];

const SMALL = { rows: 16, columns: 16 } as const;
const deg = (d: number) => (d * Math.PI) / 180;
const dot = (a: Vec, b: Vec) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

function assertClose(actual: number | undefined, expected: number, tol: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `${what}: got ${actual}, want ${expected} ± ${tol}`);
}

function assertVecClose(actual: Vec | undefined, expected: Vec, tol: number, what: string): void {
  assert.ok(actual, `${what}: missing`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => assertClose(actual[i], e, tol, `${what}[${i}]`));
}

function write(t: { after(fn: () => void): void }, opts: SyntheticSeriesOptions): WrittenSeries {
  return writeSyntheticSeries(tempDir(t, 'series'), { ...SMALL, ...opts });
}

/** Scan paths that must hold exactly one study and no unusable files. */
async function scanStudy(paths: string[]): Promise<AssembledStudy> {
  const result = await scanPaths(paths);
  assert.deepEqual(result.errors, [], 'no file is rejected');
  assert.equal(result.studies.length, 1, 'one study');
  return result.studies[0];
}

async function scanOneSeries(dir: string): Promise<AssembledSeries> {
  const study = await scanStudy([dir]);
  assert.equal(study.series.length, 1, `one series, got ${study.series.map((s) => `${s.id} (${s.splitReason})`).join(', ')}`);
  return study.series[0];
}

/**
 * The series holds exactly the written slices, in the written spatial order: each slice's
 * ImagePositionPatient is the generated one, and locations along `normal` strictly increase.
 */
function assertSpatialOrder(series: AssembledSeries, written: WrittenSeries, normal: Vec): void {
  assert.equal(series.slices, written.positions.length, 'slice count');
  assert.equal(series.ordered.length, written.positions.length, 'ordered slices');
  series.ordered.forEach((slice, i) => {
    assertVecClose(slice.position, written.positions[i], 1e-4, `ordered[${i}].position`);
    assertClose(slice.location, dot(written.positions[i], normal), 1e-4, `ordered[${i}].location`);
    if (i > 0) {
      const prev = series.ordered[i - 1].location as number;
      assert.ok((slice.location as number) > prev, `location strictly increases at ${i}: ${prev} -> ${slice.location}`);
    }
  });
  assert.deepEqual(
    series.ordered.map((s) => s.path).sort(),
    [...written.files].sort(),
    'every written file is a slice, once',
  );
}

describe('series assembly: slices are ordered by position along the slice normal', () => {
  it('shuffled file names: order and 1.25 mm spacing come from ImagePositionPatient, not names', async (t) => {
    const w = write(t, { slices: 12, sliceSpacing: 1.25, shuffleNames: true, seed: 7 });
    const byName = [...w.files].sort();
    assert.notDeepEqual(byName, w.files, 'precondition: name order differs from spatial order');

    const s = await scanOneSeries(w.dir);
    assertSpatialOrder(s, w, [0, 0, 1]);
    assert.deepEqual(s.ordered.map((o) => o.path), w.files, 'files in spatial order');
    assert.equal(s.geometry.sortedBy, 'position');
    assertVecClose(s.geometry.normal, [0, 0, 1], 1e-9, 'normal');
    assertClose(s.sliceSpacing, 1.25, 1e-6, 'sliceSpacing');
    assertClose(s.geometry.sliceSpacing, 1.25, 1e-6, 'geometry.sliceSpacing');
    assert.equal(s.geometry.uniform, true);
    assert.equal(s.geometry.gantryTiltDeg, undefined, 'no tilt');
    assert.deepEqual(s.warnings, []);
    assert.deepEqual(s.pixelSpacing, [0.7, 0.7]);
    assert.equal(s.rows, SMALL.rows);
    assert.equal(s.columns, SMALL.columns);
  });

  it('gantry tilt of 15 degrees: order by position, tilt measured (about 15) and warned about', async (t) => {
    const w = write(t, { slices: 8, tiltDeg: 15, shuffleNames: true, seed: 11 });
    const s = await scanOneSeries(w.dir);
    // Image planes rotated about patient x: normal = rotX(z, 15 deg); the table still moves in z.
    const normal = [0, -Math.sin(deg(15)), Math.cos(deg(15))];
    assertVecClose(s.geometry.normal, normal, 1e-5, 'normal');
    assertSpatialOrder(s, w, normal);
    assertClose(s.geometry.gantryTiltDeg, 15, 0.05, 'gantryTiltDeg');
    assert.ok(
      s.warnings.some((m) => /tilt/i.test(m) && /15/.test(m)),
      `a tilt warning naming 15 degrees, got ${JSON.stringify(s.warnings)}`,
    );
    // 2.5 mm of table travel puts the tilted planes 2.5 * cos(15 deg) apart along their normal.
    assertClose(s.sliceSpacing, 2.5 * Math.cos(deg(15)), 1e-4, 'sliceSpacing along the normal');
    assert.equal(s.geometry.uniform, true, 'tilt alone leaves spacing uniform');
  });

  it('fully oblique planes: order along the oblique normal, no tilt reported', async (t) => {
    const w = write(t, { slices: 9, oblique: true, shuffleNames: true, seed: 5 });
    const s = await scanOneSeries(w.dir);
    // Row cosines: x rotated 20 deg about z, then 15 deg about x; the normal is z rotated about x.
    const row = [Math.cos(deg(20)), Math.sin(deg(20)) * Math.cos(deg(15)), Math.sin(deg(20)) * Math.sin(deg(15))];
    const normal = [0, -Math.sin(deg(15)), Math.cos(deg(15))];
    assertVecClose(s.geometry.orientation?.slice(0, 3), row, 1e-5, 'row cosines (oblique)');
    assertVecClose(s.geometry.normal, normal, 1e-5, 'normal');
    assertSpatialOrder(s, w, normal);
    s.ordered.forEach((o, i) => assertClose((o.location as number) - (s.ordered[0].location as number), i * 2.5, 1e-4, `location step ${i}`));
    assertClose(s.sliceSpacing, 2.5, 1e-4, 'sliceSpacing');
    assert.equal(s.geometry.gantryTiltDeg, undefined, 'slices advance along the normal: no tilt');
    assert.deepEqual(s.warnings, []);
  });

  it('a series mixing lossless and lossy files says which slices are lossy, not only that the series is', async (t) => {
    const dir = tempDir(t, 'lossy-mix');
    for (const f of ['cswado_CTImage_deflated.dcm', 'cswado_CTImage_j2k_lossy_91.dcm']) fs.copyFileSync(corpusPath(f), path.join(dir, f));
    const s = (await scanPaths([dir])).studies[0]?.series[0];
    assert.ok(s);
    assert.equal(s.lossy, true, 'the series holds a lossy image');
    assert.deepEqual(Object.fromEntries(s.ordered.map((o) => [path.basename(o.path), o.lossy === true])), { 'cswado_CTImage_deflated.dcm': false, 'cswado_CTImage_j2k_lossy_91.dcm': true });
  });

  it('a single oblique image: its location is along its own normal, not its z', async (t) => {
    const w = write(t, { slices: 1, oblique: true, seed: 6 });
    const s = await scanOneSeries(w.dir);
    const normal = [0, -Math.sin(deg(15)), Math.cos(deg(15))];
    const p = w.positions[0] as Vec;
    assertClose(s.ordered[0]?.location, dot(p, normal), 1e-4, 'location');
    assert.ok(Math.abs(dot(p, normal) - (p[2] as number)) > 1, 'the test means something: z is not the location');
  });

  it('the real 3-slice CT of the corpus: one series of 3 slices, 1 mm apart, ordered by z (against InstanceNumber)', async () => {
    const study = await scanStudy([corpusPath('series_ct_dcmqi')]);
    assert.equal(study.series.length, 1);
    const s = study.series[0];
    assert.equal(s.slices, 3);
    assert.equal(s.modality, 'CT');
    assert.equal(s.rows, 512);
    assert.equal(s.columns, 512);
    assert.equal(s.seriesInstanceUid, '1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1');
    assert.equal(s.geometry.sortedBy, 'position');
    assertClose(s.sliceSpacing, 1, 1e-3, 'sliceSpacing');
    assert.equal(s.geometry.uniform, true);
    // ImagePositionPatient z: instance 1 at -126.69, 2 at -127.69, 3 at -128.69 (feet first).
    assert.deepEqual(s.ordered.map((o) => path.basename(o.path)), ['ct3slice_03.dcm', 'ct3slice_02.dcm', 'ct3slice_01.dcm']);
    assert.deepEqual(s.ordered.map((o) => o.instanceNumber), [3, 2, 1]);
    s.ordered.forEach((o, i) => assertClose(o.position?.[2], -128.69 + i, 1e-4, `z of ordered[${i}]`));
    s.ordered.forEach((o, i) => assertClose(o.location, -128.69 + i, 1e-4, `location of ordered[${i}]`));
  });
});

describe('series assembly: irregular stacks are reported, not hidden', () => {
  it('a missing slice: a gap warning naming the slices around it by position, spacing still 2.5 mm, not uniform', async (t) => {
    const w = write(t, { slices: 8, omit: [3], shuffleNames: true, seed: 3 });
    const s = await scanOneSeries(w.dir);
    assert.equal(s.slices, 7);
    assertSpatialOrder(s, w, [0, 0, 1]);
    assert.equal(s.geometry.uniform, false);
    assertClose(s.sliceSpacing, 2.5, 1e-6, 'sliceSpacing (median, the gap excluded)');
    const gap = s.warnings.find((m) => /gap/i.test(m));
    assert.ok(gap, `a gap warning, got ${JSON.stringify(s.warnings)}`);
    // Written slices 0,1,2 then 4..7 from -100 mm at 2.5 mm: the gap lies between -95 and -90 mm
    // (by position: a viewer may number the slices from either end)
    assert.match(gap, /between the slices at -95 and -90 mm/);
    assert.match(gap, /\b5 mm/);
    assert.match(gap, /1 missing/);
  });

  it('a localizer in the series: split into its own stack; the axial stack keeps every axial slice', async (t) => {
    const w = write(t, { slices: 6, localizer: true, seed: 9 });
    const scout = path.join(w.dir, 'scout.dcm');
    const study = await scanStudy([w.dir]);
    assert.equal(study.series.length, 2, 'axial stack + localizer');
    const [axial, localizer] = study.series;

    assert.equal(axial.id, w.seriesInstanceUid, 'the axial stack keeps the plain series id');
    assert.equal(axial.splitReason, undefined);
    assert.equal(axial.slices, 6);
    assert.ok(!axial.ordered.some((o) => o.path === scout), 'the localizer is not in the axial stack');
    assertSpatialOrder(axial, { ...w, files: w.files.filter((f) => f !== scout) }, [0, 0, 1]);
    assert.equal(axial.geometry.uniform, true);
    assert.deepEqual(axial.warnings, []);

    assert.equal(localizer.splitReason, 'localizer');
    assert.equal(localizer.seriesInstanceUid, w.seriesInstanceUid, 'same SeriesInstanceUID');
    assert.notEqual(localizer.id, axial.id, 'its own id');
    assert.equal(localizer.slices, 1);
    assert.deepEqual(localizer.ordered.map((o) => o.path), [scout]);
    assert.equal(localizer.rows, 256);
  });

  it('no ImagePositionPatient: ordered by InstanceNumber with a warning, spacing unknown', async (t) => {
    const w = write(t, { slices: 7, noPosition: true, shuffleNames: true, seed: 13 });
    assert.notDeepEqual([...w.files].sort(), w.files, 'precondition: name order differs from instance order');
    const s = await scanOneSeries(w.dir);
    assert.equal(s.geometry.sortedBy, 'instanceNumber');
    assert.deepEqual(s.ordered.map((o) => o.instanceNumber), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(s.ordered.map((o) => o.path), w.files, 'files in InstanceNumber order');
    assert.ok(s.ordered.every((o) => o.position === undefined && o.location === undefined), 'no positions invented');
    assert.equal(s.sliceSpacing, undefined);
    assert.equal(s.geometry.uniform, false);
    assert.ok(
      s.warnings.some((m) => /ImagePositionPatient/.test(m) && /InstanceNumber/.test(m)),
      `a fallback warning, got ${JSON.stringify(s.warnings)}`,
    );
  });

  it('pictures (Secondary Captures such as ReSight\'s key images) have no position by design: InstanceNumber order, no warning', async (t) => {
    const dir = tempDir(t, 'sc-pictures');
    // written in the reverse of their InstanceNumber order
    for (const k of [3, 2, 1]) writeImageFile(dir, { rows: 4, columns: 4, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB' }, new Uint8Array(48).fill(k), [{ tag: 0x00200013, vr: 'IS', value: String(k) }]);
    const s = await scanOneSeries(dir);
    assert.equal(s.geometry.sortedBy, 'instanceNumber');
    assert.deepEqual(s.ordered.map((o) => o.instanceNumber), [1, 2, 3]);
    assert.deepEqual(s.warnings, []);
  });

  it('every position twice (echoes, b-values, a series written twice): two stacks of one image per position', async (t) => {
    const root = tempDir(t, 'dupes');
    const a = writeSyntheticSeries(path.join(root, 'a'), { ...SMALL, slices: 5, seed: 21 });
    const b = writeSyntheticSeries(path.join(root, 'b'), {
      ...SMALL,
      slices: 5,
      seed: 22,
      seriesInstanceUid: a.seriesInstanceUid,
      studyInstanceUid: a.studyInstanceUid,
    });
    const study = await scanStudy([root]);
    assert.deepEqual(study.series.map((s) => s.id), [a.seriesInstanceUid, `${a.seriesInstanceUid}#2`]);
    // same InstanceNumbers in both copies: at each position the first by path goes to part 1
    study.series.forEach((s, j) => {
      assert.equal(s.slices, 5);
      assert.deepEqual(s.ordered.map((o) => o.path), (j === 0 ? a : b).files);
      s.ordered.forEach((o, i) => assertVecClose(o.position, a.positions[i], 1e-4, `part ${j + 1} slice ${i}`));
      assert.match(s.splitReason ?? '', new RegExp(`part ${j + 1} of 2`));
      assert.equal(s.geometry.uniform, true, 'each part is an ordinary stack');
      assertClose(s.sliceSpacing, 2.5, 1e-6, 'spacing of a part');
      assert.ok(!s.warnings.some((m) => /duplicate/i.test(m)), JSON.stringify(s.warnings));
    });
  });

  it('two echoes in one folder, InstanceNumber restarting, names that sort IMG1, IMG11, IMG2: one echo per stack', async (t) => {
    const root = tempDir(t, 'echoes');
    const e1 = writeSyntheticSeries(root, { ...SMALL, slices: 5, seed: 25, echoNumber: 1, namePrefix: 'IMG' });
    const e2 = writeSyntheticSeries(root, { ...SMALL, slices: 5, seed: 26, echoNumber: 2, namePrefix: 'IMG1', seriesInstanceUid: e1.seriesInstanceUid, studyInstanceUid: e1.studyInstanceUid });
    const study = await scanStudy([root]);
    assert.equal(study.series.length, 2);
    assert.deepEqual(study.series[0]?.ordered.map((o) => path.basename(o.path)), ['IMG1.dcm', 'IMG2.dcm', 'IMG3.dcm', 'IMG4.dcm', 'IMG5.dcm'], 'echo 1 at every position');
    assert.deepEqual(study.series[1]?.ordered.map((o) => o.path), e2.files, 'echo 2 at every position');
  });

  it('a position written twice among single ones: one stack, both kept, warned about', async (t) => {
    const root = tempDir(t, 'dupe-one');
    const a = writeSyntheticSeries(path.join(root, 'a'), { ...SMALL, slices: 5, seed: 23 });
    writeSyntheticSeries(path.join(root, 'b'), { ...SMALL, slices: 5, seed: 24, omit: [0, 1, 2, 3], seriesInstanceUid: a.seriesInstanceUid, studyInstanceUid: a.studyInstanceUid });
    const s = await scanOneSeries(root);
    assert.equal(s.slices, 6);
    assert.equal(s.geometry.uniform, false);
    assertClose(s.sliceSpacing, 2.5, 1e-6, 'sliceSpacing ignores the zero step');
    const dup = s.warnings.find((m) => /duplicate/i.test(m));
    assert.ok(dup, `a duplicate-position warning, got ${JSON.stringify(s.warnings)}`);
    assert.match(dup, /\b1 duplicate/);
    assert.ok(!s.warnings.some((m) => /gap/i.test(m)), 'duplicates are not gaps');
  });
});

describe('series assembly: one SOP Instance is one slice', () => {
  it('the same file given twice (alone and inside its folder) is read and counted once', async (t) => {
    const w = write(t, { slices: 4, seed: 31 });
    const relative = path.relative(process.cwd(), w.files[0]);
    const result = await scanPaths([w.files[0], w.dir, relative, `${w.dir}${path.sep}.${path.sep}${path.basename(w.files[1])}`]);
    assert.deepEqual(result.errors, []);
    assert.equal(result.filesScanned, 4, 'each file read once');
    assert.equal(result.studies.length, 1);
    assert.equal(result.studies[0].series.length, 1);
    const s = result.studies[0].series[0];
    assert.equal(s.slices, 4);
    assert.equal(s.instances.length, 4);
    assert.deepEqual(s.warnings, []);
  });

  it('the same SOP Instance in two folders (a copied study) is one slice, and the copy is listed as not used', async (t) => {
    const root = tempDir(t, 'copies');
    const w = writeSyntheticSeries(path.join(root, 'original'), { ...SMALL, slices: 4, seed: 41 });
    fs.cpSync(w.dir, path.join(root, 'copy'), { recursive: true });
    const result = await scanPaths([root]);
    assert.equal(result.errors.length, 4, 'one entry per second copy');
    for (const e of result.errors) {
      assert.equal(e.code, 'DUPLICATE_INSTANCE');
      const other = e.path.includes(`${path.sep}copy${path.sep}`) ? 'original' : 'copy';
      assert.ok(e.message.includes(path.join(root, other, path.basename(e.path))), e.message);
    }
    assert.equal(result.filesScanned, 8, 'both copies are read');
    assert.equal(result.studies.length, 1);
    assert.equal(result.studies[0].series.length, 1);
    const s = result.studies[0].series[0];
    assert.equal(s.slices, 4);
    assert.equal(s.instances.length, 4);
    assert.equal(new Set(s.ordered.map((o) => o.sopInstanceUid)).size, 4);
    assert.equal(s.geometry.uniform, true);
    assert.deepEqual(s.warnings, [], 'no duplicate-position warning for copies of one instance');
  });

  it('two different slices under one SOP Instance UID (a writer reusing UIDs): the message says they differ, not "one image"', async (t) => {
    const w = write(t, { slices: 3, seed: 43 });
    const [first, second] = [w.files[0] as string, w.files[1] as string];
    const uidOf = (file: string) => /1\.[0-9.]+\.4\.43\.3\.[0-9]/.exec(fs.readFileSync(file, 'latin1'))?.[0];
    const [uid1, uid2] = [uidOf(first), uidOf(second)];
    assert.ok(uid1 && uid2 && uid1.length === uid2.length, `precondition: SOP UIDs of one length (${uid1}, ${uid2})`);
    fs.writeFileSync(second, fs.readFileSync(second, 'latin1').split(uid2).join(uid1), 'latin1');
    const result = await scanPaths([w.dir], { pool: null });
    assert.deepEqual(result.errors.map((e) => [e.path, e.code]), [[second, 'DUPLICATE_INSTANCE']]);
    const message = result.errors[0]?.message ?? '';
    assert.match(message, /but not the same image \(position \[.*\] vs \[.*\]; InstanceNumber 1 vs 2\)/);
    assert.doesNotMatch(message, /counted once/);
  });

  it('of two copies of an instance, the one cut short inside its pixels gives way to the complete one', async (t) => {
    const root = tempDir(t, 'copies-cut');
    // 'a-partial' sorts before 'b-complete', so the cut copy is read first
    const w = writeSyntheticSeries(path.join(root, 'a-partial'), { ...SMALL, slices: 4, seed: 42 });
    fs.cpSync(w.dir, path.join(root, 'b-complete'), { recursive: true });
    const cut = w.files[2] as string;
    fs.truncateSync(cut, fs.statSync(cut).size - 100);
    const result = await scanPaths([root]);
    const s = result.studies[0]?.series[0] as AssembledSeries;
    assert.equal(s.slices, 4);
    const used = s.ordered.map((o) => path.relative(root, o.path));
    assert.deepEqual(used, [0, 1, 2, 3].map((i) => path.join(i === 2 ? 'b-complete' : 'a-partial', path.basename(w.files[i] as string))));
    const passed = result.errors.find((e) => e.path === cut);
    assert.equal(passed?.code, 'DUPLICATE_INSTANCE');
    assert.match(passed?.message ?? '', /complete copy used instead.*cut short/);
    assert.deepEqual(s.warnings, [], 'the cut copy is not in the series, nor its warning');

    // alone, the cut file stays in its series (one broken slice does not close the study) and says why
    const alone = await scanPaths([path.join(root, 'a-partial')]);
    const one = alone.studies[0]?.series[0] as AssembledSeries;
    assert.equal(one.slices, 4);
    assert.ok(one.warnings.some((m) => m.includes(path.basename(cut)) && /ends inside its pixel data/.test(m)), JSON.stringify(one.warnings));
  });
});

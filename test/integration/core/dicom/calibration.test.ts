/**
 * Measurement calibration of images without PixelSpacing (docs/dicom.md, "Pixel spacing and
 * calibration"): projection radiographs measure with ImagerPixelSpacing (divided by the
 * EstimatedRadiographicMagnificationFactor where there is one), ultrasound images with the
 * PhysicalDeltaX/Y of their spatial regions, and each says where its spacing comes from. Specified
 * on the corpus' real ultrasound, CR and CT files and on written files for what the corpus lacks
 * (a DX with ImagerPixelSpacing, regions that disagree, non-spatial units, implicit VR). A detector
 * or region spacing never becomes the geometry of a volume, and the report measures with it only
 * where it holds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { infoJson } from '../../../../src/cli/commands/info';
import { scanFile, scanPaths } from '../../../../src/core/dicom/scan';
import type { AssembledSeries } from '../../../../src/core/dicom/series';
import type { SimpleElement } from '../../../../src/core/dicom/write-simple';
import { encodeElement, writePart10 } from '../../../../src/core/dicom/write-simple';
import { defaultModelCard } from '../../../../src/core/inference/default-model';
import { InferenceEngine } from '../../../../src/core/inference/engine';
import type { LoadedModel } from '../../../../src/core/inference/model';
import { buildReportContext } from '../../../../src/core/report/build';
import { writeExports } from '../../../../src/core/report/export';
import { decodePart10 } from '../../../../src/core/report/dicom-write';
import type { NaturalDataset } from '../../../../src/core/report/dicom-write';
import { structuredReport } from '../../../../src/core/report/sr';
import type { ProviderReport, SeriesAnalysis } from '../../../../src/shared/analysis';
import type { InstanceHeader } from '../../../../src/shared/dicom';
import type { DrawnMeasurement } from '../../../../src/shared/roi';
import { corpusPath } from '../../../helpers/corpus';
import { greyPixelModule } from '../../../helpers/dicom-bytes';
import { tempDir } from '../../../helpers/tmp';

const US_IMAGE = '1.2.840.10008.5.1.4.1.1.6.1';
const DX_IMAGE = '1.2.840.10008.5.1.4.1.1.1.1';
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const ROWS = 48;
const COLUMNS = 64;
const CM = 3;

interface Region {
  box: [number, number, number, number];
  units?: [number, number];
  /** PhysicalDeltaX, PhysicalDeltaY (cm for spatial regions); null leaves them out. */
  deltas?: [number, number] | null;
  dataType?: number;
}

const fd = (v: number) => new Uint8Array(new Float64Array([v]).buffer);

/** SequenceOfUltrasoundRegions (0018,6011) with one item per region, defined lengths. */
function regionsElement(regions: Region[], explicit: boolean): SimpleElement {
  const items = regions.map((r) => {
    const els: SimpleElement[] = [
      { tag: 0x00186012, vr: 'US', value: 1 },
      { tag: 0x00186014, vr: 'US', value: r.dataType ?? 1 },
      { tag: 0x00186018, vr: 'UL', value: r.box[0] },
      { tag: 0x0018601a, vr: 'UL', value: r.box[1] },
      { tag: 0x0018601c, vr: 'UL', value: r.box[2] },
      { tag: 0x0018601e, vr: 'UL', value: r.box[3] },
      { tag: 0x00186024, vr: 'US', value: r.units?.[0] ?? CM },
      { tag: 0x00186026, vr: 'US', value: r.units?.[1] ?? CM },
    ];
    if (r.deltas !== null) {
      const [dx, dy] = r.deltas ?? [0.02, 0.02];
      els.push({ tag: 0x0018602c, vr: 'FD', value: fd(dx) }, { tag: 0x0018602e, vr: 'FD', value: fd(dy) });
    }
    const body = Buffer.concat(els.map((e) => encodeElement(e, explicit)));
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body]);
  });
  return { tag: 0x00186011, vr: 'SQ', value: new Uint8Array(Buffer.concat(items)) };
}

let n = 0;

/** One 8-bit image written into `dir`; `series` groups files into one series. */
function writeImage(dir: string, o: { sopClass: string; modality: string; series?: string; extra?: SimpleElement[]; transferSyntaxUid?: string; instance?: number }): string {
  const sop = `1.2.826.0.1.3680043.10.1453.88.${process.pid}.${++n}`;
  const els: SimpleElement[] = [
    { tag: 0x00080016, vr: 'UI', value: o.sopClass },
    { tag: 0x00080018, vr: 'UI', value: sop },
    { tag: 0x00080060, vr: 'CS', value: o.modality },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.826.0.1.3680043.10.1453.88' },
    { tag: 0x0020000e, vr: 'UI', value: `1.2.826.0.1.3680043.10.1453.88.${o.series ?? n}` },
    { tag: 0x00200013, vr: 'IS', value: String(o.instance ?? n) },
    ...greyPixelModule(ROWS, COLUMNS, 8),
    { tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(ROWS * COLUMNS).map((_, i) => i % 251) },
    ...(o.extra ?? []),
  ];
  const file = path.join(dir, `i${n}.dcm`);
  fs.writeFileSync(file, writePart10(els, { sopClassUid: o.sopClass, sopInstanceUid: sop, ...(o.transferSyntaxUid ? { transferSyntaxUid: o.transferSyntaxUid } : {}) }));
  return file;
}

const us = (dir: string, regions: Region[], o: { series?: string; transferSyntaxUid?: string } = {}) =>
  writeImage(dir, { sopClass: US_IMAGE, modality: 'US', extra: [regionsElement(regions, o.transferSyntaxUid !== IMPLICIT_LE)], ...o });
const dx = (dir: string, extra: SimpleElement[]) => writeImage(dir, { sopClass: DX_IMAGE, modality: 'DX', extra });

type Calibration = Pick<InstanceHeader, 'pixelSpacing' | 'pixelSpacingSource' | 'pixelSpacingRegions'>;
const calibrationOf = (x: Calibration): Calibration => {
  const out: Calibration = {};
  if (x.pixelSpacing) out.pixelSpacing = x.pixelSpacing;
  if (x.pixelSpacingSource) out.pixelSpacingSource = x.pixelSpacingSource;
  if (x.pixelSpacingRegions) out.pixelSpacingRegions = x.pixelSpacingRegions;
  return out;
};

function assertSpacing(actual: readonly number[] | undefined, expected: readonly number[], what: string): void {
  assert.ok(actual && actual.length === 2, `${what}: no pixel spacing`);
  expected.forEach((e, i) => assert.ok(Math.abs((actual[i] as number) - e) <= 1e-12 * e, `${what}[${i}]: ${actual[i]}, want ${e}`));
}

async function oneSeries(paths: string[]): Promise<AssembledSeries> {
  const r = await scanPaths(paths);
  assert.deepEqual(r.errors, []);
  const all = r.studies.flatMap((s) => s.series);
  assert.equal(all.length, 1, 'one series');
  return all[0] as AssembledSeries;
}

function header(file: string): InstanceHeader {
  const h = scanFile(file);
  assert.ok('sopInstanceUid' in h, `${file}: ${JSON.stringify(h)}`);
  return h;
}

describe('calibration of real corpus files', () => {
  it('an ultrasound image (pydicom US, one B-mode region in cm) measures with its PhysicalDeltaY/X in mm, inside its region', async () => {
    // dcmdump: RegionLocation 14,38 .. 1010,758; PhysicalUnits 3 (cm) both ways; PhysicalDeltaX = Y = 0.025476696592378154
    const s = await oneSeries([corpusPath('pydicom_JPGLosslessP14SV1_1s_1f_8b.dcm')]);
    const delta = 0.025476696592378154 * 10;
    assertSpacing(s.pixelSpacing, [delta, delta], 'series');
    assert.equal(s.pixelSpacingSource, 'ultrasound-region');
    assert.deepEqual(s.pixelSpacingRegions, [[14, 38, 1010, 758]]);
    assert.deepEqual(calibrationOf(s.headers[0] as InstanceHeader), calibrationOf(s));
    // the region is a rectangle of the 1024 x 768 image
    assert.equal(s.columns, 1024);
    assert.equal(s.rows, 768);
  });

  it('the ultrasound deltas are those pydicom reads', { skip: spawnSync('/usr/bin/python3', ['-c', 'import pydicom']).status !== 0 && 'pydicom not installed' }, () => {
    const file = corpusPath('pydicom_JPGLosslessP14SV1_1s_1f_8b.dcm');
    const py = spawnSync('/usr/bin/python3', ['-c', 'import json,sys,pydicom; r=pydicom.dcmread(sys.argv[1],stop_before_pixels=True).SequenceOfUltrasoundRegions[0]; print(json.dumps([r.PhysicalDeltaY*10, r.PhysicalDeltaX*10, r.RegionLocationMinX0, r.RegionLocationMinY0, r.RegionLocationMaxX1, r.RegionLocationMaxY1]))', file], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const [dy, dxx, ...box] = JSON.parse(py.stdout) as number[];
    const h = header(file);
    assertSpacing(h.pixelSpacing, [dy as number, dxx as number], 'header');
    assert.deepEqual(h.pixelSpacingRegions, [box]);
  });

  it('a CR with neither PixelSpacing nor ImagerPixelSpacing (pydicom RG3) stays uncalibrated: nothing is invented', async () => {
    const s = await oneSeries([corpusPath('pydicom_RG3_J2KI.dcm')]);
    assert.equal(s.modality, 'CR');
    assert.deepEqual(calibrationOf(s), {});
    assert.deepEqual(calibrationOf(s.headers[0] as InstanceHeader), {});
  });

  it('a CT keeps its PixelSpacing, now labelled as such', async () => {
    const s = await oneSeries([corpusPath('series_ct_dcmqi')]);
    assert.deepEqual(calibrationOf(s), { pixelSpacing: [0.810547, 0.810547], pixelSpacingSource: 'pixel' });
  });
});

describe('projection radiographs: ImagerPixelSpacing (0018,1164)', () => {
  it('alone: the spacing at the detector, labelled imager', async (t) => {
    const dir = tempDir(t, 'cal');
    const s = await oneSeries([dx(dir, [{ tag: 0x00181164, vr: 'DS', value: '0.143\\0.15' }])]);
    assert.deepEqual(calibrationOf(s), { pixelSpacing: [0.143, 0.15], pixelSpacingSource: 'imager' });
    assert.deepEqual(calibrationOf(s.headers[0] as InstanceHeader), calibrationOf(s));
  });

  it('with EstimatedRadiographicMagnificationFactor (0018,1114): divided by it, in the patient plane, labelled imager-ermf', async (t) => {
    const dir = tempDir(t, 'cal');
    const s = await oneSeries([dx(dir, [{ tag: 0x00181164, vr: 'DS', value: '0.143\\0.15' }, { tag: 0x00181114, vr: 'DS', value: '1.25' }])]);
    assertSpacing(s.pixelSpacing, [0.143 / 1.25, 0.15 / 1.25], 'series');
    assert.equal(s.pixelSpacingSource, 'imager-ermf');
    // a factor that is no factor (0) is ignored: the detector spacing, said so
    const zero = header(dx(dir, [{ tag: 0x00181164, vr: 'DS', value: '0.143\\0.15' }, { tag: 0x00181114, vr: 'DS', value: '0' }]));
    assert.deepEqual(calibrationOf(zero), { pixelSpacing: [0.143, 0.15], pixelSpacingSource: 'imager' });
  });

  it('PixelSpacing, when the file has it, wins over ImagerPixelSpacing', (t) => {
    const dir = tempDir(t, 'cal');
    const h = header(dx(dir, [{ tag: 0x00280030, vr: 'DS', value: '0.1\\0.1' }, { tag: 0x00181164, vr: 'DS', value: '0.143\\0.15' }, { tag: 0x00181114, vr: 'DS', value: '1.25' }]));
    assert.deepEqual(calibrationOf(h), { pixelSpacing: [0.1, 0.1], pixelSpacingSource: 'pixel' });
  });

  it('never for an image placed in 3D (ImagePositionPatient + ImageOrientationPatient): a volume never gets a detector spacing as its geometry', async (t) => {
    const dir = tempDir(t, 'cal');
    const placed = (z: number) =>
      writeImage(dir, {
        sopClass: CT_IMAGE,
        modality: 'CT',
        series: 'placed',
        extra: [
          { tag: 0x00181164, vr: 'DS', value: '0.5\\0.5' },
          { tag: 0x00200032, vr: 'DS', value: `0\\0\\${z}` },
          { tag: 0x00200037, vr: 'DS', value: '1\\0\\0\\0\\1\\0' },
        ],
      });
    const s = await oneSeries([placed(0), placed(2)]);
    assert.equal(s.geometry.sortedBy, 'position');
    assert.equal(s.sliceSpacing, 2);
    assert.deepEqual(calibrationOf(s), {});
    for (const h of s.headers) assert.deepEqual(calibrationOf(h), {});
    // with only one of the two it is a picture, and calibrated
    const orientedOnly = header(writeImage(dir, { sopClass: DX_IMAGE, modality: 'DX', extra: [{ tag: 0x00181164, vr: 'DS', value: '0.5\\0.5' }, { tag: 0x00200037, vr: 'DS', value: '1\\0\\0\\0\\1\\0' }] }));
    assert.equal(orientedOnly.pixelSpacingSource, 'imager');
  });
});

describe('ultrasound: SequenceOfUltrasoundRegions (0018,6011)', () => {
  it('spatial regions (cm both ways) that share their deltas give one spacing (cm -> mm, [row = Y, column = X]); the others are not listed', (t) => {
    const dir = tempDir(t, 'cal');
    const h = header(
      us(dir, [
        { box: [0, 0, 31, 29], deltas: [0.03, 0.02] },
        { box: [32, 0, 63, 29], deltas: [0.03, 0.02] },
        // a PW Doppler strip below: seconds across, cm/s up
        { box: [0, 30, 63, 47], units: [4, 7], deltas: [0.01, 2.5], dataType: 3 },
      ]),
    );
    assertSpacing(h.pixelSpacing, [0.2, 0.3], 'header');
    assert.equal(h.pixelSpacingSource, 'ultrasound-region');
    assert.deepEqual(h.pixelSpacingRegions, [
      [0, 0, 31, 29],
      [32, 0, 63, 29],
    ]);
  });

  it('deltas written negative (by direction) count by their size', (t) => {
    const dir = tempDir(t, 'cal');
    const h = header(us(dir, [{ box: [0, 0, 63, 47], deltas: [0.02, -0.02] }]));
    assertSpacing(h.pixelSpacing, [0.2, 0.2], 'header');
  });

  it('spatial regions with different deltas: no single calibration, pixels', (t) => {
    const dir = tempDir(t, 'cal');
    const h = header(
      us(dir, [
        { box: [0, 0, 31, 47], deltas: [0.02, 0.02] },
        { box: [32, 0, 63, 47], deltas: [0.04, 0.04] },
      ]),
    );
    assert.deepEqual(calibrationOf(h), {});
  });

  it('regions in other units than cm (M-mode: seconds by cm; none; dB) give none', (t) => {
    const dir = tempDir(t, 'cal');
    for (const units of [
      [4, 3],
      [0, 0],
      [3, 2],
    ] as [number, number][]) {
      const h = header(us(dir, [{ box: [0, 0, 63, 47], units, deltas: [0.02, 0.02] }]));
      assert.deepEqual(calibrationOf(h), {}, `units ${units}`);
    }
  });

  it('a spatial region without its deltas, or with inverted bounds, gives none', (t) => {
    const dir = tempDir(t, 'cal');
    assert.deepEqual(calibrationOf(header(us(dir, [{ box: [0, 0, 63, 47], deltas: null }]))), {});
    assert.deepEqual(calibrationOf(header(us(dir, [{ box: [0, 0, 63, 47], deltas: [0, 0.02] }]))), {});
    assert.deepEqual(calibrationOf(header(us(dir, [{ box: [40, 0, 10, 47] }]))), {});
  });

  it('is read from implicit VR little endian files too', (t) => {
    const dir = tempDir(t, 'cal');
    const h = header(us(dir, [{ box: [2, 3, 60, 40], deltas: [0.025, 0.025] }], { transferSyntaxUid: IMPLICIT_LE }));
    assertSpacing(h.pixelSpacing, [0.25, 0.25], 'header');
    assert.deepEqual(h.pixelSpacingRegions, [[2, 3, 60, 40]]);
  });
});

describe('series: a calibration that is not PixelSpacing must hold for every image', () => {
  it('images that share it: the series has it, the slices need none of their own', async (t) => {
    const dir = tempDir(t, 'cal');
    const region: Region = { box: [0, 0, 63, 47], deltas: [0.02, 0.02] };
    const s = await oneSeries([us(dir, [region], { series: 'same' }), us(dir, [region], { series: 'same' })]);
    assert.equal(s.slices, 2);
    assert.equal(s.pixelSpacingSource, 'ultrasound-region');
    for (const r of s.ordered) assert.equal(r.pixelSpacing, undefined);
  });

  it('images at different depths: the series has none (no image is measured with another\'s scale), each slice has its own', async (t) => {
    const dir = tempDir(t, 'cal');
    const a = us(dir, [{ box: [0, 0, 63, 47], deltas: [0.02, 0.02] }], { series: 'depths' });
    const b = us(dir, [{ box: [0, 0, 63, 47], deltas: [0.03, 0.03] }], { series: 'depths' });
    const s = await oneSeries([a, b]);
    assert.deepEqual(calibrationOf(s), {});
    const byPath = new Map(s.ordered.map((r) => [r.path, r]));
    assertSpacing(byPath.get(a)?.pixelSpacing, [0.2, 0.2], 'slice a');
    assertSpacing(byPath.get(b)?.pixelSpacing, [0.3, 0.3], 'slice b');
    assert.equal(byPath.get(a)?.pixelSpacingSource, 'ultrasound-region');
    assert.deepEqual(byPath.get(b)?.pixelSpacingRegions, [[0, 0, 63, 47]]);
  });

  it('`info --json` keeps pixelSpacing for PixelSpacing (null without it, as pydicom reads the file) and prints another calibration beside it, with its source and regions', async (t) => {
    const dir = tempDir(t, 'cal');
    const paths = [dx(dir, [{ tag: 0x00181164, vr: 'DS', value: '0.2\\0.2' }]), us(dir, [{ box: [0, 0, 63, 47], deltas: [0.02, 0.02] }]), corpusPath('pydicom_RG3_J2KI.dcm')];
    const r = await scanPaths(paths);
    const doc = JSON.parse(JSON.stringify(infoJson(r.studies, r.errors))) as ReturnType<typeof infoJson>;
    const series = doc.studies.flatMap((st) => st.series);
    const by = (m: string) => series.find((s) => s.modality === m);
    assert.equal(by('DX')?.pixelSpacing, null, 'the file has no PixelSpacing');
    assert.deepEqual(by('DX')?.measurementCalibration, { pixelSpacing: [0.2, 0.2], source: 'imager' });
    assert.equal(by('US')?.pixelSpacing, null);
    assert.deepEqual(by('US')?.measurementCalibration, { pixelSpacing: [0.2, 0.2], source: 'ultrasound-region', regions: [[0, 0, 63, 47]] });
    assert.equal(by('CR')?.pixelSpacing, null);
    assert.equal(by('CR')?.measurementCalibration, undefined);
    assert.ok(series.every((x) => !('pixelSpacingSource' in x) && !('pixelSpacingRegions' in x)), 'the core fields stay out of the wire form');
  });
});

describe('report measurements use the calibration where it holds', () => {
  const model = {
    identity: { name: 'test', version: '0', sha256: '0'.repeat(64) },
    card: { name: 'test', outputs: { classes: [], thresholds: {} }, cam: { defaultLayer: 'layer4' }, intendedUse: '' },
  } as unknown as LoadedModel;
  const provider: ProviderReport = { used: 'cpu', requested: ['cpu'], fallbacks: [], threads: 1 };
  const analysisOf = (s: AssembledSeries): SeriesAnalysis => ({ seriesInstanceUid: s.seriesInstanceUid, seriesId: s.id, modality: s.modality, scored: false, slices: [], findings: [], cached: false });
  const measure = async (s: AssembledSeries, measurements: DrawnMeasurement[]) => (await buildReportContext(s, analysisOf(s), model, provider, { measurements })).measurements;

  it('ultrasound: mm inside one spatial region; pixels for a line into the Doppler strip or across two views', async (t) => {
    const dir = tempDir(t, 'cal');
    const s = await oneSeries([
      us(dir, [
        { box: [0, 0, 31, 29], deltas: [0.03, 0.02] },
        { box: [32, 0, 63, 29], deltas: [0.03, 0.02] },
        { box: [0, 30, 63, 47], units: [4, 7], deltas: [0.01, 2.5], dataType: 3 },
      ]),
    ]);
    const [inside, edge, intoDoppler, across, roi, roiOut] = await measure(s, [
      { kind: 'length', slice: 0, a: [2, 5], b: [2, 25] }, // 20 px down: 20 x 0.2 mm
      { kind: 'length', slice: 0, a: [0, 0], b: [32, 30] }, // corner to corner of the first region (pixel edges)
      { kind: 'length', slice: 0, a: [2, 5], b: [2, 35] },
      { kind: 'length', slice: 0, a: [10, 5], b: [40, 5] },
      { kind: 'ellipse', slice: 0, a: [4, 4], b: [14, 24] },
      { kind: 'ellipse', slice: 0, a: [4, 20], b: [14, 40] },
    ]);
    assert.deepEqual([inside?.length, inside?.pixelSpacingSource], [{ value: 4, unit: 'mm' }, 'ultrasound-region']);
    assert.ok(Math.abs((edge?.length?.value as number) - Math.hypot(32 * 0.3, 30 * 0.2)) < 1e-9 && edge?.length?.unit === 'mm', JSON.stringify(edge));
    assert.deepEqual([intoDoppler?.length, intoDoppler?.pixelSpacingSource], [{ value: 30, unit: 'px' }, undefined]);
    assert.deepEqual([across?.length, across?.pixelSpacingSource], [{ value: 30, unit: 'px' }, undefined]);
    assert.equal(roi?.stats?.areaUnit, 'mm2');
    assert.ok(Math.abs((roi?.stats?.area as number) - Math.PI * 5 * 10 * 0.2 * 0.3) < 1e-9, `area ${roi?.stats?.area}`);
    assert.equal(roiOut?.stats?.areaUnit, 'px2');
  });

  it('a projection radiograph: mm from ImagerPixelSpacing, labelled, and the PDF says so', async (t) => {
    const dir = tempDir(t, 'cal');
    const s = await oneSeries([dx(dir, [{ tag: 0x00181164, vr: 'DS', value: '0.2\\0.1' }])]);
    const ctx = await buildReportContext(s, analysisOf(s), model, provider, { measurements: [{ kind: 'length', slice: 0, a: [0, 0], b: [10, 0] }] });
    assert.deepEqual([ctx.measurements[0]?.length, ctx.measurements[0]?.pixelSpacingSource], [{ value: 1, unit: 'mm' }, 'imager']);
    if (spawnSync('sh', ['-c', 'command -v pdftotext']).status !== 0) return;
    const pdf = path.join(dir, 'r.pdf');
    await writeExports([ctx], { pdf });
    const text = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    assert.match(text, /1\.0 mm; calibrated at the detector \(ImagerPixelSpacing\), not corrected for magnification/);
  });

  it('the SR says it too: a comment in the measurement\'s group (PixelSpacing needs none)', async (t) => {
    const dir = tempDir(t, 'cal');
    const s = await oneSeries([dx(dir, [{ tag: 0x00181164, vr: 'DS', value: '0.2\\0.1' }])]);
    // the SR points its measurements at the analysed slices
    const scored = (x: AssembledSeries): SeriesAnalysis => ({ ...analysisOf(x), slices: x.ordered.map((r, index) => ({ index, sopInstanceUid: r.sopInstanceUid, frame: r.frame, probabilities: {} })) });
    const ctx = await buildReportContext(s, scored(s), model, provider, { measurements: [{ kind: 'length', slice: 0, a: [0, 0], b: [10, 0] }] });
    const texts = (d: NaturalDataset): string[] => [String(d.TextValue ?? ''), ...((d.ContentSequence as NaturalDataset[] | undefined) ?? []).flatMap(texts)];
    const all = texts(decodePart10(structuredReport(ctx, 'e1').bytes)).join('\n');
    assert.match(all, /^mm calibrated at the detector \(ImagerPixelSpacing\), not corrected for magnification$/m);
    const plain = await oneSeries([dx(dir, [{ tag: 0x00280030, vr: 'DS', value: '0.2\\0.1' }])]);
    const ctx2 = await buildReportContext(plain, scored(plain), model, provider, { measurements: [{ kind: 'length', slice: 0, a: [0, 0], b: [10, 0] }] });
    assert.doesNotMatch(texts(decodePart10(structuredReport(ctx2, 'e2').bytes)).join('\n'), /calibrated/);
  });

  it('a key image keeps its scale bar to PixelSpacing: none from a detector calibration', { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t, 'cal');
    const engine = new InferenceEngine();
    t.after(() => engine.release());
    const real = await engine.model(defaultModelCard() as string);
    const cls = real.card.outputs.classes[0] as string;
    const keyImageSpacing = async (file: string) => {
      const s = await oneSeries([file]);
      const finding = { id: `${cls}:0-0`, class: cls, score: 0.9, threshold: 0.5, sliceStart: 0, sliceEnd: 0, keySlice: 0, keySopInstanceUid: s.ordered[0]?.sopInstanceUid as string, centroid: [10, 10] as [number, number] };
      const ctx = await buildReportContext(s, { ...analysisOf(s), findings: [finding] }, real, provider);
      assert.equal(ctx.keyImages.length, 1);
      return ctx.keyImages[0]?.image.pixelSpacing;
    };
    assert.equal(await keyImageSpacing(dx(dir, [{ tag: 0x00181164, vr: 'DS', value: '0.2\\0.2' }])), undefined);
    assert.deepEqual(await keyImageSpacing(dx(dir, [{ tag: 0x00280030, vr: 'DS', value: '0.2\\0.2' }])), [0.2, 0.2]);
  });
});

/**
 * Reports and exports (core/report) on the bundled demo study with the default model: the DICOM
 * SR and Secondary Captures pass dciodvfy and read back (dicom-parser through ReSight's reader,
 * dcmjs, pydicom when installed), Japanese names survive, the PDF carries the model's sha256,
 * every finding and the disclaimer on every page, its key images are exactly the shared
 * renderer's pixels, de-identified exports hold none of the original identifiers, and targets
 * are never overwritten or placed in the study folder.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDicomBytes } from '../../../../src/core/dicom/parse';
import { instanceHeader } from '../../../../src/core/dicom/header';
import { scanPaths } from '../../../../src/core/dicom/scan';
import type { AssembledSeries } from '../../../../src/core/dicom/series';
import type { ResightError } from '../../../../src/core/errors';
import { defaultModelCard } from '../../../../src/core/inference/default-model';
import { InferenceEngine } from '../../../../src/core/inference/engine';
import type { LoadedModel } from '../../../../src/core/inference/model';
import { buildReportContext } from '../../../../src/core/report/build';
import type { ReportContext } from '../../../../src/core/report/context';
import { findingLabels, imageNumberText, keyImagesInLabelOrder, patientPointText, sliceNumberOf, sliceRangeOf } from '../../../../src/core/report/context';
import { decodePart10 } from '../../../../src/core/report/dicom-write';
import type { NaturalDataset } from '../../../../src/core/report/dicom-write';
import { exportJson, findingsCsvPath, writeExports } from '../../../../src/core/report/export';
import { structuredReport } from '../../../../src/core/report/sr';
import { keyImageForExport, scKeyImages } from '../../../../src/core/report/sc';
import { encapsulatedPdf } from '../../../../src/core/report/epdf';
import { exportResource } from '../../../../src/core/session/resources';
import { findUnicodeFont, renderPdf } from '../../../../src/core/report/pdf';
import { renderKeyImage } from '../../../../src/core/report/render';
import { sayWarning } from '../../../../src/renderer/i18n/warnings';
import { reformat } from '../../../../src/renderer/viewer/mpr';
import { loadFrame } from '../../../../src/core/dicom/frame';
import { ellipseStats } from '../../../../src/shared/roi';
import type { AnalysisResult } from '../../../../src/shared/analysis';
import { corpusPath, REPO_ROOT } from '../../../helpers/corpus';
import { writeImageFile } from '../../../helpers/image-file';
import { listTree, tempDir } from '../../../helpers/tmp';

/** The SR's private concept for a finding's probability (99RESIGHT). */
const PROBABILITY_CODE = 'AIPROB';
const DEMO = path.join(REPO_ROOT, 'resources', 'demo');
const JP_NAME = '山田^太郎=やまだ^たろう';
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const PY = '/usr/bin/python3';
const hasPydicom = fs.existsSync(PY) && spawnSync(PY, ['-c', 'import pydicom']).status === 0;

let engine: InferenceEngine;
let model: LoadedModel;
let series: AssembledSeries;
let result: AnalysisResult;
let ctx: ReportContext;

before(
  async () => {
    const scan = await scanPaths([DEMO]);
    series = scan.studies[0].series[0];
    engine = new InferenceEngine();
    model = await engine.model(defaultModelCard() as string);
    result = await engine.analyze(model, [series], { cache: null });
    const a = result.series[0];
    assert.ok(a.findings.length >= 2, 'the demo has findings to report');
    const base = await buildReportContext(series, a, model, result.providerReport, {
      reviewer: '佐藤^花子',
      reviews: [
        { findingId: a.findings[0].id, decision: 'accepted', comment: 'agree, follow up in 3 months', at: '2026-11-28T10:00:00Z' },
        { findingId: a.findings[1].id, decision: 'rejected', comment: 'vessel seen end-on', at: '2026-11-28T10:01:00Z' },
      ],
      added: [{ id: 'added:1', class: 'lung_nodule', sliceStart: 3, sliceEnd: 4, comment: 'missed by the model', centroid: [100, 200] }],
      // the reviewer's measurements on the liver lesion's key slice (ground-truth.json: centre
      // (160, 234) px, 28 mm, made at 102.1 - 45 HU; pixels 0.78125 mm)
      measurements: [
        { kind: 'ellipse', slice: 11, a: [150, 224], b: [170, 244] },
        { kind: 'length', slice: 11, a: [156, 300], b: [356, 300] },
        { kind: 'ellipse', slice: 11, a: [60, 40], b: [70, 70] }, // taller than wide: the major axis is vertical
      ],
      createdAt: new Date('2026-11-28T10:02:03Z'),
    });
    // a Japanese patient: the name must survive into SR, SC and PDF
    ctx = { ...base, patient: { ...base.patient, name: JP_NAME, birthDate: '19600102' }, study: { ...base.study, accessionNumber: 'ACC-7731', institution: 'Tokyo General' } };
  },
  { timeout: 120_000 },
);
after(async () => engine?.release());

function dciodvfy(file: string): { errors: string[]; warnings: string[] } {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n');
  return { errors: lines.filter((l) => /^Error/.test(l)), warnings: lines.filter((l) => /^Warning/.test(l)) };
}

const seqOf = (ds: NaturalDataset, k: string) => (ds[k] as NaturalDataset[] | undefined) ?? [];
const pnAlphabetic = (v: unknown) => {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x : [(x as Record<string, string>).Alphabetic, (x as Record<string, string>).Ideographic, (x as Record<string, string>).Phonetic].filter((s) => s !== undefined).join('=');
};

/** Temp folders made in hooks, removed after the suite (tempDir needs a test context's `after`). */
const cleanups: (() => void | Promise<void>)[] = [];
const hookContext = { after: (fn: () => void | Promise<void>) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups) await fn();
});

describe('exports of the demo study', () => {
  let dir: string;
  let files: { kind: string; path: string }[];
  let warnings: string[];
  const announced: string[] = [];
  before(async () => {
    dir = tempDir(hookContext, 'report');
    const s = await writeExports([ctx], { pdf: path.join(dir, 'report.pdf'), pdfDicom: path.join(dir, 'report-pdf.dcm'), sr: path.join(dir, 'sr.dcm'), scDir: path.join(dir, 'sc'), json: path.join(dir, 'out.json'), csv: path.join(dir, 'slices.csv') }, { sourceDirs: [DEMO], onWritten: (f) => announced.push(f) });
    files = s.files;
    warnings = s.warnings;
  });

  it('writes every output, one SC per finding the reviewer did not reject, atomically (no temp files left)', () => {
    const rejected = ctx.reviews.filter((r) => r.decision === 'rejected').map((r) => r.findingId);
    assert.equal(rejected.length, 1, 'the test context rejects one finding');
    assert.equal(scKeyImages(ctx).length, ctx.keyImages.length - 1);
    assert.deepEqual(listTree(dir).sort(), ['out.json', 'report-pdf.dcm', 'report.pdf', ...scKeyImages(ctx).map((_k, i) => `sc/ReSight-SC-00${i + 1}.dcm`), 'slices-findings.csv', 'slices.csv', 'sr.dcm'].sort());
    // each file is announced as it lands (the audit trail learns of them even if a later one fails)
    assert.deepEqual(announced, files.map((f) => f.path));
    // the AI's findings but the rejected one, and the one the reviewer added
    assert.equal(files.filter((f) => f.kind === 'sc').length, ctx.analysis.findings.length - 1 + ctx.added.length);
    for (const n of fs.readdirSync(path.join(dir, 'sc'))) {
      const src = seqOf(decodePart10(fs.readFileSync(path.join(dir, 'sc', n))), 'SourceImageSequence')[0].ReferencedSOPInstanceUID;
      assert.notEqual(src, ctx.keyImages.find((k) => k.findingId === rejected[0])?.sopInstanceUid, `${n} is not the rejected finding's key image`);
    }
    // said, in words the viewer translates
    const label = findingLabels(ctx).get(rejected[0] as string) as string;
    const said = warnings.find((w) => w.startsWith(`key image of ${label} not written as a Secondary Capture: the reviewer rejected the finding`));
    assert.ok(said, warnings.join('\n'));
    assert.equal(sayWarning(said, ((key: string) => key) as never), 'warn.keyImageRejected');
  });

  it('SR and SC pass dciodvfy without errors', { skip: !has('dciodvfy') && 'dciodvfy (dicom3tools) not installed' }, () => {
    for (const f of [path.join(dir, 'sr.dcm'), ...fs.readdirSync(path.join(dir, 'sc')).map((n) => path.join(dir, 'sc', n))]) {
      const v = dciodvfy(f);
      assert.deepEqual(v.errors, [], `${path.basename(f)}: ${v.errors.join('\n')}`);
      // the warnings we know and accept (docs/report.md): the private coding scheme 99RESIGHT
      // and an empty Laterality (2C, unknown for a derived image)
      for (const w of v.warnings) assert.match(w, /99RESIGHT|<Laterality>/, w);
    }
  });

  it('the Encapsulated PDF holds the PDF report byte for byte, in the source study, and passes dciodvfy', () => {
    const pdf = fs.readFileSync(path.join(dir, 'report.pdf'));
    const file = path.join(dir, 'report-pdf.dcm');
    const ds = decodePart10(fs.readFileSync(file));
    assert.equal(ds.SOPClassUID, '1.2.840.10008.5.1.4.1.1.104.1');
    assert.equal(ds.MIMETypeOfEncapsulatedDocument, 'application/pdf');
    assert.equal(ds.Modality, 'DOC');
    assert.equal(ds.StudyInstanceUID, ctx.study.studyInstanceUid, 'in the source study');
    assert.notEqual(ds.SeriesInstanceUID, ctx.series.seriesInstanceUid, 'its own series');
    assert.equal(pnAlphabetic(ds.PatientName), JP_NAME);
    assert.equal(ds.BurnedInAnnotation, 'YES', 'the PDF names the patient');
    const doc = new Uint8Array((ds.EncapsulatedDocument as ArrayBuffer[])[0] as ArrayBuffer);
    assert.equal(Number(ds.EncapsulatedDocumentLength), pdf.byteLength);
    assert.ok(doc.byteLength === pdf.byteLength + (pdf.byteLength % 2), 'padded to even length only');
    assert.ok(Buffer.from(doc.subarray(0, pdf.byteLength)).equals(pdf), 'the same bytes as report.pdf');
    // the key images the PDF shows are its source instances
    const sources = seqOf(ds, 'SourceInstanceSequence').map((x) => x.ReferencedSOPInstanceUID);
    assert.deepEqual(sources, [...new Set(ctx.keyImages.map((k) => k.sopInstanceUid))]);
    // two key frames of one multi-frame instance: one source instance
    const first = ctx.keyImages[0] as (typeof ctx.keyImages)[number];
    const twoFrames = decodePart10(encapsulatedPdf({ ...ctx, keyImages: [first, { ...first, frame: 1 }] }, pdf, 'x').bytes);
    assert.deepEqual(seqOf(twoFrames, 'SourceInstanceSequence').map((x) => x.ReferencedSOPInstanceUID), [first.sopInstanceUid]);
    if (has('dciodvfy')) {
      const v = dciodvfy(file);
      assert.deepEqual(v.errors, [], v.errors.join('\n'));
    }
  });

  it('measurements the reviewer drew are measured again from the file and reported in the JSON, SR and PDF', (t) => {
    const [roi, len] = ctx.measurements;
    assert.ok(roi?.stats && len?.length);
    assert.equal(roi.sopInstanceUid, series.ordered[11]?.sopInstanceUid);
    assert.ok(Math.abs(roi.stats.mean - 57.1) < 12, `ROI mean ${roi.stats.mean} HU in the lesion made at 57.1 HU`);
    assert.ok(Math.abs(roi.stats.area - Math.PI * 100 * 0.78125 ** 2) < 1e-6, 'pi r² in mm²');
    assert.ok(Math.abs(len.length.value - 156.25) < 1e-9 && len.length.unit === 'mm', '200 pixels of 0.78125 mm');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as { series: { measurements?: { id: string; stats?: { mean: number } }[] }[] };
    assert.deepEqual(json.series[0]?.measurements?.map((m) => m.id), ['M1', 'M2', 'M3']);
    assert.equal(json.series[0]?.measurements?.[0]?.stats?.mean, roi.stats.mean);
    // the SR: an ellipse and a polyline on slice 11, the mean in HU and the length in mm
    const sr = decodePart10(fs.readFileSync(path.join(dir, 'sr.dcm')));
    const items: NaturalDataset[] = [];
    const walk = (xs: NaturalDataset[] | undefined) => (xs ?? []).forEach((x) => (items.push(x), walk(x.ContentSequence as NaturalDataset[] | undefined)));
    walk(sr.ContentSequence as NaturalDataset[]);
    const meaning = (x: NaturalDataset) => ((x.ConceptNameCodeSequence as NaturalDataset[] | undefined)?.[0]?.CodeMeaning as string | undefined) ?? '';
    const value = (x: NaturalDataset) => Number((x.MeasuredValueSequence as NaturalDataset[])[0]?.NumericValue);
    assert.deepEqual(items.filter((x) => x.ValueType === 'SCOORD' && x.GraphicType !== 'POINT').map((x) => x.GraphicType), ['ELLIPSE', 'POLYLINE', 'ELLIPSE']);
    const ellipses = items.filter((x) => x.GraphicType === 'ELLIPSE');
    assert.deepEqual(ellipses[0]?.GraphicData, [150, 234, 170, 234, 160, 224, 160, 244], 'major axis, then minor (a circle: either)');
    assert.deepEqual(ellipses[1]?.GraphicData, [65, 40, 65, 70, 60, 55, 70, 55], 'taller than wide: the vertical axis first');
    // the length as TID 300 has it: NUM Length INFERRED FROM its POLYLINE, SELECTED FROM the slice
    const lengthNum = items.find((x) => meaning(x) === 'Length') as NaturalDataset;
    const line = (lengthNum.ContentSequence as NaturalDataset[])[0] as NaturalDataset;
    assert.deepEqual([line.RelationshipType, line.GraphicType, line.GraphicData], ['INFERRED FROM', 'POLYLINE', [156, 300, 356, 300]]);
    assert.equal(((line.ContentSequence as NaturalDataset[])[0]?.ReferencedSOPSequence as NaturalDataset[])[0]?.ReferencedSOPInstanceUID, series.ordered[11]?.sopInstanceUid);
    const mean = items.find((x) => meaning(x) === 'Attenuation Coefficient' && JSON.stringify(x.ContentSequence).includes('373098007')) as NaturalDataset;
    assert.ok(Math.abs(value(mean) - roi.stats.mean) < 1e-3);
    assert.equal(((mean.MeasuredValueSequence as NaturalDataset[])[0]?.MeasurementUnitsCodeSequence as NaturalDataset[])[0]?.CodeValue, "[hnsf'U]");
    assert.equal(value(items.find((x) => meaning(x) === 'Length') as NaturalDataset), 156.25);
    if (has('pdftotext')) {
      const text = spawnSync('pdftotext', ['-layout', path.join(dir, 'report.pdf'), '-'], { encoding: 'utf8' }).stdout;
      assert.match(text, /Measurements/);
      // slice index 11 of 45, read from the top: slice 34, Im 12
      assert.match(text, /M2\s+34\s+Length\s+156\.3 mm\s+Im 12/);
      assert.match(text, new RegExp(`M1\\s+34\\s+Ellipse ROI\\s+mean ${roi.stats.mean.toFixed(1).replace('.', '\\.')} HU`));
    } else t.diagnostic('pdftotext not installed: PDF text not checked');
  });

  it('the SR reads back with the findings, decisions, slice references and the algorithm', () => {
    const bytes = fs.readFileSync(path.join(dir, 'sr.dcm'));
    const h = instanceHeader(parseDicomBytes(bytes, 'sr.dcm'), 'sr.dcm');
    assert.equal(h.sopClassUid, '1.2.840.10008.5.1.4.1.1.88.33');
    assert.equal(h.patient.name, JP_NAME, 'dicom-parser + ReSight charset decoding');
    assert.equal(h.studyInstanceUid, series.studyInstanceUid, 'same study');
    const ds = decodePart10(bytes);
    assert.equal(pnAlphabetic(ds.PatientName), JP_NAME);
    const walk = (items: NaturalDataset[], out: NaturalDataset[] = []) => {
      for (const it of items) {
        out.push(it);
        walk(seqOf(it, 'ContentSequence'), out);
      }
      return out;
    };
    const all = walk(seqOf(ds, 'ContentSequence'));
    // TID 1500 said at the root; the key images in an Image Library Group (TID 1600)
    assert.deepEqual(seqOf(ds, 'ContentTemplateSequence').map((t) => [t.MappingResource, t.TemplateIdentifier]), [['DCMR', '1500']]);
    const library = all.find((i) => seqOf(i, 'ConceptNameCodeSequence')[0]?.CodeValue === '111028') as NaturalDataset;
    assert.deepEqual(seqOf(library, 'ContentSequence').map((c) => seqOf(c, 'ConceptNameCodeSequence')[0]?.CodeValue), ['126200']);
    assert.equal(seqOf(seqOf(library, 'ContentSequence')[0] as NaturalDataset, 'ContentSequence').length, ctx.keyImages.length);
    // a finding's Tracking UID is the same in the next export of the same analysis (it tracks the finding across reports)
    const trackingUids = (d: NaturalDataset) => walk([d]).filter((i) => seqOf(i, 'ConceptNameCodeSequence')[0]?.CodeValue === '112040').map((i) => i.UID);
    assert.deepEqual(trackingUids(decodePart10(structuredReport(ctx, 'another-export').bytes)), trackingUids(ds));
    const groups = walk([ds]).filter((i) => seqOf(i, 'ConceptNameCodeSequence')[0]?.CodeValue === '125007');
    assert.equal(groups.length, ctx.analysis.findings.length + 1 + ctx.measurements.length, 'a measurement group per finding, the added one and each measurement');
    const textOf = (g: NaturalDataset, code: string) => seqOf(g, 'ContentSequence').find((c) => seqOf(c, 'ConceptNameCodeSequence')[0]?.CodeValue === code);
    const labels = findingLabels(ctx);
    for (const f of ctx.analysis.findings) {
      // the Tracking Identifier names the finding as people read it (the PDF's F1), then by its internal id
      const g = groups.find((x) => textOf(x, '112039')?.TextValue === `${labels.get(f.id)} (${f.id})`);
      assert.ok(g, f.id);
      assert.ok(textOf(g, '112040')?.UID, 'the Tracking UID stays');
      // the report's numbers (45 slices read from the top: 45 - index), the Instance Numbers (index + 1 on the demo), the JSON's indices
      const span = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
      assert.equal(textOf(g, 'SLICES')?.TextValue, `${span(45 - f.sliceEnd, 45 - f.sliceStart)} (numbered from 1 as the report does; Im ${span(f.sliceStart + 1, f.sliceEnd + 1)}; ${f.sliceStart}-${f.sliceEnd} counted from 0 in position order)`);
      // the finding's slices: Source of Measurement of its probability (TID 300), INFERRED FROM
      const probability = seqOf(g, 'ContentSequence').find((c) => c.ValueType === 'NUM' && seqOf(c, 'ConceptNameCodeSequence')[0]?.CodeValue === PROBABILITY_CODE) as NaturalDataset;
      const sources = seqOf(probability, 'ContentSequence');
      assert.ok(sources.every((c) => c.ValueType === 'IMAGE' && c.RelationshipType === 'INFERRED FROM' && seqOf(c, 'ConceptNameCodeSequence')[0]?.CodeValue === '121112'));
      assert.deepEqual(sources.map((c) => seqOf(c, 'ReferencedSOPSequence')[0].ReferencedSOPInstanceUID), ctx.analysis.slices.slice(f.sliceStart, f.sliceEnd + 1).map((s) => s.sopInstanceUid));
      assert.equal(seqOf(g, 'ContentSequence').filter((c) => c.ValueType === 'IMAGE').length, 0, 'no image item directly in the group');
      // TID 4019: the algorithm as concept modifiers
      for (const c of ['111001', '111003']) assert.equal(seqOf(g, 'ContentSequence').find((x) => seqOf(x, 'ConceptNameCodeSequence')[0]?.CodeValue === c)?.RelationshipType, 'HAS CONCEPT MOD', c);
      assert.equal(textOf(g, 'MODELSHA')?.TextValue, model.identity.sha256);
      const scoord = seqOf(g, 'ContentSequence').find((c) => c.ValueType === 'SCOORD');
      assert.ok(scoord && f.centroid);
      assert.deepEqual(scoord.GraphicData, [Math.fround(f.centroid[0] + 0.5), Math.fround(f.centroid[1] + 0.5)], 'pixel centre convention, float32 (FL)');
    }
    const decisions = all.filter((i) => seqOf(i, 'ConceptNameCodeSequence')[0]?.CodeValue === 'REVDEC').map((i) => seqOf(i, 'ConceptCodeSequence')[0].CodeValue);
    assert.ok(decisions.includes('ACCEPTED') && decisions.includes('REJECTED'));
    const ce = seqOf(ds, 'ContributingEquipmentSequence')[0];
    assert.deepEqual([seqOf(ce, 'PurposeOfReferenceCodeSequence')[0].CodeValue, seqOf(ce, 'PurposeOfReferenceCodeSequence')[0].CodingSchemeDesignator], ['109102', 'DCM'], 'Processing Equipment (CID 7005)');
    assert.equal(ce.ManufacturerModelName, model.identity.name);
  });

  it('each SC is the key slice with the heatmap burned in, in the source study, referencing its source', () => {
    for (const [i, k] of scKeyImages(ctx).entries()) {
      const bytes = fs.readFileSync(path.join(dir, 'sc', `ReSight-SC-00${i + 1}.dcm`));
      const ds = decodePart10(bytes);
      assert.equal(ds.SOPClassUID, '1.2.840.10008.5.1.4.1.1.7');
      assert.equal(ds.BurnedInAnnotation, 'YES');
      assert.equal(ds.StudyInstanceUID, series.studyInstanceUid);
      assert.notEqual(ds.SeriesInstanceUID, series.seriesInstanceUid, 'a new series');
      assert.equal(pnAlphabetic(ds.PatientName), JP_NAME);
      assert.equal(seqOf(ds, 'SourceImageSequence')[0].ReferencedSOPInstanceUID, k.sopInstanceUid);
      assert.equal(seqOf(seqOf(ds, 'ContributingEquipmentSequence')[0], 'PurposeOfReferenceCodeSequence')[0].CodeMeaning, 'Processing Equipment');
      const px = new Uint8Array((ds.PixelData as ArrayBuffer[])[0]);
      assert.deepEqual(Buffer.from(px), Buffer.from(renderKeyImage(keyImageForExport(ctx, k).image).rgb), 'the pixels are the shared renderer\'s');
    }
  });

  it('the SCs are numbered in the order of the findings\' labels (SC-001 = F1) and describe them as the PDF does: label, slices from 1', () => {
    const labels = findingLabels(ctx);
    // the demo lists its findings by class, so label order is another order: the test means something
    assert.notDeepEqual(ctx.keyImages.map((k) => k.findingId), keyImagesInLabelOrder(ctx).map((k) => k.findingId), 'the demo\'s findings are not listed in label order');
    // (the rejected finding has none: the others keep label order)
    const order = scKeyImages(ctx).map((k) => Number(labels.get(k.findingId)?.slice(1)));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    assert.ok(scKeyImages(ctx).some((k) => k.findingId === 'added:1'), 'the reviewer\'s own finding has its key image');
    for (const [i, k] of scKeyImages(ctx).entries()) {
      const ds = decodePart10(fs.readFileSync(path.join(dir, 'sc', `ReSight-SC-00${i + 1}.dcm`)));
      assert.equal(Number(ds.InstanceNumber), i + 1);
      assert.equal(seqOf(ds, 'SourceImageSequence')[0].ReferencedSOPInstanceUID, k.sopInstanceUid);
      assert.equal(ds.BurnedInAnnotation, 'YES');
      const f = ctx.analysis.findings.find((x) => x.id === k.findingId);
      if (!f) {
        // reviewer-added: its slice, no heatmap, and said so
        assert.equal(k.sliceIndex, 3);
        assert.equal(ds.DerivationDescription, `${labels.get(k.findingId)} lung_nodule added by the reviewer, slice 42 (numbered from 1 as the report does); no heatmap (the model did not flag it)`);
        continue;
      }
      const label = labels.get(f.id) as string;
      assert.equal(ds.DerivationDescription, `${label} ${f.class} p=${f.score.toFixed(3)}, slices ${f.sliceStart === f.sliceEnd ? 45 - f.sliceStart : `${45 - f.sliceEnd}-${45 - f.sliceStart}`}, key slice ${45 - f.keySlice} (numbered from 1 as the report does); ${k.camSource} heatmap burned in (AI output, not for clinical use); reviewer: ${ctx.reviews.find((r) => r.findingId === f.id)?.decision ?? 'not reviewed'}`);
    }
  });

  it('the key images say in their pixels that they are AI output, not for diagnosis', () => {
    for (const k of ctx.keyImages) {
      const { image } = keyImageForExport(ctx, k);
      const found = ctx.analysis.findings.find((x) => x.id === k.findingId);
      if (!found) {
        // the reviewer's own finding is not called the AI's
        assert.equal(image.caption, `RESIGHT ${findingLabels(ctx).get(k.findingId)} LUNG NODULE -\nADDED BY REVIEWER -\nNOT FOR DIAGNOSIS`);
        assert.equal(k.image.heat, null);
        continue;
      }
      const f = found;
      // where the review stands, in words: a key image leaves for the PACS on its own
      const decision = ctx.reviews.find((r) => r.findingId === f.id)?.decision;
      const line = decision === 'rejected' ? 'REJECTED BY REVIEWER' : decision === 'accepted' ? 'ACCEPTED BY REVIEWER' : decision === 'edited' ? 'EDITED BY REVIEWER' : 'NOT REVIEWED';
      assert.equal(image.caption, `RESIGHT AI ${findingLabels(ctx).get(f.id)} ${f.class.replace(/_/g, ' ').toUpperCase()} P ${f.score.toFixed(3)} -\n${line} -\nNOT FOR DIAGNOSIS`);
      const withCaption = renderKeyImage(image).rgb;
      const without = renderKeyImage(k.image).rgb;
      // the caption sits in the top-left corner, clear of the finding's hot spot
      const changed: [number, number][] = [];
      for (let p = 0; p < withCaption.length; p += 3) if (withCaption[p] !== without[p] || withCaption[p + 1] !== without[p + 1] || withCaption[p + 2] !== without[p + 2]) changed.push([(p / 3) % image.columns, Math.floor(p / 3 / image.columns)]);
      assert.ok(changed.length > 200, `the caption is burned in (${changed.length} px)`);
      assert.ok(changed.every(([x, y]) => x < image.columns / 2 && y < image.rows / 4), 'in the top-left corner');
      if (f.centroid) assert.ok(!changed.some(([x, y]) => Math.abs(x - (f.centroid as number[])[0]) < 16 && Math.abs(y - (f.centroid as number[])[1]) < 16), 'not over the hot spot');
    }
  });

  it('pydicom reads the SR and SC', { skip: !hasPydicom && 'pydicom not installed for /usr/bin/python3' }, () => {
    const script = `import sys, pydicom\nfor f in sys.argv[1:]:\n    d = pydicom.dcmread(f)\n    print(d.SOPClassUID, str(d.PatientName), d.get('BurnedInAnnotation', '-'))\n    if 'PixelData' in d: assert d.pixel_array.shape == (d.Rows, d.Columns, 3)\n`;
    const sc = fs.readdirSync(path.join(dir, 'sc')).map((n) => path.join(dir, 'sc', n));
    const r = spawnSync(PY, ['-c', script, path.join(dir, 'sr.dcm'), ...sc], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1 + sc.length);
    for (const l of lines) assert.ok(l.includes(JP_NAME), l);
  });

  it('the PDF has the sha256, every finding, the decisions and the disclaimer on every page', { skip: !has('pdftotext') && 'poppler-utils not installed' }, (t) => {
    const pdf = path.join(dir, 'report.pdf');
    const text = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout;
    assert.ok(text.includes(model.identity.sha256));
    // every finding, by its label (F1, F2, ...; the added one last)
    const labels = findingLabels(ctx);
    assert.equal(labels.size, ctx.analysis.findings.length + 1);
    for (const label of labels.values()) assert.match(text, new RegExp(`^\\s*${label}\\s`, 'm'), label);
    assert.ok(text.includes('missed by the model'));
    // the providers not used are named, ONNX Runtime's paragraphs on why are left to the JSON
    const flat = text.replace(/\s+/g, ' ');
    for (const f of ctx.provider.fallbacks) {
      assert.ok(flat.includes(f.provider), `${f.provider} named`);
      if (f.reason.length > 40) assert.ok(!flat.includes(f.reason.replace(/\s+/g, ' ').slice(0, 40)), `${f.provider}'s reason kept out of the PDF`);
    }
    assert.match(text, /Accepted/);
    assert.match(text, /Rejected/);
    // a finding whose run has long weak ends says where it is strong (the demo's liver lesion: 8-21, strong 10-14)
    // labelled from the head down (the demo's indices run from the feet up): the two nodules, then the liver's two
    // and numbered from the top (slice 1 is the head-most of 45), with the PACS's Instance Numbers beside them
    assert.match(text, /^\s*F1\s+lung nodule\s+0\.404\s+6-8, key 8\s/m);
    assert.match(text, /^\s*F4\s+liver lesion\s+0\.980\s+25-38, key 35\s/m);
    // under them (a line of the cell) the PACS's numbers: the demo numbers its images from the feet up
    assert.ok(flat.includes('Im 38-40, key 38') && flat.includes('Im 8-21, key 11'), 'the Instance Numbers of F1 and F4');
    assert.ok(flat.includes('strongest 32-36'), 'F4\'s core (index 9-13)');
    assert.match(flat, /strongest: the slices around the key slice scoring at least half its peak/);
    // each key image's marker also in patient coordinates (the demo is axial, 0.78125 mm pixels)
    const f1 = ctx.analysis.findings.find((f) => findingLabels(ctx).get(f.id) === 'F1');
    const k1 = ctx.keyImages.find((k) => k.findingId === f1?.id);
    assert.ok(f1?.centroid && k1);
    assert.ok(flat.includes(`(${patientPointText(ctx, k1.sliceIndex, f1.centroid, k1.image.imageOrientationPatient, k1.image.pixelSpacing)}, patient coordinates)`), 'F1\'s hot spot in patient coordinates');
    assert.match(flat, /hot spot at x \d+, y \d+ px \([RL] [\d.]+, [AP] [\d.]+, [IS] [\d.]+ mm, patient coordinates\)/);
    const pages = text.split('\f').filter((p) => p.trim());
    assert.ok(pages.length >= 2);
    for (const [i, p] of pages.entries()) {
      assert.match(p, /Not for clinical use/i, `page ${i + 1}`);
      assert.ok(p.includes(`Page ${i + 1} of ${pages.length}`), `page ${i + 1} numbered`);
    }
    if (findUnicodeFont()) assert.ok(text.includes('山田 太郎'), 'the Japanese name is real text');
    const out = tempDir(t, 'pages');
    const r = spawnSync('pdftoppm', ['-r', '40', '-png', pdf, path.join(out, 'p')]);
    assert.equal(r.status, 0);
    assert.equal(fs.readdirSync(out).length, pages.length, 'pdftoppm renders every page');
  });

  it('the PDF names findings F1, F2, ... with 1-based slices, never by the internal id (0-based slices)', { skip: !has('pdftotext') && 'poppler-utils not installed' }, () => {
    const text = spawnSync('pdftotext', ['-layout', path.join(dir, 'report.pdf'), '-'], { encoding: 'utf8' }).stdout;
    const flat = text.replace(/\s+/g, ' ');
    const labels = findingLabels(ctx);
    // the internal ids are `<class>:<first>-<last>` and `added:...`: none of them, nor any class:number, in the PDF text
    for (const f of ctx.analysis.findings) assert.ok(!text.includes(f.id), `${f.id} is not in the PDF`);
    assert.doesNotMatch(text, /[a-z_]+:\d+(-\d+)?/, 'no internal finding id');
    assert.doesNotMatch(text, /added:/);
    // the findings table: label, class, score, slices counted from 1 with the key slice
    for (const f of ctx.analysis.findings) {
      const label = labels.get(f.id) as string;
      const row = new RegExp(`^\\s*${label}\\s+${f.class.replace(/_/g, ' ')}\\s+${f.score.toFixed(3).replace('.', '\\.')}\\s+${sliceRangeOf(ctx, f.sliceStart, f.sliceEnd)}, key ${sliceNumberOf(ctx, f.keySlice)}\\s`, 'm');
      assert.match(text, row, `${f.id} is ${label} on slices ${sliceRangeOf(ctx, f.sliceStart, f.sliceEnd)}`);
    }
    const added = ctx.added[0] as (typeof ctx.added)[number];
    assert.match(text, new RegExp(`^\\s*${labels.get(added.id)}\\s+lung nodule\\s+-\\s+${sliceRangeOf(ctx, added.sliceStart, added.sliceEnd)}\\s`, 'm'), 'the added finding, numbered as the others');
    // the AI summary names them too, and each key image's caption starts with its label, in label order
    for (const f of ctx.analysis.findings) assert.ok(flat.includes(`${labels.get(f.id)} ${sliceRangeOf(ctx, f.sliceStart, f.sliceEnd)}`), `summary: ${labels.get(f.id)}`);
    const captions = [...text.matchAll(/\b(F\d+) (lung nodule|liver lesion)\s+probability/g)].map((m) => m[1]);
    assert.deepEqual(captions, ctx.analysis.findings.map((f) => labels.get(f.id)).sort((a, b) => Number(a?.slice(1)) - Number(b?.slice(1))), 'key images F1, F2, ... in order');
  });

  it('a key image whose map is much weaker than its class\'s strongest says by how much (each is stretched to its own maximum, so the colours alone would not)', { skip: !has('pdftotext') && 'poppler-utils not installed' }, () => {
    const flat = spawnSync('pdftotext', [path.join(dir, 'report.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    const classOf = (id: string) => ctx.analysis.findings.find((f) => f.id === id)?.class ?? '';
    const top = new Map<string, number>();
    for (const k of ctx.keyImages) if (k.camSource && k.image.heatMax) top.set(classOf(k.findingId), Math.max(top.get(classOf(k.findingId)) ?? 0, k.image.heatMax));
    const weak = ctx.keyImages.filter((k) => k.camSource && (k.image.heatMax as number) < 0.5 * (top.get(classOf(k.findingId)) as number));
    assert.ok(weak.length, 'the demo has a weak map beside a strong one of its class');
    for (const k of weak) {
      const pct = Math.max(1, Math.round((100 * (k.image.heatMax as number)) / (top.get(classOf(k.findingId)) as number)));
      assert.ok(flat.includes(`its maximum is ${pct} % of the strongest ${classOf(k.findingId).replace(/_/g, ' ')} map in this report`), `${k.findingId}: ${pct} %`);
    }
    assert.equal((flat.match(/% of the strongest/g) ?? []).length, weak.length, 'said of the weak ones only');
  });

  it('the PDF says on page 1 that it is a draft, and which findings are not reviewed; signed off and all reviewed, it does not', { skip: !has('pdftotext') && 'poppler-utils not installed' }, async (t) => {
    const labels = findingLabels(ctx);
    const text = spawnSync('pdftotext', ['-l', '1', path.join(dir, 'report.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    // two of the four model findings have decisions; a decision left at pending counts as none
    const undecided = ctx.analysis.findings.filter((f) => !ctx.reviews.some((r) => r.findingId === f.id)).map((f) => labels.get(f.id) as string).sort();
    assert.equal(undecided.length, 2);
    const pendingText = `2 of ${ctx.analysis.findings.length} AI findings not reviewed (${undecided.join(', ')})`;
    assert.ok(text.includes(`DRAFT - not signed off in the viewer; ${pendingText}.`), text.slice(0, 400));
    assert.ok(text.includes(`2 of ${ctx.analysis.findings.length} AI findings not reviewed: ${undecided.join(', ')}.`), 'under the findings table');
    const out = tempDir(t, 'draft');
    const at = '2026-11-28T10:05:00Z';
    const pending = ctx.analysis.findings.find((f) => labels.get(f.id) === undecided[0]) as (typeof ctx.analysis.findings)[number];
    const withPending: ReportContext = { ...ctx, reviews: [...ctx.reviews, { findingId: pending.id, decision: 'pending', at }] };
    await writeExports([withPending], { pdf: path.join(out, 'pending.pdf') });
    const p1 = spawnSync('pdftotext', ['-layout', path.join(out, 'pending.pdf'), '-'], { encoding: 'utf8' }).stdout;
    assert.ok(p1.replace(/\s+/g, ' ').includes(pendingText), 'a decision set back to pending is still not reviewed');
    assert.match(p1, new RegExp(`^\\s*${undecided[0]}\\s.*Not reviewed`, 'm'));
    assert.doesNotMatch(p1, /Pending/);
    const final: ReportContext = { ...ctx, reviews: ctx.analysis.findings.map((f) => ({ findingId: f.id, decision: 'accepted' as const, at })), signOff: { at: '2026-11-28T10:06:00Z', current: true } };
    await writeExports([final], { pdf: path.join(out, 'final.pdf') });
    const p2 = spawnSync('pdftotext', [path.join(out, 'final.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    assert.doesNotMatch(p2, /DRAFT|not reviewed/i);
    assert.ok(p2.includes('signed off in the viewer at 2026-11-28 10:06:00 UTC'));
    // final says so at the top, as plainly as a draft does
    assert.ok(p2.includes(`Reviewed: signed off in the viewer at 2026-11-28 10:06 UTC; all ${ctx.analysis.findings.length} AI findings reviewed.`), p2.slice(0, 300));
    // signed off with findings still pending: the sign-off line says it is not final (as the DRAFT line does)
    const signedOpen: ReportContext = { ...ctx, signOff: { at: '2026-11-28T10:06:00Z', current: true } };
    await writeExports([signedOpen], { pdf: path.join(out, 'signed-open.pdf'), pdfDicom: path.join(out, 'signed-open-pdf.dcm'), json: path.join(out, 'signed-open.json') });
    const p3 = spawnSync('pdftotext', [path.join(out, 'signed-open.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    assert.ok(p3.includes(`signed off in the viewer at 2026-11-28 10:06:00 UTC (no name was recorded with the sign-off), with ${undecided.join(', ')} not reviewed: a draft, not final`), p3);
    // the PACS's study list shows the Encapsulated PDF's title: a draft reads as one there
    assert.match(String(decodePart10(fs.readFileSync(path.join(out, 'signed-open-pdf.dcm'))).DocumentTitle), /^DRAFT - ReSight AI second-reader report/);
    assert.doesNotMatch(String(decodePart10(encapsulatedPdf(final, fs.readFileSync(path.join(out, 'final.pdf')), 'x').bytes).DocumentTitle), /DRAFT/);
    // the JSON says the same, and names each finding by its label
    const j = JSON.parse(fs.readFileSync(path.join(out, 'signed-open.json'), 'utf8')) as { series: { reviewStatus: { final: boolean; draftReasons: string[] }; findings: { id: string; label: string }[]; addedFindings: { label: string }[] }[] };
    assert.deepEqual(j.series[0]?.reviewStatus, { final: false, draftReasons: [`2 of ${ctx.analysis.findings.length} AI findings not reviewed (${undecided.join(', ')})`] });
    assert.deepEqual(j.series[0]?.findings.map((f) => f.label), ctx.analysis.findings.map((f) => labels.get(f.id)));
    assert.deepEqual(j.series[0]?.addedFindings.map((f) => f.label), ['F5']);
    const unnamed = { ...final };
    delete unnamed.reviewer;
    await writeExports([unnamed], { pdf: path.join(out, 'unnamed.pdf') });
    assert.ok(spawnSync('pdftotext', [path.join(out, 'unnamed.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ').includes('DRAFT - no reviewer named.'));
  });

  it('the SR states the review status and names the reviewer in PN form, however the name was typed', (t) => {
    const reviewStatusOf = (bytes: Uint8Array) => {
      const ds = decodePart10(bytes);
      return seqOf(ds, 'ContentSequence').find((c) => seqOf(c, 'ConceptNameCodeSequence')[0]?.CodeValue === 'REVSTATUS')?.TextValue;
    };
    // dcmjs reads items nested in sequences without the dataset's SpecificCharacterSet (ISO_IR 192):
    // their UTF-8 bytes come back as Latin-1 characters (pydicom reads the same file right)
    const personOf = (bytes: Uint8Array) => Buffer.from(pnAlphabetic(seqOf(decodePart10(bytes), 'ContentSequence').find((c) => c.ValueType === 'PNAME')?.PersonName), 'latin1').toString('utf8');
    const labels = findingLabels(ctx);
    const undecided = ctx.analysis.findings.filter((f) => !ctx.reviews.some((r) => r.findingId === f.id)).map((f) => labels.get(f.id) as string).sort();
    assert.equal(reviewStatusOf(fs.readFileSync(path.join(dir, 'sr.dcm'))), `Draft: not signed off in the viewer; 2 of ${ctx.analysis.findings.length} AI findings not reviewed (${undecided.join(', ')}).`);
    assert.equal(personOf(fs.readFileSync(path.join(dir, 'sr.dcm'))), '佐藤^花子', 'typed in PN form: kept');
    const final: ReportContext = { ...ctx, reviewer: 'Hanako Sato', reviews: ctx.analysis.findings.map((f) => ({ findingId: f.id, decision: 'rejected' as const, at: '2026-11-28T10:05:00Z' })), signOff: { at: '2026-11-28T10:06:00Z', current: true } };
    const sr = structuredReport(final, 'final').bytes;
    assert.equal(reviewStatusOf(sr), `Signed off in the viewer at 2026-11-28 10:06:00 UTC; all ${ctx.analysis.findings.length} AI findings reviewed.`);
    assert.equal(decodePart10(sr).CompletionFlagDescription, 'Signed off in the viewer, every AI finding reviewed');
    // signed off, but with findings not reviewed: a draft, and the sign-off recorded as well
    const open = structuredReport({ ...ctx, signOff: { at: '2026-11-28T10:06:00Z', current: true } }, 'open').bytes;
    assert.equal(reviewStatusOf(open), `Draft: 2 of ${ctx.analysis.findings.length} AI findings not reviewed (${undecided.join(', ')}). Signed off in the viewer at 2026-11-28 10:06:00 UTC, not final while the above stands.`);
    assert.equal(decodePart10(open).CompletionFlag, 'PARTIAL');
    assert.equal(decodePart10(open).CompletionFlagDescription, 'Draft: the review is not complete (see Review status)');
    assert.equal(personOf(sr), 'Sato^Hanako', 'typed as people write it: Family^Given');
    assert.equal(personOf(structuredReport({ ...final, reviewer: 'Sato, Hanako' }, 'x').bytes), 'Sato^Hanako');
    if (has('dciodvfy')) {
      const f = path.join(tempDir(t, 'sr-final'), 'sr.dcm');
      fs.writeFileSync(f, sr);
      assert.deepEqual(dciodvfy(f).errors, []);
    }
  });

  it('the PDF draws the Japanese name, not only carries it as text (the embedded font subset is intact)', { skip: (!has('pdftotext') || !has('pdftoppm') || !findUnicodeFont()) && 'poppler-utils or a Unicode font missing' }, (t) => {
    const pdf = path.join(dir, 'report.pdf');
    const inked = inkInWord(pdf, '山田', tempDir(t, 'ink'));
    assert.ok(inked > 20, `dark pixels inside the name's box: ${inked}`);
    if (has('pdffonts')) {
      const fonts = spawnSync('pdffonts', [pdf], { encoding: 'utf8' }).stdout;
      assert.match(fonts, /^[A-Z]{6}\+\S+\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/m, `the Unicode font is an embedded, tagged subset with a ToUnicode map:\n${fonts}`);
    }
  });

  it('a word wider than its column (a UID in a comment, Japanese without spaces) is broken, not run off the page', { skip: !has('pdftotext') && 'poppler-utils not installed' }, async (t) => {
    const long = `1.2.826.0.1.3680043.8.498.${'7'.repeat(120)}`;
    const jp = '右肺上葉に八ミリの充実性結節を認める経過観察を推奨する'.repeat(4);
    const c: ReportContext = { ...ctx, reviews: ctx.reviews.map((r, i) => (i === 0 ? { ...r, comment: `see ${long} and ${jp} follow-up` } : r)) };
    const out = tempDir(t, 'wrap');
    await writeExports([c], { pdf: path.join(out, 'r.pdf') });
    const page = pdfWords(path.join(out, 'r.pdf'), 1);
    assert.ok(page.words.length > 50);
    const right = Math.max(...page.words.map((w) => w.xMax));
    assert.ok(right <= page.width - 40, `every word ends inside the right margin (rightmost at ${right.toFixed(1)} of ${page.width})`);
    const text = spawnSync('pdftotext', [path.join(out, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, '');
    assert.ok(text.includes(long), 'the UID is all there, over several lines');
    if (findUnicodeFont()) assert.ok(text.includes(jp), 'the Japanese comment is all there');
  });

  it('the PDF\'s key images are the shared renderer\'s pixels (the viewer\'s overlay colours)', { skip: !has('pdfimages') && 'poppler-utils not installed' }, (t) => {
    const out = tempDir(t, 'images');
    // without -png, pdfimages writes PPM (P6): a text header, then the raw RGB samples
    const r = spawnSync('pdfimages', [path.join(dir, 'report.pdf'), path.join(out, 'img')]);
    assert.equal(r.status, 0);
    const ppms = fs.readdirSync(out).sort();
    assert.equal(ppms.length, ctx.keyImages.length);
    // the PDF shows them in the order of their labels (F1 first)
    const order = [...findingLabels(ctx).keys()];
    const shown = [...ctx.keyImages].sort((a, b) => order.indexOf(a.findingId) - order.indexOf(b.findingId));
    for (const [i, k] of shown.entries()) {
      const b = fs.readFileSync(path.join(out, ppms[i]));
      const m = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(b.subarray(0, 32).toString('latin1'));
      assert.ok(m, ppms[i]);
      assert.deepEqual([Number(m[1]), Number(m[2])], [k.image.columns, k.image.rows]);
      const ours = renderKeyImage(keyImageForExport(ctx, k).image).rgb;
      const theirs = b.subarray(m[0].length);
      assert.equal(theirs.length, ours.length);
      assert.ok(theirs.equals(Buffer.from(ours)), `key image ${i + 1} is pixel-identical`);
    }
  });

  it('JSON and CSV hold every slice and finding with the reviews', () => {
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as { model: { sha256: string }; series: { slices: unknown[]; findings: unknown[]; reviews: unknown[] }[] };
    assert.equal(j.model.sha256, model.identity.sha256);
    assert.equal(j.series[0].slices.length, 45);
    assert.equal(j.series[0].reviews.length, 2);
    const csv = fs.readFileSync(path.join(dir, 'slices.csv'), 'utf8').trim().split('\r\n');
    assert.equal(csv.length, 46);
    assert.match(csv[0], /^series_instance_uid,slice_index,sop_instance_uid,frame,p_lung_nodule,p_liver_lesion,error$/);
    const fcsv = fs.readFileSync(path.join(dir, 'slices-findings.csv'), 'utf8');
    assert.ok(fcsv.includes('"agree, follow up in 3 months"'), 'quoted per RFC 4180');
  });

  it('the findings CSV names each finding by its label (F1, ...) with slices counted from 1, beside the 0-based columns', () => {
    const rows = fs.readFileSync(path.join(dir, 'slices-findings.csv'), 'utf8').trim().split('\r\n');
    const head = rows[0].split(',');
    // the columns as they were, then the new ones: a reader by position still reads the old columns
    assert.deepEqual(head, ['series_instance_uid', 'finding_id', 'origin', 'class', 'score', 'threshold', 'slice_start', 'slice_end', 'key_slice', 'key_sop_instance_uid', 'centroid_x', 'centroid_y', 'decision', 'comment', 'label', 'first_slice', 'last_slice', 'key_instance_number', 'core_first_slice', 'core_last_slice']);
    const col = (name: string) => head.indexOf(name);
    const labels = findingLabels(ctx);
    // (split on commas outside quotes: a comment may hold one)
    const cells = rows.slice(1).map((r) => r.match(/("[^"]*(?:""[^"]*)*"|[^,]*)(,|$)/g)?.map((c) => c.replace(/,$/, '')) ?? []);
    assert.deepEqual(cells.map((c) => c[col('label')]), [...labels.values()], 'in label order, F1 first, the added finding last');
    for (const c of cells) {
      const id = c[col('finding_id')];
      assert.equal(labels.get(id), c[col('label')]);
      // numbered as the PDF numbers them, from the top of the 45 (45 - index), lower first
      assert.equal(Number(c[col('first_slice')]), 45 - Number(c[col('slice_end')]));
      // the core inside the run, numbered so as well (none for the reviewer's own finding)
      const found = ctx.analysis.findings.find((x) => x.id === id);
      assert.equal(c[col('core_first_slice')], found?.coreEnd !== undefined ? String(45 - found.coreEnd) : '');
      assert.equal(c[col('core_last_slice')], found?.coreStart !== undefined ? String(45 - found.coreStart) : '');
      assert.equal(Number(c[col('last_slice')]), 45 - Number(c[col('slice_start')]));
      const f = ctx.analysis.findings.find((x) => x.id === id) ?? ctx.added.find((x) => x.id === id);
      assert.ok(f, id);
      assert.equal(Number(c[col('slice_start')]), f.sliceStart, 'the 0-based column is unchanged');
    }
  });

  it('the SR is PARTIAL while the review is a draft and COMPLETE once signed off, and passes dciodvfy either way', (t) => {
    assert.equal(decodePart10(fs.readFileSync(path.join(dir, 'sr.dcm'))).CompletionFlag, 'PARTIAL', 'the demo export is a draft (not signed off, findings not reviewed)');
    const final: ReportContext = { ...ctx, reviewer: 'Hanako Sato', reviews: ctx.analysis.findings.map((f) => ({ findingId: f.id, decision: 'accepted' as const, at: '2026-11-28T10:05:00Z' })), signOff: { at: '2026-11-28T10:06:00Z', current: true } };
    const sr = structuredReport(final, 'final').bytes;
    assert.equal(decodePart10(sr).CompletionFlag, 'COMPLETE');
    if (has('dciodvfy')) {
      const f = path.join(tempDir(t, 'sr-complete'), 'sr.dcm');
      fs.writeFileSync(f, sr);
      assert.deepEqual(dciodvfy(f).errors, []);
      assert.deepEqual(dciodvfy(path.join(dir, 'sr.dcm')).errors, []);
    }
  });

  it('the reviewer\'s impression is printed under "Impression (reviewer)", carried in the SR as TEXT Impression (DCM 121073) and in the JSON; the SR still passes dciodvfy', async (t) => {
    const out = tempDir(t, 'impression');
    const impression = 'Solid nodule in the left lower lobe, 9 mm: follow-up CT in 3 months.\nLiver: one hypodense lesion, likely a cyst.';
    const withImpression: ReportContext = { ...ctx, impression };
    await writeExports([withImpression], { pdf: path.join(out, 'r.pdf'), sr: path.join(out, 'sr.dcm'), json: path.join(out, 'r.json') });
    if (has('pdftotext')) {
      const text = spawnSync('pdftotext', ['-layout', path.join(out, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout;
      const at = text.indexOf('Impression (reviewer)');
      assert.ok(at > 0, 'the PDF has the section');
      assert.ok(at < text.indexOf('AI summary') && at > text.indexOf('Patient, study and series'), 'where a referring physician reads first: after whose report it is, before the AI');
      const after = text.slice(at).replace(/\s+/g, ' ');
      assert.ok(after.includes('Solid nodule in the left lower lobe, 9 mm: follow-up CT in 3 months. Liver: one hypodense lesion, likely a cyst.'), 'the text as written');
    }
    const sr = decodePart10(fs.readFileSync(path.join(out, 'sr.dcm')));
    const item = seqOf(sr, 'ContentSequence').find((c) => seqOf(c, 'ConceptNameCodeSequence')[0]?.CodeValue === '121073');
    assert.equal(seqOf(item ?? {}, 'ConceptNameCodeSequence')[0]?.CodingSchemeDesignator, 'DCM');
    assert.equal(item?.ValueType, 'TEXT');
    assert.equal(item?.RelationshipType, 'CONTAINS');
    assert.equal(String(item?.TextValue).replace(/\r\n/g, '\n'), impression);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'r.json'), 'utf8')) as { series: { impression?: string }[] };
    assert.equal(json.series[0]?.impression, impression);
    if (has('dciodvfy')) assert.deepEqual(dciodvfy(path.join(out, 'sr.dcm')).errors, []);
    // none written: no section, no item, no key
    const plain = structuredReport(ctx, 'plain').bytes;
    assert.ok(!seqOf(decodePart10(plain), 'ContentSequence').some((c) => seqOf(c, 'ConceptNameCodeSequence')[0]?.CodeValue === '121073'));
    assert.ok(!('impression' in (exportJson([ctx], {}) as { series: object[] }).series[0]));
    // de-identified: the patient's identifying values in it are redacted, the rest kept
    const deid = tempDir(t, 'impression-deid');
    await writeExports([{ ...ctx, impression: `Compared with ACC-7731: ${impression}` }], { sr: path.join(deid, 'sr.dcm'), json: path.join(deid, 'r.json') }, { deidentify: true });
    const dj = JSON.parse(fs.readFileSync(path.join(deid, 'r.json'), 'utf8')) as { series: { impression?: string }[] };
    assert.equal(dj.series[0]?.impression, `Compared with [redacted]: ${impression}`);
    assert.equal(fs.readFileSync(path.join(deid, 'sr.dcm')).indexOf('ACC-7731'), -1);
  });

  it('a finding\'s key slice is also given by its Instance Number (Im) and position, as another viewer finds it, in the PDF and the findings CSV', async (t) => {
    assert.deepEqual(ctx.sliceMeta?.map((m) => m.instanceNumber), ctx.analysis.slices.map((_, i) => i + 1), 'the demo numbers its instances in position order');
    assert.ok(ctx.sliceMeta?.every((m, i) => i === 0 || (m.location as number) > (ctx.sliceMeta?.[i - 1]?.location as number)), 'positions along the normal, ascending');
    // a scan numbered head to feet: Instance Number runs against ReSight's order
    const n = ctx.analysis.slices.length;
    const reversed: ReportContext = { ...ctx, sliceMeta: ctx.sliceMeta?.map((m, i) => ({ ...m, instanceNumber: n - i })) };
    const out = tempDir(t, 'instance-number');
    await writeExports([reversed], { pdf: path.join(out, 'r.pdf'), csv: path.join(out, 'f.csv') });
    const labels = findingLabels(ctx);
    const f1 = ctx.analysis.findings.find((f) => labels.get(f.id) === 'F1') as (typeof ctx.analysis.findings)[number];
    const im = n - f1.keySlice;
    if (has('pdftotext')) {
      const text = spawnSync('pdftotext', ['-layout', path.join(out, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout;
      assert.match(text, new RegExp(`^F1\\s.*, key ${n - f1.keySlice}\\s`, 'm'), 'the findings table');
      assert.match(text.replace(/\s+/g, ' '), new RegExp(`, key ${im} `), 'its Instance Number under it');
      assert.ok(text.includes(`Im ${im} (Instance Number), position ${(ctx.sliceMeta?.[f1.keySlice]?.location as number).toFixed(1)} mm`), 'the key image caption');
      assert.ok(text.replace(/\s+/g, ' ').includes('Im is the image\'s Instance Number, as PACS viewers number images.'), 'and what Im means');
    }
    const rows = fs.readFileSync(findingsCsvPath(path.join(out, 'f.csv')), 'utf8').trim().split('\r\n').map((l) => l.split(','));
    const header = rows[0] as string[];
    assert.equal(header.indexOf('key_instance_number'), header.indexOf('last_slice') + 1, 'added after the columns before it: they keep their positions');
    const f1Row = rows.find((r) => r[header.indexOf('label')] === 'F1') as string[];
    assert.equal(f1Row[header.indexOf('key_instance_number')], String(im));
  });

  it('the frames of a multi-frame file share its Instance Number: they are named by frame too (Im 1, frame 7)', async () => {
    const emri = (await scanPaths([corpusPath('pydicom_emri_small.dcm')])).studies[0]?.series[0] as AssembledSeries;
    assert.equal(emri.ordered.length, 10);
    const none: AnalysisResult['series'][number] = { seriesInstanceUid: emri.seriesInstanceUid, seriesId: emri.id, modality: emri.modality, scored: true, slices: emri.ordered.map((r, i) => ({ index: i, sopInstanceUid: r.sopInstanceUid, frame: r.frame, probabilities: null })), findings: [], cached: false };
    const c = await buildReportContext(emri, none, model, result.providerReport);
    const n = c.sliceMeta?.[0]?.instanceNumber;
    assert.ok(n !== undefined, 'the file has an InstanceNumber');
    assert.ok(c.sliceMeta?.every((m) => m.instanceNumber === n), 'every frame has the file\'s');
    assert.equal(imageNumberText(c, 6), `Im ${n}, frame ${(c.sliceMeta?.[6]?.frame as number) + 1}`);
    assert.equal(imageNumberText(ctx, 10), 'Im 11', 'a single-frame file: its number alone');
  });

  it('the PDF says who signed off, as the viewer recorded it, and a de-identified one does not', { skip: !has('pdftotext') && 'poppler-utils not installed' }, async (t) => {
    const out = tempDir(t, 'signed-by');
    const signed: ReportContext = { ...ctx, signOff: { at: '2026-11-28T10:06:00Z', current: true, reviewer: 'Sato^Hanako' } };
    await writeExports([signed], { pdf: path.join(out, 'r.pdf') });
    assert.ok(spawnSync('pdftotext', [path.join(out, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ').includes('signed off in the viewer at 2026-11-28 10:06:00 UTC by Sato Hanako'));
    await writeExports([signed], { pdf: path.join(out, 'd.pdf') }, { deidentify: true });
    const deid = spawnSync('pdftotext', [path.join(out, 'd.pdf'), '-'], { encoding: 'utf8' }).stdout;
    assert.ok(!deid.includes('Hanako') && /signed off in the viewer at /.test(deid), 'the sign-off stays, its name does not');
    // signed off without a name, exported under one: the PDF does not let that name sign
    await writeExports([{ ...signed, reviewer: 'Dr Ada Reader', signOff: { at: '2026-11-28T10:06:00Z', current: true } }], { pdf: path.join(out, 'n.pdf') });
    const unnamed = spawnSync('pdftotext', [path.join(out, 'n.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    assert.ok(unnamed.includes('signed off in the viewer at 2026-11-28 10:06:00 UTC (no name was recorded with the sign-off)'), unnamed);
  });

  it('the PDF prints the WinAnsi characters beyond Latin-1 (’ “ ” – — … € •) in its own font, not as ?', { skip: !has('pdftotext') && 'poppler-utils not installed' }, async (t) => {
    const latin: ReportContext = {
      ...ctx,
      patient: { ...ctx.patient, name: 'O’Brien^Émilie' },
      study: { ...ctx.study, institution: 'Zürich – Süd', description: '“CT chest” — follow-up… €12 • Pat™' },
      reviewer: 'Dr. Émilie O’Brien',
    };
    // no Unicode font at all: what the standard font cannot print would be '?'
    const r = await renderPdf(latin, { unicodeFontPath: '/nonexistent-font.ttf' });
    const f = path.join(tempDir(t, 'winansi'), 'r.pdf');
    fs.writeFileSync(f, r.bytes);
    const text = spawnSync('pdftotext', [f, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    for (const want of ['Dr. Émilie O’Brien', 'Zürich – Süd', '“CT chest” — follow-up… €12 • Pat™']) assert.ok(text.includes(want), `${want} in the PDF text`);
    assert.ok(!text.includes('O?Brien') && !text.includes('Zürich ? Süd'));
  });

  it('with several series, the JSON names each series\' own files (numbered by position), relative to itself', async (t) => {
    const out = tempDir(t, 'two-series');
    const second: ReportContext = { ...ctx, analysis: { ...ctx.analysis, seriesId: `${ctx.analysis.seriesId}#2` } };
    await writeExports([ctx, second], { pdf: path.join(out, 'r.pdf'), sr: path.join(out, 'dicom', 'sr.dcm'), scDir: path.join(out, 'sc'), json: path.join(out, 'a.json') });
    const j = JSON.parse(fs.readFileSync(path.join(out, 'a.json'), 'utf8')) as { series: { seriesId: string; exports?: { pdf?: string; sr?: string; sc?: string[] } }[] };
    const n = scKeyImages(ctx).length;
    assert.deepEqual(j.series.map((x) => x.exports), [
      { pdf: 'r.pdf', sr: 'dicom/sr.dcm', sc: Array.from({ length: n }, (_, k) => `sc/ReSight-SC-1-00${k + 1}.dcm`) },
      { pdf: 'r-2.pdf', sr: 'dicom/sr-2.dcm', sc: Array.from({ length: n }, (_, k) => `sc/ReSight-SC-2-00${k + 1}.dcm`) },
    ]);
    for (const x of j.series) for (const f of [x.exports?.pdf, x.exports?.sr, ...(x.exports?.sc ?? [])]) assert.ok(fs.existsSync(path.join(out, f as string)), `${f} was written`);
  });

  it('JSON keeps decisions on findings this analysis does not list apart from the reviews of its findings', () => {
    // e.g. decided at another operating point, where the findings (and their ids) differ
    const elsewhere = { findingId: 'lung_nodule:40-44', decision: 'accepted' as const, at: '2026-11-28T09:00:00Z' };
    const added = { findingId: 'added:lung_nodule:3', decision: 'accepted' as const, at: '2026-11-28T09:30:00Z' };
    assert.ok(!ctx.analysis.findings.some((f) => f.id === elsewhere.findingId));
    const j = exportJson([{ ...ctx, reviews: [...ctx.reviews, elsewhere, added] }], {}) as { series: { findings: { id: string }[]; reviews: { findingId: string }[]; reviewsOfUnlistedFindings?: { findingId: string }[] }[] };
    const s = j.series[0];
    assert.deepEqual(s.reviews.map((r) => r.findingId), [...ctx.reviews.map((r) => r.findingId), added.findingId]);
    assert.deepEqual(s.reviewsOfUnlistedFindings?.map((r) => r.findingId), [elsewhere.findingId]);
    const listed = new Set(s.findings.map((f) => f.id));
    assert.ok(s.reviews.every((r) => listed.has(r.findingId) || r.findingId.startsWith('added:')));
    assert.ok(!('reviewsOfUnlistedFindings' in (exportJson([ctx], {}) as { series: object[] }).series[0]), 'absent when there are none');
  });
});

describe('de-identified exports', () => {
  it('contain none of the original identifiers, byte-wise, and map UIDs consistently', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t, 'deid');
    await writeExports([ctx], { pdf: path.join(dir, 'r.pdf'), pdfDicom: path.join(dir, 'r-pdf.dcm'), sr: path.join(dir, 'sr.dcm'), scDir: path.join(dir, 'sc'), json: path.join(dir, 'out.json'), csv: path.join(dir, 's.csv') }, { deidentify: true });
    // the same findings under the same labels and numbers as in the plain export: the reading order is not identifying
    const csvRows = fs.readFileSync(path.join(dir, 's-findings.csv'), 'utf8').trim().split('\r\n').map((r) => r.match(/("[^"]*(?:""[^"]*)*"|[^,]*)(,|$)/g)?.map((c) => c.replace(/,$/, '')) ?? []);
    const csvHead = csvRows[0] as string[];
    const plainLabels = findingLabels(ctx);
    for (const r of csvRows.slice(1)) assert.equal(r[csvHead.indexOf('label')], plainLabels.get(r[csvHead.indexOf('finding_id')] as string), `${r[csvHead.indexOf('finding_id')]}: labelled as in the plain export`);
    assert.equal(csvRows.find((r) => r[csvHead.indexOf('label')] === 'F1')?.[csvHead.indexOf('first_slice')], '6', 'F1 (the nodule at index 37-39) numbered from the top');
    const identifying = [
      '山田', '太郎', 'やまだ', 'RESIGHT-DEMO-0001', 'DEMO^PHANTOM', '19600102', '20200109', 'ACC-7731', 'Tokyo General', '佐藤', '花子',
      // the export's own date can reveal the scan's: it is a dummy in de-identified outputs
      '20261128', '2026-11-28',
      ctx.study.studyInstanceUid, ctx.series.seriesInstanceUid, ...ctx.analysis.slices.map((s) => s.sopInstanceUid),
    ];
    const outputs = listTree(dir).map((f) => path.join(dir, f));
    const texts = outputs.map((f) => ({ f, bytes: fs.readFileSync(f) }));
    if (has('pdftotext')) texts.push({ f: 'r.pdf (text)', bytes: Buffer.from(spawnSync('pdftotext', [path.join(dir, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout) });
    for (const { f, bytes } of texts) {
      for (const s of identifying) assert.equal(bytes.indexOf(Buffer.from(s, 'utf8')), -1, `${path.basename(f)} holds '${s}'`);
      // UTF-16BE too (PDF text strings can be UTF-16)
      for (const s of identifying.slice(0, 4)) assert.equal(bytes.indexOf(Buffer.from(s, 'utf16le').swap16()), -1, `${path.basename(f)} holds '${s}' as UTF-16`);
    }
    const sr = decodePart10(fs.readFileSync(path.join(dir, 'sr.dcm')));
    assert.equal(sr.PatientIdentityRemoved, 'YES');
    const epdf = decodePart10(fs.readFileSync(path.join(dir, 'r-pdf.dcm')));
    assert.equal(epdf.PatientIdentityRemoved, 'YES');
    assert.equal(epdf.BurnedInAnnotation, 'NO', 'the de-identified PDF does not name the patient');
    assert.equal(epdf.StudyInstanceUID, sr.StudyInstanceUID, 'one new study UID across the export');
    assert.ok(Buffer.from((epdf.EncapsulatedDocument as ArrayBuffer[])[0] as ArrayBuffer).subarray(0, Number(epdf.EncapsulatedDocumentLength)).equals(fs.readFileSync(path.join(dir, 'r.pdf'))), 'the de-identified PDF, as written beside it');
    // the Basic Profile with the options its free text is handled under; dates emptied, said so
    assert.deepEqual(seqOf(sr, 'DeidentificationMethodCodeSequence').map((c) => c.CodeValue), ['113100', '113104', '113105']);
    assert.equal(sr.LongitudinalTemporalInformationModified, 'REMOVED');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as { series: { seriesInstanceUid: string; slices: { sopInstanceUid: string }[] }[] };
    const mapped = new Set(json.series[0].slices.map((s) => s.sopInstanceUid));
    const evidence = seqOf(seqOf(sr, 'CurrentRequestedProcedureEvidenceSequence')[0], 'ReferencedSeriesSequence')[0];
    assert.equal(evidence.SeriesInstanceUID, json.series[0].seriesInstanceUid, 'SR and JSON agree on the new series UID');
    for (const r of seqOf(evidence, 'ReferencedSOPSequence')) assert.ok(mapped.has(r.ReferencedSOPInstanceUID as string), 'SR references the same new UIDs as the JSON');
    for (const n of fs.readdirSync(path.join(dir, 'sc'))) {
      const sc = decodePart10(fs.readFileSync(path.join(dir, 'sc', n)));
      assert.equal(sc.StudyInstanceUID, sr.StudyInstanceUID, 'one new study UID across the export');
      assert.ok(mapped.has(seqOf(sc, 'SourceImageSequence')[0].ReferencedSOPInstanceUID as string));
      assert.deepEqual(sc.PatientName, sr.PatientName);
    }
    assert.match(String(sr.StudyInstanceUID), /^2\.25\.\d+$/);
  });
});

describe('burned-in annotation', () => {
  it('de-identified exports leave out key images whose source may show patient text, and say so', async (t) => {
    const dir = tempDir(t, 'burned');
    // (no finding rejected: those get no SC either way)
    const risky: ReportContext = { ...ctx, reviews: [], keyImages: ctx.keyImages.map((k, i) => (i === 0 ? { ...k, sourceBurnedIn: 'YES' } : k)) };
    const s = await writeExports([risky], { scDir: path.join(dir, 'sc') }, { deidentify: true });
    assert.equal(fs.readdirSync(path.join(dir, 'sc')).length, ctx.keyImages.length - 1);
    assert.ok(s.warnings.some((w) => w.includes(ctx.keyImages[0].findingId) && /burned-in/.test(w)), s.warnings.join('\n'));
    // the viewer words it in the user's language (renderer/i18n/warnings.ts knows this wording)
    const probe = (key: string) => key;
    assert.ok(s.warnings.some((w) => sayWarning(w, probe as never) === 'warn.keyImageLeftOut'), 'the viewer recognises the warning');
    const plain = await writeExports([risky], { scDir: path.join(dir, 'sc-identified') });
    assert.equal(plain.files.length, ctx.keyImages.length, 'identified exports keep them (the pixels are the source\'s own)');
  });
});

describe('measurements in a report', () => {
  it('a measurement on a slice the series lacks, or with no extent, is refused with a typed error before any work', async () => {
    const a = result.series[0];
    for (const [m, code] of [
      [{ kind: 'length', slice: 45, a: [0, 0], b: [10, 0] }, 'FRAME_OUT_OF_RANGE'],
      [{ kind: 'ellipse', slice: 3, a: [10, 10], b: [30, 10] }, 'VALIDATION'],
      [{ kind: 'length', slice: 3, a: [10, 10], b: [10, 10] }, 'VALIDATION'],
    ] as const) {
      await assert.rejects(buildReportContext(series, a, model, result.providerReport, { measurements: [{ ...m, a: [...m.a], b: [...m.b] }] }), (e: ResightError) => e.code === code, JSON.stringify(m));
    }
  });

  it('measurements keep the numbers the viewer gave them (M1 deleted: M2 and M3 stay), in the JSON, the SR and the PDF', async (t) => {
    const a = result.series[0];
    const ctx2 = await buildReportContext(series, a, model, result.providerReport, {
      measurements: [
        { kind: 'length', slice: 11, a: [156, 300], b: [356, 300], label: 2 },
        { kind: 'ellipse', slice: 11, a: [150, 224], b: [170, 244], label: 3 },
      ],
    });
    assert.deepEqual(ctx2.measurements.map((m) => m.id), ['M2', 'M3']);
    const out = tempDir(t, 'labels');
    await writeExports([ctx2], { sr: path.join(out, 'sr.dcm'), json: path.join(out, 'r.json'), ...(has('pdftotext') ? { pdf: path.join(out, 'r.pdf') } : {}) });
    const json = JSON.parse(fs.readFileSync(path.join(out, 'r.json'), 'utf8')) as { series: { measurements?: { id: string }[] }[] };
    assert.deepEqual(json.series[0]?.measurements?.map((m) => m.id), ['M2', 'M3']);
    const sr = fs.readFileSync(path.join(out, 'sr.dcm'));
    assert.ok(sr.includes('M3') && !sr.includes('M1'), 'the SR tracks them as M2 and M3');
    if (has('pdftotext')) assert.match(spawnSync('pdftotext', ['-layout', path.join(out, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout, /^\s*M3\s+34\s+Ellipse ROI/m);
  });

  it('a bidirectional measurement (long and short axis, RECIST) is measured again, coded in the SR as Long Axis and Short Axis, and printed', async (t) => {
    const a = result.series[0];
    // 200 px along the row and 100 px down the column, pixels 0.78125 mm
    const c = await buildReportContext(series, a, model, result.providerReport, {
      measurements: [{ kind: 'bidirectional', slice: 11, a: [156, 300], b: [356, 300], c: [256, 250], d: [256, 350] }],
    });
    const m = c.measurements[0];
    assert.deepEqual([m?.kind, m?.length, m?.shortAxis], ['bidirectional', { value: 156.25, unit: 'mm' }, { value: 78.125, unit: 'mm' }]);
    await assert.rejects(
      buildReportContext(series, a, model, result.providerReport, { measurements: [{ kind: 'bidirectional', slice: 11, a: [156, 300], b: [356, 300], c: [256, 250], d: [256, 250] }] }),
      (e: ResightError) => e.code === 'VALIDATION',
      'a short axis without extent',
    );
    const dir = tempDir(t, 'bidi');
    await writeExports([c], { sr: path.join(dir, 'sr.dcm'), pdf: path.join(dir, 'r.pdf') });
    const sr = decodePart10(fs.readFileSync(path.join(dir, 'sr.dcm')));
    const nums: { code: string; value: number; line: number[] }[] = [];
    const walk = (items: NaturalDataset[]) => {
      for (const it of items) {
        const name = seqOf(it, 'ConceptNameCodeSequence')[0]?.CodeValue as string | undefined;
        if (it.ValueType === 'NUM' && (name === '103339001' || name === '103340004')) {
          const line = seqOf(it, 'ContentSequence').find((x) => x.GraphicType === 'POLYLINE');
          nums.push({ code: name, value: Number(seqOf(it, 'MeasuredValueSequence')[0]?.NumericValue), line: (line?.GraphicData as number[]) ?? [] });
        }
        walk(seqOf(it, 'ContentSequence'));
      }
    };
    walk(seqOf(sr, 'ContentSequence'));
    assert.deepEqual(nums.map((n) => [n.code, n.value, n.line]), [['103339001', 156.25, [156, 300, 356, 300]], ['103340004', 78.125, [256, 250, 256, 350]]]);
    if (has('dciodvfy')) assert.deepEqual(dciodvfy(path.join(dir, 'sr.dcm')).errors, []);
    if (has('pdftotext')) assert.match(spawnSync('pdftotext', [path.join(dir, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' '), /Bidirectional long axis 156\.3 mm × short axis 78\.1 mm/);
  });

  it('a measurement drawn on a coronal reformat is placed in the patient and measured there: lengths as distances, an ROI on the reformat the viewer draws, in the JSON, a Comprehensive 3D SR (SCOORD3D) and the PDF', async (t) => {
    const a = result.series[0];
    // the demo: 45 axial slices 5 mm apart, 512 x 512 pixels of 0.78125 mm; its coronal ('row')
    // reformat has 283 samples down (head at the top), so 100 of them are 100 * 220 / 282 mm
    const row = 300;
    const c = await buildReportContext(series, a, model, result.providerReport, {
      measurements: [
        { kind: 'length', slice: 11, a: [156, 300], b: [356, 300], label: 1 },
        { kind: 'length', slice: row, plane: 'row', a: [100.5, 10.5], b: [100.5, 110.5], label: 2 },
        { kind: 'ellipse', slice: row, plane: 'row', a: [200, 120], b: [260, 160], label: 3 },
        { kind: 'length', slice: 250, plane: 'column', a: [10, 50], b: [110, 50], label: 4 },
      ],
    });
    const [, vertical, roi, sagittal] = c.measurements;
    assert.ok(vertical && roi && sagittal);
    assert.equal(vertical.sliceIndex, undefined, 'on no slice');
    assert.deepEqual({ ...vertical.reformat, points: undefined }, { plane: 'coronal', position: 301, count: 512, points: undefined });
    assert.ok(Math.abs((vertical.length?.value ?? NaN) - (100 * 220) / 282) < 1e-9, `${vertical.length?.value}`);
    // the ends in the patient: column 100 of row 300, at the fractional slice the sample is resampled from
    const p0 = series.ordered[0].position as number[];
    const at = (k: number) => [p0[0] + 100 * 0.78125, p0[1] + row * 0.78125, p0[2] + 5 * ((k * 44) / 282)];
    const close = (u: number[] | undefined, v: number[]) => assert.ok(u && u.every((x, i) => Math.abs(x - (v[i] as number)) < 1e-6), `${u} vs ${v}`);
    close(vertical.reformat?.points[0], at(282 - 10));
    close(vertical.reformat?.points[1], at(282 - 110));
    // the sagittal (a column reformat): across it, the slices' own rows (anterior on the left)
    assert.equal(sagittal.reformat?.plane, 'sagittal');
    assert.ok(Math.abs((sagittal.length?.value ?? NaN) - 100 * 0.78125) < 1e-9, `${sagittal.length?.value}`);
    // the ROI: what the viewer's own coronal reformat of these slices measures
    const stack = await Promise.all(series.ordered.map(async (ref) => ({ rows: 512, columns: 512, samples: 1 as const, values: Float32Array.from((await loadFrame(ref.path, ref.frame)).values) })));
    const shown = reformat('row', stack, row, [0.78125, 0.78125], 5, series.geometry.orientation as number[]);
    assert.ok(shown && shown.slice.samples === 1);
    const expected = ellipseStats(shown.slice.values, shown.slice.rows, shown.slice.columns, [200, 120], [260, 160], shown.pixelSpacing);
    assert.ok(expected && roi.stats);
    for (const k of ['n', 'min', 'max', 'area'] as const) assert.equal(roi.stats[k], expected[k], k);
    assert.ok(Math.abs(roi.stats.mean - expected.mean) < 1e-3 && Math.abs(roi.stats.sd - expected.sd) < 1e-3, `${roi.stats.mean} vs ${expected.mean}`);
    assert.equal(roi.valueUnit, 'HU');

    const dir = tempDir(t, 'reformat-measure');
    await writeExports([c], { sr: path.join(dir, 'sr.dcm'), json: path.join(dir, 'r.json'), pdf: path.join(dir, 'r.pdf') });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'r.json'), 'utf8')) as { series: { measurements?: { id: string; reformat?: { plane: string } }[] }[] };
    assert.deepEqual(json.series[0]?.measurements?.map((m) => [m.id, m.reformat?.plane ?? 'slice']), [['M1', 'slice'], ['M2', 'coronal'], ['M3', 'coronal'], ['M4', 'sagittal']]);
    const sr = decodePart10(fs.readFileSync(path.join(dir, 'sr.dcm')));
    assert.equal(sr.SOPClassUID, '1.2.840.10008.5.1.4.1.1.88.34', 'Comprehensive 3D SR: the only SR that may hold SCOORD3D');
    const found: NaturalDataset[] = [];
    const walk = (items: NaturalDataset[]) => {
      for (const it of items) {
        if (it.ValueType === 'SCOORD3D') found.push(it);
        walk(seqOf(it, 'ContentSequence'));
      }
    };
    walk(seqOf(sr, 'ContentSequence'));
    assert.deepEqual(found.map((x) => x.GraphicType), ['POLYLINE', 'ELLIPSE', 'POLYLINE']);
    assert.ok(found.every((x) => x.ReferencedFrameOfReferenceUID === series.headers[0]?.frameOfReferenceUid));
    close(found[0]?.GraphicData as number[], [...at(272), ...at(172)].map((v) => Math.fround(v)));
    if (has('dciodvfy')) assert.deepEqual(dciodvfy(path.join(dir, 'sr.dcm')).errors, []);
    if (has('pdftotext')) {
      const text = spawnSync('pdftotext', ['-layout', path.join(dir, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout;
      assert.match(text, /^\s*M2\s+Coronal\s+Length\s+78\.0 mm/m);
      assert.match(text, /301 of 512/);
    }
  });

  it('a reformat measurement on a series that has no reformat, or past its positions, is refused with a typed error', async (t) => {
    const a = result.series[0];
    await assert.rejects(
      buildReportContext(series, a, model, result.providerReport, { measurements: [{ kind: 'length', slice: 512, plane: 'row', a: [0, 0], b: [10, 0] }] }),
      (e: ResightError) => e.code === 'VALIDATION' && /position 512/.test(e.message),
    );
    const dir = tempDir(t, 'reformat-none');
    writeImageFile(dir, { rows: 4, columns: 4, bitsAllocated: 8, samplesPerPixel: 1, photometric: 'MONOCHROME2' }, new Uint8Array(16));
    const s = (await scanPaths([dir])).studies[0].series[0];
    const none = { seriesInstanceUid: s.seriesInstanceUid, seriesId: s.id, modality: 'OT', scored: false, slices: [], findings: [], cached: false };
    await assert.rejects(
      buildReportContext(s, none, model, result.providerReport, { measurements: [{ kind: 'length', slice: 0, plane: 'column', a: [0, 0], b: [1, 1] }] }),
      (e: ResightError) => e.code === 'VALIDATION' && /M1 is drawn on a reformat, but this series cannot be reformatted: it has fewer than two slices/.test(e.message),
    );
  });

  it('an ROI on a slice that does not decode is reported as not measured, and the other measurements still are', async (t) => {
    const dir = tempDir(t, 'report-unmeasurable');
    for (const f of fs.readdirSync(DEMO)) fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
    const cut = path.join(dir, 'CT0012.dcm');
    fs.truncateSync(cut, fs.statSync(cut).size - 1000);
    const s = (await scanPaths([dir])).studies[0].series[0];
    const ctx2 = await buildReportContext(s, result.series[0], model, result.providerReport, {
      measurements: [{ kind: 'ellipse', slice: 11, a: [150, 224], b: [170, 244] }, { kind: 'length', slice: 11, a: [156, 300], b: [356, 300] }],
    });
    assert.equal(ctx2.measurements[0]?.stats, undefined);
    assert.match(ctx2.measurements[0]?.unmeasurable ?? '', /\[(FILE_TRUNCATED|PIXEL_DATA_TRUNCATED)\]/);
    assert.equal(ctx2.measurements[1]?.length?.value, 156.25, 'a length needs only the header');
  });
  it('ROIs on a colour slice measure its luminance, as the viewer shows it', async (t) => {
    // one 4x4 RGB slice: the left half pure red, the right half pure blue
    const dir = tempDir(t, 'report-colour');
    const rgb = new Uint8Array(4 * 4 * 3);
    for (let p = 0; p < 16; p++) rgb[p * 3 + ((p % 4) < 2 ? 0 : 2)] = 200;
    writeImageFile(dir, { rows: 4, columns: 4, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB' }, rgb);
    const s = (await scanPaths([dir])).studies[0].series[0];
    const analysis = { seriesInstanceUid: s.seriesInstanceUid, seriesId: s.id, modality: 'OT', scored: false, slices: [], findings: [], cached: false };
    const c = await buildReportContext(s, analysis, model, result.providerReport, {
      measurements: [
        { kind: 'ellipse', slice: 0, a: [0, 0], b: [2, 4] },
        { kind: 'ellipse', slice: 0, a: [2, 0], b: [4, 4] },
      ],
    });
    const [red, blue] = c.measurements;
    assert.equal(red?.luminance, true);
    assert.equal(blue?.luminance, true);
    assert.ok(Math.abs((red?.stats?.mean ?? NaN) - 0.299 * 200) < 1e-3, `red: ${red?.stats?.mean}`);
    assert.ok(Math.abs((blue?.stats?.mean ?? NaN) - 0.114 * 200) < 1e-3, `blue: ${blue?.stats?.mean}`);
    assert.equal(red?.stats?.sd, 0);
    assert.equal(red?.valueUnit, '');
  });
  it('a colour image whose Modality says CT (a vendor\'s rendering) is measured as luminance, not HU', async (t) => {
    const dir = tempDir(t, 'report-colour-ct');
    writeImageFile(dir, { rows: 4, columns: 4, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB', modality: 'CT' }, new Uint8Array(4 * 4 * 3).fill(100));
    const s = (await scanPaths([dir])).studies[0].series[0];
    assert.equal(s.modality, 'CT');
    const analysis = { seriesInstanceUid: s.seriesInstanceUid, seriesId: s.id, modality: 'CT', scored: false, slices: [], findings: [], cached: false };
    const c = await buildReportContext(s, analysis, model, result.providerReport, { measurements: [{ kind: 'ellipse', slice: 0, a: [0, 0], b: [4, 4] }] });
    assert.equal(c.measurements[0]?.luminance, true);
    assert.equal(c.measurements[0]?.valueUnit, '', 'not HU');
    assert.ok(Math.abs((c.measurements[0]?.stats?.mean ?? NaN) - 100) < 1e-3);
  });
});

describe('references', () => {
  it('a multi-frame instance is always referenced with its frame number, frame 0 too', () => {
    const f = ctx.analysis.findings[0];
    const sop = ctx.analysis.slices[f.sliceStart].sopInstanceUid;
    const sr = decodePart10(structuredReport({ ...ctx, series: { ...ctx.series, multiFrameSops: [sop] } }, 'mf').bytes);
    const refs: NaturalDataset[] = [];
    const walk = (items: NaturalDataset[]) => {
      for (const it of items) {
        refs.push(...seqOf(it, 'ReferencedSOPSequence'));
        walk(seqOf(it, 'ContentSequence'));
      }
    };
    walk(seqOf(sr, 'ContentSequence'));
    const mine = refs.filter((r) => r.ReferencedSOPInstanceUID === sop);
    assert.ok(mine.length > 0);
    for (const r of mine) assert.equal(String(r.ReferencedFrameNumber), '1');
    assert.ok(refs.filter((r) => r.ReferencedSOPInstanceUID !== sop).every((r) => r.ReferencedFrameNumber === undefined), 'single-frame instances: no frame number');
  });
});

describe('export targets', () => {
  it('never overwrites without the flag and never writes into a source folder', async (t) => {
    const dir = tempDir(t, 'targets');
    const pdf = path.join(dir, 'r.pdf');
    fs.writeFileSync(pdf, 'precious');
    await assert.rejects(writeExports([ctx], { pdf }), (e: ResightError) => e.code === 'EXPORT_EXISTS' && e.message.includes(pdf));
    assert.equal(fs.readFileSync(pdf, 'utf8'), 'precious');
    await writeExports([ctx], { pdf }, { overwrite: true });
    assert.equal(fs.readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
    await assert.rejects(writeExports([ctx], { sr: path.join(DEMO, 'sub', 'sr.dcm') }, { sourceDirs: [DEMO] }), (e: ResightError) => e.code === 'EXPORT_TARGET_FORBIDDEN');
    assert.ok(!fs.existsSync(path.join(DEMO, 'sub')));
    assert.deepEqual(listTree(dir), ['r.pdf']);
    // serving exports: a symlink inside the export folder does not lead out of it
    const root = tempDir(t, 'export-root');
    const folder = '20261129-101010-0123abcd';
    fs.mkdirSync(path.join(root, folder, 'key-images'), { recursive: true });
    fs.mkdirSync(path.join(root, 'other'));
    fs.symlinkSync(pdf, path.join(root, folder, 'report-sr.dcm'));
    fs.copyFileSync(pdf, path.join(root, folder, 'report.pdf'));
    assert.equal(exportResource(root, folder, 'report-sr.dcm').status, 404);
    assert.equal(exportResource(root, folder, 'report.pdf').status, 200);
    // only what an export writes: were the export folder ever set to a home folder, its other files stay unreadable
    for (const [f, n] of [[folder, 'key-images/ReSight-SC-001.dcm'], [folder, 'key-images/ReSight-SC-2-013.dcm'], [folder, 'slices-findings.csv']] as const) fs.copyFileSync(pdf, path.join(root, f, n));
    for (const n of ['key-images/ReSight-SC-001.dcm', 'key-images/ReSight-SC-2-013.dcm', 'slices-findings.csv']) assert.equal(exportResource(root, folder, n).status, 200, n);
    fs.copyFileSync(pdf, path.join(root, folder, 'id_rsa'));
    fs.copyFileSync(pdf, path.join(root, 'other', 'report.pdf'));
    assert.equal(exportResource(root, folder, 'id_rsa').status, 404, 'a file no export writes');
    assert.equal(exportResource(root, 'other', 'report.pdf').status, 404, 'a folder not named as exports are');
  });
});

/** The words of one PDF page with their boxes (pdftotext -bbox; points, origin top left). */
function pdfWords(pdf: string, pageNo: number): { width: number; height: number; words: { text: string; xMin: number; yMin: number; xMax: number; yMax: number }[] } {
  const html = spawnSync('pdftotext', ['-bbox', '-f', String(pageNo), '-l', String(pageNo), pdf, '-'], { encoding: 'utf8' }).stdout;
  const pg = /<page width="([\d.]+)" height="([\d.]+)">/.exec(html);
  assert.ok(pg, 'pdftotext -bbox gives the page');
  const words = [...html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({ text: m[5] as string, xMin: Number(m[1]), yMin: Number(m[2]), xMax: Number(m[3]), yMax: Number(m[4]) }));
  return { width: Number(pg[1]), height: Number(pg[2]), words };
}

/** How many dark pixels page 1 has inside the box of the first word containing `needle`, rendered at 72 dpi (1 px = 1 pt). */
function inkInWord(pdf: string, needle: string, out: string): number {
  const w = pdfWords(pdf, 1).words.find((x) => x.text.includes(needle));
  assert.ok(w, `pdftotext finds ${needle} on page 1`);
  const r = spawnSync('pdftoppm', ['-gray', '-r', '72', '-f', '1', '-l', '1', pdf, path.join(out, 'p')]);
  assert.equal(r.status, 0);
  const file = fs.readdirSync(out).find((f) => f.endsWith('.pgm'));
  assert.ok(file, 'pdftoppm -gray writes a PGM');
  // binary PGM (P5): "P5 <w> <h> <max>" then one byte per pixel
  const buf = fs.readFileSync(path.join(out, file));
  const head = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'));
  assert.ok(head);
  const [width, height] = [Number(head[1]), Number(head[2])];
  const pixels = buf.subarray(head[0].length);
  let dark = 0;
  for (let y = Math.floor(w.yMin); y < Math.min(height, Math.ceil(w.yMax)); y++) {
    for (let x = Math.floor(w.xMin); x < Math.min(width, Math.ceil(w.xMax)); x++) if ((pixels[y * width + x] ?? 255) < 128) dark++;
  }
  return dark;
}

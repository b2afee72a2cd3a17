/**
 * `resight analyze` (ARCHITECTURE.md "CLI contract") on the bundled demo study with the default
 * model, the way outside checks call it: the JSON file's shape, findings that cover the demo's
 * ground-truth lesions, timing on stdout, the result cache and --no-cache, provider fallback,
 * usage errors, and nothing written into the study folder.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import type { AnalyzeJson } from '../../../src/cli/commands/analyze';
import { decodePart10 } from '../../../src/core/report/dicom-write';
import { ensureCliBuilt, runCli, stackTraceLines } from '../../helpers/cli';
import { corpusPath, REPO_ROOT } from '../../helpers/corpus';
import { scaleTensor, variant } from '../../helpers/model-variant';
import { listTree, tempDir } from '../../helpers/tmp';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');
const truth = JSON.parse(fs.readFileSync(path.join(DEMO, 'ground-truth.json'), 'utf8')) as { lesions: { class: string; slices: [number, number]; sopInstanceUids: string[] }[] };
const card = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json'), 'utf8')) as { name: string; version: string; onnx: { sha256: string } };

before(ensureCliBuilt, { timeout: 180_000 });

describe('resight analyze', () => {
  it('writes the contract JSON for the demo study, finds its lesions and prints timing', (t) => {
    const dir = tempDir(t, 'analyze');
    const before = listTree(DEMO).map((f) => [f, fs.statSync(path.join(DEMO, f)).mtimeMs]);
    const out = path.join(dir, 'out.json');
    const r = runCli(['analyze', 'resources/demo', '--json', out, '--no-cache'], { env: { RESIGHT_CACHE_DIR: path.join(dir, 'cache') }, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Timing: 45 slices in \d+ ms/);
    assert.match(r.stdout, /not for clinical use/);
    const j = JSON.parse(fs.readFileSync(out, 'utf8')) as AnalyzeJson;
    assert.deepEqual(j.model, { name: card.name, version: card.version, sha256: card.onnx.sha256 });
    assert.equal(typeof j.provider, 'string');
    assert.equal(j.series.length, 1);
    const s = j.series[0];
    assert.equal(s.slices.length, 45);
    for (const sl of s.slices) {
      assert.match(sl.sopInstanceUid, /^[0-9.]+$/);
      assert.equal(sl.frame, 0);
      assert.deepEqual(Object.keys(sl.probabilities ?? {}).sort(), ['liver_lesion', 'lung_nodule']);
    }
    for (const l of truth.lesions) {
      const hit = s.findings.find((f) => f.class === l.class && f.sliceStart <= l.slices[1] && f.sliceEnd >= l.slices[0]);
      assert.ok(hit, `the ${l.class} on slices ${l.slices.join('-')} is found`);
      assert.deepEqual(Object.keys(hit).filter((k) => ['class', 'score', 'sliceStart', 'sliceEnd', 'keySlice', 'centroid'].includes(k)).sort(), ['centroid', 'class', 'keySlice', 'score', 'sliceEnd', 'sliceStart']);
      // The ground truth names the lesion's instances: the run covers at least one of them.
      const runUids = s.slices.slice(hit.sliceStart, hit.sliceEnd + 1).map((x) => x.sopInstanceUid);
      assert.ok(l.sopInstanceUids.some((u) => runUids.includes(u)));
    }
    for (const k of ['totalMs', 'decodeMs', 'preprocessMs', 'inferenceMs', 'modelLoadMs', 'slicesPerSecond'] as const) assert.ok(j.timing[k] > 0, k);
    assert.deepEqual(listTree(dir).filter((f) => !f.startsWith('cache/')), ['out.json'], 'only the JSON was written; no cache with --no-cache');
    assert.deepEqual(listTree(DEMO).map((f) => [f, fs.statSync(path.join(DEMO, f)).mtimeMs]), before, 'the study folder is untouched');
  });

  it('serves the second run from the cache', (t) => {
    const env = { RESIGHT_CACHE_DIR: tempDir(t, 'cache') };
    const a = runCli(['analyze', 'resources/demo', '--json', '-'], { env, timeoutMs: 120_000 });
    assert.equal(a.status, 0, a.stderr);
    const b = runCli(['analyze', 'resources/demo', '--json', '-'], { env, timeoutMs: 120_000 });
    assert.equal(b.status, 0, b.stderr);
    const ja = JSON.parse(a.stdout) as AnalyzeJson;
    const jb = JSON.parse(b.stdout) as AnalyzeJson;
    assert.equal(ja.series[0].cached, false);
    assert.equal(jb.series[0].cached, true);
    assert.equal(jb.timing.slicesScored, 0);
    assert.deepEqual(jb.series[0].findings, ja.series[0].findings);
    assert.equal(fs.readdirSync(env.RESIGHT_CACHE_DIR).length, 1);
  });

  it('--reviews applies decisions saved by the viewer where their instances are, and no other', (t) => {
    const dir = tempDir(t, 'analyze-reviews');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const a = runCli(['analyze', 'resources/demo', '--json', '-'], { env, timeoutMs: 120_000 });
    assert.equal(a.status, 0, a.stderr);
    const s = (JSON.parse(a.stdout) as AnalyzeJson).series[0];
    const nodule = s.findings.find((f) => f.class === 'lung_nodule' && f.sliceEnd >= 30);
    const liver = s.findings.find((f) => f.class === 'liver_lesion' && f.sliceStart <= 14);
    const other = s.findings.find((f) => f !== nodule && f !== liver);
    assert.ok(nodule && liver && other, 'the demo has a nodule, a liver finding and another');
    const last = s.slices.length - 1;
    assert.ok(liver.sliceEnd < last - 1, 'the liver finding is not on the last two slices');
    const key = (i: number) => `${s.slices[i]?.sopInstanceUid}#${s.slices[i]?.frame}`;
    const at = '2026-11-29T10:00:00.000Z';
    const reviews = [
      // as the viewer saves it: the finding's first and last instances
      { findingId: nodule.id, decision: 'accepted', at, comment: 'solid lobulated', anchor: [key(nodule.sliceStart), key(nodule.sliceEnd)] },
      // saved when other instances had these numbers (another part of the series was open)
      { findingId: liver.id, decision: 'rejected', at, anchor: [key(last - 1), key(last)] },
      // saved before decisions named their instances: applies at its numbers
      { findingId: other.id, decision: 'rejected', at, comment: 'vessel' },
    ];
    const file = path.join(dir, 'reviews.json');
    fs.writeFileSync(file, JSON.stringify(reviews));
    const csv = path.join(dir, 'slices.csv');
    const r = runCli(['analyze', 'resources/demo', '--reviews', file, '--csv', csv], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const rows = fs.readFileSync(path.join(dir, 'slices-findings.csv'), 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
    const head = rows[0] ?? [];
    const row = (id: string) => rows.find((x) => x[head.indexOf('finding_id')] === id) ?? [];
    assert.equal(row(nodule.id)[head.indexOf('decision')], 'accepted');
    assert.equal(row(nodule.id)[head.indexOf('comment')], 'solid lobulated');
    assert.equal(row(liver.id)[head.indexOf('decision')], 'pending', 'a decision made on other instances is not applied to this finding');
    assert.equal(row(other.id)[head.indexOf('decision')], 'rejected');
    assert.equal(row(other.id)[head.indexOf('comment')], 'vessel');
  });

  it('a forced provider the platform lacks falls back to the CPU and the result says why', (t) => {
    const absent = process.platform === 'darwin' ? 'dml' : 'coreml';
    const r = runCli(['analyze', 'resources/demo', '--json', '-', '--provider', absent, '--no-cache'], { env: { RESIGHT_CACHE_DIR: tempDir(t, 'cache') }, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as AnalyzeJson;
    assert.equal(j.provider, 'cpu');
    assert.equal(j.providerReport.fallbacks[0].provider, absent);
    assert.match(j.providerReport.fallbacks[0].reason, /not available/);
  });

  it('usage errors exit 2; bad input exits 1 with a JSON error and no stack trace', (t) => {
    const env = { RESIGHT_CACHE_DIR: tempDir(t, 'cache') };
    for (const args of [['analyze'], ['analyze', 'resources/demo', '--provider', 'tpu'], ['analyze', 'resources/demo', '--batch', '0']]) {
      const r = runCli(args, { env });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(runCli(['analyze', 'resources/demo', '--report', path.join(env.RESIGHT_CACHE_DIR, 'r.pdf'), '--date-shift', '3'], { env }).status, 2, '--date-shift needs --deidentify');
    const point = runCli(['analyze', 'resources/demo', '--operating-point', 'no-such-point'], { env });
    assert.equal(point.status, 2, point.stderr);
    assert.match(point.stderr, /operating point 'no-such-point' is not in resight-ct-lesion .*\(it has balanced, /);
    assert.doesNotMatch(point.stderr, /using '/, 'the CLI refuses; it does not fall back');
    const intoStudy = runCli(['analyze', 'resources/demo', '--report', path.join(DEMO, 'r.pdf'), '--json', '-'], { env });
    assert.equal(intoStudy.status, 1);
    assert.equal(JSON.parse(intoStudy.stderr).error.code, 'EXPORT_TARGET_FORBIDDEN');
    assert.ok(!fs.existsSync(path.join(DEMO, 'r.pdf')));
    const missing = runCli(['analyze', 'no/such/folder', '--json', '-'], { env });
    assert.equal(missing.status, 1);
    assert.deepEqual(stackTraceLines(missing.stderr), []);
    assert.match(JSON.parse(missing.stderr).error.code, /^[A-Z_]+$/);
    const dir = tempDir(t, 'model');
    const c = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json'), 'utf8')) as { onnx: { sha256: string } };
    c.onnx.sha256 = 'f'.repeat(64);
    fs.writeFileSync(path.join(dir, 'resight-ct-lesion.card.json'), JSON.stringify(c));
    fs.copyFileSync(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.onnx'), path.join(dir, 'resight-ct-lesion.onnx'));
    const bad = runCli(['analyze', 'resources/demo', '--model', path.join(dir, 'resight-ct-lesion.card.json'), '--json', '-'], { env });
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stderr).error.code, 'MODEL_HASH_MISMATCH');
  });
});

describe('resight analyze: exports from the command line', () => {
  const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

  it('a finding the reviewer added (--reviews, as the viewer saves it) is in the CSV, the JSON and the SR, de-identified or not', (t) => {
    const dir = tempDir(t, 'added');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const file = path.join(dir, 'reviews.json');
    const at = '2026-11-29T10:00:00.000Z';
    fs.writeFileSync(file, JSON.stringify([{ findingId: 'added:lung_nodule:20', decision: 'accepted', comment: 'missed nodule, 6 mm', at }]));
    for (const deid of [false, true]) {
      const out = path.join(dir, deid ? 'deid' : 'plain');
      const args = ['analyze', 'resources/demo', '--reviews', file, '--json', path.join(out, 'a.json'), '--csv', path.join(out, 's.csv'), '--sr', path.join(out, 'sr.dcm')];
      const r = runCli(deid ? [...args, '--deidentify'] : args, { env, timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      // the summary on stdout names the source's Series UID only when the outputs do
      const uid = '1.2.826.0.1.3680043.8.498.10786425521656527282697587786545542710';
      assert.equal(r.stdout.includes(uid), !deid, `stdout ${deid ? 'without' : 'with'} the source Series UID: ${r.stdout.split('\n').find((l) => l.startsWith('Series')) ?? ''}`);
      if (deid) assert.match(r.stdout, /^Series 1 of 1 \(source UID withheld: --deidentify\) \(CT, 45 slices\)/m);
      // slices numbered as the viewer and the PDF number them, from the top of the stack (index 31-34 of 45)
      assert.match(r.stdout, /lung_nodule: slices 11-14 of 45, key slice 12, score/);
      // in the PDF's order, under its labels: F1 is the nodule nearest the head
      assert.deepEqual(r.stdout.split('\n').filter((l) => /^ {2}F\d /.test(l)).map((l) => l.trim().split(':')[0]), ['F1 lung_nodule', 'F2 lung_nodule', 'F3 liver_lesion', 'F4 liver_lesion']);
      assert.match(r.stdout, /^ {2}F1 lung_nodule: slices 6-8 of 45, key slice 8,/m);
      const csv = fs.readFileSync(path.join(out, 's-findings.csv'), 'utf8');
      assert.match(csv, /added:lung_nodule:20,reviewer,lung_nodule,,,20,20,.*missed nodule, 6 mm/, 'the CSV lists it');
      const j = JSON.parse(fs.readFileSync(path.join(out, 'a.json'), 'utf8')) as { series: { addedFindings?: { id: string }[]; reviews?: unknown[] }[] };
      assert.deepEqual(j.series[0]?.addedFindings?.map((a) => a.id), ['added:lung_nodule:20'], `the JSON lists it (${deid ? 'de-identified' : 'plain'})`);
      assert.ok(Array.isArray(j.series[0]?.reviews));
      assert.ok(fs.readFileSync(path.join(out, 'sr.dcm')).includes('added:lung_nodule:20'), 'the SR has a measurement group for it');
    }
  });

  it('the viewer\'s sign-off and impression reach the PDF and the JSON, and the PDF says so when decisions changed after the sign-off', { skip: !has('pdftotext') && 'poppler-utils not installed' }, (t) => {
    const dir = tempDir(t, 'signoff');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const signed = { findingId: 'signoff', decision: 'accepted', at: '2026-11-29T10:05:00.000Z' };
    const cases = [
      { name: 'current', reviews: [{ findingId: 'added:lung_nodule:20', decision: 'accepted', at: '2026-11-29T10:00:00.000Z' }, { findingId: 'impression', decision: 'accepted', at: '2026-11-29T10:04:00.000Z', comment: 'Nodule: CT in 3 months.' }, signed], pdf: /signed off in the viewer at 2026-11-29 10:05:00 UTC, with F1, F2, F3, F4 not reviewed and no reviewer named: a draft, not final/, current: true, impression: 'Nodule: CT in 3 months.' },
      { name: 'stale', reviews: [signed, { findingId: 'added:lung_nodule:20', decision: 'accepted', at: '2026-11-29T10:09:00.000Z' }], pdf: /the review changed after it/, current: false },
    ];
    for (const c of cases) {
      const file = path.join(dir, `${c.name}.json`);
      fs.writeFileSync(file, JSON.stringify(c.reviews));
      const out = path.join(dir, c.name);
      const r = runCli(['analyze', 'resources/demo', '--reviews', file, '--report', path.join(out, 'r.pdf'), '--json', path.join(out, 'a.json')], { env, timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const text = spawnSync('pdftotext', [path.join(out, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
      assert.match(text, c.pdf, c.name);
      const j = JSON.parse(fs.readFileSync(path.join(out, 'a.json'), 'utf8')) as { series: { signOff?: { current: boolean }; impression?: string; reviews: { findingId: string }[] }[] };
      assert.equal(j.series[0]?.signOff?.current, c.current, c.name);
      assert.ok(!j.series[0]?.reviews.some((x) => x.findingId === 'signoff' || x.findingId === 'impression'), 'neither is listed as a decision on a finding');
      assert.equal(j.series[0]?.impression, c.impression, c.name);
      if (c.impression) assert.ok(text.includes(`Impression (reviewer) ${c.impression}`), 'the PDF prints the impression');
    }
  });

  it('a model whose output is not finite leaves every slice unscored: the series is not scored, the command fails and says why, never "no findings"', (t) => {
    const dir = tempDir(t, 'nan-model');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const card = variant(dir, { graph: scaleTensor('logits', NaN) });
    const study = path.join(dir, 'study');
    fs.mkdirSync(study);
    for (const f of ['CT0032.dcm', 'CT0033.dcm']) fs.copyFileSync(path.join(DEMO, f), path.join(study, f));
    const r = runCli(['analyze', study, '--model', card, '--provider', 'cpu'], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 1, 'a batch run can tell a failed series from a clean one');
    assert.match(r.stdout, /not scored/);
    assert.match(r.stderr, /none of the 2 slices could be scored \(the first: INFERENCE_FAILED: .*not finite/);
    assert.doesNotMatch(r.stdout + r.stderr, /no findings above/);
  });

  it('with exports asked for and no series scored (another modality), the JSON still says why', (t) => {
    const dir = tempDir(t, 'unscored');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const mr = path.join(dir, 'mr');
    fs.mkdirSync(mr);
    fs.copyFileSync(corpusPath('pydicom_MR_small.dcm'), path.join(mr, 'MR_small.dcm'));
    const r = runCli(['analyze', mr, '--json', path.join(dir, 'a.json'), '--report', path.join(dir, 'r.pdf')], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 1);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'a.json'), 'utf8')) as AnalyzeJson;
    assert.equal(j.series[0]?.skipped?.code, 'MODALITY_MISMATCH');
    assert.match(r.stdout, /not scored; to score it anyway: .*--insist-modality/, 'the summary names the flag that scores it anyway');
    assert.ok(!fs.existsSync(path.join(dir, 'r.pdf')));
  });

  it('--json into a folder that does not exist creates it; a file where a folder must be is a typed error, before any work', (t) => {
    const dir = tempDir(t, 'json-dirs');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const plain = runCli(['analyze', 'resources/demo', '--json', path.join(dir, 'new', 'deeper', 'a.json')], { env, timeoutMs: 120_000 });
    assert.equal(plain.status, 0, plain.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'new', 'deeper', 'a.json')));
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, 'x');
    for (const args of [
      ['--json', path.join(blocker, 'a.json')],
      ['--sc-dir', blocker],
      ['--report', path.join(blocker, 'r.pdf'), '--json', path.join(dir, 'b.json')],
    ]) {
      const r = runCli(['analyze', 'resources/demo', ...args], { env, timeoutMs: 120_000 });
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.deepEqual(stackTraceLines(r.stderr), []);
      // a JSON error with --json, a line of text without
      assert.match(r.stderr, /is a file, not a folder.*EXPORT_FAILED|"code":"EXPORT_FAILED","message":"[^"]* is a file, not a folder"/, r.stderr);
      assert.doesNotMatch(r.stdout, /Timing:/, `${args.join(' ')}: refused before the analysis`);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'b.json')), 'nothing of a refused export set is written');
  });

  it('an output file that exists is replaced, as by any command; --no-clobber keeps it', (t) => {
    const dir = tempDir(t, 'replace');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    // as `out=$(mktemp)` leaves it: an empty file
    fs.writeFileSync(path.join(dir, 'a.json'), '');
    const r = runCli(['analyze', 'resources/demo', '--json', path.join(dir, 'a.json')], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(fs.readFileSync(path.join(dir, 'a.json'), 'utf8')) as AnalyzeJson).series.length, 1);
    fs.writeFileSync(path.join(dir, 'a.json'), 'precious');
    const kept = runCli(['analyze', 'resources/demo', '--json', path.join(dir, 'a.json'), '--no-clobber'], { env, timeoutMs: 120_000 });
    assert.equal(kept.status, 1);
    assert.deepEqual((JSON.parse(kept.stderr) as { error: { code: string; path: string } }).error, { code: 'EXPORT_EXISTS', message: 'the file exists (and existing files are kept: leave out --no-clobber to replace it)', path: path.join(dir, 'a.json') });
    assert.equal(fs.readFileSync(path.join(dir, 'a.json'), 'utf8'), 'precious');
  });

  it('--pdf-dicom writes the PDF report as a DICOM Encapsulated PDF (for the PACS)', (t) => {
    const dir = tempDir(t, 'epdf');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const r = runCli(['analyze', 'resources/demo', '--pdf-dicom', path.join(dir, 'out', 'report.dcm')], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote EPDF .*report\.dcm/);
    const ds = decodePart10(fs.readFileSync(path.join(dir, 'out', 'report.dcm')));
    assert.equal(ds.SOPClassUID, '1.2.840.10008.5.1.4.1.1.104.1');
    assert.equal(Buffer.from((ds.EncapsulatedDocument as ArrayBuffer[])[0] as ArrayBuffer).subarray(0, 5).toString(), '%PDF-');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'out')), ['report.dcm'], 'only what was asked for');
  });

  it('a study path that does not exist is the error, whatever the outputs', (t) => {
    const dir = tempDir(t, 'missing');
    const r = runCli(['analyze', '/no-such-study', '--json', path.join(dir, 'a.json'), '--report', path.join(dir, 'a.pdf')], { timeoutMs: 60_000 });
    assert.equal(r.status, 1);
    assert.deepEqual((JSON.parse(r.stderr) as { error: unknown }).error, { code: 'FILE_UNREADABLE', message: 'not found', path: '/no-such-study' });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('with --no-clobber, a derived file that exists (out-findings.csv) refuses the whole export set: the JSON is not written either', (t) => {
    const dir = tempDir(t, 'derived');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    fs.writeFileSync(path.join(dir, 'r-findings.csv'), 'precious');
    const r = runCli(['analyze', 'resources/demo', '--json', path.join(dir, 'a.json'), '--csv', path.join(dir, 'r.csv'), '--no-clobber'], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 1);
    assert.equal(JSON.parse(r.stderr).error.code, 'EXPORT_EXISTS');
    assert.deepEqual(listTree(dir), ['r-findings.csv']);
    assert.equal(fs.readFileSync(path.join(dir, 'r-findings.csv'), 'utf8'), 'precious');
  });

  it('--date-shift takes a negative number of days as a separate argument', (t) => {
    const dir = tempDir(t, 'shift');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const r = runCli(['analyze', 'resources/demo', '--deidentify', '--date-shift', '-30', '--json', path.join(dir, 'a.json')], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const text = fs.readFileSync(path.join(dir, 'a.json'), 'utf8');
    const j = JSON.parse(text) as { deidentified?: { datesShifted?: boolean; methodText?: string }; exportedAt: string };
    assert.equal(j.deidentified?.datesShifted, true);
    // shifted by 30 days, and saying so nowhere: the offset would give the real dates back
    const days = (Date.now() - Date.parse(j.exportedAt)) / 86_400_000;
    assert.ok(days > 29.9 && days < 30.1, String(days));
    assert.doesNotMatch(text, /-30\b|dateShiftDays/);
  });

  it('the SR of a series without findings says so and passes dciodvfy', { skip: !has('dciodvfy') && 'dciodvfy (dicom3tools) not installed' }, (t) => {
    const dir = tempDir(t, 'no-findings');
    const env = { RESIGHT_CACHE_DIR: path.join(dir, 'cache') };
    const study = path.join(dir, 'study');
    fs.mkdirSync(study);
    // the demo's five lowest slices: below its lesions
    const files = fs.readdirSync(DEMO).filter((f) => f.endsWith('.dcm')).sort().slice(0, 5);
    for (const f of files) fs.copyFileSync(path.join(DEMO, f), path.join(study, f));
    const sr = path.join(dir, 'sr.dcm');
    const r = runCli(['analyze', study, '--sr', sr, '--json', path.join(dir, 'a.json')], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(fs.readFileSync(path.join(dir, 'a.json'), 'utf8')) as AnalyzeJson).series[0]?.findings.length, 0, 'no findings on these slices');
    const v = spawnSync('dciodvfy', [sr], { encoding: 'utf8' });
    const errors = `${v.stdout}\n${v.stderr}`.split('\n').filter((l) => /^Error/.test(l));
    assert.deepEqual(errors, []);
    assert.ok(fs.readFileSync(sr).includes('No finding'));
  });
});

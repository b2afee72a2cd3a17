/**
 * The `resight` CLI contract (ARCHITECTURE.md, "CLI contract"), checked on the built command
 * (app/dist/cli/main.js, built in `before` when stale) the way outside checks call it:
 * `info <path...> --json` and `decode <file> [--frame N] --out <f32> --json`, exit codes
 * 0 (success) / 1 (input error, one JSON error line on stderr) / 2 (usage error), no stack
 * traces. Values are compared with the committed references of independent decoders.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ErrorCode } from '../../../src/shared/errors';
import { ERROR_CODES } from '../../../src/shared/errors';
import type { CliResult } from '../../helpers/cli';
import { CLI_MAIN, ensureCliBuilt, runCli, runCliAsync, stackTraceLines } from '../../helpers/cli';
import { CORPUS_DIR, corpusPath, readManifest, readReference, REPO_ROOT } from '../../helpers/corpus';
import { listTree } from '../../helpers/tmp';
import { variant } from '../../helpers/model-variant';

const reference = readReference();
const manifest = readManifest();

let tmp: string;

/** The corpus folder as a user would type it from the repository root (../shared/dicom). */
const corpusArg = () => path.relative(REPO_ROOT, CORPUS_DIR) || '.';
/** A path printed by the CLI (relative to its cwd, the repository root) -> corpus-relative name. */
const corpusName = (printed: string) => path.relative(CORPUS_DIR, path.resolve(REPO_ROOT, printed)).split(path.sep).join('/');

function assertNoStack(r: CliResult): void {
  assert.deepEqual(stackTraceLines(r.stderr), [], `stack trace on stderr:\n${r.stderr}`);
  assert.deepEqual(stackTraceLines(r.stdout), [], `stack trace on stdout:\n${r.stdout}`);
}

/** Exit 1 and one JSON line {"error":{code,message,path}} on stderr; returns the error. */
function assertInputError(r: CliResult, code: ErrorCode, file: string): { code: string; message: string; path?: string } {
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 1, `exit ${r.status}, stderr: ${r.stderr}`);
  assertNoStack(r);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line expected:\n${r.stderr}`);
  const { error } = JSON.parse(lines[0]) as { error: { code: string; message: string; path?: string } };
  assert.equal(error.code, code, error.message);
  assert.ok(typeof error.message === 'string' && error.message.length > 0);
  assert.equal(error.path, file);
  return error;
}

function readF32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  assert.equal(buf.length % 4, 0, 'a whole number of float32 values');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

function stats(v: Float32Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < min) min = v[i];
    if (v[i] > max) max = v[i];
    sum += v[i];
  }
  return { min, max, mean: sum / v.length };
}

interface DecodeSummary {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometric: string;
  transferSyntaxUid: string;
  min: number;
  max: number;
  mean: number;
}

/** Run `decode` into a fresh folder, check the common contract, return the summary and values. */
function decodeOk(file: string, extra: string[] = []): { summary: DecodeSummary; values: Float32Array; bytes: Buffer } {
  const outDir = fs.mkdtempSync(path.join(tmp, 'decode-'));
  const out = path.join(outDir, 'frame.f32');
  const r = runCli(['decode', file, ...extra, '--out', out, '--json']);
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr, '', 'nothing on stderr (codec chatter included)');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1, `stdout is one JSON line:\n${r.stdout}`);
  const summary = JSON.parse(lines[0]) as DecodeSummary;
  for (const k of ['rows', 'columns', 'samplesPerPixel', 'min', 'max', 'mean'] as const) assert.equal(typeof summary[k], 'number', k);
  for (const k of ['photometric', 'transferSyntaxUid'] as const) assert.equal(typeof summary[k], 'string', k);
  assert.deepEqual(fs.readdirSync(outDir), ['frame.f32'], 'only the output file (no temp file left)');
  const bytes = fs.readFileSync(out);
  assert.equal(bytes.length, summary.rows * summary.columns * summary.samplesPerPixel * 4, 'rows x columns x samples float32');
  const values = readF32(out);
  // The summary describes exactly the values written (float32 little-endian, row-major).
  const s = stats(values);
  assert.equal(summary.min, s.min, 'min');
  assert.equal(summary.max, s.max, 'max');
  assert.ok(Math.abs(summary.mean - s.mean) <= 1e-9 * Math.max(1, Math.abs(s.mean)), `mean ${summary.mean} vs ${s.mean}`);
  fs.rmSync(outDir, { recursive: true });
  return { summary, values, bytes };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------

interface InfoJson {
  studies: {
    studyInstanceUid: string;
    patient: { name: string; id: string };
    series: {
      seriesInstanceUid: string;
      modality: string;
      description: string;
      rows: number;
      columns: number;
      slices: number;
      pixelSpacing: [number, number] | null;
      sliceSpacing: number | null;
      transferSyntaxes: string[];
      instances: { path: string; sopInstanceUid: string; frames: number }[];
    }[];
  }[];
  errors: { path: string; code: string; message: string }[];
}

const UID = /^[0-9]+(\.[0-9]+)*$/;
const isPosInt = (n: unknown) => Number.isInteger(n) && (n as number) > 0;
const isPosNum = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;

/** Contract violations in an `info --json` document (empty: conforms). */
function infoContractProblems(doc: InfoJson): string[] {
  const p: string[] = [];
  if (!Array.isArray(doc.studies)) p.push('studies is not an array');
  if (!Array.isArray(doc.errors)) p.push('errors is not an array');
  for (const st of doc.studies ?? []) {
    const where = `study ${st.studyInstanceUid}`;
    if (typeof st.studyInstanceUid !== 'string') p.push(`${where}: studyInstanceUid`);
    if (typeof st.patient?.name !== 'string' || typeof st.patient?.id !== 'string') p.push(`${where}: patient {name, id}`);
    if (!Array.isArray(st.series) || !st.series.length) p.push(`${where}: no series`);
    for (const s of st.series ?? []) {
      const at = `${where} series ${s.seriesInstanceUid}`;
      if (typeof s.seriesInstanceUid !== 'string' || !s.seriesInstanceUid) p.push(`${at}: seriesInstanceUid`);
      if (typeof s.modality !== 'string' || !s.modality) p.push(`${at}: modality`);
      if (typeof s.description !== 'string') p.push(`${at}: description is ${typeof s.description}`);
      if (!isPosInt(s.rows) || !isPosInt(s.columns)) p.push(`${at}: rows/columns ${s.rows}x${s.columns}`);
      if (!isPosInt(s.slices)) p.push(`${at}: slices ${s.slices}`);
      // every field the contract lists is there: null where it is not known
      if (s.pixelSpacing !== null && !(Array.isArray(s.pixelSpacing) && s.pixelSpacing.length === 2 && s.pixelSpacing.every(isPosNum))) p.push(`${at}: pixelSpacing ${JSON.stringify(s.pixelSpacing)}`);
      if (s.sliceSpacing !== null && !isPosNum(s.sliceSpacing)) p.push(`${at}: sliceSpacing ${s.sliceSpacing}`);
      if (!Array.isArray(s.transferSyntaxes) || !s.transferSyntaxes.length || !s.transferSyntaxes.every((t) => UID.test(t))) p.push(`${at}: transferSyntaxes ${JSON.stringify(s.transferSyntaxes)}`);
      if (!Array.isArray(s.instances) || !s.instances.length) p.push(`${at}: no instances`);
      let frames = 0;
      for (const i of s.instances ?? []) {
        if (typeof i.path !== 'string' || !fs.existsSync(path.resolve(REPO_ROOT, i.path))) p.push(`${at}: instance path ${i.path}`);
        // Not checked against the UID syntax: the corpus has anonymised files with hex "UIDs".
        if (typeof i.sopInstanceUid !== 'string' || !i.sopInstanceUid) p.push(`${at}: sopInstanceUid ${i.sopInstanceUid}`);
        if (!isPosInt(i.frames)) p.push(`${at}: frames ${i.frames}`);
        frames += i.frames;
      }
      if (s.slices !== frames) p.push(`${at}: ${s.slices} slices but the instances hold ${frames} frames`);
    }
  }
  for (const e of doc.errors ?? []) {
    if (typeof e.path !== 'string' || typeof e.message !== 'string' || !e.message) p.push(`error entry ${JSON.stringify(e)}`);
    if (!(ERROR_CODES as readonly string[]).includes(e.code) || e.code === 'INTERNAL') p.push(`error ${e.path}: code ${e.code}`);
  }
  return p;
}

describe('resight CLI contract', () => {
  before(async () => {
    await ensureCliBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-cli-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe(`info <corpus> --json`, () => {
    let r: CliResult;
    let doc: InfoJson;
    let used: Map<string, InfoJson['studies'][number]['series'][number]>;
    let errors: Map<string, InfoJson['errors'][number]>;

    before(() => {
      r = runCli(['info', corpusArg(), '--json']);
      doc = JSON.parse(r.stdout) as InfoJson;
      used = new Map();
      for (const st of doc.studies) for (const s of st.series) for (const i of s.instances) used.set(corpusName(i.path), s);
      errors = new Map(doc.errors.map((e) => [corpusName(e.path), e]));
    });

    it('exits 0 with one JSON document on stdout, nothing on stderr', () => {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assertNoStack(r);
      assert.ok(doc.studies.length >= 10, `${doc.studies.length} studies`);
    });

    it('every study, series, instance and error has the contract fields and types', () => {
      const problems = infoContractProblems(doc);
      assert.deepEqual(problems, [], problems.join('\n'));
    });

    it('series agree with the corpus manifest (size, frames, modality, transfer syntax)', () => {
      let checked = 0;
      for (const row of manifest) {
        const s = used.get(row.file);
        if (!s) continue;
        checked++;
        assert.equal(s.rows, row.rows, `${row.file} rows`);
        assert.equal(s.columns, row.cols, `${row.file} columns`);
        assert.equal(s.modality, row.modality, `${row.file} modality`);
        const inst = s.instances.find((i) => corpusName(i.path) === row.file)!;
        assert.equal(inst.frames, row.frames, `${row.file} frames`);
        if (UID.test(row.transferSyntaxUid)) assert.ok(s.transferSyntaxes.includes(row.transferSyntaxUid), `${row.file}: ${row.transferSyntaxUid} not in ${s.transferSyntaxes.join(', ')}`);
      }
      assert.ok(checked >= 15, `only ${checked} manifest files found in series`);
    });

    it('series_ct_dcmqi is one series of 3 slices, 1 mm apart', () => {
      const files = ['series_ct_dcmqi/ct3slice_01.dcm', 'series_ct_dcmqi/ct3slice_02.dcm', 'series_ct_dcmqi/ct3slice_03.dcm'];
      const series = new Set(files.map((f) => used.get(f)));
      assert.equal(series.size, 1, 'the three files are in one series');
      const s = [...series][0]!;
      assert.equal(s.slices, 3);
      assert.deepEqual(s.instances.map((i) => corpusName(i.path)).sort(), files);
      assert.equal(s.modality, 'CT');
      assert.equal(s.rows, 512);
      assert.equal(s.columns, 512);
      assert.ok(s.sliceSpacing !== null && Math.abs(s.sliceSpacing - 1) < 1e-3, `sliceSpacing ${s.sliceSpacing}`);
      assert.ok(s.pixelSpacing && Math.abs(s.pixelSpacing[0] - 0.810547) < 1e-6 && Math.abs(s.pixelSpacing[1] - 0.810547) < 1e-6, `pixelSpacing ${JSON.stringify(s.pixelSpacing)}`);
      assert.deepEqual(s.transferSyntaxes, ['1.2.840.10008.1.2']);
      const study = doc.studies.find((st) => st.series.includes(s))!;
      assert.deepEqual(study.patient, { ...study.patient, name: 'JANCT000', id: '99000' });
    });

    it('malformed corpus files: unreadable ones are listed in errors with a typed code, header-readable ones are in a series', () => {
      // Given on their own: two of them share a SOP Instance UID with an intact corpus file,
      // which the folder scan lists as DUPLICATE_INSTANCE (see the accounting test below).
      const malformed: [string, ErrorCode[], 'errors' | 'either'][] = [
        // No File Meta and a stray first byte: not even the header can be read.
        ['pydicom_no_meta.dcm', ['NOT_DICOM', 'PARSE_FAILED'], 'errors'],
        // Header intact, Pixel Data cut short or broken: a header-only scan may use them (they
        // fail when decoded) or list them, but must do exactly one of the two.
        ['pydicom_MR_truncated.dcm', ['FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED'], 'either'],
        ['pydicom_emri_small_jpeg_2k_lossless_too_short.dcm', ['FILE_TRUNCATED', 'PIXEL_DATA_TRUNCATED'], 'either'],
        ['pydicom_JPEG2000-embedded-sequence-delimiter.dcm', ['CODEC_FAILED'], 'either'],
      ];
      const res = runCli(['info', ...malformed.map(([f]) => path.relative(REPO_ROOT, corpusPath(f))), '--json']);
      assert.equal(res.status, 0, res.stderr);
      const d = JSON.parse(res.stdout) as InfoJson;
      assert.deepEqual(infoContractProblems(d), []);
      const inSeries = new Set(d.studies.flatMap((st) => st.series.flatMap((s) => s.instances.map((i) => corpusName(i.path)))));
      const listed = new Map(d.errors.map((e) => [corpusName(e.path), e]));
      for (const [file, codes, where] of malformed) {
        const e = listed.get(file);
        assert.ok(inSeries.has(file) !== (e !== undefined), `${file}: ${inSeries.has(file) ? 'in a series' : 'not in a series'}, ${e ? `listed as ${e.code}` : 'not listed'}`);
        if (where === 'errors') assert.ok(e, `${file} must be listed in errors`);
        if (e) assert.ok(codes.includes(e.code as ErrorCode), `${file}: ${e.code} (${e.message})`);
      }
      // The embedded delimiter damages the codestream only: the header is fine.
      assert.ok(inSeries.has('pydicom_JPEG2000-embedded-sequence-delimiter.dcm'));
    });

    it('the non-DICOM files in the folder are listed as NOT_DICOM', () => {
      for (const f of ['manifest.tsv', 'SOURCES.md', 'SHA256SUMS']) assert.equal(errors.get(f)?.code, 'NOT_DICOM', f);
    });

    // Corpus files that hold the same image in another transfer syntax (pydicom_MR_small_RLE.dcm,
    // cswado_CTImage_j2k_lossless_90.dcm, ...) and the malformed copies are listed as
    // DUPLICATE_INSTANCE, never dropped silently.
    it('every file in the folder is accounted for: in a series or in errors', () => {
      const all = listTree(CORPUS_DIR);
      const missing = all.filter((f) => !used.has(f) && !errors.has(f));
      assert.deepEqual(missing, []);
    });

    it('a path that does not exist is listed in errors as FILE_UNREADABLE, and nothing usable is exit 1', () => {
      const missing = path.join(tmp, 'no-such-folder');
      const res = runCli(['info', missing, '--json']);
      assertNoStack(res);
      assert.equal(res.status, 1, res.stderr);
      assert.equal((JSON.parse(res.stderr) as { error: { code: string } }).error.code, 'FILE_UNREADABLE');
      const d = JSON.parse(res.stdout) as InfoJson;
      assert.deepEqual(d.studies, []);
      assert.deepEqual(
        d.errors.map((e) => [e.path, e.code]),
        [[missing, 'FILE_UNREADABLE']],
      );
    });
  });

  describe('decode <file> --out <f32> --json', () => {
    it('a CT slice: modality values (HU) identical to the reference decoders', () => {
      const file = 'cswado_CTImage_implicitLE.dcm';
      const { summary, values, bytes } = decodeOk(corpusPath(file));
      const ref = reference[file];
      assert.deepEqual(
        { rows: summary.rows, columns: summary.columns, samplesPerPixel: summary.samplesPerPixel, photometric: summary.photometric, transferSyntaxUid: summary.transferSyntaxUid },
        { rows: 512, columns: 512, samplesPerPixel: 1, photometric: 'MONOCHROME2', transferSyntaxUid: '1.2.840.10008.1.2' },
      );
      const fr = ref.frameStats[0];
      assert.equal(summary.min, fr.min);
      assert.equal(summary.max, fr.max);
      assert.ok(Math.abs(summary.mean - fr.mean) < 1e-6, `mean ${summary.mean} vs ${fr.mean}`);
      fr.sampleIndices.forEach((idx, k) => assert.equal(values[idx], fr.sampleValues[k], `value at ${idx}`));
      assert.equal(sha256(bytes), fr.sha256, 'the whole frame, bit for bit');
      assert.ok(summary.min < -1000, 'rescaled to HU (air is about -1000)');
    });

    it('--frame 1 of a 2-frame file is the second frame', () => {
      for (const file of ['pydicom_eCT_Supplemental.dcm', 'dicomparser_CT0012_notfrag_bot_rle.dcm']) {
        const f0 = decodeOk(corpusPath(file));
        const f1 = decodeOk(corpusPath(file), ['--frame', '1']);
        assert.equal(sha256(f0.bytes), reference[file].frameStats[0].sha256, `${file} frame 0`);
        assert.equal(sha256(f1.bytes), reference[file].frameStats[1].sha256, `${file} frame 1`);
        assert.notEqual(sha256(f0.bytes), sha256(f1.bytes));
      }
    });

    it('--frame 5 of a 2-frame file: exit 1, FRAME_OUT_OF_RANGE, no output file', () => {
      const outDir = fs.mkdtempSync(path.join(tmp, 'oor-'));
      const file = corpusPath('pydicom_eCT_Supplemental.dcm');
      const r = runCli(['decode', file, '--frame', '5', '--out', path.join(outDir, 'x.f32'), '--json']);
      assertInputError(r, 'FRAME_OUT_OF_RANGE', file);
      assert.equal(r.stdout, '');
      assert.deepEqual(fs.readdirSync(outDir), []);
    });

    it('a file that does not exist: exit 1, FILE_UNREADABLE naming it', () => {
      const outDir = fs.mkdtempSync(path.join(tmp, 'missing-'));
      const file = path.join(tmp, 'nope.dcm');
      const r = runCli(['decode', file, '--out', path.join(outDir, 'x.f32'), '--json']);
      assertInputError(r, 'FILE_UNREADABLE', file);
      assert.deepEqual(fs.readdirSync(outDir), []);
    });

    it('never writes into the folder of the file it decodes (a study folder): EXPORT_TARGET_FORBIDDEN, and nothing written; explain neither', () => {
      const study = fs.mkdtempSync(path.join(tmp, 'study-'));
      const file = path.join(study, 'ct.dcm');
      fs.copyFileSync(corpusPath('pydicom_CT_small.dcm'), file);
      const target = path.join(study, 'out', 'x.f32');
      assertInputError(runCli(['decode', file, '--out', path.join(study, 'x.f32'), '--json']), 'EXPORT_TARGET_FORBIDDEN', path.join(study, 'x.f32'));
      fs.mkdirSync(path.dirname(target));
      assertInputError(runCli(['decode', file, '--out', target, '--json']), 'EXPORT_TARGET_FORBIDDEN', target);
      const r = runCli(['explain', file, '--out-dir', path.join(study, 'ex'), '--json']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /EXPORT_TARGET_FORBIDDEN/);
      assert.deepEqual(fs.readdirSync(study).sort(), ['ct.dcm', 'out']);
      assert.deepEqual(fs.readdirSync(path.dirname(target)), []);
    });

    it('a relative RESIGHT_DATA_DIR, RESIGHT_CACHE_DIR or RESIGHT_AUDIT_DIR is a usage error (it would follow the current folder, a study folder perhaps)', () => {
      for (const name of ['RESIGHT_DATA_DIR', 'RESIGHT_CACHE_DIR', 'RESIGHT_AUDIT_DIR']) {
        const r = runCli(['info', corpusPath('pydicom_CT_small.dcm'), '--json'], { env: { [name]: 'resight-here' } });
        assert.equal(r.status, 2, `${name}: exit ${r.status}`);
        assert.match(r.stderr, new RegExp(`"code":"USAGE".*${name} must be an absolute path`));
      }
    });

    it('the site policy decides where exports may be sent: echo, analyze --send and serve --pacs elsewhere are usage errors naming it, before any connection', () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'policy-'));
      const only = path.join(dir, 'only.json');
      fs.writeFileSync(only, JSON.stringify({ pacs: { destination: 'PACS@127.0.0.1:11112' } }));
      const off = path.join(dir, 'off.json');
      fs.writeFileSync(off, JSON.stringify({ pacs: false }));
      const model = path.join(dir, 'model.json');
      fs.writeFileSync(model, JSON.stringify({ preferences: { modelFolder: path.join(REPO_ROOT, 'resources', 'models') } }));
      const demo = path.join(REPO_ROOT, 'resources', 'demo');
      for (const [policy, args, said] of [
        [off, ['echo', 'PACS@127.0.0.1:11112'], /echo: sending to a PACS is turned off by the site policy \(.*off\.json\)/],
        [only, ['echo', 'OTHER@127.0.0.1:11113'], /allows sending to PACS@127\.0\.0\.1:11112 only/],
        [only, ['analyze', demo, '--sr', path.join(dir, 'sr.dcm'), '--send', 'OTHER@127.0.0.1:11113'], /--send: the site policy .* allows sending to PACS@127\.0\.0\.1:11112 only/],
        [off, ['serve', demo, '--pacs', 'PACS@127.0.0.1:11112'], /--pacs: sending to a PACS is turned off/],
        // the policy's PACS is sent to as the policy's calling AE (RESIGHT when it names none)
        [only, ['echo', 'PACS@127.0.0.1:11112', '--calling-ae', 'MINE'], /--calling-ae: the site policy sends as RESIGHT/],
        // a model folder the policy fixes is the one serve uses
        [model, ['serve', demo, '--model', path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json')], /--model: the site policy fixes the model folder/],
      ] as const) {
        const r = runCli([...args], { env: { RESIGHT_POLICY_FILE: policy } });
        assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status} ${r.stderr}`);
        assert.match(r.stderr, said);
      }
      assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'off.json', 'only.json'], 'nothing written');
    });

    it('MONOCHROME1 is reported as such and not inverted', () => {
      const file = 'pydicom_RG3_J2KI.dcm';
      const { summary, values } = decodeOk(corpusPath(file));
      const fr = reference[file].frameStats[0];
      assert.equal(reference[file].photometric, 'MONOCHROME1');
      assert.equal(summary.photometric, 'MONOCHROME1');
      assert.equal(summary.min, fr.min);
      assert.equal(summary.max, fr.max);
      // min/max survive an inversion over the full range; the mean and the samples do not.
      const range = fr.max - fr.min;
      assert.ok(Math.abs(summary.mean - fr.mean) <= 0.01 * range, `mean ${summary.mean} vs reference ${fr.mean} (inverted would be ${fr.max + fr.min - fr.mean})`);
      let mad = 0;
      fr.sampleIndices.forEach((idx, k) => (mad += Math.abs(values[idx] - fr.sampleValues[k])));
      mad /= fr.sampleIndices.length;
      assert.ok(mad <= 0.01 * range, `samples differ by ${mad} on average (lossy J2K: at most 1% of ${range})`);
    });
  });

  describe('usage errors exit 2', () => {
    const file = () => corpusPath('pydicom_CT_small.dcm');
    /** Each case gets its own empty folder `dir`; --out points into it (or at it). */
    const cases: [string, (dir: string) => string[]][] = [
      ['no arguments', () => []],
      ['an unknown command', () => ['frobnicate']],
      ['decode without a file', (d) => ['decode', '--out', path.join(d, 'x.f32')]],
      ['decode with two files', (d) => ['decode', file(), file(), '--out', path.join(d, 'x.f32')]],
      ['decode without --out', () => ['decode', file()]],
      ['--frame abc', (d) => ['decode', file(), '--frame', 'abc', '--out', path.join(d, 'x.f32')]],
      ['--frame -1', (d) => ['decode', file(), '--frame=-1', '--out', path.join(d, 'x.f32')]],
      ['--frame 1.5', (d) => ['decode', file(), '--frame', '1.5', '--out', path.join(d, 'x.f32')]],
      ['--frame= (empty)', (d) => ['decode', file(), '--frame=', '--out', path.join(d, 'x.f32')]],
      ['--frame 0x1', (d) => ['decode', file(), '--frame', '0x1', '--out', path.join(d, 'x.f32')]],
      ['--frame without a value', (d) => ['decode', file(), '--out', path.join(d, 'x.f32'), '--frame']],
      ['an unknown option to decode', (d) => ['decode', file(), '--out', path.join(d, 'x.f32'), '--bogus']],
      ['an unknown option to info', () => ['info', '--bogus', file()]],
      ['info without a path', () => ['info']],
      ['--out naming a folder', (d) => ['decode', file(), '--out', d]],
      ['--out in a folder that does not exist', (d) => ['decode', file(), '--out', path.join(d, 'no-such-folder', 'x.f32')]],
      ['bench --methods naming no CAM method', (d) => ['bench', '--suite', 'localization', '--methods', 'gradcam,bogus', '--set', d]],
      ['bench --methods= (empty)', (d) => ['bench', '--suite', 'localization', '--methods=', '--set', d]],
      ['bench --layers naming a layer the card lacks', (d) => ['bench', '--suite', 'localization', '--layers', 'layer9', '--set', d]],
      ['bench --methods with another suite', () => ['bench', '--suite', 'explain', '--methods', 'gradcam']],
      ['bench --suite localization with a --set folder that holds no set', (d) => ['bench', '--suite', 'localization', '--set', d]],
      ['bench --suite localization with a model of other classes than the phantom\'s', (d) => ['bench', '--suite', 'localization', '--set', d, '--model', variant(fs.mkdtempSync(path.join(tmp, 'classes-')), { card: (c) => Object.assign(c.outputs, { classes: ['a', 'b'], thresholds: { a: 0.5, b: 0.5 } }) })]],
      ['serve --pacs that is no destination', () => ['serve', '--pacs', 'nonsense', '--port', '0']],
      ['serve --calling-ae without --pacs', () => ['serve', '--calling-ae', 'WS01', '--port', '0']],
      ['echo without a destination', () => ['echo']],
      ['analyze --send that is no destination', (d) => ['analyze', 'resources/demo', '--sr', path.join(d, 'x', 'sr.dcm'), '--send', 'PACS@host']],
    ];
    // Each case runs twice (plain, --json); all of them side by side, checked one by one.
    const results = new Map<string, { dirs: string[]; runs: Promise<[CliResult, CliResult]> }>();
    before(() => {
      for (const [what, args] of cases) {
        const dirs = [fs.mkdtempSync(path.join(tmp, 'usage-')), fs.mkdtempSync(path.join(tmp, 'usage-json-'))];
        results.set(what, { dirs, runs: Promise.all([runCliAsync(args(dirs[0])), runCliAsync([...args(dirs[1]), '--json'])]) });
      }
    });

    for (const [what, args] of cases) {
      it(what, async () => {
        const { dirs, runs } = results.get(what)!;
        const [plain, json] = await runs;
        assert.equal(plain.status, 2, `exit ${plain.status}\nstdout: ${plain.stdout}\nstderr: ${plain.stderr}`);
        assertNoStack(plain);
        assert.ok((plain.stderr + plain.stdout).trim().length > 0, 'says what is wrong');
        assert.equal(json.status, 2, `with --json: exit ${json.status}\n${json.stderr}`);
        assertNoStack(json);
        if (args(dirs[1]).length) {
          const lines = json.stderr.trimEnd().split('\n');
          assert.equal(lines.length, 1, json.stderr);
          assert.equal((JSON.parse(lines[0]) as { error: { code: string } }).error.code, 'USAGE');
        }
        for (const d of dirs) assert.deepEqual(fs.readdirSync(d), [], 'nothing written');
      });
    }
  });

  it('--help exits 0 and lists the commands', () => {
    const r = runCli(['--help']);
    assert.equal(r.status, 0);
    for (const cmd of ['info', 'decode']) assert.ok(r.stdout.includes(`resight ${cmd}`), cmd);
  });

  it('each command\'s --help (or -h, or `help <command>`) prints its usage and exits 0; no arguments is a usage error on stderr', () => {
    for (const cmd of ['info', 'decode', 'analyze', 'explain', 'serve', 'bench']) {
      for (const args of [[cmd, '--help'], [cmd, '-h'], ['help', cmd], [cmd, 'some/path', '--help']]) {
        const r = runCli(args);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.ok(r.stdout.startsWith(`resight ${cmd}`), `${args.join(' ')}: ${r.stdout.slice(0, 80)}`);
      }
    }
    const none = runCli([]);
    assert.equal(none.status, 2);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /Usage:/);
  });

  // npm ci links node_modules/.bin/resight at install time, before any build: the bin must be a
  // committed, executable launcher (app/bin/resight.js) that loads the built CLI, or npx fails.
  it('the bin is a committed executable launcher, and a fresh `npm run build` makes it work', () => {
    const binTarget = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'app', 'package.json'), 'utf8')) as { bin: { resight: string } }).bin.resight;
    assert.ok(!binTarget.startsWith('dist/'), `bin ${binTarget} must not be a build output`);
    const tracked = spawnSync('git', ['ls-files', '-s', `app/${binTarget}`], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.match(tracked.stdout, /^100755 /, `app/${binTarget} is committed with mode 100755`);
    const copy = fs.mkdtempSync(path.join(tmp, 'fresh-build-'));
    for (const f of ['package.json', 'tsconfig.base.json', 'tsconfig.build.json', 'vite.config.mjs']) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(copy, f));
    fs.cpSync(path.join(REPO_ROOT, 'scripts'), path.join(copy, 'scripts'), { recursive: true });
    fs.cpSync(path.join(REPO_ROOT, 'src'), path.join(copy, 'src'), { recursive: true });
    fs.mkdirSync(path.join(copy, 'app'));
    fs.copyFileSync(path.join(REPO_ROOT, 'app', 'package.json'), path.join(copy, 'app', 'package.json'));
    fs.cpSync(path.join(REPO_ROOT, 'app', 'bin'), path.join(copy, 'app', 'bin'), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const bin = path.join(copy, 'app', binTarget);
    const before = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    assert.equal(before.status, 2, 'before the build the launcher says so (exit 2)');
    assert.match(before.stderr, /not built yet/);
    const res = spawnSync('npm', ['run', '--silent', 'build'], { cwd: copy, encoding: 'utf8', timeout: 170_000 });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    const after = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    assert.equal(after.status, 0, after.stderr);
    assert.match(after.stdout, /resight info/);
  });

  it('node_modules/.bin/resight (linked by npm ci) runs the built CLI', () => {
    const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'resight');
    assert.equal(fs.realpathSync(bin), fs.realpathSync(path.join(REPO_ROOT, 'app', 'bin', 'resight.js')));
    const r = spawnSync(bin, ['decode'], { encoding: 'utf8' });
    assert.equal(r.status, 2, 'usage error travels through the launcher');
    assert.ok(fs.existsSync(CLI_MAIN));
  });
});

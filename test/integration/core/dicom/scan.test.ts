/**
 * Scanning, specified on real files in temporary folders: whatever is in a study folder, the
 * scan lists every file it did not use with a typed reason and goes on; it reports progress,
 * can be cancelled, reads headers only, never writes, follows DICOMDIRs (made by DCMTK's
 * dcmmkdir), reads raw data sets without a preamble, and decodes names with the file's
 * SpecificCharacterSet.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ScanProgress } from '../../../../src/shared/dicom';
import { MEDIA_STORAGE_DIRECTORY_SOP_CLASS, scanFile, scanPaths } from '../../../../src/core/dicom/scan';
import { parseDicomBytes, pixelDataElement } from '../../../../src/core/dicom/parse';
import { readDicomFile, readDicomHeader } from '../../../../src/core/dicom/read';
import type { SimpleElement } from '../../../../src/core/dicom/write-simple';
import { writePart10 } from '../../../../src/core/dicom/write-simple';
import type { SyntheticSeriesOptions, WrittenSeries } from '../../../../src/core/synthetic/ct-series';
import { CT_IMAGE_STORAGE, writeSyntheticSeries } from '../../../../src/core/synthetic/ct-series';
import { assembleStudies } from '../../../../src/core/dicom/series';
import { ResightError } from '../../../../src/core/errors';
import { corpusPath } from '../../../helpers/corpus';
import { elementOffset, withNumberOfFrames, withShortValue } from '../../../helpers/dicom-bytes';
import { listTree, tempDir } from '../../../helpers/tmp';
import { WorkerPool } from '../../../../src/core/workers/pool';

const SMALL = { rows: 16, columns: 16 } as const;
const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
type Cleanup = { after(fn: () => void): void };

function write(t: Cleanup, opts: SyntheticSeriesOptions, dir = tempDir(t, 'scan')): WrittenSeries {
  return writeSyntheticSeries(dir, { ...SMALL, ...opts });
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** sha256 of every file under `dir`, keyed by relative path. */
function fingerprint(dir: string): Record<string, string> {
  return Object.fromEntries(listTree(dir).map((rel) => [rel, sha256(path.join(dir, rel))]));
}

/** A DCMTK tool, or a failure saying how to get it (CI installs dcmtk through scripts/setup.sh). */
function dcmtk(tool: string, args: string[], cwd: string): { stdout: string; stderr: string } {
  const res = spawnSync(tool, args, { cwd, encoding: 'utf8' });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
    assert.fail(`${tool} (DCMTK) is not installed: run scripts/setup.sh (or apt-get install dcmtk)`);
  }
  assert.equal(res.status, 0, `${tool} ${args.join(' ')} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  return { stdout: res.stdout, stderr: res.stderr };
}

/** One tiny CT image (2x2) with the given character set and Patient's Name value. */
function writeNamedImage(file: string, opts: { sop: string; charset?: string; name: string | Uint8Array; description?: string | Uint8Array }): void {
  const els: SimpleElement[] = [
    { tag: 0x00080016, vr: 'UI', value: CT_IMAGE_STORAGE },
    { tag: 0x00080018, vr: 'UI', value: opts.sop },
    { tag: 0x00080060, vr: 'CS', value: 'CT' },
    { tag: 0x00100010, vr: 'PN', value: opts.name },
    { tag: 0x00100020, vr: 'LO', value: 'CHARSET-1' },
    { tag: 0x0020000d, vr: 'UI', value: `${opts.sop}.1` },
    { tag: 0x0020000e, vr: 'UI', value: `${opts.sop}.2` },
    { tag: 0x00200013, vr: 'IS', value: '1' },
    { tag: 0x00280002, vr: 'US', value: 1 },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: 2 },
    { tag: 0x00280011, vr: 'US', value: 2 },
    { tag: 0x00280100, vr: 'US', value: 16 },
    { tag: 0x00280101, vr: 'US', value: 16 },
    { tag: 0x00280102, vr: 'US', value: 15 },
    { tag: 0x00280103, vr: 'US', value: 1 },
    { tag: 0x7fe00010, vr: 'OW', value: new Int16Array([-1000, 0, 40, 1000]) },
  ];
  if (opts.charset) els.push({ tag: 0x00080005, vr: 'CS', value: opts.charset });
  if (opts.description) els.push({ tag: 0x00081030, vr: 'LO', value: opts.description });
  fs.writeFileSync(file, writePart10(els, { sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid: opts.sop }));
}

describe('scanning: files that cannot be used are listed with a reason, and never stop the scan', () => {
  it('a text file, a PNG, an empty file, a truncated DICOM and a missing path each get a typed error; the series still opens', async (t) => {
    const w = write(t, { slices: 3, seed: 1 });
    const dir = w.dir;
    const bad = {
      text: path.join(dir, '000_notes.txt'),
      png: path.join(dir, 'preview.png'),
      empty: path.join(dir, 'aaa_empty.dcm'),
      truncated: path.join(dir, 'zzz_truncated.dcm'),
      missing: path.join(dir, 'no-such-folder'),
    };
    fs.writeFileSync(bad.text, 'Patient list, not an image.\nSee the DICOM folder.\n'.repeat(20));
    fs.writeFileSync(
      bad.png,
      Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        Buffer.from([0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0]),
        Buffer.alloc(512, 0xab),
      ]),
    );
    fs.writeFileSync(bad.empty, Buffer.alloc(0));
    // A real slice cut three bytes into its Patient's Name: the header itself is incomplete.
    const whole = fs.readFileSync(w.files[0]);
    const cut = elementOffset(whole, 0x0010, 0x0010, 'PN') + 8 + 3;
    fs.writeFileSync(bad.truncated, whole.subarray(0, cut));

    const result = await scanPaths([dir, bad.missing]);
    const codes = Object.fromEntries(result.errors.map((e) => [e.path, e.code]));
    assert.equal(result.errors.length, 5, `five errors, got ${JSON.stringify(result.errors, null, 1)}`);
    assert.equal(codes[bad.text], 'NOT_DICOM');
    assert.equal(codes[bad.png], 'NOT_DICOM');
    assert.equal(codes[bad.empty], 'FILE_EMPTY');
    assert.ok(['FILE_TRUNCATED', 'PARSE_FAILED'].includes(codes[bad.truncated]), `truncated: ${codes[bad.truncated]}`);
    assert.equal(codes[bad.missing], 'FILE_UNREADABLE');
    for (const e of result.errors) assert.ok(e.message.length > 0, `${e.path} has a message`);

    assert.equal(result.filesScanned, 7, 'three slices + four other files were looked at');
    assert.equal(result.studies.length, 1);
    assert.equal(result.studies[0].series.length, 1);
    const s = result.studies[0].series[0];
    assert.equal(s.slices, 3, 'the good slices are all there');
    assert.deepEqual(s.ordered.map((o) => o.path), w.files);
  });

  it('a folder of nothing but junk gives no studies, only errors (no exception)', async (t) => {
    const dir = tempDir(t, 'junk');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'hello');
    fs.writeFileSync(path.join(dir, 'b.bin'), Buffer.alloc(4096, 0xff));
    const result = await scanPaths([dir]);
    assert.deepEqual(result.studies, []);
    assert.deepEqual(result.errors.map((e) => e.code), ['NOT_DICOM', 'NOT_DICOM']);
  });
});

describe('scanning: progress and cancellation', () => {
  it('progress events count done of total and the last one reports done === total (default throttling)', async (t) => {
    const w = write(t, { slices: 40, seed: 2 });
    fs.writeFileSync(path.join(w.dir, 'zz_readme.txt'), 'not dicom');
    const events: ScanProgress[] = [];
    const result = await scanPaths([w.dir], { onProgress: (p) => events.push({ ...p }) });
    assert.ok(events.length >= 1, 'at least the final event');
    assert.ok(events.length <= 41, 'at most one per file');
    events.forEach((e, i) => {
      assert.equal(e.total, 41, `event ${i} total`);
      if (i > 0) assert.ok(e.done > events[i - 1].done, `done increases at event ${i}`);
    });
    const last = events[events.length - 1];
    assert.equal(last.done, 41);
    assert.equal(last.done, result.filesScanned);
    assert.equal(last.errors, 1, 'the text file is counted as an error');
  });

  it('with progressIntervalMs 0 every file reports once, in scan order', async (t) => {
    const w = write(t, { slices: 6, seed: 3 });
    const events: ScanProgress[] = [];
    await scanPaths([w.dir], { progressIntervalMs: 0, onProgress: (p) => events.push({ ...p }) });
    assert.deepEqual(events.map((e) => e.done), [1, 2, 3, 4, 5, 6]);
    assert.ok(events.every((e) => e.total === 6 && e.errors === 0));
    assert.deepEqual(events.map((e) => e.path), w.files);
  });

  it('aborting mid-scan rejects with an AbortError and reads no further file', async (t) => {
    const w = write(t, { slices: 30, seed: 4 });
    const controller = new AbortController();
    const events: ScanProgress[] = [];
    await assert.rejects(
      scanPaths([w.dir], {
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          events.push({ ...p });
          if (p.done === 3) controller.abort();
        },
      }),
      (err: unknown) => err instanceof Error && err.name === 'AbortError',
    );
    assert.deepEqual(events.map((e) => e.done), [1, 2, 3], 'nothing after the abort');
  });

  it('an already-aborted signal rejects at once, even for an empty folder', async (t) => {
    const withFiles = write(t, { slices: 3, seed: 5 });
    const empty = tempDir(t, 'empty');
    for (const dir of [withFiles.dir, empty]) {
      let progress = 0;
      await assert.rejects(
        scanPaths([dir], { signal: AbortSignal.abort(), onProgress: () => progress++ }),
        (err: unknown) => err instanceof Error && err.name === 'AbortError',
        `${dir === empty ? 'empty' : 'non-empty'} folder`,
      );
      assert.equal(progress, 0, 'no file was scanned');
    }
  });

  it('aborting while the last file is reported still rejects (no result after a cancel)', async (t) => {
    const w = write(t, { slices: 3, seed: 6 });
    const controller = new AbortController();
    await assert.rejects(
      scanPaths([w.dir], { signal: controller.signal, progressIntervalMs: 0, onProgress: (p) => p.done === p.total && controller.abort() }),
      (err: unknown) => err instanceof Error && err.name === 'AbortError',
    );
  });
});

describe('scanning: headers only, nothing written', () => {
  it('every file in the folder is byte-identical afterwards (sha256) and nothing is added', async (t) => {
    const w = write(t, { slices: 5, seed: 7, localizer: true, shuffleNames: true });
    fs.writeFileSync(path.join(w.dir, 'notes.txt'), 'not dicom');
    fs.writeFileSync(path.join(w.dir, 'empty'), '');
    const before = fingerprint(w.dir);
    const mtimes = listTree(w.dir).map((rel) => fs.statSync(path.join(w.dir, rel)).mtimeMs);
    const result = await scanPaths([w.dir]);
    assert.equal(result.studies.length, 1, 'precondition: the scan used the files');
    assert.deepEqual(fingerprint(w.dir), before);
    assert.deepEqual(listTree(w.dir).map((rel) => fs.statSync(path.join(w.dir, rel)).mtimeMs), mtimes);
  });

  it('reading a 512x512 slice header reads a prefix, not the 512 KiB of Pixel Data', (t) => {
    const w = write(t, { slices: 1, rows: 512, columns: 512, seed: 8 });
    const size = fs.statSync(w.files[0]).size;
    assert.ok(size > 512 * 512 * 2, 'precondition: the file holds the pixel data');
    const parsed = readDicomHeader(w.files[0]);
    assert.equal(parsed.headerOnly, true);
    assert.equal(parsed.fileSize, size);
    assert.ok(parsed.bytes.length < 64 * 1024, `read ${parsed.bytes.length} of ${size} bytes`);
    assert.equal(parsed.dataSet.uint16('x00280010'), 512, 'the header is complete');
  });

  it('a series says its photometric interpretation, so MONOCHROME1 (CR) can be shown lowest-white', async () => {
    const cr = (await scanPaths([corpusPath('pydicom_RG3_J2KI.dcm')])).studies[0].series[0];
    assert.equal(cr.photometric, 'MONOCHROME1');
    const mr = (await scanPaths([corpusPath('pydicom_MR_small.dcm')])).studies[0].series[0];
    assert.equal(mr.photometric, 'MONOCHROME2');
  });

  it('a radiograph without ImageOrientationPatient gives its PatientOrientation (rows, columns) for the orientation letters; a CT, which has IOP, does not', async () => {
    const cr = (await scanPaths([corpusPath('pydicom_RG3_J2KI.dcm')])).studies[0].series[0];
    assert.deepEqual(cr.patientOrientation, ['R', 'F']);
    assert.equal(cr.geometry.orientation, undefined);
    // a PA and a lateral of one size stay one stack: no letters then, rather than the PA's on the lateral
    const h = (await scanPaths([corpusPath('pydicom_RG3_J2KI.dcm')])).studies[0].series[0].headers[0];
    const lateral = { ...h, sopInstanceUid: `${h.sopInstanceUid}.2`, path: `${h.path}#2`, patientOrientation: ['A', 'F'] as [string, string] };
    const mixed = assembleStudies([h, lateral])[0].series[0];
    assert.equal(mixed.slices, 2);
    assert.equal(mixed.patientOrientation, undefined);
    assert.deepEqual(assembleStudies([h, { ...lateral, patientOrientation: ['R', 'F'] }])[0].series[0].patientOrientation, ['R', 'F'], 'the same letters on both: kept');
    // this CT says L\\PF too, but its ImageOrientationPatient is what names its edges
    const ct = (await scanPaths([corpusPath('pydicom_J2K_pixelrep_mismatch.dcm')])).studies[0].series[0];
    assert.equal(ct.patientOrientation, undefined);
    assert.ok(ct.geometry.orientation);
  });

  it('a header larger than the first read (Siemens CSA private block) grows the read, not the whole file', () => {
    const file = corpusPath('pydicom_MR-SIEMENS-DICOM-WithOverlays.dcm');
    const size = fs.statSync(file).size;
    const parsed = readDicomHeader(file);
    assert.equal(parsed.headerOnly, true);
    assert.ok(parsed.bytes.length < size / 2, `read ${parsed.bytes.length} of ${size} bytes`);
    assert.ok(parsed.bytes.length > 16 * 1024, 'precondition: the header does not fit the first 16 KiB');
    assert.equal(parsed.dataSet.uint16('x00280010'), readDicomFile(file).dataSet.uint16('x00280010'), 'the header is complete');
  });

  it('a slice whose Pixel Data is cut short (header intact) still scans: pixel data is not read', async (t) => {
    const w = write(t, { slices: 3, rows: 512, columns: 512, seed: 9 });
    const whole = fs.readFileSync(w.files[1]);
    const pixelData = elementOffset(whole, 0x7fe0, 0x0010, 'OW');
    fs.writeFileSync(w.files[1], whole.subarray(0, pixelData + 12 + 1000));
    const result = await scanPaths([w.dir]);
    assert.deepEqual(result.errors, []);
    assert.equal(result.studies[0].series[0].slices, 3);
  });

  it('garbage Pixel Data bytes do not matter to a scan', async (t) => {
    const w = write(t, { slices: 3, seed: 10 });
    const whole = fs.readFileSync(w.files[2]);
    const value = elementOffset(whole, 0x7fe0, 0x0010, 'OW') + 12;
    for (let i = value; i < whole.length; i++) whole[i] = (i * 131) & 0xff;
    fs.writeFileSync(w.files[2], whole);
    const result = await scanPaths([w.dir]);
    assert.deepEqual(result.errors, []);
    assert.equal(result.studies[0].series[0].slices, 3);
  });
});

describe('scanning: raw data sets without preamble or File Meta', () => {
  for (const [label, ts] of [
    ['Explicit VR Little Endian', EXPLICIT_VR_LE],
    ['Implicit VR Little Endian', IMPLICIT_VR_LE],
  ] as const) {
    it(`${label}: the series assembles; each file says it was read as a raw data set`, async (t) => {
      const w = write(t, { slices: 4, seed: 12, preamble: false, transferSyntaxUid: ts, localizer: true, shuffleNames: true });
      for (const f of w.files) {
        const head = fs.readFileSync(f).subarray(0, 132);
        assert.notEqual(head.subarray(128, 132).toString('latin1'), 'DICM', `precondition: ${path.basename(f)} has no DICM prefix`);
        assert.equal(head.readUInt16LE(0), 0x0008, 'precondition: it starts with a group 0008 element');
      }
      const result = await scanPaths([w.dir]);
      assert.deepEqual(result.errors, []);
      assert.equal(result.headers.length, 5);
      for (const h of result.headers) {
        assert.equal(h.transferSyntaxUid, ts, `${path.basename(h.path)} transfer syntax`);
        assert.ok(h.warnings.some((m) => /preamble/i.test(m)), `${path.basename(h.path)} warns about the missing preamble`);
      }
      const series = result.studies[0].series;
      assert.deepEqual(series.map((s) => [s.slices, s.splitReason]), [[4, undefined], [1, 'localizer']]);
      const axial = series[0];
      assert.deepEqual(axial.ordered.map((o) => o.path), w.files.slice(0, 4));
      axial.ordered.forEach((o, i) => assert.deepEqual(o.position, w.positions[i]));
      assert.equal(axial.sliceSpacing, 2.5);
      assert.equal(result.studies[0].patient.name, 'Phantom^Synthetic');
    });
  }
});

describe('scanning: DICOMDIR (made by DCMTK dcmmkdir)', () => {
  /** A DICOM medium: SER00001/IM00000n images and a DICOMDIR indexing them. */
  function makeMedium(t: Cleanup, slices: number): { root: string; dicomdir: string; images: string[]; written: WrittenSeries } {
    const written = write(t, { slices, seed: 14, shuffleNames: true });
    const root = tempDir(t, 'medium');
    fs.mkdirSync(path.join(root, 'SER00001'));
    // File IDs on a medium are up to 8 characters from A-Z, 0-9 and _.
    const images = written.files.map((f, i) => {
      const dest = path.join(root, 'SER00001', `IM${String(i + 1).padStart(6, '0')}`);
      fs.copyFileSync(f, dest);
      return dest;
    });
    dcmtk('dcmmkdir', ['--recurse', '+I', 'SER00001'], root);
    const dicomdir = path.join(root, 'DICOMDIR');
    assert.ok(fs.existsSync(dicomdir), 'dcmmkdir wrote a DICOMDIR');
    const dump = dcmtk('dcmdump', ['-q', '+P', '0002,0002', dicomdir], root).stdout;
    assert.ok(dump.includes(MEDIA_STORAGE_DIRECTORY_SOP_CLASS) || /MediaStorageDirectoryStorage/.test(dump), `a DICOMDIR: ${dump}`);
    return { root, dicomdir, images, written };
  }

  it('scanning the DICOMDIR alone finds the images it references, and lists the DICOMDIR as code DICOMDIR', async (t) => {
    const medium = makeMedium(t, 4);
    // Not referenced by the DICOMDIR: must not be picked up by scanning the DICOMDIR.
    writeSyntheticSeries(path.join(medium.root, 'EXTRA'), { ...SMALL, slices: 2, seed: 99 });
    const result = await scanPaths([medium.dicomdir]);
    assert.deepEqual(result.errors.map((e) => [e.path, e.code]), [[medium.dicomdir, 'DICOMDIR']]);
    assert.equal(result.filesScanned, 5, 'the DICOMDIR and its 4 images');
    assert.equal(result.studies.length, 1);
    assert.equal(result.studies[0].series.length, 1);
    const s = result.studies[0].series[0];
    assert.equal(s.seriesInstanceUid, medium.written.seriesInstanceUid);
    assert.deepEqual(s.ordered.map((o) => o.path), medium.images, 'the referenced files, in spatial order');
  });

  it('a reference that leaves the DICOMDIR\'s folder (..) is ignored: a disc cannot pull in files from elsewhere', async (t) => {
    const written = write(t, { slices: 2, seed: 15 });
    const top = tempDir(t, 'escape');
    const disc = path.join(top, 'disc');
    fs.mkdirSync(path.join(disc, 'SER00001'), { recursive: true });
    written.files.forEach((f, i) => fs.copyFileSync(f, path.join(disc, 'SER00001', `IM00000${i + 1}`)));
    fs.mkdirSync(path.join(top, 'OUTSID'));
    const outside = path.join(top, 'OUTSID', 'IM000001');
    writeSyntheticSeries(path.join(top, 'other'), { ...SMALL, slices: 1, seed: 78 }).files.forEach((f) => fs.copyFileSync(f, outside));
    dcmtk('dcmmkdir', ['--recurse', '+I', 'SER00001'], disc);
    // point the first image record at ..\OUTSID\IM000001 (same length, so the DICOMDIR stays well formed)
    const dicomdir = path.join(disc, 'DICOMDIR');
    const bytes = fs.readFileSync(dicomdir);
    const at = bytes.indexOf('SER00001\\IM000001', 0, 'latin1');
    assert.ok(at > 0, 'precondition: the record is there');
    bytes.write('..\\OUTSID\\IM000001', at, 'latin1');
    fs.writeFileSync(dicomdir, bytes);
    const result = await scanPaths([dicomdir]);
    const paths = result.studies.flatMap((st) => st.series.flatMap((se) => se.ordered.map((o) => o.path)));
    assert.deepEqual(paths, [path.join(disc, 'SER00001', 'IM000002')], 'the image inside is opened, the one outside is not');
    assert.equal(result.filesScanned, 2, 'the DICOMDIR and one image');
  });

  it('a reference that leaves the DICOMDIR\'s folder through a symlink is ignored too (real paths are compared)', async (t) => {
    const medium = makeMedium(t, 2);
    const outside = write(t, { slices: 1, seed: 79 }).files[0];
    // IM000001 on the disc becomes a link to an image elsewhere on the disk
    fs.rmSync(medium.images[0]);
    fs.symlinkSync(outside, medium.images[0]);
    const result = await scanPaths([medium.dicomdir]);
    const paths = result.studies.flatMap((st) => st.series.flatMap((se) => se.ordered.map((o) => o.path)));
    assert.deepEqual(paths, [medium.images[1]], 'the image inside is opened, the linked one outside is not');
    assert.equal(result.filesScanned, 2, 'the DICOMDIR and one image');
  });

  it('file IDs are matched case-insensitively (a medium copied onto a case-sensitive disk in lower case)', async (t) => {
    const medium = makeMedium(t, 3);
    const lower = path.join(medium.root, 'ser00001');
    fs.renameSync(path.join(medium.root, 'SER00001'), lower);
    for (const f of fs.readdirSync(lower)) fs.renameSync(path.join(lower, f), path.join(lower, f.toLowerCase()));
    const result = await scanPaths([medium.dicomdir]);
    assert.deepEqual(result.errors.map((e) => e.code), ['DICOMDIR']);
    assert.equal(result.studies[0]?.series[0]?.slices, 3);
  });

  it('scanning the folder that holds a DICOMDIR reads each image once and writes nothing', async (t) => {
    const medium = makeMedium(t, 4);
    const before = fingerprint(medium.root);
    const result = await scanPaths([medium.root]);
    assert.equal(result.filesScanned, 5, 'the DICOMDIR and its 4 images, each once');
    assert.deepEqual(result.errors.map((e) => e.path), [medium.dicomdir], 'only the DICOMDIR is not an image');
    assert.equal(result.studies[0].series[0].slices, 4);
    assert.deepEqual(fingerprint(medium.root), before);
  });
});

/**
 * Make a FIFO. Its write end stays open (O_RDWR, Linux) until the test ends: opening it for
 * reading then returns at once, so a reader that does not refuse FIFOs fails the test (it sees
 * an empty file) instead of hanging the whole run.
 */
function fifo(t: Cleanup, file: string): void {
  const mk = spawnSync('mkfifo', [file]);
  assert.equal(mk.status, 0, `mkfifo failed: ${mk.stderr}`);
  const fd = fs.openSync(file, 'r+');
  t.after(() => fs.closeSync(fd));
}

const noFifos = process.platform === 'win32' ? 'no FIFOs in the Windows file system' : false;

describe('scanning: links, FIFOs and headers that promise more than the file holds', () => {
  it('a symlink back to the folder (a loop) and a link to a file: each folder read once, each file scanned once', async (t) => {
    const dir = tempDir(t, 'loop');
    const w = write(t, { slices: 3, seed: 31 }, path.join(dir, 'series'));
    // one loop: before real paths were compared it listed the tree 33 times (a second loop made
    // that 2^32 times, a hang, so the test has one)
    fs.symlinkSync('.', path.join(dir, 'series', 'again'));
    fs.symlinkSync(path.basename(w.files[0]), path.join(dir, 'series', 'alias.dcm'));
    const result = await scanPaths([dir], { pool: null });
    assert.deepEqual(result.errors, [], 'no DUPLICATE_INSTANCE: no file is read twice');
    assert.equal(result.filesScanned, 3);
    const real = (f: string) => fs.realpathSync(f);
    assert.deepEqual(result.studies[0].series[0].instances.map((i) => real(i.path)).sort(), w.files.map(real).sort());
  });

  it('a FIFO given directly, in a folder, or referenced by a DICOMDIR: FILE_UNREADABLE naming it, never a hang', { skip: noFifos }, async (t) => {
    const medium = tempDir(t, 'fifo');
    const w = write(t, { slices: 1, seed: 32 });
    fs.mkdirSync(path.join(medium, 'SER00001'));
    fs.copyFileSync(w.files[0], path.join(medium, 'SER00001', 'IM000001'));
    dcmtk('dcmmkdir', ['--recurse', '+I', 'SER00001'], medium);
    // the image becomes a FIFO of the same name: the DICOMDIR now references a FIFO
    const pipe = path.join(medium, 'SER00001', 'IM000001');
    fs.rmSync(pipe);
    fifo(t, pipe);
    const refusal = { path: pipe, code: 'FILE_UNREADABLE', message: 'not a regular file (a FIFO (named pipe))' };
    assert.deepEqual((await scanPaths([pipe])).errors, [refusal], 'given directly');
    assert.deepEqual((await scanPaths([path.join(medium, 'SER00001')])).errors, [refusal], 'in a folder');
    const viaIndex = await scanPaths([path.join(medium, 'DICOMDIR')]);
    assert.deepEqual(viaIndex.errors.map((e) => [e.path, e.code]), [[path.join(medium, 'DICOMDIR'), 'DICOMDIR'], [pipe, 'FILE_UNREADABLE']], 'through the DICOMDIR');
    for (const read of [readDicomHeader, readDicomFile]) {
      assert.throws(() => read(pipe), (err: unknown) => err instanceof ResightError && err.code === 'FILE_UNREADABLE' && err.path === pipe && /FIFO/.test(err.message), read.name);
    }
  });

  it('an intact compressed multi-frame file is not walked fragment by fragment (a read each); a cut one is', (t) => {
    // the walk costs a read per fragment bigger than its window: 20,000 for a 20,000-frame cine
    const whole = fs.readFileSync(corpusPath('pydicom_emri_small_RLE.dcm'));
    assert.equal(readDicomHeader(corpusPath('pydicom_emri_small_RLE.dcm')).encapsulated, undefined, 'frames fit and the delimiter ends the file: nothing to walk');
    const cut = path.join(tempDir(t, 'walk'), 'cut.dcm');
    fs.writeFileSync(cut, whole.subarray(0, whole.length - 100));
    assert.equal(readDicomHeader(cut).encapsulated?.end, 'cut');
  });

  it('NumberOfFrames 4000 on 10 compressed frames is cut to 10, with or without a Basic Offset Table', (t) => {
    const dir = tempDir(t, 'lying-frames');
    for (const src of ['pydicom_emri_small_jpeg_2k_lossless.dcm', 'pydicom_emri_small_RLE.dcm']) {
      const file = path.join(dir, src);
      fs.writeFileSync(file, withShortValue(fs.readFileSync(corpusPath(src)), 0x0028, 0x0008, 'IS', '4000'));
      const h = scanFile(file);
      assert.ok(!('code' in h), JSON.stringify(h));
      assert.equal(h.frames, 10, src);
      assert.ok(h.warnings.some((m) => /NumberOfFrames is 4000, but its Pixel Data holds 10 frame/.test(m)), `${src}: ${JSON.stringify(h.warnings)}`);
    }
  });

  it('NumberOfFrames 99999 on one frame of native or RLE pixel data: one frame used, and a warning says so', (t) => {
    const dir = tempDir(t, 'frames');
    for (const src of ['pydicom_MR_small.dcm', 'pydicom_MR_small_RLE.dcm']) {
      const file = path.join(dir, src);
      fs.writeFileSync(file, withNumberOfFrames(corpusPath(src), '99999'));
      const h = scanFile(file);
      assert.ok(!('code' in h), `${src}: ${JSON.stringify(h)}`);
      assert.equal(h.frames, 1, src);
      assert.ok(h.warnings.some((m) => /NumberOfFrames is 99999, but its Pixel Data holds 1 frame/.test(m)), `${src}: ${JSON.stringify(h.warnings)}`);
    }
    // control: a real multi-frame object keeps its frames
    const emri = scanFile(corpusPath('pydicom_emri_small.dcm'));
    assert.ok(!('code' in emri) && emri.frames === 10 && !emri.warnings.some((m) => /NumberOfFrames/.test(m)));
  });

  it('20 files claiming 99999 frames each make 20 slices, not 2 million', async (t) => {
    const dir = tempDir(t, 'frames');
    const template = withNumberOfFrames(corpusPath('pydicom_MR_small.dcm'), '99999');
    const sop = '1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457';
    for (let i = 0; i < 20; i++) {
      const copy = Buffer.from(template);
      // a SOP Instance UID of its own (same length), in the File Meta and the data set
      const uid = sop.slice(0, -4) + String(i).padStart(4, '0');
      for (let at = copy.indexOf(sop, 0, 'latin1'); at >= 0; at = copy.indexOf(sop, at + 1, 'latin1')) copy.write(uid, at, 'latin1');
      fs.writeFileSync(path.join(dir, `f${i}.dcm`), copy);
    }
    const started = Date.now();
    const result = await scanPaths([dir], { pool: null });
    assert.deepEqual(result.errors, []);
    assert.equal(result.studies[0].series.reduce((n, s) => n + s.slices, 0), 20);
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  });

  it('a compressed copy cut short next to a complete one: the complete one is used', async (t) => {
    const dir = tempDir(t, 'cut-copy');
    const whole = fs.readFileSync(corpusPath('pydicom_MR_small_RLE.dcm'));
    fs.writeFileSync(path.join(dir, 'a.dcm'), whole.subarray(0, 5000)); // read first, cut inside its fragment
    fs.writeFileSync(path.join(dir, 'b.dcm'), whole);
    const result = await scanPaths([dir], { pool: null });
    assert.deepEqual(result.studies[0].series[0].instances.map((i) => path.basename(i.path)), ['b.dcm']);
    assert.deepEqual(result.errors.map((e) => [path.basename(e.path), e.code]), [['a.dcm', 'DUPLICATE_INSTANCE']]);
    // alone, the cut file still scans, marked as cut; so does one cut right after its last fragment
    const fragments = pixelDataElement(parseDicomBytes(whole, 'whole').dataSet)?.fragments ?? [];
    const last = fragments[fragments.length - 1];
    assert.ok(last, 'precondition: encapsulated');
    for (const cut of [5000, last.position + last.length]) {
      const file = path.join(dir, `cut${cut}.dcm`);
      fs.writeFileSync(file, whole.subarray(0, cut));
      const h = scanFile(file);
      assert.ok(!('code' in h) && h.pixelDataTruncated === true, `cut at ${cut}: ${JSON.stringify(h)}`);
      assert.ok(h.warnings.some((m) => /ends inside its pixel data/.test(m)));
    }
    const complete = scanFile(path.join(dir, 'b.dcm'));
    assert.ok(!('code' in complete) && !complete.pixelDataTruncated);
  });

  it('an image cut right before its Pixel Data element is FILE_TRUNCATED, not "no pixel data"', async (t) => {
    const dir = tempDir(t, 'cut-before-pixels');
    const whole = fs.readFileSync(corpusPath('pydicom_CT_small.dcm'));
    const file = path.join(dir, 'ct.dcm');
    fs.writeFileSync(file, whole.subarray(0, elementOffset(whole, 0x7fe0, 0x0010, 'OW')));
    const r = scanFile(file);
    assert.ok('code' in r, JSON.stringify(r));
    assert.equal(r.code, 'FILE_TRUNCATED');
    assert.match(r.message, /no Pixel Data: the file ends before its pixels/);
  });
});

describe('scanning: SpecificCharacterSet', () => {
  it('ISO_IR 100: Latin-1 bytes decode to "Buc^Jérôme"', async (t) => {
    const dir = tempDir(t, 'latin1');
    writeNamedImage(path.join(dir, 'a.dcm'), {
      sop: '1.2.826.0.1.3680043.10.1453.90.1',
      charset: 'ISO_IR 100',
      name: Buffer.from('Buc^Jérôme', 'latin1'),
      description: Buffer.from('Thorax Übersicht', 'latin1'),
    });
    const result = await scanPaths([dir]);
    assert.deepEqual(result.errors, []);
    assert.equal(result.studies[0].patient.name, 'Buc^Jérôme');
    assert.equal(result.studies[0].description, 'Thorax Übersicht');
  });

  it('ISO_IR 192: UTF-8 bytes decode (Cyrillic and Latin accents)', async (t) => {
    const dir = tempDir(t, 'utf8');
    writeNamedImage(path.join(dir, 'a.dcm'), {
      sop: '1.2.826.0.1.3680043.10.1453.90.2',
      charset: 'ISO_IR 192',
      name: Buffer.from('Иванов^Пётр=Müller^Zoë', 'utf8'),
    });
    const result = await scanPaths([dir]);
    assert.deepEqual(result.errors, []);
    assert.equal(result.studies[0].patient.name, 'Иванов^Пётр=Müller^Zoë');
  });

  it('an odd-length Latin-1 name is written padded to even length (DCMTK reads it cleanly) and the pad is not part of the name', async (t) => {
    const dir = tempDir(t, 'odd');
    const file = path.join(dir, 'a.dcm');
    writeNamedImage(file, { sop: '1.2.826.0.1.3680043.10.1453.90.3', charset: 'ISO_IR 100', name: Buffer.from('Buc^Jérôm', 'latin1') });
    const dump = dcmtk('dcmdump', ['+P', '0010,0010', file], dir);
    assert.doesNotMatch(dump.stderr, /odd/i, 'no odd-length element');
    const result = await scanPaths([dir]);
    assert.equal(result.studies[0].patient.name, 'Buc^Jérôm');
  });
});

describe('scanning: in worker threads', () => {
  it('a large scan read by the worker pool gives exactly the in-thread result, with progress to the end', async (t) => {
    const dir = tempDir(t, 'parallel');
    writeSyntheticSeries(path.join(dir, 'a'), { ...SMALL, slices: 70, seed: 61, shuffleNames: true });
    writeSyntheticSeries(path.join(dir, 'b'), { ...SMALL, slices: 30, seed: 62, localizer: true });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not dicom');
    fs.writeFileSync(path.join(dir, 'empty.dcm'), '');
    const pool = new WorkerPool(2);
    t.after(() => pool.close());
    const events: ScanProgress[] = [];
    const parallel = await scanPaths([dir], { pool, progressIntervalMs: 0, onProgress: (p) => events.push(p) });
    const serial = await scanPaths([dir], { pool: null });
    assert.equal(parallel.filesScanned, 103);
    assert.deepEqual(parallel.errors, serial.errors);
    assert.deepEqual(parallel.studies, serial.studies);
    assert.equal(parallel.studies.flatMap((st) => st.series).reduce((n, s) => n + s.slices, 0), 101, '70 + 30 axial + 1 localizer');
    assert.equal(events.length, 103, 'one event per file');
    assert.deepEqual(events.map((e) => e.done), Array.from({ length: 103 }, (_, i) => i + 1));
    assert.equal(events[events.length - 1].errors, 2);
  });

  it('a DICOMDIR found by a worker is followed on the calling thread', async (t) => {
    const dir = tempDir(t, 'parallel-dicomdir');
    const w = writeSyntheticSeries(path.join(dir, 'IMAGES'), { ...SMALL, slices: 70, seed: 63 });
    const names = w.files.map((_, i) => `IM${String(i).padStart(6, '0')}`);
    w.files.forEach((f, i) => fs.renameSync(f, path.join(dir, 'IMAGES', names[i])));
    const mk = spawnSync('dcmmkdir', ['--recurse', '+I', 'IMAGES'], { cwd: dir, encoding: 'utf8' });
    assert.equal(mk.status, 0, `dcmmkdir failed (bash scripts/setup.sh installs dcmtk): ${mk.stderr}${mk.error ?? ''}`);
    const pool = new WorkerPool(2);
    t.after(() => pool.close());
    // A DICOMDIR plus a folder: the workers read the 70 images once, the index adds none twice.
    const r = await scanPaths([path.join(dir, 'DICOMDIR'), path.join(dir, 'IMAGES')], { pool });
    assert.equal(r.studies[0].series[0].slices, 70);
    assert.deepEqual(r.errors.map((e) => e.code), ['DICOMDIR']);
    assert.match(r.errors[0].message, /index of 70 files/);
  });
});

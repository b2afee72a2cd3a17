/**
 * Volumes: decoded once, lazily, into Int16 when the values allow (promoted to Float32 when a
 * value does not fit), identical whether decoded in worker threads or in-thread, bounded by an
 * LRU byte budget, and one broken slice never stops the rest of the series.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanPaths } from '../../../../src/core/dicom/scan';
import type { AssembledSeries } from '../../../../src/core/dicom/series';
import { loadFrame } from '../../../../src/core/dicom/frame';
import type { SimpleElement } from '../../../../src/core/dicom/write-simple';
import { writePart10 } from '../../../../src/core/dicom/write-simple';
import { WorkerPool } from '../../../../src/core/workers/pool';
import { VolumeCache } from '../../../../src/core/imaging/volume';
import { ResightError } from '../../../../src/core/errors';
import { writeSyntheticSeries } from '../../../../src/core/synthetic/ct-series';
import { corpusPath } from '../../../helpers/corpus';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-volume-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function seriesIn(dir: string): Promise<AssembledSeries> {
  const r = await scanPaths([dir]);
  assert.equal(r.studies.length, 1);
  return r.studies[0].series[0];
}

/** The header of MR-like slice i (32x32, unsigned 16-bit, 3 mm apart) of series `uidRoot`. */
function mrSlice(uidRoot: string, i: number): { sop: string; elements: SimpleElement[] } {
  const sop = `${uidRoot}.${i + 1}`;
  return {
    sop,
    elements: [
      { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.4' },
      { tag: 0x00080018, vr: 'UI', value: sop },
      { tag: 0x00080060, vr: 'CS', value: 'MR' },
      { tag: 0x0020000d, vr: 'UI', value: uidRoot },
      { tag: 0x0020000e, vr: 'UI', value: `${uidRoot}.0` },
      { tag: 0x00200013, vr: 'IS', value: String(i + 1) },
      { tag: 0x00200032, vr: 'DS', value: `0\\0\\${i * 3}` },
      { tag: 0x00200037, vr: 'DS', value: '1\\0\\0\\0\\1\\0' },
      { tag: 0x00280002, vr: 'US', value: 1 },
      { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
      { tag: 0x00280010, vr: 'US', value: 32 },
      { tag: 0x00280011, vr: 'US', value: 32 },
      { tag: 0x00280100, vr: 'US', value: 16 },
      { tag: 0x00280101, vr: 'US', value: 16 },
      { tag: 0x00280102, vr: 'US', value: 15 },
      { tag: 0x00280103, vr: 'US', value: 0 },
    ],
  };
}

/** 20 unsigned 16-bit MR-like slices whose values exceed Int16 (up to 60000). */
function writeWideSeries(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 20; i++) {
    const px = new Uint16Array(32 * 32).map((_, k) => (k * 61 + i * 977) % 60001);
    const { sop, elements } = mrSlice('1.2.826.0.1.3680043.10.1453.99', i);
    const bytes = writePart10([...elements, { tag: 0x7fe00010, vr: 'OW', value: px }], { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: sop });
    fs.writeFileSync(path.join(dir, `mr${i}.dcm`), bytes);
  }
}

/** PackBits of one byte plane as literal runs (PS3.5 G.3.1), padded to even length. */
function packBits(plane: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < plane.length; i += 128) {
    const run = plane.subarray(i, Math.min(plane.length, i + 128));
    out.push(run.length - 1, ...run);
  }
  if (out.length % 2) out.push(0);
  return out;
}

/** `n` unsigned 16-bit RLE Lossless slices (32x32); slice `wide` holds values up to 60000. */
function writeRleSeries(dir: string, n: number, wide: number): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const px = new Uint16Array(32 * 32).map((_, k) => (i === wide ? (k * 59 + 1) % 60001 : (k * 7 + i * 13) % 3000));
    const hi = packBits(Uint8Array.from(px, (v) => v >> 8));
    const lo = packBits(Uint8Array.from(px, (v) => v & 0xff));
    const header = new Uint32Array(16);
    header[0] = 2;
    header[1] = 64;
    header[2] = 64 + hi.length;
    const frame = new Uint8Array(64 + hi.length + lo.length);
    frame.set(new Uint8Array(header.buffer), 0);
    frame.set(hi, 64);
    frame.set(lo, 64 + hi.length);
    const { sop, elements } = mrSlice('1.2.826.0.1.3680043.10.1453.98', i);
    const head = writePart10(elements, { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.5' });
    // encapsulated Pixel Data (undefined length): an empty offset table, one fragment, the delimiter
    const el = (group: number, element: number, len: number) => {
      const b = new DataView(new ArrayBuffer(8));
      b.setUint16(0, group, true);
      b.setUint16(2, element, true);
      b.setUint32(4, len, true);
      return new Uint8Array(b.buffer);
    };
    const pixelTag = Uint8Array.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    const parts = [head, pixelTag, el(0xfffe, 0xe000, 0), el(0xfffe, 0xe000, frame.length), frame, el(0xfffe, 0xe0dd, 0)];
    fs.writeFileSync(path.join(dir, `rle${i}.dcm`), Buffer.concat(parts));
  }
}

describe('VolumeCache', () => {
  const ctDir = path.join(tmp, 'ct');
  const wideDir = path.join(tmp, 'wide');
  let ct: AssembledSeries;
  let pool: WorkerPool;

  before(async () => {
    writeSyntheticSeries(ctDir, { slices: 24, rows: 64, columns: 64, seed: 3, shuffleNames: true });
    writeWideSeries(wideDir);
    fs.mkdirSync(path.join(tmp, 'rle'));
    fs.copyFileSync(corpusPath('pydicom_MR_small_RLE.dcm'), path.join(tmp, 'rle', 'MR_small_RLE.dcm'));
    ct = await seriesIn(ctDir);
    pool = new WorkerPool(2);
  });
  after(() => pool.close());

  it('holds CT (signed 16-bit, intercept -1024) as Int16 HU equal to single-frame decoding, in spatial order', async () => {
    const volume = await new VolumeCache({ pool: null }).load(ct);
    assert.equal(volume.kind, 'int16');
    assert.equal(volume.failures.size, 0);
    assert.ok(volume.isComplete());
    for (let i = 0; i < ct.slices; i++) {
      const { values } = await loadFrame(ct.ordered[i].path, 0);
      assert.deepEqual(Array.from(volume.slice(i)), Array.from(values), `slice ${i}`);
    }
    assert.equal(volume.geometry.sliceSpacing, 2.5);
    assert.deepEqual(volume.geometry.normal, [0, 0, 1]);
  });

  it('decodes identically in worker threads and in-thread', async () => {
    const a = await new VolumeCache({ pool: null }).load(ct);
    const b = await new VolumeCache({ pool }).load(ct);
    assert.equal(b.kind, a.kind);
    assert.ok(b.data.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(Array.from(b.data), Array.from(a.data));
  });

  it('promotes to Float32 when a value does not fit Int16 (both paths), keeping every value exact', async () => {
    const wide = await seriesIn(wideDir);
    for (const cache of [new VolumeCache({ pool: null }), new VolumeCache({ pool })]) {
      const v = await cache.load(wide);
      assert.equal(v.kind, 'float32');
      assert.equal(v.failures.size, 0);
      for (let i = 0; i < wide.slices; i++) {
        const { values } = await loadFrame(wide.ordered[i].path, 0);
        assert.deepEqual(Array.from(v.slice(i)), Array.from(values), `slice ${i}`);
      }
      assert.ok(Math.max(...v.data) > 32767, 'values beyond Int16 survive');
    }
  });

  it('decodes on demand: asking for one slice decodes only that slice', async () => {
    const cache = new VolumeCache({ pool: null });
    const s = await cache.slice(ct, 5);
    assert.equal(s.length, 64 * 64);
    const v = cache.volumeFor(ct);
    assert.equal(v.loaded.reduce((n, x) => n + x, 0), 1);
    assert.equal(v.loaded[5], 1);
    await assert.rejects(cache.slice(ct, ct.slices), /FRAME_OUT_OF_RANGE|slice/);
  });

  it('a compressed slice asked for alone is decoded by a worker; a native one in-thread', async () => {
    const decodes: string[] = [];
    const counting = Object.create(pool) as WorkerPool;
    counting.decode = (job) => {
      decodes.push(job.path);
      return pool.decode(job);
    };
    const rle = await seriesIn(path.join(tmp, 'rle'));
    const cache = new VolumeCache({ pool: counting });
    const got = await cache.slice(rle, 0);
    assert.ok(decodes.length >= 1, 'the RLE slice went to the pool');
    const want = await loadFrame(path.join(tmp, 'rle', 'MR_small_RLE.dcm'), 0);
    assert.deepEqual(Array.from(got), Array.from(want.values), 'and decodes the same as in-thread');
    decodes.length = 0;
    await cache.slice(ct, 3);
    assert.deepEqual(decodes, [], 'a native slice does not');
  });

  it('slices asked for at once keep their values when one of them promotes a compressed volume to Float32', async () => {
    // RLE, unsigned 16-bit, one slice with values above Int16: its decode promotes the volume
    // while the workers are still writing the others into the Int16 buffer
    const dir = path.join(tmp, 'rle-wide');
    writeRleSeries(dir, 12, 7);
    const series = await seriesIn(dir);
    const cache = new VolumeCache({ pool });
    const got = await Promise.all(Array.from({ length: series.slices }, (_, i) => cache.slice(series, i)));
    assert.equal(cache.volumeFor(series).kind, 'float32', 'precondition: the volume was promoted');
    for (let i = 0; i < series.slices; i++) {
      const want = await loadFrame(series.ordered[i].path, 0);
      assert.deepEqual(Array.from(got[i]), Array.from(want.values), `slice ${i}`);
    }
  });

  it('evicts least-recently-used volumes beyond the byte budget', async () => {
    const dirs = ['a', 'b', 'c'].map((n, k) => {
      const d = path.join(tmp, `lru-${n}`);
      writeSyntheticSeries(d, { slices: 4, rows: 32, columns: 32, seed: 100 + k });
      return d;
    });
    const series = await Promise.all(dirs.map(seriesIn));
    const one = 4 * 32 * 32 * 2;
    const cache = new VolumeCache({ pool: null, budgetBytes: 2 * one });
    await cache.load(series[0]);
    await cache.load(series[1]);
    cache.volumeFor(series[0]); // touch a: b is now least recently used
    await cache.load(series[2]);
    assert.deepEqual(cache.ids().sort(), [series[0].id, series[2].id].sort());
    assert.ok(cache.bytesHeld <= 2 * one);
  });

  it('re-applies the budget when a volume grows by promotion to Float32', async () => {
    const smallDir = path.join(tmp, 'promote-small');
    writeSyntheticSeries(smallDir, { slices: 4, rows: 32, columns: 32, seed: 200 });
    const small = await seriesIn(smallDir);
    const wide = await seriesIn(wideDir);
    const cache = new VolumeCache({ pool: null, budgetBytes: 50_000 });
    await cache.load(small); // 4x32x32 Int16: 8 KiB
    await cache.load(wide); // allocated as Int16 (40 KiB, fits), promoted to Float32 (80 KiB)
    assert.equal(cache.volumeFor(wide).kind, 'float32');
    assert.deepEqual(cache.ids(), [wide.id], 'the smaller, older volume made room');
  });

  it('keeps opening the series when one slice file is broken, and says which', async () => {
    const dir = path.join(tmp, 'broken');
    const w = writeSyntheticSeries(dir, { slices: 20, rows: 32, columns: 32, seed: 9 });
    const series = await seriesIn(dir);
    const victim = series.ordered[7].path;
    const size = fs.statSync(victim).size;
    fs.truncateSync(victim, size - 100); // header intact, pixel data short
    for (const cache of [new VolumeCache({ pool: null }), new VolumeCache({ pool })]) {
      const v = await cache.load(series);
      assert.equal(v.failures.size, 1);
      assert.match(v.failures.get(7)?.code ?? '', /^(PIXEL_DATA_TRUNCATED|FILE_TRUNCATED)$/);
      assert.equal(v.failures.get(7)?.path, victim);
      await assert.rejects(cache.slice(series, 7), (e: unknown) => e instanceof ResightError && e.code === v.failures.get(7)?.code && e.path === victim);
      assert.equal(v.loaded.reduce((n, x) => n + x, 0), w.files.length - 1);
    }
  });

  it('reports progress up to the slice count and can be cancelled', async () => {
    const seen: number[] = [];
    await new VolumeCache({ pool }).load(ct, (done, total) => {
      assert.equal(total, ct.slices);
      seen.push(done);
    });
    assert.equal(seen[seen.length - 1], ct.slices);
    const ac = new AbortController();
    ac.abort(new Error('user cancelled'));
    await assert.rejects(new VolumeCache({ pool }).load(ct, undefined, ac.signal), /user cancelled/);
  });
});

/**
 * The browser bridge implements the whole contract (src/shared/api.ts) over a loopback
 * WebSocket, with slices as binary over HTTP: every call is answered, bad payloads are refused
 * with validation errors and the server stays up, only granted folders can be opened, and a
 * request without the token or from another origin is refused.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { Bridge } from '../../../src/bridge/server';
import { startBridge } from '../../../src/bridge/server';
import { scanPaths } from '../../../src/core/dicom/scan';
import { AuditLog, readAudit } from '../../../src/core/audit/log';
import { VolumeCache } from '../../../src/core/imaging/volume';
import type { Events, Method, Params, Reply, Results } from '../../../src/shared/api';
import { METHODS } from '../../../src/shared/api';
import { CLI_MAIN, ensureCliBuilt, runCliAsync } from '../../helpers/cli';
import { corpusPath, REPO_ROOT } from '../../helpers/corpus';
import { defaultLayerGrid } from '../../helpers/model';
import { loopbackFetch } from '../../helpers/http';
import { listTree, withTempDir } from '../../helpers/tmp';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');

class Client {
  private next = 1;
  private readonly pending = new Map<number, (r: Reply<Method>) => void>();
  readonly events: { event: string; payload: unknown }[] = [];
  readonly called = new Set<string>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const msg = JSON.parse(String(d)) as { id?: number; reply?: Reply<Method>; event?: string; payload?: unknown };
      if (msg.event) this.events.push({ event: msg.event, payload: msg.payload });
      else if (typeof msg.id === 'number') this.pending.get(msg.id)?.(msg.reply as Reply<Method>);
    });
  }
  static open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }
  raw(method: string, params: unknown): Promise<Reply<Method>> {
    const id = this.next++;
    this.called.add(method);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    const r = await this.raw(method, params);
    if (!r.ok) throw new Error(`${method}: ${r.error.code}: ${r.error.message}`);
    return r.value as Results[M];
  }
  waitFor<E extends keyof Events>(event: E, pred: (p: Events[E]) => boolean, ms = 60_000): Promise<Events[E]> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      const tick = () => {
        const hit = this.events.find((e) => e.event === event && pred(e.payload as Events[E]));
        if (hit) return resolve(hit.payload as Events[E]);
        if (Date.now() - t0 > ms) return reject(new Error(`no ${event}`));
        setTimeout(tick, 20);
      };
      tick();
    });
  }
}

let bridge: Bridge;
let client: Client;
let dataDir: string;
let cacheDir: string;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-bridge-'));

before(async () => {
  dataDir = path.join(tmpRoot, 'data');
  cacheDir = path.join(tmpRoot, 'cache');
  bridge = await startBridge({ grant: [DEMO], dataDir, cacheDir });
  client = await Client.open(`ws://127.0.0.1:${bridge.port}/ws?token=${bridge.token}`);
});

after(async () => {
  client?.ws.close();
  await bridge?.close();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

describe('the contract over the bridge', () => {
  let seriesId = '';

  it('opens a granted folder, lists studies and series, and serves slices as binary', async () => {
    const before = listTree(DEMO);
    const opened = await client.call('studies.open', { paths: [DEMO] });
    assert.equal(opened.studies.length, 1);
    assert.deepEqual(opened.unused.map((u) => [u.file, u.code]), [['demo/ground-truth.json', 'NOT_DICOM']]);
    assert.ok(client.events.some((e) => e.event === 'scan.progress'));
    const listed = await client.call('studies.list', {});
    assert.equal(listed.studies[0].studyInstanceUid, opened.studies[0].studyInstanceUid);
    seriesId = opened.studies[0].series[0].id;
    const info = await client.call('series.get', { seriesId });
    assert.equal(info.slices.length, 45);
    // an axial series' distance along the slice normal is its z
    assert.ok(Math.abs((info.slices[10].location ?? NaN) - (info.slices[10].position?.[2] ?? NaN)) < 1e-6, 'each slice carries its location along the normal');
    assert.ok(info.windows.length >= 1);
    const res = await loopbackFetch(`http://127.0.0.1:${bridge.port}${info.sliceUrl.replace('{i}', '32')}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-resight-dtype'), 'int16');
    const got = new Int16Array(await res.arrayBuffer());
    const series = (await scanPaths([DEMO])).studies[0].series[0];
    const want = await new VolumeCache({ pool: null }).slice(series, 32);
    assert.deepEqual(got, want);
    assert.deepEqual(listTree(DEMO), before, 'nothing written into the study folder');
  });

  it('refuses paths outside the granted folders', async () => {
    const r = await client.raw('studies.open', { paths: [corpusPath('pydicom_CT_small.dcm')] });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 'ACCESS_DENIED');
    assert.ok(!r.ok && !r.error.message.includes('/'), 'no paths over the wire');
  });

  it('describes the model, analyzes with progress events, explains a slice', async () => {
    const model = await client.call('model.get', {});
    assert.equal(model.available, true);
    assert.deepEqual(model.classes, ['lung_nodule', 'liver_lesion']);
    assert.equal(model.notForClinicalUse, true);
    const { jobId } = await client.call('analysis.start', { seriesId, noCache: true });
    const done = await client.waitFor('analysis.done', (p) => p.jobId === jobId);
    assert.equal(done.analysis.slices.length, 45);
    assert.ok(client.events.some((e) => e.event === 'analysis.progress' && (e.payload as { jobId: string }).jobId === jobId));
    const got = await client.call('analysis.get', { seriesId });
    assert.deepEqual(got.analysis?.findings, done.analysis.findings);
    assert.equal(got.running, null);
    const ex = await client.call('explain.slice', { seriesId, slice: 32, class: 'lung_nodule', layer: 'layer3' });
    const grid = defaultLayerGrid('layer3');
    assert.deepEqual(ex.camShape, grid);
    assert.equal(ex.cam.length, grid[0] * grid[1]);
    assert.deepEqual(await client.call('analysis.cancel', { jobId }), { cancelled: false });
  });

  it('cancels a running analysis', async () => {
    const { jobId } = await client.call('analysis.start', { seriesId, noCache: true });
    assert.deepEqual(await client.call('analysis.cancel', { jobId }), { cancelled: true });
    const failed = await client.waitFor('analysis.failed', (p) => p.jobId === jobId);
    assert.equal(failed.error.code, 'CANCELLED');
  });

  it('keeps review decisions in the app data folder', async () => {
    const r = await client.call('review.set', { seriesId, findingId: 'lung_nodule:30-44', decision: 'rejected', comment: 'vessel', reviewer: 'Dr. Test' });
    assert.equal(r.decision, 'rejected');
    const all = await client.call('review.get', { seriesId });
    assert.deepEqual(all.reviews.map((x) => [x.findingId, x.decision, x.comment]), [['lung_nodule:30-44', 'rejected', 'vessel']]);
    assert.equal(fs.readdirSync(path.join(dataDir, 'reviews')).length, 1);
  });

  it('exports the reviewed analysis into a new folder under the app\'s export folder and serves it', async () => {
    await client.call('review.set', { seriesId, findingId: 'added:liver_lesion:3', decision: 'accepted', comment: 'missed' });
    // an export folder an earlier version left readable by others is closed again
    if (!fs.existsSync(path.join(dataDir, 'exports'))) fs.mkdirSync(path.join(dataDir, 'exports'), { mode: 0o755 });
    fs.chmodSync(path.join(dataDir, 'exports'), 0o755);
    const r = await client.call('report.export', { seriesId, formats: ['pdf', 'epdf', 'sr', 'json'], reviewer: 'Dr. Test' });
    const json = JSON.parse(fs.readFileSync(path.join(dataDir, 'exports', r.folder, 'analysis.json'), 'utf8')) as { series: { addedFindings: unknown[]; reviews: { findingId: string }[] }[] };
    // (labelled after the model's findings, as the PDF numbers them)
    const label = `F${(json.series[0] as unknown as { findings: unknown[] }).findings.length + 1}`;
    assert.deepEqual(json.series[0].addedFindings, [{ id: 'added:liver_lesion:3', class: 'liver_lesion', sliceStart: 3, sliceEnd: 3, comment: 'missed', label }], 'reviewer-added findings are exported as findings, not as reviews');
    assert.ok(!json.series[0].reviews.some((x) => x.findingId.startsWith('added:')));
    assert.deepEqual(r.files.map((f) => f.name).sort(), ['analysis.json', 'report-pdf.dcm', 'report-sr.dcm', 'report.pdf']);
    const epdf = r.files.find((f) => f.kind === 'epdf');
    assert.equal((await loopbackFetch(`http://127.0.0.1:${bridge.port}${epdf?.url ?? ''}`)).status, 200, 'the Encapsulated PDF is served too');
    const dir = path.join(dataDir, 'exports', r.folder);
    for (const f of r.files) assert.equal(fs.statSync(path.join(dir, f.name)).size, f.bytes);
    if (process.platform !== 'win32') {
      for (const d of [path.join(dataDir, 'exports'), dir]) assert.equal(fs.statSync(d).mode & 0o077, 0, `${path.basename(d)}: the user's alone (patient data)`);
    }
    assert.ok(client.events.some((e) => e.event === 'export.progress'), 'progress events');
    const pdf = r.files.find((f) => f.kind === 'pdf');
    assert.ok(pdf);
    const res = await loopbackFetch(`http://127.0.0.1:${bridge.port}${pdf.url}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(Buffer.from(await res.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    assert.equal((await loopbackFetch(`http://127.0.0.1:${bridge.port}/exports/${r.folder}/..%2F..%2Freviews?token=${bridge.token}`)).status, 404, 'no way out of the export folder');
    assert.equal((await loopbackFetch(`http://127.0.0.1:${bridge.port}/exports/${r.folder}/report.pdf`)).status, 401, 'token required');
    for (const bad of ['/%ff', '/exports/%/x', '/series/%E0%A4%A/slice/0']) assert.ok([400, 404].includes((await loopbackFetch(`http://127.0.0.1:${bridge.port}${bad}?token=${bridge.token}`)).status), `${bad}: a malformed URL is refused, not a crash`);
    assert.equal((await loopbackFetch(bridge.url)).status, 200, 'still serving');
    const again = await client.call('report.export', { seriesId, formats: ['csv'], deidentify: true });
    assert.notEqual(again.folder, r.folder, 'a new folder per export: nothing is overwritten');
    assert.ok(again.deidentified);
  });

  it('keeps preferences in the app data folder; null resets one', async () => {
    assert.deepEqual(await client.call('settings.get', {}), {});
    const p = await client.call('settings.set', { camMethod: 'hirescam', deidentifyByDefault: true });
    assert.equal(p.camMethod, 'hirescam');
    assert.equal((await client.call('settings.get', {})).deidentifyByDefault, true);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')).camMethod, 'hirescam');
    const bad = await client.raw('settings.set', { camMethod: 'magic' });
    assert.equal(!bad.ok && bad.error.code, 'VALIDATION');
    // null puts one back to its default (JSON over the bridge cannot carry undefined); others stay
    const back = await client.call('settings.set', { camMethod: null });
    assert.equal(back.camMethod, undefined);
    assert.equal(back.deidentifyByDefault, true);
    assert.equal('camMethod' in JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')), false);
    // the operating point: the model describes the one in use; one the card lacks falls back, saying why
    const points = (await client.call('model.get', {})).operatingPoints ?? [];
    assert.deepEqual(points.map((p) => p.id), ['balanced', 'specificity-90', 'sensitivity-95']);
    await client.call('settings.set', { operatingPoint: 'specificity-90' });
    const strict = await client.call('model.get', {});
    assert.equal(strict.operatingPoint?.id, 'specificity-90');
    assert.deepEqual(strict.thresholds, points[1].thresholds);
    await client.call('settings.set', { operatingPoint: 'no-such-point' });
    const missing = await client.call('model.get', {});
    assert.equal(missing.operatingPoint?.id, 'balanced');
    assert.match(missing.operatingPoint?.fallback ?? '', /'no-such-point' is not in/);
    assert.deepEqual(missing.thresholds, points[0].thresholds);
    await client.call('settings.set', { operatingPoint: null });
  });

  it('refuses a new model or export folder from the page (the desktop app would act on it unasked), keeps or resets one', async () => {
    for (const k of ['modelFolder', 'exportFolder'] as const) {
      const r = await client.raw('settings.set', { [k]: '/tmp/elsewhere' });
      assert.equal(!r.ok && r.error.code, 'ACCESS_DENIED', k);
      assert.equal(k in JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')), false, `${k} not written`);
      // the Preferences dialog sends every preference back: an unchanged or reset folder passes
      assert.ok((await client.raw('settings.set', { [k]: null, camMethod: 'layercam' })).ok);
      // and '' is a reset, never a folder ('' resolves to the current folder)
      assert.ok((await client.raw('settings.set', { [k]: '' })).ok);
      assert.equal(k in JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')), false, `${k}: '' not written`);
    }
    await client.call('settings.set', { camMethod: null });
  });

  it('lists the tags of a slice\'s instance for the tag browser (text decoded, pixel data summarised)', async () => {
    const { sopInstanceUid, tags } = await client.call('instance.tags', { seriesId, slice: 0 });
    const info = await client.call('series.get', { seriesId });
    assert.equal(sopInstanceUid, info.slices[0].sopInstanceUid);
    const byTag = new Map(tags.map((t) => [t.tag, t]));
    assert.equal(byTag.get('(0008,0018)')?.value, sopInstanceUid);
    assert.equal(byTag.get('(0008,0018)')?.keyword, 'SOPInstanceUID');
    assert.equal(byTag.get('(0028,0010)')?.value, '512');
    assert.match(byTag.get('(7FE0,0010)')?.value ?? '', /^<\d+ bytes>$/);
    await assert.rejects(client.call('instance.tags', { seriesId, slice: 9999 }), /FRAME_OUT_OF_RANGE|outside/);
  });

  it('no PACS is configured: pacs.get says so, and an export cannot be sent', async () => {
    assert.deepEqual(await client.call('pacs.get', {}), { destination: null });
    // no site policy on this machine: nothing locked, exports go where settings.json says
    assert.deepEqual(await client.call('policy.get', {}), { locked: [], files: [], problems: [], pacs: 'settings' });
    const r = await client.raw('report.export', { seriesId, formats: ['sr'], send: true });
    assert.equal(!r.ok && r.error.code, 'VALIDATION');
  });

  it('lists a slice\'s overlay planes (the demo CT has none)', async () => {
    assert.deepEqual(await client.call('slice.overlays', { seriesId, slice: 3 }), { overlays: [], skipped: [] });
    await assert.rejects(client.call('slice.overlays', { seriesId, slice: 9999 }), /FRAME_OUT_OF_RANGE/);
  });

  it('refuses malformed calls with validation errors and keeps serving', async () => {
    const bad: [string, unknown, string][] = [
      ['series.get', {}, 'VALIDATION'],
      ['series.get', { seriesId: 42 }, 'VALIDATION'],
      ['explain.slice', { seriesId, slice: -1 }, 'VALIDATION'],
      ['explain.slice', { seriesId, slice: 1.5 }, 'VALIDATION'],
      ['review.set', { seriesId, findingId: 'x', decision: 'maybe' }, 'VALIDATION'],
      ['studies.open', { paths: [] }, 'VALIDATION'],
      ['studies.list', { extra: true }, 'VALIDATION'],
      ['analysis.start', { seriesId, provider: 'tpu' }, 'VALIDATION'],
      ['instance.tags', { seriesId, slice: -1 }, 'VALIDATION'],
      ['slice.overlays', { seriesId, slice: 0.5 }, 'VALIDATION'],
      ['report.export', { seriesId, formats: [] }, 'VALIDATION'],
      ['report.export', { seriesId, formats: ['docx'] }, 'VALIDATION'],
      // two measurements under one label would be one id in the report for two measurements
      ['report.export', { seriesId, formats: ['json'], measurements: [{ kind: 'length', slice: 1, a: [0, 0], b: [9, 0], label: 2 }, { kind: 'length', slice: 2, a: [0, 0], b: [9, 0], label: 2 }] }, 'VALIDATION'],
      // one without a label is numbered by its place: the second here would be M2 too
      ['report.export', { seriesId, formats: ['json'], measurements: [{ kind: 'length', slice: 1, a: [0, 0], b: [9, 0], label: 2 }, { kind: 'length', slice: 2, a: [0, 0], b: [9, 0] }] }, 'VALIDATION'],
      ['no.such.method', {}, 'UNKNOWN_METHOD'],
      ['__proto__', {}, 'UNKNOWN_METHOD'],
      ['series.get', { seriesId: 'nope' }, 'SERIES_NOT_FOUND'],
    ];
    for (const [method, params, code] of bad) {
      const r = await client.raw(method, params);
      assert.equal(r.ok, false, method);
      assert.equal(!r.ok && r.error.code, code, `${method} ${JSON.stringify(params)}`);
    }
    client.ws.send('{not json');
    client.ws.send(JSON.stringify({ id: 9999 }));
    assert.equal((await client.call('studies.list', {})).studies.length, 1, 'still serving');
  });

  it('every call of the contract is implemented', async () => {
    const { closed } = await client.call('studies.close', { studyInstanceUid: (await client.call('studies.list', {})).studies[0].studyInstanceUid });
    assert.equal(closed, true);
    assert.deepEqual([...METHODS].filter((m) => !client.called.has(m)), []);
  });
});

describe('bridge security', () => {
  it('refuses a WebSocket without the token or from another origin', async () => {
    await assert.rejects(Client.open(`ws://127.0.0.1:${bridge.port}/ws`), /403/);
    await assert.rejects(Client.open(`ws://127.0.0.1:${bridge.port}/ws`, { 'x-resight-token': `${bridge.token.slice(1)}x` }), /403/);
    await assert.rejects(Client.open(`ws://127.0.0.1:${bridge.port}/ws?token=${bridge.token}`, { origin: 'http://evil.example' }), /403/);
  });

  it('accepts the token in the x-resight-token header on the WebSocket upgrade, as docs/contract.md says', async () => {
    const c = await Client.open(`ws://127.0.0.1:${bridge.port}/ws`, { 'x-resight-token': bridge.token });
    try {
      assert.ok(Array.isArray((await c.call('studies.list', {})).studies));
    } finally {
      c.ws.close();
    }
  });

  it('refuses HTTP without the token or from another origin; listens on loopback only', async () => {
    assert.equal((await loopbackFetch(`http://127.0.0.1:${bridge.port}/`)).status, 401);
    assert.equal((await loopbackFetch(`http://127.0.0.1:${bridge.port}/?token=${bridge.token}`, { headers: { origin: 'http://evil.example' } })).status, 403);
    const ok = await loopbackFetch(bridge.url);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(bridge.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  });
});

describe('bridge security: DNS rebinding', () => {
  /** A request to the bridge's port with this Host header, as a page on a name rebound to 127.0.0.1 sends it. */
  const asHost = (host: string, pathname: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: bridge.port, path: pathname, headers: { host, ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('answers only requests addressed to a loopback name, even with the token', async () => {
    const q = `/?token=${bridge.token}`;
    assert.equal(await asHost(`evil.example:${bridge.port}`, q), 403);
    assert.equal(await asHost(`127.0.0.1:${bridge.port + 1}`, q), 403, 'another port is another origin');
    assert.equal(await asHost(`127.0.0.1:${bridge.port}`, q), 200);
    assert.equal(await asHost(`localhost:${bridge.port}`, q), 200);
    const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    assert.equal(await asHost(`evil.example:${bridge.port}`, `/ws?token=${bridge.token}`, upgrade), 403);
  });
});

describe('bridge security in the audit trail', () => {
  it('records a refused request as a Security Alert, once a minute however many come, the rest counted when it stops', async () => {
    await withTempDir(async (dir) => {
      const b = await startBridge({ grant: [DEMO], audit: new AuditLog(dir, 'serve'), cacheDir: null });
      try {
        // a configuration change is recorded too (what changed, not who typed what)
        const c = await Client.open(`ws://127.0.0.1:${b.port}/ws?token=${b.token}`);
        await c.call('settings.set', { camMethod: 'hirescam' });
        c.ws.close();
        assert.equal((await loopbackFetch(`http://127.0.0.1:${b.port}/series/x/slice/0?token=wrong`)).status, 401);
        assert.equal((await loopbackFetch(`http://127.0.0.1:${b.port}/`)).status, 401);
        await assert.rejects(Client.open(`ws://127.0.0.1:${b.port}/ws?token=${b.token}`, { origin: 'http://evil.example' }));
        assert.equal(readAudit(dir).records.filter((r) => r.what === 'bridge.reject').length, 1, 'one record for the three refusals within a minute');
      } finally {
        await b.close();
      }
      const { records } = readAudit(dir);
      const alerts = records.filter((r) => r.what === 'bridge.reject');
      assert.equal(alerts.length, 2, 'the two refusals not yet recorded are, when the server stops');
      assert.equal(alerts[0]?.event.meaning, 'Security Alert');
      assert.equal(alerts[0]?.type?.meaning, 'Node Authentication');
      assert.equal(alerts[0]?.outcome, 4);
      assert.equal(alerts[0]?.detail?.request, '/series/x/slice/0');
      assert.match(String(alerts[0]?.detail?.from), /^127\.0\.0\.1:\d+$/, 'the client\'s address and port');
      assert.equal(alerts[1]?.detail?.alsoRejectedSinceLastRecord, 2);
      assert.ok(!JSON.stringify(alerts).includes(b.token), 'the real token is never written');
      const change = records.find((r) => r.what === 'settings.change');
      assert.equal(change?.type?.meaning, 'Software Configuration');
      assert.deepEqual(change?.detail, { camMethod: 'hirescam' });
      assert.equal(records[records.length - 1]?.what, 'session.stop');
    });
  });
});

describe('resight serve', () => {
  before(ensureCliBuilt, { timeout: 180_000 });
  it('prints the one line with the URL and answers there', async () => {
    await withTempDir(async (cache) => {
      const child = spawn(process.execPath, [CLI_MAIN, 'serve', DEMO, '--port', '0'], { env: { ...process.env, RESIGHT_CACHE_DIR: cache } });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += String(d);
            if (out.includes('\n')) resolve(out.split('\n')[0]);
          });
          child.once('exit', (code) => reject(new Error(`exited ${code}`)));
        });
        const m = /^ReSight listening on (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/.exec(line);
        assert.ok(m, line);
        assert.equal((await loopbackFetch(m[1])).status, 200);
        const c = await Client.open(`ws://127.0.0.1:${m[2]}/ws?token=${m[3]}`);
        assert.equal((await c.call('studies.list', {})).studies.length, 1, 'the given study is open at start');
        c.ws.close();
      } finally {
        child.kill('SIGTERM');
      }
    });
  });

  it('a path that does not exist ends it with exit 1 and the reason, never a server nobody is told of', async () => {
    await withTempDir(async (dir) => {
      const r = await runCliAsync(['serve', DEMO, path.join(dir, 'no-such-study'), '--port', '0'], { timeoutMs: 30_000 });
      assert.equal(r.signal, null, 'it exits by itself');
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /no-such-study: not found \[FILE_UNREADABLE\]/);
    });
  });
});

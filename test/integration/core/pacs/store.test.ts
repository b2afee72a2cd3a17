/**
 * Sending to a PACS, against an independent peer: DCMTK's storescp (Debian dcmtk) as the PACS.
 * C-ECHO answers; C-STORE delivers every object whole (the received files hold the same SOP
 * instances); a PACS that refuses the association is PACS_REJECTED and a closed port
 * PACS_UNREACHABLE, each naming the destination, both in seconds, never a hang. The command
 * line sends what analyze exported, and `resight echo` checks a destination.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { readDicomHeader } from '../../../../src/core/dicom/read';
import type { ResightError } from '../../../../src/core/errors';
import { echo, parseDestination, storeFiles } from '../../../../src/core/pacs/store';
import { dispatch } from '../../../../src/core/session/dispatch';
import { Session } from '../../../../src/core/session/session';
import type { SessionOptions } from '../../../../src/core/session/session';
import { constants, responses, Scp, Server } from 'dcmjs-dimse';
import type { association, requests } from 'dcmjs-dimse';
import { ensureCliBuilt, runCliAsync } from '../../../helpers/cli';
import { corpusPath } from '../../../helpers/corpus';
import { analysedDemo } from '../../../helpers/session';
import { tempDir } from '../../../helpers/tmp';

const hasStorescp = spawnSync('sh', ['-c', 'command -v storescp']).status === 0;
const skip = !hasStorescp && 'storescp (Debian dcmtk) not installed: bash scripts/setup.sh installs it';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** storescp as the PACS (AE title TESTPACS) on a free port, writing what it receives into `dir`; stopped after the test. */
async function startPacs(t: { after: (fn: () => void) => void }, dir: string, extra: string[] = []): Promise<number> {
  const port = await freePort();
  const child: ChildProcess = spawn('storescp', ['-aet', 'TESTPACS', '-od', dir, ...extra, String(port)], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  // ready once it accepts a connection
  for (const t0 = Date.now(); Date.now() - t0 < 10_000; ) {
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (up) return port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('storescp did not start');
}

const received = (dir: string) => fs.readdirSync(dir).map((f) => readDicomHeader(path.join(dir, f)).dataSet.string('x00080018'));

describe('destinations', () => {
  it('AET@host:port, with IPv6 in brackets; anything else is a USAGE error saying the form', () => {
    assert.deepEqual(parseDestination('PACS@10.0.0.5:104'), { calledAeTitle: 'PACS', host: '10.0.0.5', port: 104, callingAeTitle: 'RESIGHT' });
    assert.deepEqual(parseDestination('ORTHANC@[::1]:4242', 'WS01'), { calledAeTitle: 'ORTHANC', host: '::1', port: 4242, callingAeTitle: 'WS01' });
    for (const bad of ['PACS@host', 'host:104', 'PACS@host:0', 'PACS@host:70000', 'A_TITLE_LONGER_THAN_16@h:104', 'BACK\\SLASH@h:104', '   @h:104']) {
      assert.throws(() => parseDestination(bad), (e: ResightError) => e.code === 'USAGE', bad);
    }
    assert.throws(() => parseDestination('PACS@h:104', 'NO\\GOOD'), (e: ResightError) => e.code === 'USAGE');
  });
});

describe('a PACS that misbehaves', () => {
  it('one that accepts the connection and never answers: PACS_UNREACHABLE within the limit, and the command exits', { timeout: 60_000 }, async (t) => {
    // a peer that never answers nor closes its side (a hung PACS, a firewall that swallows): only
    // our own close ends the connection, else the process stays alive for ever
    const sockets: net.Socket[] = [];
    const silent = net.createServer({ allowHalfOpen: true }, (s) => sockets.push(s.resume())).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    t.after(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const port = (silent.address() as net.AddressInfo).port;
    const t0 = Date.now();
    await assert.rejects(echo(parseDestination(`PACS@127.0.0.1:${port}`), { connectTimeoutMs: 1_000 }), (e: ResightError) => e.code === 'PACS_UNREACHABLE');
    assert.ok(Date.now() - t0 < 5_000, `${Date.now() - t0} ms`);
    await ensureCliBuilt();
    const r = await runCliAsync(['echo', `PACS@127.0.0.1:${port}`], { timeoutMs: 45_000 });
    assert.equal(r.signal, null, 'it exits by itself');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /PACS_UNREACHABLE/);
  });

  it('one that hangs up at once (drops callers it does not know): PACS_UNREACHABLE, not "no response"', async (t) => {
    const rude = net.createServer((sock) => sock.destroy()).listen(0, '127.0.0.1');
    await new Promise((r) => rude.once('listening', r));
    t.after(() => rude.close());
    const dest = parseDestination(`PACS@127.0.0.1:${(rude.address() as net.AddressInfo).port}`);
    const { outcomes, error } = await storeFiles([corpusPath('pydicom_CT_small.dcm')], dest);
    assert.equal(error?.code, 'PACS_UNREACHABLE');
    assert.match(error?.message ?? '', /closed the connection without ending the association/);
    assert.match(outcomes[0]?.reason ?? '', /^not stored: /);
    await assert.rejects(echo(dest), (e: ResightError) => e.code === 'PACS_UNREACHABLE');
  });

  it('one that stores the first object and aborts on the second: the first counts as stored, the rest say why not', async (t) => {
    class FlakyScp extends Scp {
      n = 0;
      override associationRequested(a: association.Association) {
        for (const c of a.getPresentationContexts()) {
          const ctx = a.getPresentationContext(c.id);
          const ts = ctx.getTransferSyntaxUids().find((x) => x === constants.TransferSyntax.ImplicitVRLittleEndian || x === constants.TransferSyntax.ExplicitVRLittleEndian);
          if (ts) ctx.setResult(constants.PresentationContextResult.Accept, ts);
          else ctx.setResult(constants.PresentationContextResult.RejectTransferSyntaxesNotSupported);
        }
        this.sendAssociationAccept();
      }
      override cStoreRequest(request: requests.CStoreRequest, callback: (r: responses.CStoreResponse) => void) {
        if (++this.n === 2) return this.sendAbort();
        const r = responses.CStoreResponse.fromRequest(request);
        r.setStatus(constants.Status.Success);
        callback(r);
      }
      override associationReleaseRequested() {
        this.sendAssociationReleaseResponse();
      }
    }
    const port = await freePort();
    const server = new Server(FlakyScp);
    server.listen(port);
    t.after(() => server.close());
    const files = ['pydicom_CT_small.dcm', 'pydicom_MR_small.dcm', 'cswado_CTImage_explicitBE.dcm'].map(corpusPath);
    const { outcomes, error } = await storeFiles(files, parseDestination(`FLAKY@127.0.0.1:${port}`));
    assert.equal(error?.code, 'PACS_REJECTED', error?.message);
    assert.deepEqual(outcomes.map((o) => o.ok), [true, false, false]);
    for (const o of outcomes.slice(1)) assert.match(o.reason ?? '', /^not stored: .*aborted the association/);
  });
});

describe('a PACS (DCMTK storescp)', { skip }, () => {
  it('answers C-ECHO, and stores every object whole over one association', async (t) => {
    const dir = tempDir(t, 'pacs');
    const port = await startPacs(t, dir);
    const dest = parseDestination(`TESTPACS@127.0.0.1:${port}`);
    assert.ok((await echo(dest)) >= 0);
    const files = ['pydicom_CT_small.dcm', 'pydicom_MR_small.dcm', 'cswado_CTImage_explicitBE.dcm'].map(corpusPath);
    const sent: number[] = [];
    const { outcomes, error } = await storeFiles(files, dest, { onProgress: (done) => sent.push(done) });
    assert.equal(error, undefined);
    assert.deepEqual(sent, [1, 2, 3]);
    assert.deepEqual(outcomes.map((o) => [o.ok, o.status]), files.map(() => [true, 0]));
    const uids = files.map((f) => readDicomHeader(f).dataSet.string('x00080018'));
    assert.deepEqual(outcomes.map((o) => o.sopInstanceUid), uids);
    assert.deepEqual(received(dir).sort(), [...uids].sort(), 'the PACS holds the same instances');
  });

  it('a PACS that refuses the association is PACS_REJECTED, naming it', async (t) => {
    const port = await startPacs(t, tempDir(t, 'pacs'), ['--refuse']);
    const t0 = Date.now();
    await assert.rejects(echo(parseDestination(`TESTPACS@127.0.0.1:${port}`)), (e: ResightError) => e.code === 'PACS_REJECTED' && e.message.includes(`TESTPACS@127.0.0.1:${port}`) && /AE titles/.test(e.message));
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('a port where nothing listens is PACS_UNREACHABLE at once', async () => {
    const port = await freePort();
    const { outcomes, error } = await storeFiles([corpusPath('pydicom_CT_small.dcm')], parseDestination(`X@127.0.0.1:${port}`));
    assert.equal(error?.code, 'PACS_UNREACHABLE');
    assert.ok(error?.message.includes(`X@127.0.0.1:${port}`) && /ECONNREFUSED/.test(error.message), error?.message);
    assert.match(outcomes[0]?.reason ?? '', /^not stored: /);
  });

  it('a PACS that aborts the association is PACS_REJECTED at once, not a timeout', async (t) => {
    const port = await startPacs(t, tempDir(t, 'pacs'), ['--abort-after']);
    const t0 = Date.now();
    const { outcomes, error } = await storeFiles([corpusPath('pydicom_CT_small.dcm')], parseDestination(`TESTPACS@127.0.0.1:${port}`));
    assert.equal(error?.code, 'PACS_REJECTED', error?.message);
    assert.match(error?.message ?? '', /aborted the association/);
    assert.equal(outcomes[0]?.ok, false);
    assert.ok(Date.now() - t0 < 5_000, `${Date.now() - t0} ms`);
  });

  describe('the installer\'s settings.json', () => {
    it('a mistake in "pacs" says what is wrong, costs no other setting, and survives the page\'s next save', async (t) => {
      const dataDir = tempDir(t, 'data');
      const file = path.join(dataDir, 'settings.json');
      fs.writeFileSync(file, JSON.stringify({ deidentifyByDefault: false, pacs: { destination: 'PACS@10.0.0.5:104', calledAeTitle: 'X' } }));
      const s = new Session({ cacheDir: null, dataDir, sliceUrl: () => '' });
      t.after(() => s.dispose());
      const info = s.pacsInfo();
      assert.equal(info.destination, null);
      assert.match(info.problem ?? '', /settings\.json "pacs"/);
      assert.equal(s.getPreferences().deidentifyByDefault, false, 'the other settings still apply');
      s.setPreferences({ deidentifyByDefault: true });
      assert.deepEqual((JSON.parse(fs.readFileSync(file, 'utf8')) as { pacs: unknown }).pacs, { destination: 'PACS@10.0.0.5:104', calledAeTitle: 'X' }, 'kept as written');
      // another key invalid: that key alone is dropped, the PACS still works and survives a save
      fs.writeFileSync(file, JSON.stringify({ threads: 0, deidentifyByDefault: false, pacs: { destination: 'PACS@10.0.0.5:104' } }));
      assert.deepEqual(s.pacsInfo(), { destination: 'PACS@10.0.0.5:104', callingAeTitle: 'RESIGHT' });
      assert.equal(s.getPreferences().deidentifyByDefault, false);
      s.setPreferences({ camMethod: 'hirescam' });
      assert.deepEqual((JSON.parse(fs.readFileSync(file, 'utf8')) as { pacs: unknown }).pacs, { destination: 'PACS@10.0.0.5:104' });
      // a file that is not JSON at all: the page's save keeps it beside the new one, and pacs.get says where
      fs.writeFileSync(file, '{ "pacs": { "destination": "PACS@10.0.0.5:104" }, }');
      assert.match(s.pacsInfo().problem ?? '', /settings\.json ignored/);
      s.setPreferences({ deidentifyByDefault: false });
      assert.equal(fs.readFileSync(path.join(dataDir, 'settings.json.invalid'), 'utf8'), '{ "pacs": { "destination": "PACS@10.0.0.5:104" }, }');
      assert.match(s.pacsInfo().problem ?? '', /settings\.json\.invalid/);
    });
  });

  describe('from the viewer (the contract: pacs.get, report.export with send)', () => {
    const analysed = (t: { after: (fn: () => void | Promise<void>) => void }, opts: Partial<SessionOptions>) => analysedDemo(t, { exportDir: tempDir(t, 'exports'), ...opts });

    it('the installer\'s PACS (settings.json) receives the export\'s DICOM files; the page cannot change it', { timeout: 120_000 }, async (t) => {
      const pacsDir = tempDir(t, 'pacs');
      const port = await startPacs(t, pacsDir);
      const dataDir = tempDir(t, 'data');
      fs.writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify({ pacs: { destination: `TESTPACS@127.0.0.1:${port}`, callingAeTitle: 'WS01' } }));
      const { s, seriesId } = await analysed(t, { dataDir });
      assert.deepEqual(await dispatch(s, 'pacs.get', {}), { ok: true, value: { destination: `TESTPACS@127.0.0.1:${port}`, callingAeTitle: 'WS01' } });
      const progress: string[] = [];
      s.onEvent((e, p) => e === 'export.progress' && progress.push((p as { step: string }).step));
      const r = await s.exportReport({ seriesId, formats: ['pdf', 'epdf', 'sr', 'sc'], send: true });
      const dicom = r.files.filter((f) => f.kind !== 'pdf');
      assert.deepEqual(r.sent, { destination: `TESTPACS@127.0.0.1:${port}`, stored: dicom.length, total: dicom.length, failures: [] });
      assert.equal(received(pacsDir).length, dicom.length, 'every DICOM file, and not the PDF file');
      assert.ok(progress.some((x) => x.startsWith('send ')), 'progress while sending');
      // a page that tries to point the PACS elsewhere is refused by the contract; settings.get does not show it
      const set = await dispatch(s, 'settings.set', { pacs: { destination: 'EVIL@203.0.113.9:104' } } as never);
      assert.equal(!set.ok && set.error.code, 'VALIDATION');
      assert.equal('pacs' in ((await dispatch(s, 'settings.get', {})) as { value: object }).value, false);
    });

    it('a PACS that refuses: the files are written, and the reply says what failed (not a failed export)', { timeout: 120_000 }, async (t) => {
      const port = await startPacs(t, tempDir(t, 'pacs'), ['--refuse']);
      const { s, seriesId } = await analysed(t, { pacs: { destination: `TESTPACS@127.0.0.1:${port}` } });
      const r = await s.exportReport({ seriesId, formats: ['sr'], send: true });
      assert.equal(r.files.length, 1);
      assert.equal(r.sent?.stored, 0);
      assert.equal(r.sent?.error?.code, 'PACS_REJECTED');
      // no DICOM format chosen, or no PACS configured: refused before any work
      await assert.rejects(s.exportReport({ seriesId, formats: ['pdf'], send: true }), (e: ResightError) => e.code === 'VALIDATION' && /DICOM format/.test(e.message));
      const { s: plain, seriesId: sid } = await analysed(t, {});
      assert.deepEqual(plain.pacsInfo(), { destination: null });
      await assert.rejects(plain.exportReport({ seriesId: sid, formats: ['sr'], send: true }), (e: ResightError) => e.code === 'VALIDATION' && /no PACS is configured/.test(e.message));
    });
  });

  describe('from the command line', () => {
    before(ensureCliBuilt, { timeout: 180_000 });
    it('analyze --send stores the DICOM exports once written; resight echo checks the destination', { timeout: 120_000 }, async (t) => {
      const pacs = tempDir(t, 'pacs');
      const port = await startPacs(t, pacs);
      const out = tempDir(t, 'out');
      const e = await runCliAsync(['echo', `TESTPACS@127.0.0.1:${port}`, '--calling-ae', 'WS01', '--json']);
      assert.equal(e.status, 0, e.stderr);
      assert.equal((JSON.parse(e.stdout) as { destination: string }).destination, `TESTPACS@127.0.0.1:${port}`);
      const r = await runCliAsync(['analyze', 'resources/demo', '--sr', path.join(out, 'sr.dcm'), '--pdf-dicom', path.join(out, 'pdf.dcm'), '--report', path.join(out, 'r.pdf'), '--send', `TESTPACS@127.0.0.1:${port}`], { timeoutMs: 110_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.match(/^sent /gm)?.length, 2, r.stdout);
      const written = ['sr.dcm', 'pdf.dcm'].map((f) => readDicomHeader(path.join(out, f)).dataSet.string('x00080018'));
      assert.deepEqual(received(pacs).sort(), written.sort(), 'the SR and the Encapsulated PDF, not the PDF file');
      for (const f of fs.readdirSync(pacs)) fs.rmSync(path.join(pacs, f));
      // with --json -, stdout is the JSON alone: what was written and sent goes to stderr
      const j = await runCliAsync(['analyze', 'resources/demo', '--sr', path.join(out, 'sr2.dcm'), '--send', `TESTPACS@127.0.0.1:${port}`, '--json', '-'], { timeoutMs: 110_000 });
      assert.equal(j.status, 0, j.stderr);
      assert.equal((JSON.parse(j.stdout) as { series: unknown[] }).series.length, 1);
      assert.match(j.stderr, /^sent .*sr2\.dcm/m);
      const usage = await runCliAsync(['analyze', 'resources/demo', '--report', path.join(out, 'r2.pdf'), '--send', `TESTPACS@127.0.0.1:${port}`]);
      assert.equal(usage.status, 2, 'nothing DICOM to send');
      const refused = await runCliAsync(['echo', `TESTPACS@127.0.0.1:${await freePort()}`]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /PACS_UNREACHABLE/);
    });
  });
});

/**
 * The session's audit trail: opening a study, analysing it, deciding, exporting, and asking for a
 * folder the session was not given each leave a record naming the patient and what was touched;
 * the reviewer's own words (comments, impression) never go in it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { AuditLog, readAudit } from '../../../../src/core/audit/log';
import { dispatch } from '../../../../src/core/session/dispatch';
import { Session } from '../../../../src/core/session/session';
import { corpusPath } from '../../../helpers/corpus';
import { analysedDemo } from '../../../helpers/session';
import { tempDir } from '../../../helpers/tmp';

describe('Session audit trail', () => {
  it('records the open, the analysis, each decision and the export with the patient, and refused paths as a security alert', { timeout: 180_000 }, async (t) => {
    const root = tempDir(t, 'session-audit');
    const dir = path.join(root, 'audit');
    const { s, seriesId } = await analysedDemo(t, { audit: new AuditLog(dir, 'desktop'), dataDir: path.join(root, 'data') });
    const study = s.list().studies[0];
    const info = { studyInstanceUid: study?.studyInstanceUid, seriesInstanceUid: study?.series[0]?.seriesInstanceUid };
    const analysis = s.getAnalysis({ seriesId }).analysis;
    const finding = analysis?.findings[0];
    assert.ok(finding, 'the demo has a finding');

    const secret = 'comment naming Taro Yamada';
    assert.ok((await dispatch(s, 'review.set', { seriesId, findingId: finding.id, decision: 'accepted', comment: secret, reviewer: 'Hanako Sato' })).ok);
    const exported = await dispatch(s, 'report.export', { seriesId, formats: ['pdf', 'json'], deidentify: true, reviewer: 'Hanako Sato' });
    assert.ok(exported.ok, exported.ok ? '' : exported.error.message);
    const denied = await dispatch(s, 'studies.open', { paths: [path.join(root, 'elsewhere')] });
    assert.ok(!denied.ok && denied.error.code === 'ACCESS_DENIED');
    await s.dispose();

    const { records } = readAudit(dir);
    assert.deepEqual(
      records.map((r) => `${r.what} ${r.event.code} ${r.action} ${r.outcome}`),
      ['session.start 110100 E 0', 'study.open 110103 R 0', 'analysis 110103 R 0', 'review 110110 U 0', 'report.export 110106 R 0', 'access.denied 110113 E 4', 'session.stop 110100 E 0'],
    );
    assert.ok(records.every((r) => r.source.process === 'desktop'));
    const [, open, analysed, review, exportRec, alert] = records;
    const patient = [{ id: 'RESIGHT-DEMO-0001', name: 'DEMO^PHANTOM' }];
    assert.deepEqual(open?.patients, patient);
    assert.deepEqual(open?.objects, [{ role: 'study', id: info.studyInstanceUid }]);
    assert.equal(open?.detail?.instances, 45);
    assert.deepEqual(analysed?.patients, patient);
    assert.deepEqual(analysed?.objects, [{ role: 'study', id: info.studyInstanceUid }, { role: 'series', id: info.seriesInstanceUid }]);
    assert.equal(analysed?.detail?.findings, analysis?.findings.length);
    assert.equal(analysed?.detail?.provider, 'cpu');
    assert.deepEqual(review?.detail, { finding: finding.id, decision: 'accepted', text: true });
    assert.equal(review?.reviewer, 'Hanako Sato');
    // a de-identified export still names whose data it was, and the files it wrote
    assert.deepEqual(exportRec?.patients, patient);
    // and the identities the files carry instead, so the trail links what left to whose it was
    assert.deepEqual(Object.keys(exportRec?.detail ?? {}), ['formats', 'deidentified', 'pseudonymPatientId', 'pseudonymPatientName', 'pseudonymStudyInstanceUid', 'pseudonymSeriesInstanceUid']);
    assert.match(String(exportRec?.detail?.pseudonymPatientId), /^ANON-[0-9A-F]{10}$/);
    assert.match(String(exportRec?.detail?.pseudonymStudyInstanceUid), /^2\.25\.\d+$/);
    const files = (exportRec?.objects ?? []).filter((o) => o.role === 'file').map((o) => o.id);
    assert.equal(files.length, 2);
    for (const f of files) assert.ok(path.isAbsolute(f) && fs.existsSync(f), f);
    assert.equal(alert?.event.meaning, 'Security Alert');
    assert.deepEqual(alert?.objects, [{ role: 'path', id: path.join(root, 'elsewhere') }]);

    const text = fs.readdirSync(dir).map((n) => fs.readFileSync(path.join(dir, n), 'utf8')).join('');
    assert.ok(!text.includes(secret), 'the comment itself is not in the trail');
  });

  it('records an analysis the model refused (another modality) as not a success', { timeout: 120_000 }, async (t) => {
    const root = tempDir(t, 'session-audit-mr');
    const dir = path.join(root, 'audit');
    const s = new Session({ cacheDir: null, audit: new AuditLog(dir, 'serve'), sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => s.dispose());
    const mr = corpusPath('pydicom_MR_small.dcm');
    s.grant([mr]);
    const seriesId = (await s.open({ paths: [mr] })).studies[0]?.series[0]?.id as string;
    const ended = new Promise<string>((resolve) => s.onEvent((e) => (e === 'analysis.done' || e === 'analysis.failed') && resolve(e)));
    s.startAnalysis({ seriesId });
    await ended;
    assert.equal(s.getAnalysis({ seriesId }).analysis?.scored, false, 'the CT model does not score an MR');
    const rec = readAudit(dir).records.find((r) => r.what === 'analysis');
    assert.equal(rec?.outcome, 4);
    assert.ok(rec?.outcomeText, 'with the reason\'s code');
  });

  it('records a failed export as failed, naming the error', { timeout: 180_000 }, async (t) => {
    const root = tempDir(t, 'session-audit-fail');
    fs.writeFileSync(path.join(root, 'afile'), 'x');
    const dir = path.join(root, 'audit');
    const { s, seriesId } = await analysedDemo(t, { audit: new AuditLog(dir, 'serve'), exportDir: path.join(root, 'afile', 'exports') });
    const reply = await dispatch(s, 'report.export', { seriesId, formats: ['json'] });
    assert.ok(!reply.ok);
    const rec = readAudit(dir).records.find((r) => r.what === 'report.export');
    assert.equal(rec?.outcome, 8);
    assert.equal(rec?.outcomeText, 'EXPORT_FAILED');
    assert.deepEqual((rec?.objects ?? []).filter((o) => o.role === 'file'), []);
  });
});

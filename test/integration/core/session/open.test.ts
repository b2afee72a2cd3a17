/**
 * Opening studies in a session: a second folder of the same exam adds to it (other series, the
 * rest of a series) instead of replacing what was opened first; the same folder twice changes
 * nothing; a copy of an instance already open is reported once, not shown twice.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createHash } from 'node:crypto';
import { dispatch } from '../../../../src/core/session/dispatch';
import { Session } from '../../../../src/core/session/session';
import { SIGN_OFF_ID } from '../../../../src/shared/review';
import { writeSyntheticSeries } from '../../../../src/core/synthetic/ct-series';
import { REPO_ROOT } from '../../../helpers/corpus';
import { tempDir } from '../../../helpers/tmp';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');
const name = (i: number) => `CT${String(i).padStart(4, '0')}.dcm`;

/** The demo series split over two folders of `root`: slices 1-20 in a/, 21-45 in b/. */
function splitDemo(root: string): string {
  for (const [dir, from, to] of [['a', 1, 20], ['b', 21, 45]] as const) {
    fs.mkdirSync(path.join(root, dir));
    for (let i = from; i <= to; i++) fs.copyFileSync(path.join(DEMO, name(i)), path.join(root, dir, name(i)));
  }
  return root;
}

/** A session with the demo open and this data folder, as one process (the desktop app, resight serve) has it. */
async function demoSession(t: TestContext, dataDir: string): Promise<{ s: Session; seriesId: string }> {
  const s = new Session({ cacheDir: null, dataDir, sliceUrl: (id) => `/s/${id}/{i}` });
  t.after(() => s.dispose());
  s.grant([DEMO]);
  return { s, seriesId: (await s.open({ paths: [DEMO] })).studies[0].series[0].id };
}

describe('Session.open', () => {
  it('a second folder of the same study adds its slices; the same folder again changes nothing', async (t) => {
    const root = splitDemo(tempDir(t, 'open-merge'));
    fs.mkdirSync(path.join(root, 'copy'));
    fs.copyFileSync(path.join(DEMO, name(7)), path.join(root, 'copy', name(7)));
    const session = new Session({ cacheDir: null, sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => session.dispose());
    session.grant([root]);

    const first = await session.open({ paths: [path.join(root, 'a')] });
    assert.equal(first.studies.length, 1);
    const seriesId = first.studies[0].series[0].id;
    assert.equal(session.getSeries({ seriesId }).slices.length, 20);
    const early = await session.slice(seriesId, 5);

    const second = await session.open({ paths: [path.join(root, 'b')] });
    assert.equal(second.studies[0].series[0].slices, 45, 'the answer describes the study as the session now holds it');
    const listed = session.list().studies;
    assert.equal(listed.length, 1, 'one study, not two and not the second folder alone');
    assert.equal(listed[0].series.length, 1);
    const info = session.getSeries({ seriesId });
    assert.equal(info.slices.length, 45);
    const z = info.slices.map((s) => s.position?.[2] ?? NaN);
    assert.ok(z.every((v, i) => i === 0 || v > z[i - 1]), 'one stack in spatial order across both folders');
    assert.deepEqual(await session.slice(seriesId, 5), early, 'slice 5 (first folder) still reads the same');
    const late = await session.slice(seriesId, 40);
    assert.equal(late.rows, 512);

    const again = await session.open({ paths: [path.join(root, 'a')] });
    assert.deepEqual(again.unused, []);
    assert.equal(session.getSeries({ seriesId }).slices.length, 45, 'the same folder twice changes nothing');

    const copy = await session.open({ paths: [path.join(root, 'copy')] });
    assert.deepEqual(copy.unused.map((u) => [u.file, u.code]), [[`${path.basename(root)}/copy/${name(7)}`, 'DUPLICATE_INSTANCE']]);
    assert.equal(session.getSeries({ seriesId }).slices.length, 45, 'a copy of an open instance is not a 46th slice');
  });

  it('decisions follow their slices when the rest of the series is opened, and wait aside while their slices are not open', async (t) => {
    const root = splitDemo(tempDir(t, 'open-reviews'));
    const dataDir = tempDir(t, 'open-reviews-data');
    const make = () => {
      const s = new Session({ cacheDir: null, dataDir, sliceUrl: (id) => `/s/${id}/{i}` });
      t.after(() => s.dispose());
      s.grant([root]);
      return s;
    };
    const session = make();
    // the upper folder first: the nodule (demo files 31-34) is at slices 10-13 of its 25
    const seriesId = (await session.open({ paths: [path.join(root, 'b')] })).studies[0].series[0].id;
    session.setReview({ seriesId, findingId: 'lung_nodule:10-13', decision: 'accepted' });
    session.setReview({ seriesId, findingId: 'added:liver_lesion:2', decision: 'accepted', comment: 'segment VIII' });
    await session.open({ paths: [path.join(root, 'a')] });
    const ids = (s: Session) => s.getReviews({ seriesId }).reviews.map((r) => r.findingId).sort();
    assert.deepEqual(ids(session), ['added:liver_lesion:22', 'lung_nodule:30-33'], 'twenty slices came in below: the decisions moved with theirs');
    assert.equal(session.getReviews({ seriesId }).reviews.find((r) => r.findingId === 'added:liver_lesion:22')?.comment, 'segment VIII');

    // a later session that opens only the lower folder: slices 10-13 are other instances now
    const lower = make();
    await lower.open({ paths: [path.join(root, 'a')] });
    assert.deepEqual(ids(lower), [], 'no decision lands on the slices that now have its numbers');
    lower.setReview({ seriesId, findingId: 'liver_lesion:8-13', decision: 'rejected' });
    await lower.open({ paths: [path.join(root, 'b')] });
    assert.deepEqual(ids(lower), ['added:liver_lesion:22', 'liver_lesion:8-13', 'lung_nodule:30-33'], 'deciding meanwhile did not lose the set-aside ones');
  });

  it('two processes deciding on one series (the desktop app and resight serve share the data folder) keep each other\'s decisions', async (t) => {
    const dataDir = tempDir(t, 'shared-reviews-data');
    const app = await demoSession(t, dataDir);
    const serve = await demoSession(t, dataDir);
    // both have read the (empty) file; each then decides on its own finding
    assert.deepEqual(app.s.getReviews({ seriesId: app.seriesId }).reviews, []);
    assert.deepEqual(serve.s.getReviews({ seriesId: serve.seriesId }).reviews, []);
    app.s.setReview({ seriesId: app.seriesId, findingId: 'liver_lesion:7-20', decision: 'accepted' });
    serve.s.setReview({ seriesId: serve.seriesId, findingId: 'lung_nodule:31-34', decision: 'rejected' });
    const ids = (x: { s: Session; seriesId: string }) => x.s.getReviews({ seriesId: x.seriesId }).reviews.map((r) => r.findingId).sort();
    assert.deepEqual(ids(serve), ['liver_lesion:7-20', 'lung_nodule:31-34'], 'the second write kept the first');
    assert.deepEqual(ids(app), ['liver_lesion:7-20', 'lung_nodule:31-34'], 'and the first process sees the second\'s decision');
  });

  it('a decision another process wrote is seen even when the file keeps its size and time (a share with coarse timestamps, two writes in one tick)', async (t) => {
    const dataDir = tempDir(t, 'same-tick-reviews-data');
    const app = await demoSession(t, dataDir);
    const serve = await demoSession(t, dataDir);
    app.s.setReview({ seriesId: app.seriesId, findingId: 'liver_lesion:7-20', decision: 'accepted' });
    const file = fs.readdirSync(path.join(dataDir, 'reviews')).map((f) => path.join(dataDir, 'reviews', f))[0] as string;
    // a share that keeps whole seconds: every write in this second gets the same time
    const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
    fs.utimesSync(file, tick, tick);
    assert.equal(app.s.getReviews({ seriesId: app.seriesId }).reviews[0]?.decision, 'accepted');
    const seen = fs.statSync(file);
    // the other process turns it round: 'rejected' is as long as 'accepted', written in the same tick
    assert.equal(serve.s.getReviews({ seriesId: serve.seriesId }).reviews[0]?.decision, 'accepted');
    serve.s.setReview({ seriesId: serve.seriesId, findingId: 'liver_lesion:7-20', decision: 'rejected' });
    fs.utimesSync(file, tick, tick);
    assert.equal(fs.statSync(file).size, seen.size);
    assert.equal(fs.statSync(file).mtimeMs, seen.mtimeMs);
    assert.equal(app.s.getReviews({ seriesId: app.seriesId }).reviews[0]?.decision, 'rejected', 'the first process reads the second\'s decision, not its own old one');
    // and its next decision keeps the other's change instead of writing its old list over it
    app.s.setReview({ seriesId: app.seriesId, findingId: 'lung_nodule:31-34', decision: 'accepted' });
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { findingId: string; decision: string }[];
    assert.deepEqual(stored.map((r) => `${r.findingId}=${r.decision}`).sort(), ['liver_lesion:7-20=rejected', 'lung_nodule:31-34=accepted']);
  });

  it('the stacks of a split series keep their own decisions in its one review file; old decisions stay as they were stored', async (t) => {
    const root = tempDir(t, 'open-split-reviews');
    const dataDir = tempDir(t, 'open-split-reviews-data');
    const a = writeSyntheticSeries(path.join(root, 'a'), { slices: 5, rows: 64, columns: 64, seed: 51 });
    writeSyntheticSeries(path.join(root, 'b'), { slices: 5, rows: 64, columns: 64, seed: 52, seriesInstanceUid: a.seriesInstanceUid, studyInstanceUid: a.studyInstanceUid });
    const uid = a.seriesInstanceUid;
    const file = path.join(dataDir, 'reviews', `${createHash('sha256').update(uid).digest('hex').slice(0, 32)}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // a decision saved before decisions named their instances
    fs.writeFileSync(file, JSON.stringify([{ findingId: 'liver_lesion:0-0', decision: 'rejected', at: '2026-11-01T00:00:00.000Z' }]));
    const make = async () => {
      const s = new Session({ cacheDir: null, dataDir, sliceUrl: (id) => `/s/${id}/{i}` });
      t.after(() => s.dispose());
      s.grant([root]);
      const ids = (await s.open({ paths: [root] })).studies[0].series.map((x) => x.id);
      assert.deepEqual(ids, [uid, `${uid}#2`], 'every position twice: two stacks');
      return s;
    };
    const ids = (s: Session, seriesId: string) => s.getReviews({ seriesId }).reviews.map((r) => r.findingId).sort();
    const session = await make();
    assert.deepEqual(ids(session, uid), ['liver_lesion:0-0'], 'the old decision applies at its numbers on the main stack');
    assert.deepEqual(ids(session, `${uid}#2`), [], 'and not on the other');
    session.setReview({ seriesId: uid, findingId: 'lung_nodule:1-2', decision: 'accepted' });
    session.setReview({ seriesId: `${uid}#2`, findingId: 'lung_nodule:3-4', decision: 'rejected' });
    session.setReview({ seriesId: `${uid}#2`, findingId: 'lung_nodule:3-4', decision: 'accepted' });

    const later = await make();
    assert.deepEqual(ids(later, uid), ['liver_lesion:0-0', 'lung_nodule:1-2']);
    assert.deepEqual(ids(later, `${uid}#2`), ['lung_nodule:3-4']);
    assert.equal(later.getReviews({ seriesId: `${uid}#2` }).reviews[0]?.decision, 'accepted', 'deciding again replaced the decision');
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { findingId: string; anchor?: string[] }[];
    assert.equal(stored.length, 3);
    assert.equal(stored.find((r) => r.findingId === 'liver_lesion:0-0')?.anchor, undefined, 'the old decision is not pinned to the stack that happened to be open');
  });

  it('a decision sent with the instances the viewer showed is refused when the stack changed meanwhile', async (t) => {
    const root = splitDemo(tempDir(t, 'open-stale'));
    const session = new Session({ cacheDir: null, sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => session.dispose());
    session.grant([root]);
    const seriesId = (await session.open({ paths: [path.join(root, 'b')] })).studies[0].series[0].id;
    const shown = session.getSeries({ seriesId }).slices;
    const instances = [10, 13].map((i) => `${shown[i]?.sopInstanceUid}#${shown[i]?.frame}`);
    session.setReview({ seriesId, findingId: 'lung_nodule:10-13', decision: 'accepted', instances });
    await session.open({ paths: [path.join(root, 'a')] });
    // the viewer still shows the old numbers: slices 10-13 are other instances now
    assert.throws(() => session.setReview({ seriesId, findingId: 'lung_nodule:10-13', decision: 'rejected', instances }), (e: Error & { code?: string }) => e.code === 'INCONSISTENT_SERIES');
    assert.deepEqual(session.getReviews({ seriesId }).reviews.map((r) => [r.findingId, r.decision]), [['lung_nodule:30-33', 'accepted']]);
  });

  it('an analysis running when more of its series is opened never stores findings at the old slice numbers', { timeout: 120_000 }, async (t) => {
    const root = splitDemo(tempDir(t, 'open-job'));
    const session = new Session({ cacheDir: null, sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => session.dispose());
    session.grant([root]);
    const events: { event: string; payload: unknown }[] = [];
    session.onEvent((event, payload) => events.push({ event, payload }));
    const seriesId = (await session.open({ paths: [path.join(root, 'a')] })).studies[0].series[0].id;
    const { jobId } = session.startAnalysis({ seriesId });
    await session.open({ paths: [path.join(root, 'b')] });
    // the job ends either way: cancelled by the merge, or finished before it (and then dropped by it)
    const deadline = Date.now() + 100_000;
    while (!events.some((e) => (e.event === 'analysis.done' || e.event === 'analysis.failed') && (e.payload as { jobId: string }).jobId === jobId)) {
      assert.ok(Date.now() < deadline, 'the analysis ends');
      await new Promise((r) => setTimeout(r, 50));
    }
    const stored = session.getAnalysis({ seriesId }).analysis;
    assert.ok(stored === null || stored.slices.length === 45, `no 20-slice analysis of the old series is kept (got ${stored?.slices.length})`);
  });

  it('replies name files as the UI may show them: never an absolute path, also inside messages', async (t) => {
    const root = tempDir(t, 'open-paths');
    const study = path.join(root, 'study');
    fs.mkdirSync(path.join(study, 'copy'), { recursive: true });
    fs.copyFileSync(path.join(DEMO, name(7)), path.join(study, name(7)));
    fs.copyFileSync(path.join(DEMO, name(7)), path.join(study, 'copy', name(7)));
    const session = new Session({ cacheDir: null, sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => session.dispose());
    session.grant([study]);
    const r = await session.open({ paths: [study] });
    const dup = r.unused.find((u) => u.code === 'DUPLICATE_INSTANCE');
    assert.ok(dup, JSON.stringify(r.unused));
    assert.ok(!dup.message.includes(root), `no absolute path in ${dup.message}`);
    assert.match(dup.message, /study[\\/](copy[\\/])?CT0007\.dcm/, 'the other copy is named from the granted folder');
    assert.ok(!JSON.stringify(r).includes(root));
  });

  it('the files the last open could not use are listed again for a viewer that starts after it', async (t) => {
    const root = tempDir(t, 'open-unused');
    fs.copyFileSync(path.join(DEMO, name(1)), path.join(root, name(1)));
    fs.writeFileSync(path.join(root, 'notes.txt'), 'not DICOM');
    const session = new Session({ cacheDir: null, sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => session.dispose());
    session.grant([root]);
    assert.deepEqual(session.list().unused, []);
    const r = await session.open({ paths: [root] });
    assert.deepEqual(session.list().unused, r.unused);
    assert.deepEqual(r.unused.map((u) => [u.file, u.code]), [[`${path.basename(root)}/notes.txt`, 'NOT_DICOM']]);
    await session.close({ studyInstanceUid: r.studies[0].studyInstanceUid });
    assert.deepEqual(session.list().unused, [], 'closed with its study');
  });

  it('the sign-off belongs to the stack it was given on, and lapses when that stack changes', async (t) => {
    const root = tempDir(t, 'signoff-split');
    const dataDir = tempDir(t, 'signoff-split-data');
    // two stacks of one series (other positions and size: split by assembly)
    const a = writeSyntheticSeries(path.join(root, 'a'), { slices: 5, rows: 64, columns: 64, seed: 51 });
    writeSyntheticSeries(path.join(root, 'b'), { slices: 5, rows: 48, columns: 48, seed: 52, seriesInstanceUid: a.seriesInstanceUid, studyInstanceUid: a.studyInstanceUid });
    const make = async (paths: string[]) => {
      const s = new Session({ cacheDir: null, dataDir, sliceUrl: (id) => `/s/${id}/{i}` });
      t.after(() => s.dispose());
      s.grant([root]);
      const r = await s.open({ paths });
      return { s, ids: r.studies[0].series.map((x) => x.id) };
    };
    // the stacks told apart by their image size (which one is the series' main stack is assembly's choice)
    const stackOf = (x: { s: Session; ids: string[] }, rows: number) => x.ids.find((id) => x.s.getSeries({ seriesId: id }).series.rows === rows) as string;
    const first = await make([root]);
    assert.equal(first.ids.length, 2, 'two stacks');
    first.s.setReview({ seriesId: stackOf(first, 64), findingId: SIGN_OFF_ID, decision: 'accepted', reviewer: 'A' });
    first.s.setReview({ seriesId: stackOf(first, 48), findingId: SIGN_OFF_ID, decision: 'accepted', reviewer: 'B' });
    const signer = (x: { s: Session; ids: string[] }, rows: number) => x.s.getReviews({ seriesId: stackOf(x, rows) }).reviews.filter((r) => r.findingId === SIGN_OFF_ID).map((r) => r.reviewer);
    const later = await make([root]);
    assert.deepEqual(signer(later, 64), ['A']);
    assert.deepEqual(signer(later, 48), ['B'], 'each stack keeps its own');
    // opened again with a file of the first stack gone: that stack is not what was signed off
    fs.rmSync(a.files[a.files.length - 1] as string);
    const fewer = await make([root]);
    assert.deepEqual(signer(fewer, 64), [], 'a stack with other slices needs signing off again');
    assert.deepEqual(signer(fewer, 48), ['B']);
  });

  it('a path that does not exist is an error naming it; one outside the granted folders says how to grant it', async (t) => {
    const root = tempDir(t, 'open-missing');
    const session = new Session({ cacheDir: null, sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => session.dispose());
    session.grant([root]);
    await assert.rejects(session.open({ paths: [path.join(root, 'nonexist')] }), (e: Error & { code?: string }) => e.code === 'FILE_UNREADABLE' && /not found: .*nonexist/.test(e.message));
    const reply = await dispatch(session, 'studies.open', { paths: [path.join(root, 'nonexist')] });
    assert.ok(!reply.ok && !reply.error.message.includes(root), 'the reply names it without the absolute path');
    await assert.rejects(session.open({ paths: [path.join(DEMO, name(1))] }), (e: Error & { code?: string }) => e.code === 'ACCESS_DENIED' && /resight serve/.test(e.message) && /File > Open/.test(e.message));
  });
});


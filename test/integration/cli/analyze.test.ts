/**
 * `resight analyze` (ARCHITECTURE.md "CLI contract") on the bundled demo study with the default
 * model, the way outside checks call it: the JSON file's shape, findings that cover the demo's
 * ground-truth lesions, timing on stdout, the result cache and --no-cache, provider fallback,
 * usage errors, and nothing written into the study folder.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type { AnalyzeJson } from '../../../src/cli/commands/analyze';
import { ensureCliBuilt, runCli, stackTraceLines } from '../../helpers/cli';
import { REPO_ROOT } from '../../helpers/corpus';
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

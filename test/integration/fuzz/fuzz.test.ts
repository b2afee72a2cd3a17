/**
 * Fuzzing as tests (the harness in scripts/fuzz, the same code `npm run fuzz` runs): a bounded,
 * fixed-seed campaign of each kind must find nothing, and every finding saved in
 * test/fixtures/fuzz must now end in success or a typed error (a regression test for each bug
 * the fuzzer found). Longer campaigns: `npm run fuzz -- --iterations 10000 --seed 7`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runContractFuzz } from '../../../scripts/fuzz/contract';
import { findCorpusDir, loadCorpus } from '../../../scripts/fuzz/corpus';
import type { DicomFinding } from '../../../scripts/fuzz/dicom-campaign';
import { dicomCase, runDicomCampaign } from '../../../scripts/fuzz/dicom-campaign';
import { listFindings } from '../../../scripts/fuzz/findings';
import { parseArgs } from '../../../scripts/fuzz/main';
import { MUTATORS } from '../../../scripts/fuzz/mutators';
import { runModelFuzz } from '../../../scripts/fuzz/model-fuzz';
import { replayFindings } from '../../../scripts/fuzz/replay';
import { DicomRunner } from '../../../scripts/fuzz/runner';
import { corpusPath, REPO_ROOT } from '../../helpers/corpus';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'fuzz');
const corpusDir = findCorpusDir();
const corpus = loadCorpus(corpusDir);
const jobs = Math.max(1, Math.min(2, os.availableParallelism()));

const show = (f: DicomFinding) => `${f.kind} at ${f.stage} (iteration ${f.iteration}, ${f.source}; ${f.mutators.join(' | ')}): ${f.message.split('\n')[0]} ${f.signature}`;

describe('fuzz harness', () => {
  it('builds the same case from the same seed and iteration, and different ones otherwise', () => {
    const a = dicomCase(1, 17, corpus);
    const b = dicomCase(1, 17, corpus);
    assert.deepEqual(a.steps, b.steps);
    assert.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes));
    const others = [dicomCase(2, 17, corpus), dicomCase(1, 18, corpus)];
    assert.ok(others.every((o) => o.steps.join() !== a.steps.join() || !Buffer.from(o.bytes).equals(Buffer.from(a.bytes))));
  });

  it('uses every mutator within the fixed-seed campaign', () => {
    const used = new Set<string>();
    for (let i = 0; i < 300; i++) for (const step of dicomCase(1, i, corpus).steps) used.add(step.split(':')[0]);
    assert.deepEqual([...used].sort(), Object.keys(MUTATORS).sort());
  });

  it('parses the command line npm run fuzz passes on', () => {
    const a = parseArgs(['--iterations', '20', '--seed=5', '--no-contract', '--timeout-ms', '100', '--quiet']);
    assert.equal(a.iterations, 20);
    assert.equal(a.seed, 5);
    assert.equal(a.contract, false);
    assert.equal(a.models, true);
    assert.equal(a.timeoutMs, 100);
    assert.throws(() => parseArgs(['--iterations', 'x']), /integer/);
    assert.throws(() => parseArgs(['--mutators', 'nope']), /unknown/);
  });

  it('reports a case that outlives its timeout as a hang, and carries on with a fresh thread', { timeout: 60_000 }, async () => {
    const runner = new DicomRunner({ jobs: 1, timeoutMs: 1 });
    try {
      const hung = await runner.runFile(corpusPath('cswado_CTImage_j2k_lossless_90.dcm'));
      assert.equal(hung.status, 'finding');
      assert.equal(hung.kind, 'timeout');
    } finally {
      await runner.close();
    }
    const ok = new DicomRunner({ jobs: 1, timeoutMs: 30_000, corpusDir });
    try {
      const r = await ok.runFile(corpusPath('pydicom_MR_small.dcm'));
      assert.equal(r.status, 'ok', JSON.stringify(r));
      assert.equal(r.framesDecoded, 1);
      // A compressed file also passes the decoder-poisoning check (its canary decodes as before).
      const j2k = await ok.runFile(corpusPath('pydicom_MR_small_jp2klossless.dcm'));
      assert.equal(j2k.status, 'ok', JSON.stringify(j2k));
      assert.equal(j2k.codec, 'jpeg2000');
    } finally {
      await ok.close();
    }
  });
});

describe('fuzz: DICOM scan + parse + decode', () => {
  it('300 mutated corpus files (seed 1) each end in success or a typed error', { timeout: 180_000 }, async () => {
    const r = await runDicomCampaign({ iterations: 300, seed: 1, corpus, corpusDir, jobs, timeoutMs: 15_000, outDir: null, minimise: false });
    assert.equal(r.iterations, 300);
    assert.deepEqual(r.findings.map(show), []);
    // The campaign reaches the decoders, not only the parser.
    assert.ok((r.counts.ok ?? 0) > 20, JSON.stringify(r.counts));
    assert.ok(Object.keys(r.counts).some((k) => k.startsWith('typed decode:')), JSON.stringify(r.counts));
  });
});

describe('fuzz: the bridge contract', () => {
  it('random and malformed payloads to every method get typed replies, and the server keeps answering', { timeout: 180_000 }, async () => {
    const r = await runContractFuzz({ seed: 1, iterations: 240, protocolErrors: false, outDir: null });
    assert.deepEqual(r.findings.map((f) => `${f.kind} (${f.method}): ${f.message.split('\n')[0]} [${f.payload.slice(0, 200)}]`), []);
    assert.ok(r.stillAnswering);
    assert.ok((r.counts['error VALIDATION'] ?? 0) > 100, JSON.stringify(r.counts));
  });

  it('a frame of invalid UTF-8 or over 1 MiB closes only that connection', { timeout: 120_000 }, async () => {
    const r = await runContractFuzz({ seed: 3, iterations: 0, outDir: null });
    const utf8 = await runContractFuzz({ seed: 1, iterations: 90, outDir: null });
    const crashes = [...r.findings, ...utf8.findings].map((f) => `${f.kind}: ${f.message.split('\n').find((l) => /Error\b.*:/.test(l))?.trim() ?? f.message.slice(0, 200)} [${f.payload.slice(0, 80)}]`);
    assert.deepEqual([...new Set(crashes)], []);
    assert.ok(r.stillAnswering && utf8.stillAnswering);
  });
});

describe('fuzz: models', () => {
  it('corrupted ONNX files and cards are refused with typed errors, never a crash', { timeout: 180_000 }, async () => {
    const r = await runModelFuzz({ seed: 1, iterations: 16, outDir: null });
    assert.deepEqual(r.findings.map((f) => `${f.kind}: ${f.message.split('\n')[0]} [${f.steps.join(' | ')}]`), []);
    assert.ok(Object.keys(r.counts).some((k) => k === 'typed PROVIDER_UNAVAILABLE' || k === 'typed MODEL_INVALID'), JSON.stringify(r.counts));
  });
});

describe('fuzz: saved findings (test/fixtures/fuzz)', () => {
  const saved = listFindings(FIXTURES);
  it(`every saved finding (${saved.length}) now ends in success or a typed error`, { timeout: 300_000 }, async () => {
    if (!saved.length) return;
    for (const s of saved) for (const f of s.meta.files) assert.ok(fs.existsSync(path.join(FIXTURES, f)), `${path.basename(s.jsonPath)} names a missing file ${f}`);
    const results = await replayFindings(FIXTURES, { timeoutMs: 30_000 });
    assert.equal(results.length, saved.length);
    assert.deepEqual(results.filter((r) => !r.passed).map((r) => `${path.basename(r.jsonPath)} (${r.meta.kind}, ${r.meta.target}): ${r.outcome}`), []);
  });
});

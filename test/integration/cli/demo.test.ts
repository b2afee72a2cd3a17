/** The README's main job (`npm run demo`): finds the demo's lesions and writes the annotated report. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureCliBuilt } from '../../helpers/cli';
import { REPO_ROOT } from '../../helpers/corpus';
import { tempDir } from '../../helpers/tmp';

before(ensureCliBuilt, { timeout: 180_000 });

describe('npm run demo', () => {
  it('shows the findings against the ground truth and exports the report', { timeout: 180_000 }, (t) => {
    const out = tempDir(t, 'demo-out');
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'demo.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, RESIGHT_DEMO_OUT: out, RESIGHT_CACHE_DIR: tempDir(t, 'cache') } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /2\/2 ground-truth lesions found/);
    // one way of counting slices on one screen: from 1, as the CLI's summary and the PDF count them
    // (the demo's nodule is on 0-based slices 31-34 in ground-truth.json)
    assert.match(r.stdout, /lung_nodule on slices 32-35 \(peak p=/);
    assert.doesNotMatch(r.stdout, /finding\(s\)/);
    for (const f of ['report.pdf', 'report-sr.dcm']) assert.ok(fs.statSync(path.join(out, f)).size > 1000, f);
    assert.ok(fs.readdirSync(path.join(out, 'key-images')).length >= 2);
    assert.equal(fs.readFileSync(path.join(out, 'report.pdf')).subarray(0, 5).toString(), '%PDF-');
  });
});

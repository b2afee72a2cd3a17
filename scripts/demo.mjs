#!/usr/bin/env node
// The main job on a fresh machine: open the bundled demo study and run the default model over
// every slice, exactly as a user would with the CLI (`resight info`, then `resight analyze`), and
// show the findings next to the demo's ground truth, then export the annotated report (PDF,
// DICOM SR, Secondary Captures) into out/demo/. The analysis JSON goes to a temporary file that
// is removed afterwards; nothing is written into the study folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const cli = join(root, 'app', 'bin', 'resight.js');
const demo = join(root, 'resources', 'demo');
const run = (args) => {
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

// 1. What the ingest engine sees.
console.log('$ resight info resources/demo');
run(['info', demo]);

// 2. The analysis (the result cache is bypassed so the timing is a real run).
const tmp = mkdtempSync(join(tmpdir(), 'resight-demo-'));
try {
  const out = join(tmp, 'analysis.json');
  console.log('\n$ resight analyze resources/demo --no-cache --json analysis.json');
  run(['analyze', demo, '--no-cache', '--json', out]);

  // 3. Findings vs. the ground truth the demo was generated with.
  const result = JSON.parse(readFileSync(out, 'utf8'));
  const truth = JSON.parse(readFileSync(join(demo, 'ground-truth.json'), 'utf8'));
  const series = result.series[0];
  // slices counted from 1, as the viewer, the PDF and the CLI's summary count them (the JSON's are 0-based)
  console.log('\nGround truth (resources/demo/ground-truth.json) vs findings, slices counted from 1:');
  let found = 0;
  for (const l of truth.lesions) {
    const hit = series.findings.find((f) => f.class === l.class && f.sliceStart <= l.slices[1] && f.sliceEnd >= l.slices[0]);
    const peak = Math.max(...series.slices.slice(l.slices[0], l.slices[1] + 1).map((s) => s.probabilities?.[l.class] ?? 0));
    if (hit) found++;
    console.log(
      `  ${l.diameter_mm} mm ${l.kind} ${l.class} on slices ${l.slices[0] + 1}-${l.slices[1] + 1} (peak p=${peak.toFixed(3)}): ` +
        (hit ? `found by the finding on slices ${hit.sliceStart + 1}-${hit.sliceEnd + 1} (key slice ${hit.keySlice + 1})` : 'MISSED'),
    );
  }
  const extra = series.findings.filter((f) => !truth.lesions.some((l) => f.class === l.class && f.sliceStart <= l.slices[1] && f.sliceEnd >= l.slices[0]));
  for (const f of extra) console.log(`  false positive: ${f.class} on slices ${f.sliceStart + 1}-${f.sliceEnd + 1} (score ${f.score.toFixed(3)})`);
  console.log(`\n${found}/${truth.lesions.length} ground-truth lesions found, ${extra.length} ${extra.length === 1 ? 'finding' : 'findings'} without a lesion. ${result.notForClinicalUse ? 'Not for clinical use.' : ''}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// 4. The annotated report, as a reviewer would export it (here: unreviewed), into out/demo/
// (ignored by git; never the study folder).
const outDir = process.env.RESIGHT_DEMO_OUT ?? join(root, 'out', 'demo');
console.log('\n$ resight analyze resources/demo --report out/demo/report.pdf --sr out/demo/report-sr.dcm --sc-dir out/demo/key-images --overwrite');
run(['analyze', demo, '--report', join(outDir, 'report.pdf'), '--sr', join(outDir, 'report-sr.dcm'), '--sc-dir', join(outDir, 'key-images'), '--overwrite']);
console.log('\nOpen out/demo/report.pdf for the report; `npm start` opens the viewer on the demo study.');

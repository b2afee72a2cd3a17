#!/usr/bin/env node
// Runs the test suites with Node's built-in test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [dir-or-file ...]   (default: test/)
// Node 20's --test takes no globs, so the files are collected here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const roots = process.argv.slice(2);
const files = [];
const walk = (p) => {
  if (statSync(p).isDirectory()) {
    for (const name of readdirSync(p).sort()) if (name !== 'fixtures' && name !== 'node_modules') walk(join(p, name));
  } else if (/\.test\.(ts|mts)$/.test(p)) files.push(p);
};
for (const r of roots.length ? roots : ['test']) walk(r);
if (!files.length) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
// Tests that run the CLI without a data folder of their own must not add to this machine's real
// audit trail (src/core/audit): unless the caller chose one, it goes to a folder thrown away after.
const auditDir = process.env.RESIGHT_AUDIT_DIR ? null : mkdtempSync(join(tmpdir(), 'resight-test-audit-'));
const env = auditDir ? { ...process.env, RESIGHT_AUDIT_DIR: auditDir } : process.env;
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
if (auditDir) rmSync(auditDir, { recursive: true, force: true });
process.exit(res.status ?? 1);

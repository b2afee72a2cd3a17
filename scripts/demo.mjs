#!/usr/bin/env node
// The main job on a fresh machine, until the default model and demo study land (issues 3/4):
// open the bundled demo study if present, else a synthetic CT series generated on the fly into
// a temporary folder (never into a user's folder), and print what ReSight sees in it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const cli = join(root, 'app', 'dist', 'cli', 'main.js');
const demo = join(root, 'resources', 'demo');
let target = demo;
let tmp;
if (!existsSync(demo) || !readdirSync(demo).some((f) => f.endsWith('.dcm') || f === 'DICOMDIR')) {
  tmp = mkdtempSync(join(tmpdir(), 'resight-demo-'));
  target = tmp;
  const { writeSyntheticSeries } = await import(join(root, 'app', 'dist', 'core', 'synthetic', 'ct-series.js'));
  writeSyntheticSeries(tmp, { slices: 40, rows: 256, columns: 256, seed: 7 });
  console.log(`(no demo study bundled yet: generated a synthetic 40-slice CT series in ${tmp})`);
}
const run = (args) => spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' }).status ?? 1;
let status = run(['info', target]);
const first = readdirSync(target).filter((f) => f.endsWith('.dcm')).sort()[0];
if (status === 0 && first) status = run(['decode', join(target, first), '--out', join(tmpdir(), 'resight-demo-slice.f32')]);
if (tmp) rmSync(tmp, { recursive: true, force: true });
process.exit(status);

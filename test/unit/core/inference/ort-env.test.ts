/**
 * ONNX Runtime's telemetry is switched off before the runtime is loaded, wherever it is loaded:
 * ReSight connects to nothing but the PACS the user configures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../../helpers/corpus';

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : []));
}

describe('ONNX Runtime telemetry', () => {
  it('onnxruntime-node is loaded in one module only, after ort-env; every other module takes the runtime from it', () => {
    const loads = (text: string) => /^(import (?!type\b)[^;]*from|export \*[^;]*from) 'onnxruntime-node'/m.test(text);
    const loaders = sources(path.join(REPO_ROOT, 'src')).filter((f) => loads(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(loaders.map((f) => path.relative(REPO_ROOT, f)), [path.join('src', 'core', 'inference', 'ort.ts')]);
    const lines = fs.readFileSync(loaders[0] as string, 'utf8').split('\n');
    const env = lines.findIndex((l) => /^import '\.\/ort-env';/.test(l));
    const ort = lines.findIndex((l) => /^export \* from 'onnxruntime-node';/.test(l));
    assert.ok(env >= 0 && env < ort && env === lines.findIndex((l) => /^(import|export) /.test(l)), 'ort-env is its first import');
    const users = sources(path.join(REPO_ROOT, 'src')).filter((f) => /^import \* as ort from '[^']*\/ort';/m.test(fs.readFileSync(f, 'utf8')));
    assert.ok(users.length >= 3, 'the modules that run the runtime take it from there');
  });

  it('is off in a process that loads the engine, whatever the environment said', () => {
    const script = "require('./src/core/inference/engine'); console.log(process.env.ORT_DISABLE_TELEMETRY, process.env.ORT_TELEMETRY_DISABLED)";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '0' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1 1');
  });
});

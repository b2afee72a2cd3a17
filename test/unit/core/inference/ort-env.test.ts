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
  it('every module that loads onnxruntime-node imports ort-env first', () => {
    const loaders = sources(path.join(REPO_ROOT, 'src')).filter((f) => /^import (?!type\b)[^;]*from 'onnxruntime-node'/m.test(fs.readFileSync(f, 'utf8')));
    assert.ok(loaders.length >= 3, 'the check finds the modules that load the runtime');
    for (const f of loaders) {
      const lines = fs.readFileSync(f, 'utf8').split('\n');
      const env = lines.findIndex((l) => /^import '[^']*ort-env';/.test(l));
      const ort = lines.findIndex((l) => /^import (?!type\b)[^;]*from 'onnxruntime-node'/.test(l));
      const first = lines.findIndex((l) => l.startsWith('import '));
      assert.ok(env >= 0 && env === first && env < ort, `${path.relative(REPO_ROOT, f)}: import ort-env as its first import`);
    }
  });

  it('is off in a process that loads the engine, whatever the environment said', () => {
    const script = "require('./src/core/inference/engine'); console.log(process.env.ORT_DISABLE_TELEMETRY, process.env.ORT_TELEMETRY_DISABLED)";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '0' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1 1');
  });
});

/**
 * GPU checks in the desktop app: the engine (an Electron utility process, whose binary does not
 * run as Node in the packaged app) asks the main process, which checks in a utility process of its
 * own. Here: the engine's relay, the host's answer on the asking channel, the main process's
 * utility-process check (with a fake utilityProcess), the check's process entry, and how a check
 * process's ending is read.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runProbeProcess } from '../../../src/core/inference/provider-probe';
import type { ProbeProcess } from '../../../src/core/inference/provider-probe';
import { utilityProbe } from '../../../src/main/app';
import type { EngineChannel } from '../../../src/main/engine-host';
import { EngineHost } from '../../../src/main/engine-host';
import type { ChildMessage, HostMessage } from '../../../src/main/engine-protocol';
import { ProbeRelay } from '../../../src/main/probe-relay';
import { REPO_ROOT } from '../../helpers/corpus';

/** A check process that prints `out` and exits with `code` (or never exits). */
function fakeProcess(out: string, code: number | null | 'hang'): ProbeProcess & { killed: boolean } {
  const stdout = new PassThrough();
  let exit: (code: number | null, signal?: string | null) => void = () => undefined;
  const p = {
    stdout,
    killed: false,
    kill: () => {
      p.killed = true;
      exit(null, 'SIGKILL');
    },
    onExit: (cb: typeof exit) => {
      exit = cb;
      if (code !== 'hang')
        setImmediate(() => {
          stdout.end(out);
          setImmediate(() => exit(code));
        });
    },
  };
  return p;
}

describe('a provider check process', () => {
  it('exit 0 is success; what it printed is the reason; a crash and a hang say so', async () => {
    assert.equal(await runProbeProcess('webgpu', () => fakeProcess('', 0)), null);
    assert.deepEqual(await runProbeProcess('webgpu', () => fakeProcess('Failed to get a WebGPU adapter', 1)), { kind: 'no-device', reason: 'no WebGPU adapter (no GPU, or no Vulkan/Metal/Direct3D 12 driver for it) [Failed to get a WebGPU adapter]' });
    assert.deepEqual(await runProbeProcess('webgpu', () => fakeProcess('', 139)), { kind: 'failed', reason: 'webgpu initialisation failed (exit 139)' });
    const hung = fakeProcess('', 'hang');
    assert.deepEqual(await runProbeProcess('webgpu', () => hung, 50), { kind: 'timeout', reason: 'webgpu did not initialise within 0.05 s' });
    assert.ok(hung.killed, 'a hung check is killed');
    assert.equal((await runProbeProcess('webgpu', () => { throw new Error('no such file'); }))?.reason, 'could not check webgpu in a child process: no such file');
  });
});

describe('GPU checks of the desktop app', () => {
  it('the engine asks the host and gets its answer back, by id', async () => {
    const sent: ChildMessage[] = [];
    const relay = new ProbeRelay((m) => sent.push(m));
    const a = relay.probe('webgpu', '/models/a.onnx');
    const b = relay.probe('webgpu', '/models/b.onnx');
    assert.deepEqual(sent, [{ type: 'probe', id: 1, provider: 'webgpu', modelPath: '/models/a.onnx' }, { type: 'probe', id: 2, provider: 'webgpu', modelPath: '/models/b.onnx' }]);
    relay.answer(2, { kind: 'no-device', reason: 'no adapter' });
    relay.answer(1, null);
    assert.equal(await a, null);
    assert.deepEqual(await b, { kind: 'no-device', reason: 'no adapter' });
    assert.equal(await relay.probe('webgpu', undefined), null, 'no model file: nothing to check');
  });

  it('the host runs the check it was given and answers on the channel that asked; without one it says the check cannot run', async () => {
    for (const probe of [async (p: string, m: string | undefined) => ({ kind: 'failed' as const, reason: `checked ${p} on ${m}` }), undefined]) {
      const sent: HostMessage[] = [];
      let onMsg: (m: ChildMessage) => void = () => undefined;
      const channel: EngineChannel = { post: (m) => sent.push(m), onMessage: (cb) => (onMsg = cb), onExit: () => undefined, kill: () => undefined };
      const host = new EngineHost(() => channel, {}, probe);
      onMsg({ type: 'probe', id: 7, provider: 'webgpu', modelPath: '/m.onnx' });
      await new Promise((r) => setImmediate(r));
      const answer = sent.find((m) => m.type === 'probed');
      assert.deepEqual(answer, { type: 'probed', id: 7, skip: { kind: 'failed', reason: probe ? 'checked webgpu on /m.onnx' : 'the GPU check cannot run in this process' } });
      host.dispose();
    }
  });

  it('the main process checks in a utility process running gpu-check.js <provider> <model>, its stdout piped', async () => {
    const forks: { entry: string; args: string[]; options: unknown }[] = [];
    const electron = {
      utilityProcess: {
        fork: (entry: string, args: string[], options: unknown) => {
          forks.push({ entry, args, options });
          // stands in for the utility process: the same entry, run by Node
          const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
          return { stdout: child.stdout, kill: () => child.kill(), once: (event: string, cb: (...a: unknown[]) => void) => child.once(event, cb) };
        },
      },
    };
    const entry = path.join(REPO_ROOT, 'src', 'main', 'gpu-check.ts');
    const probe = utilityProbe(electron as never, entry);
    const model = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'resnet-basic-tiny.onnx');
    assert.equal(await probe('cpu', model), null, 'the CPU always works');
    const missing = await probe('cpu', path.join(REPO_ROOT, 'no-such-model.onnx'));
    assert.equal(missing?.kind, 'failed');
    assert.match(missing?.reason ?? '', /no-such-model\.onnx|No such file|Load model/i);
    assert.deepEqual(forks[0], { entry, args: ['cpu', model], options: { serviceName: 'ReSight GPU check', stdio: ['ignore', 'pipe', 'ignore'] } });
  });

  it('gpu-check.js refuses what is not a provider and a model', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'main', 'gpu-check.ts'), 'quantum'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, 'usage: gpu-check <provider> <model.onnx>');
  });
});

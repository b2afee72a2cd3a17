/**
 * Execution-provider choice. A workstation may have CUDA (NVIDIA + the CUDA libraries),
 * DirectML (Windows), CoreML (macOS), WebGPU (Dawn over Vulkan/Metal/D3D12, bundled with
 * onnxruntime-node) or none of them. We try the user's preference in order and keep the first
 * provider whose session actually gets created: being listed by `listSupportedBackends()` says
 * the binary was built with it, not that this machine can run it (no GPU, no driver, CUDA libs
 * not installed). Every provider passed over is reported with its reason, so the UI and the
 * results can say why the model runs on the CPU. The CPU provider is always the last resort.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { envPositiveInt, warnEnv } from '../settings/env';
import * as ort from './ort';
import type { ProviderFallback, ProviderName, ProviderReport } from '../../shared/analysis';
import { PROVIDER_NAMES } from '../../shared/analysis';
import { ResightError } from '../errors';
import type { ProbeProcess, ProviderProbe, ProviderSkip } from './provider-probe';
import { explainFailure, runProbeProcess } from './provider-probe';

// the provider checks' process side lives apart from ONNX Runtime (the main process uses it too)
export { conciseReason, explainFailure, runProbeProcess } from './provider-probe';
export type { ProbeProcess, ProviderProbe, ProviderSkip } from './provider-probe';

export const DEFAULT_PREFERENCE: readonly ProviderName[] = PROVIDER_NAMES;

export function isProviderName(s: string): s is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(s);
}

/** ORT's backend names (listSupportedBackends) for ours. */
const BACKEND_NAME: Record<ProviderName, string> = { cuda: 'cuda', dml: 'dml', coreml: 'coreml', webgpu: 'webgpu', cpu: 'cpu' };

/** The order to try: a forced provider first, then the CPU; otherwise the preference. */
export function providerOrder(opts: { force?: ProviderName | undefined; preference?: readonly ProviderName[] | undefined }): ProviderName[] {
  const order = opts.force ? [opts.force] : [...(opts.preference ?? DEFAULT_PREFERENCE)];
  if (!order.includes('cpu')) order.push('cpu');
  return [...new Set(order)];
}

/** RESIGHT_ORT_SPIN: 1 lets ORT's idle threads spin; 0 or unset does not; anything else is said. */
function spinning(): boolean {
  const v = process.env.RESIGHT_ORT_SPIN;
  if (v !== undefined && v !== '' && v !== '0' && v !== '1') warnEnv('RESIGHT_ORT_SPIN', v, 'is not 0 or 1: threads do not spin');
  return v === '1';
}

export function defaultThreads(): number {
  const env = envPositiveInt('RESIGHT_ORT_THREADS');
  if (env !== undefined) return env;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, cores);
}

/**
 * ORT logs a failed GPU provider as an error line on stderr before throwing; we report the
 * same failure as a fallback reason, so its own log is kept to fatal errors unless asked for.
 * Must happen before the first session (ORT reads it when it creates its environment).
 */
const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
type OrtLogLevel = (typeof ORT_LOG_LEVELS)[number];

/** RESIGHT_ORT_LOG (verbose|info|warning|error), default fatal. */
export function ortLogLevel(): OrtLogLevel {
  const level = process.env.RESIGHT_ORT_LOG;
  if (level && !(ORT_LOG_LEVELS as readonly string[]).includes(level)) warnEnv('RESIGHT_ORT_LOG', level, `is not one of ${ORT_LOG_LEVELS.join(', ')}: fatal errors only are logged`);
  return (ORT_LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as OrtLogLevel) : 'fatal';
}

/** The same level as a session's logSeverityLevel (0 verbose .. 4 fatal). */
export function ortLogSeverity(): 0 | 1 | 2 | 3 | 4 {
  return ORT_LOG_LEVELS.indexOf(ortLogLevel()) as 0 | 1 | 2 | 3 | 4;
}

function quietOrtLog(): void {
  ort.env.logLevel = ortLogLevel();
}

/**
 * ORT's words for a model it cannot load (not a provider that cannot run it): bytes that are not
 * ONNX, an operator or graph it rejects. When even the CPU says this, the model is at fault.
 */
const MODEL_LOAD_FAILURE = /protobuf parsing failed|invalid model|failed to load model|load model .* failed|no op registered|could not find an implementation/i;

export interface CreatedSession {
  session: InferenceSession;
  report: ProviderReport;
}

/**
 * Checks a GPU provider before this process touches it; resolves to null when it may be tried
 * here, else to why it is skipped.
 */

export interface SessionOptions {
  force?: ProviderName | undefined;
  preference?: readonly ProviderName[] | undefined;
  threads?: number | undefined;
  /** The ONNX file (lets the probe open it in a child process). */
  modelPath?: string | undefined;
  /** Default: `defaultProbe` (tests pass their own). */
  probe?: ProviderProbe | undefined;
}

const probes = new Map<string, Promise<ProviderSkip | null>>();

/**
 * WebGPU is first created in a child process: Dawn prints adapter diagnostics straight to the
 * process's stderr (on every machine without a suitable GPU) and a broken GPU driver can crash
 * the process that initialises it; neither may happen to the app. CUDA is skipped at once when
 * onnxruntime-node was installed without its CUDA provider library. Results are kept per
 * process and model: the hardware does not change while the app runs.
 */
export const defaultProbe: ProviderProbe = (provider, modelPath) => {
  if (provider === 'cuda') {
    const dir = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return Promise.resolve(
      fs.existsSync(path.join(dir, lib)) ? null : { kind: 'no-libraries', reason: 'CUDA provider library not installed (onnxruntime-node was installed without its CUDA binaries; needs an NVIDIA GPU, CUDA 12 and cuDNN 9)' },
    );
  }
  if (provider !== 'webgpu' || !modelPath) return Promise.resolve(null);
  const key = `${provider}\n${modelPath}`;
  let p = probes.get(key);
  if (!p) probes.set(key, (p = probeOverride ? probeOverride(provider, modelPath) : runProbeProcess(provider, () => nodeProbeProcess(provider, modelPath))));
  return p;
};

/**
 * Who runs the GPU check instead of a Node child process. The packaged desktop app's engine runs
 * in an Electron utility process whose binary has ELECTRON_RUN_AS_NODE switched off (a fuse), so
 * spawning it would start a second app; there the engine asks the main process, which runs the
 * check in a utility process of its own (src/main/probe-relay.ts, gpu-check.ts).
 */
let probeOverride: ProviderProbe | null = null;
export function setProbeOverride(probe: ProviderProbe | null): void {
  probeOverride = probe;
}

/** Create a session on `provider` in this process: null when it works, else the error's text (what a probe process prints). */
export async function checkProviderHere(provider: ProviderName, modelPath: string): Promise<string | null> {
  ort.env.logLevel = 'fatal';
  try {
    await ort.InferenceSession.create(modelPath, { executionProviders: [BACKEND_NAME[provider]] });
    return null;
  } catch (e) {
    return String((e as Error | undefined)?.message ?? e);
  }
}

/** The check in a Node child process (the CLI, the browser bridge, tests). */
function nodeProbeProcess(provider: ProviderName, modelPath: string): ProbeProcess {
  const script = `const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))}); ort.env.logLevel = 'fatal';
ort.InferenceSession.create(${JSON.stringify(modelPath)}, { executionProviders: [${JSON.stringify(BACKEND_NAME[provider])}] })
  .then(() => process.exit(0), (e) => { process.stdout.write(String(e && e.message || e)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, windowsHide: true });
  return {
    stdout: child.stdout,
    kill: () => void child.kill('SIGKILL'),
    onExit: (cb) => void child.on('exit', cb),
    onError: (cb) => void child.on('error', cb),
  };
}

/** Create a session on the first provider that works; throws only if even the CPU fails. */
export async function createSession(model: Uint8Array, opts: SessionOptions = {}): Promise<CreatedSession> {
  const requested = providerOrder(opts);
  const threads = opts.threads ?? defaultThreads();
  quietOrtLog();
  const listed = new Set(ort.listSupportedBackends().map((b) => b.name));
  const fallbacks: ProviderFallback[] = [];
  for (const provider of requested) {
    if (!listed.has(BACKEND_NAME[provider])) {
      fallbacks.push({ provider, kind: 'not-built', reason: `not available in onnxruntime-node on ${process.platform}/${process.arch}` });
      continue;
    }
    if (provider !== 'cpu') {
      const skip = await (opts.probe ?? defaultProbe)(provider, opts.modelPath);
      if (skip) {
        fallbacks.push({ provider, ...skip });
        continue;
      }
    }
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [BACKEND_NAME[provider]],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Failed GPU attempts are reported by us with their reason; ORT's own error log lines
        // would only repeat them on stderr, and its warnings (e.g. MergeShapeInfo on a loosely
        // declared output) are noise to a user: fatal only unless RESIGHT_ORT_LOG asks for more.
        logSeverityLevel: ortLogSeverity(),
        // ORT's pool threads busy-wait after each run by default. This process holds several
        // sessions (the model, its gradient graphs) next to the decode workers, and spinning
        // threads of an idle session steal the cores the busy one needs: measured on 2 cores,
        // a forward + Grad-CAM pair took 7.9 ms spinning and 3.1-3.8 ms without.
        extra: { session: { intra_op: { allow_spinning: spinning() ? '1' : '0' } } },
      });
      return { session, report: { used: provider, requested, fallbacks, threads } };
    } catch (err) {
      const { kind, reason } = explainFailure(err, provider);
      // The CPU provider is in every build and needs no hardware: when it cannot load the model
      // either, the file is what is wrong, and the user must hear that (naming it), not that no
      // provider is available.
      if (provider === 'cpu' && MODEL_LOAD_FAILURE.test(reason)) {
        const file = opts.modelPath ? path.basename(opts.modelPath) : 'the model';
        throw new ResightError('MODEL_INVALID', `ONNX Runtime cannot load ${file}: ${reason}`, opts.modelPath ? { path: opts.modelPath } : {});
      }
      fallbacks.push({ provider, kind, reason });
    }
  }
  const why = fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ');
  throw new ResightError('PROVIDER_UNAVAILABLE', `no execution provider could run the model (${why})`);
}

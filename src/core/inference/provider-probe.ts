/**
 * Checking a GPU provider in a process of its own, and saying why one is passed over. Apart from
 * providers.ts so that the desktop app's main process, which runs the engine's checks
 * (src/main/probe-relay.ts), does not load ONNX Runtime.
 */
import type { FallbackKind, ProviderName } from '../../shared/analysis';

/** Known failures, said the way an IT admin can act on them (the raw message follows). */
const EXPLAIN: { provider: ProviderName; pattern: RegExp; kind: FallbackKind; text: string }[] = [
  { provider: 'cuda', pattern: /load shared library|libcudart|libcublas|libcudnn|providers_shared/i, kind: 'no-libraries', text: 'CUDA libraries not found (needs an NVIDIA GPU, CUDA 12 and cuDNN 9, and onnxruntime-node installed with its CUDA binaries)' },
  { provider: 'cuda', pattern: /no CUDA-capable device|cudaErrorNoDevice|CUDA driver/i, kind: 'no-device', text: 'no usable NVIDIA GPU or driver' },
  { provider: 'webgpu', pattern: /adapter/i, kind: 'no-device', text: 'no WebGPU adapter (no GPU, or no Vulkan/Metal/Direct3D 12 driver for it)' },
];

/** Why a provider is passed over: its kind (for the UI's words) and the text (the log's). */
export interface ProviderSkip {
  kind: FallbackKind;
  reason: string;
}

/** An ORT error as a skip: the first line, without its source-file prefix (what a user can read), after a known failure's explanation. */
export function explainFailure(err: unknown, provider?: ProviderName): ProviderSkip {
  const msg = String((err as Error)?.message ?? err).trim();
  const first = (msg.split('\n').find((l) => l.trim()) ?? msg).replace(/^\/?\S+\.(cc|cpp|h):\d+\s+\S+.*?\s(?=[A-Z][a-z])/, '').slice(0, 240);
  const known = EXPLAIN.find((e) => e.provider === provider && e.pattern.test(msg));
  return known ? { kind: known.kind, reason: `${known.text} [${first}]` } : { kind: 'failed', reason: first };
}

/** The text of `explainFailure`. */
export function conciseReason(err: unknown, provider?: ProviderName): string {
  return explainFailure(err, provider).reason;
}

/** Checks a provider for a model, out of process: null when it works, else why it is passed over. */
export type ProviderProbe = (provider: ProviderName, modelPath: string | undefined) => Promise<ProviderSkip | null>;

/** How long a provider check may take before it counts as hung. */
export const PROBE_TIMEOUT_MS = 20_000;

/** A process running one provider check: what it prints is the failure, exit 0 is success. */
export interface ProbeProcess {
  stdout: NodeJS.ReadableStream | null;
  kill(): void;
  onExit(cb: (code: number | null, signal?: string | null) => void): void;
  onError?(cb: (err: Error) => void): void;
}

/**
 * Run one provider check in the process `start` launches (it runs `checkProviderHere`): exit 0
 * is success; otherwise what it printed is the reason, or how it ended (a crash); killed after
 * `timeoutMs`.
 */
export function runProbeProcess(provider: ProviderName, start: () => ProbeProcess, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProviderSkip | null> {
  return new Promise((resolve) => {
    let child: ProbeProcess;
    try {
      child = start();
    } catch (err) {
      resolve({ kind: 'failed', reason: `could not check ${provider} in a child process: ${(err as Error).message}` });
      return;
    }
    let out = '';
    let done = false;
    const finish = (r: ProviderSkip | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => (out += d));
    const timer = setTimeout(() => {
      // said before the kill: the exit it causes must not read as a crash
      finish({ kind: 'timeout', reason: `${provider} did not initialise within ${timeoutMs / 1000} s` });
      child.kill();
    }, timeoutMs);
    child.onError?.((err) => finish({ kind: 'failed', reason: `could not check ${provider} in a child process: ${err.message}` }));
    child.onExit((code, signal) => {
      if (code === 0) finish(null);
      else finish(out ? explainFailure(new Error(out), provider) : { kind: 'failed', reason: `${provider} initialisation ${signal ? `crashed (${signal})` : `failed (exit ${code})`}` });
    });
  });
}


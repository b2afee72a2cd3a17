/**
 * The engine process's GPU checks, run by the main process. In the packaged app the engine is an
 * Electron utility process, and the app binary's fuses turn ELECTRON_RUN_AS_NODE off: the Node
 * child process the core would spawn for a WebGPU check would start a second ReSight instead. So
 * the engine asks the main process (a `probe` message), which checks in a utility process of its
 * own (gpu-check.ts) and answers (`probed`).
 */
import type { ProviderName } from '../shared/analysis';
import type { ProviderProbe, ProviderSkip } from '../core/inference/provider-probe';
import type { ChildMessage } from './engine-protocol';

export class ProbeRelay {
  private next = 1;
  private readonly pending = new Map<number, (skip: ProviderSkip | null) => void>();

  constructor(private readonly post: (msg: ChildMessage) => void) {}

  /** The engine's probe (core setProbeOverride): asks the host, resolves with its answer. */
  readonly probe: ProviderProbe = (provider: ProviderName, modelPath: string | undefined) => {
    if (!modelPath) return Promise.resolve(null);
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.post({ type: 'probe', id, provider, modelPath });
    });
  };

  /** The host's answer to probe `id`. */
  answer(id: number, skip: ProviderSkip | null): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(skip);
  }
}

/** Messages between the main process and the engine process (engine-host.ts <-> engine-child.ts). */
import type { ProviderName } from '../shared/analysis';
import type { EventName, Method, Reply } from '../shared/api';
import type { ProviderSkip } from '../core/inference/provider-probe';

export interface EngineInit {
  modelCard?: string | undefined;
  provider?: string | undefined;
  threads?: number | undefined;
  dataDir?: string | undefined;
  cacheDir?: string | null | undefined;
  exportDir?: string | undefined;
}

export type HostMessage =
  | { type: 'init'; options: EngineInit }
  | { type: 'grant'; paths: string[] }
  | { type: 'call'; id: number; method: string; params: unknown }
  | { type: 'slice'; id: number; seriesId: string; index: number }
  /** The answer to a `probe`: null when the provider works. */
  | { type: 'probed'; id: number; skip: ProviderSkip | null };

export type ChildMessage =
  | { type: 'reply'; id: number; reply: Reply<Method> }
  | { type: 'resource'; id: number; status: number; headers: Record<string, string>; body: Uint8Array | string }
  | { type: 'event'; event: EventName; payload: unknown }
  /** Check a GPU provider in a process of the host's (probe-relay.ts). */
  | { type: 'probe'; id: number; provider: ProviderName; modelPath: string }
  /** Something the user's administrator must learn of (the audit trail cannot be written, or is off): for the app's log. */
  | { type: 'warn'; message: string };

/**
 * The preload: exposes `window.resight`, the contract's ResightApi, and nothing else. It runs
 * sandboxed and is loaded as one file, so it imports only Electron's renderer-side modules and
 * types from src/shared (no runtime code from elsewhere).
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { EventName, Events, Method, OpenResult, Params, Reply, ResightApi, Results } from '../shared/api';

// Channel names: the same strings as src/main/ipc.ts (the preload cannot import main's code).
const CALL_CHANNEL = 'resight:call';
const EVENT_CHANNEL = 'resight:event';
const DROP_CHANNEL = 'resight:open-dropped';

class ResightCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const listeners = new Map<string, Set<(payload: unknown) => void>>();
ipcRenderer.on(EVENT_CHANNEL, (_e, msg: { event: string; payload: unknown }) => {
  for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
});

const api: ResightApi = {
  async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    const reply = (await ipcRenderer.invoke(CALL_CHANNEL, method, params)) as Reply<M>;
    if (reply.ok) return reply.value;
    throw new ResightCallError(reply.error.code, reply.error.message);
  },
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener as (p: unknown) => void);
    return () => set.delete(listener as (p: unknown) => void);
  },
  sliceUrl(seriesId: string, index: number): string {
    return `app://resight/series/${encodeURIComponent(seriesId)}/slice/${index}`;
  },
  async openDropped(files: File[]): Promise<OpenResult> {
    // Only File objects the OS gave the page have a path; one built by script has none.
    const paths = files.map((f) => webUtils.getPathForFile(f)).filter((p) => p.length > 0);
    if (!paths.length) throw new ResightCallError('VALIDATION', 'nothing to open: drop files or folders from the file manager');
    const reply = (await ipcRenderer.invoke(DROP_CHANNEL, paths)) as Reply<'studies.open'>;
    if (reply.ok) return reply.value;
    throw new ResightCallError(reply.error.code, reply.error.message);
  },
};

contextBridge.exposeInMainWorld('resight', api);

/**
 * The contract over Electron IPC: one `invoke` channel for calls, one channel for events. Every
 * call is checked for its sender (our app:// renderer, main frame) and validated by dispatch()
 * with the contract's zod schemas (in the engine process, or in-process), as the bridge does.
 */
import type { EventName, Method, Reply } from '../shared/api';
import { EVENT_NAMES } from '../shared/api';
import { dispatch } from '../core/session/dispatch';
import { Session } from '../core/session/session';
import { isTrustedSenderUrl } from './security';
import type { Caller } from '../core/session/folder-guard';

export const CALL_CHANNEL = 'resight:call';
export const EVENT_CHANNEL = 'resight:event';
export const DROP_CHANNEL = 'resight:open-dropped';

/** The parts of an IpcMainInvokeEvent the handler looks at. */
export interface InvokeEventLike {
  senderFrame?: { url: string; parent?: unknown } | null;
}

export type { Caller } from '../core/session/folder-guard';

/** What the main process registers with ipcMain.handle(CALL_CHANNEL, ...). */
export function createCallHandler(target: Session | Caller): (event: InvokeEventLike, method: unknown, params: unknown) => Promise<Reply<Method>> {
  const call: Caller = target instanceof Session ? (m, p) => dispatch(target, m, p) : target;
  return async (event, method, params) => {
    const frame = event.senderFrame;
    if (!frame || frame.parent || !isTrustedSenderUrl(frame.url)) return { ok: false, error: { code: 'ACCESS_DENIED', message: 'calls are accepted from the ReSight window only' } };
    if (typeof method !== 'string') return { ok: false, error: { code: 'VALIDATION', message: 'a call needs a method' } };
    return call(method, params);
  };
}

// the guard on the folder settings is the transports' one (core/session/folder-guard.ts): the
// bridge refuses what here the user is asked to confirm
export { FOLDER_SETTINGS, guardFolderSettings } from '../core/session/folder-guard';
export type { ConfirmFolder } from '../core/session/folder-guard';

/** Forward events (of a Session or the engine host) to a window's renderer: the contract's only. */
export function forwardEvents(source: { onEvent(cb: (event: EventName, payload: unknown) => void): () => void }, send: (channel: string, payload: unknown) => void): () => void {
  return source.onEvent((event, payload) => {
    if (EVENT_NAMES.includes(event)) send(EVENT_CHANNEL, { event, payload });
  });
}

/**
 * Files/folders dropped on the window: the preload resolved the paths from the OS's File objects;
 * main checks the sender and that each path exists, grants exactly those, and opens them.
 */
export function createDropHandler(grantAndOpen: (paths: string[]) => Promise<Reply<Method>>, exists: (p: string) => boolean): (event: InvokeEventLike, paths: unknown) => Promise<Reply<Method>> {
  return async (event, paths) => {
    const frame = event.senderFrame;
    if (!frame || frame.parent || !isTrustedSenderUrl(frame.url)) return { ok: false, error: { code: 'ACCESS_DENIED', message: 'drops are accepted from the ReSight window only' } };
    if (!Array.isArray(paths) || !paths.length || paths.length > 1000 || !paths.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 4096)) return { ok: false, error: { code: 'VALIDATION', message: 'a drop needs 1..1000 paths' } };
    const missing = paths.filter((p) => !exists(p as string));
    if (missing.length) return { ok: false, error: { code: 'FILE_UNREADABLE', message: `${missing.length} dropped path(s) do not exist` } };
    return grantAndOpen(paths as string[]);
  };
}

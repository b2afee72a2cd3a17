/**
 * The contract over Electron IPC: one `invoke` channel for calls, one channel for events. Every
 * call is checked for its sender (our app:// renderer, main frame) and validated by dispatch()
 * with the contract's zod schemas, exactly as the bridge does.
 */
import type { Method, Reply } from '../shared/api';
import { EVENT_NAMES } from '../shared/api';
import { dispatch } from '../core/session/dispatch';
import type { Session } from '../core/session/session';
import { isTrustedSenderUrl } from './security';

export const CALL_CHANNEL = 'resight:call';
export const EVENT_CHANNEL = 'resight:event';

/** The parts of an IpcMainInvokeEvent the handler looks at. */
export interface InvokeEventLike {
  senderFrame?: { url: string; parent?: unknown } | null;
}

/** What the main process registers with ipcMain.handle(CALL_CHANNEL, ...). */
export function createCallHandler(session: Session): (event: InvokeEventLike, method: unknown, params: unknown) => Promise<Reply<Method>> {
  return async (event, method, params) => {
    const frame = event.senderFrame;
    if (!frame || frame.parent || !isTrustedSenderUrl(frame.url)) return { ok: false, error: { code: 'ACCESS_DENIED', message: 'calls are accepted from the ReSight window only' } };
    if (typeof method !== 'string') return { ok: false, error: { code: 'VALIDATION', message: 'a call needs a method' } };
    return dispatch(session, method, params);
  };
}

/** Forward the session's events to a window's renderer (only the contract's events). */
export function forwardEvents(session: Session, send: (channel: string, payload: unknown) => void): () => void {
  return session.onEvent((event, payload) => {
    if (EVENT_NAMES.includes(event)) send(EVENT_CHANNEL, { event, payload });
  });
}

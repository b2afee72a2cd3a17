/**
 * Settings the desktop shell acts on at its next start with privileges the page lacks: a folder to
 * load a model from, a folder whose files the app:// scheme serves. The page may propose them
 * (Preferences), but a compromised page must not set them unseen: the desktop app's main process
 * asks the user in its own dialog first (main/ipc.ts); `resight serve`, where no one can be asked
 * and whose settings.json is the desktop app's too, refuses them (bridge/server.ts).
 */
import type { Method, Reply } from '../../shared/api';

export type Caller = (method: string, params: unknown) => Promise<Reply<Method>>;

export const FOLDER_SETTINGS = ['modelFolder', 'exportFolder'] as const;

export type ConfirmFolder = (setting: (typeof FOLDER_SETTINGS)[number], folder: string) => Promise<boolean>;

/**
 * `call`, with settings.set changes of FOLDER_SETTINGS passed on only once `confirm` agrees; a
 * refusal is ACCESS_DENIED with `refusal`'s words. A folder that is what the settings already hold
 * asks nothing (the Preferences dialog sends every preference back on each save).
 */
export function guardFolderSettings(call: Caller, confirm: ConfirmFolder, refusal: (setting: string) => string = (k) => `${k} not changed: the folder was not confirmed`): Caller {
  return async (method, params) => {
    if (method === 'settings.set' && params !== null && typeof params === 'object') {
      let current: Record<string, unknown> | undefined;
      for (const k of FOLDER_SETTINGS) {
        const v = (params as Record<string, unknown>)[k];
        // null or '' resets to the default folder: nothing new is trusted
        if (typeof v !== 'string' || v === '') continue;
        if (current === undefined) {
          const got = await call('settings.get', {});
          current = got.ok ? (got.value as Record<string, unknown>) : {};
        }
        if (current[k] === v) continue;
        if (!(await confirm(k, v))) return { ok: false, error: { code: 'ACCESS_DENIED', message: refusal(k) } };
      }
    }
    return call(method, params);
  };
}

/**
 * The shell's security settings in one place (docs/security.md): the BrowserWindow's web
 * preferences, the renderer's Content-Security-Policy, the app:// origin the renderer lives in,
 * and the check every IPC call's sender must pass.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'resight';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** The renderer's CSP: its own origin only; no inline script, no eval, no plugins, no framing by others. */
export const CSP = ["default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'self'"].join('; ');

export interface SecureWebPreferences {
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  experimentalFeatures: false;
  webviewTag: false;
  navigateOnDragDrop: false;
  spellcheck: false;
  /** Middle-click opening links in new windows (Electronegativity AUXCLICK_JS_CHECK). */
  disableBlinkFeatures: 'Auxclick';
  preload: string;
}

/** BrowserWindow web preferences: isolated, sandboxed, no Node in the renderer. */
export function secureWebPreferences(preload: string): SecureWebPreferences {
  return {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    disableBlinkFeatures: 'Auxclick',
    preload,
  };
}

/** True for a frame of our own renderer (app://resight/...): IPC from anything else is refused. */
export function isTrustedSenderUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

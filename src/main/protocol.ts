/**
 * The app:// protocol: the built viewer, slices and exported files from the same routes as the
 * bridge (core/session/resources.ts), as web Responses for Electron's protocol.handle. Every
 * response carries the CSP.
 */
import type { Session } from '../core/session/session';
import { resolveResource } from '../core/session/resources';
import { APP_HOST, CSP } from './security';

export async function handleAppRequest(session: Session, staticDir: string | undefined, requestUrl: string, method = 'GET'): Promise<Response> {
  const url = new URL(requestUrl);
  if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
  if (method !== 'GET') return new Response('method not allowed', { status: 405 });
  const r = await resolveResource(session, staticDir, url.pathname);
  // Volumes live in SharedArrayBuffers (worker threads fill them); a web Response cannot hold a
  // view of one, so a slice is copied once here (512x512 int16: 0.5 MB, a fraction of a ms).
  const body = typeof r.body !== 'string' && r.body.buffer instanceof SharedArrayBuffer ? new Uint8Array(r.body) : r.body;
  return new Response(body as ConstructorParameters<typeof Response>[0], {
    status: r.status,
    headers: { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...r.headers },
  });
}

/**
 * The app:// protocol: the built viewer, slices and exported files from the same routes as the
 * bridge (core/session/resources.ts), as web Responses for Electron's protocol.handle. Every
 * response carries the CSP.
 */
import type { Resource } from '../core/session/resources';
import type { ResourceSources } from '../core/session/resources';
import { resolveResource } from '../core/session/resources';
import { APP_HOST, CSP } from './security';

/** Where a viewer path is answered from. */
export type Resolver = (pathname: string) => Promise<Resource>;

/** The routes of core/session/resources.ts over these sources. */
export function resolverOf(sources: ResourceSources): Resolver {
  return (pathname) => resolveResource(sources, pathname);
}

export async function handleAppRequest(resolve: Resolver, requestUrl: string, method = 'GET'): Promise<Response> {
  const url = new URL(requestUrl);
  if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
  if (method !== 'GET') return new Response('method not allowed', { status: 405 });
  let r: Resource;
  try {
    r = await resolve(url.pathname);
  } catch {
    r = { status: 500, body: 'internal error', headers: { 'content-type': 'text/plain; charset=utf-8' } };
  }
  // Volumes live in SharedArrayBuffers (worker threads fill them); a web Response cannot hold a
  // view of one, so a slice is copied once here (512x512 int16: 0.5 MB, a fraction of a ms).
  const body = typeof r.body !== 'string' && r.body.buffer instanceof SharedArrayBuffer ? new Uint8Array(r.body) : r.body;
  return new Response(body as ConstructorParameters<typeof Response>[0], {
    status: r.status,
    headers: { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...r.headers },
  });
}

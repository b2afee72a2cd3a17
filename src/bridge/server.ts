/**
 * The browser bridge (ARCHITECTURE.md "One contract, two transports"): the contract over a
 * WebSocket and slices over HTTP, on 127.0.0.1 only, for the viewer in a browser (and the
 * end-to-end tests in headless Chromium). Every request must carry the per-launch token (query
 * `token`, or header `x-resight-token`), and a browser's Origin must be this server's own: a web
 * page elsewhere cannot drive it, even though it listens on loopback.
 *
 *   GET  /?token=T                     the viewer (static files), or a status page until built
 *   GET  /series/<id>/slice/<i>?token  slice i's modality values: little-endian Int16 or Float32
 *                                      (header x-resight-dtype), rows/columns in headers
 *   WS   /ws?token=T                   {id, method, params} -> {id, reply}; {event, payload} pushed
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { EVENT_NAMES } from '../shared/api';
import { dispatch } from '../core/session/dispatch';
import { resolveResource, sessionSources } from '../core/session/resources';
import { Session } from '../core/session/session';
import { guardFolderSettings } from '../core/session/folder-guard';
import type { SessionOptions } from '../core/session/session';

export interface BridgeOptions extends Omit<SessionOptions, 'sliceUrl'> {
  port?: number;
  /** Files and folders the viewer may open (the command line's paths). */
  grant?: string[];
  /** The built viewer (index.html and assets); none: a status page. */
  staticDir?: string | undefined;
  token?: string;
}

export interface Bridge {
  url: string;
  port: number;
  token: string;
  session: Session;
  close(): Promise<void>;
}

const MAX_MESSAGE = 1 << 20;


const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export async function startBridge(opts: BridgeOptions = {}): Promise<Bridge> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  let origin = '';
  const session = new Session({
    ...opts,
    sliceUrl: (id) => `/series/${encodeURIComponent(id)}/slice/{i}?token=${token}`,
    exportUrl: (folder, name) => `/exports/${encodeURIComponent(folder)}/${name.split('/').map(encodeURIComponent).join('/')}?token=${token}`,
  });
  if (opts.grant?.length) session.grant(opts.grant);
  const sources = sessionSources(session, opts.staticDir);

  const tokenOk = (given: string | null | undefined) => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const originOk = (o: string | undefined) => o === undefined || o === origin;
  // DNS rebinding: a web page whose name is made to resolve to 127.0.0.1 reaches the port with its
  // own name as Host (and, same-origin to itself, no Origin header): only the loopback names are ours
  const hostOk = (h: string | undefined) => {
    const port = origin.slice(origin.lastIndexOf(':') + 1);
    return h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;
  };
  // The folders the desktop app acts on at its next start: no one can be asked here, so the page
  // may keep or reset them, never set a new one (core/session/folder-guard.ts)
  const call = guardFolderSettings(
    (method, params) => dispatch(session, method, params),
    async () => false,
    (k) => `${k} not changed: in browser mode it is set in the desktop app's Preferences or in settings.json, not from the page`,
  );
  // A request with a wrong token or a foreign origin (another local program, a web page trying
  // the port) goes in the audit trail as a Security Alert: at most one a minute, counting the rest,
  // so a process hammering the port cannot flood the trail.
  let lastAlert = 0;
  let unrecorded = 0;
  const recordRejected = (why: string, where: string, from: string) => {
    session.audit?.record({
      event: 'securityAlert',
      type: 'nodeAuthentication',
      action: 'E',
      outcome: 4,
      outcomeText: why,
      what: 'bridge.reject',
      detail: { request: where.slice(0, 200), from, ...(unrecorded ? { alsoRejectedSinceLastRecord: unrecorded } : {}) },
    });
    unrecorded = 0;
  };
  let lastFrom = '';
  const rejected = (why: 'token' | 'origin', where: string, socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }) => {
    const now = Date.now();
    // the client's port names the local process that tried (ss -tnp, or lsof -i), while it runs
    lastFrom = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (now - lastAlert < 60_000) {
      unrecorded++;
      return;
    }
    lastAlert = now;
    recordRejected(why === 'token' ? 'missing or wrong token' : 'forbidden origin', where, lastFrom);
  };

  const server = http.createServer((req, res) => {
    const fail = () => {
      // a handler error (a malformed URL, a file gone mid-read) answers 500; it never takes the server down
      if (!res.headersSent) res.writeHead(500, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error');
    };
    void (async () => {
      const url = new URL(req.url ?? '/', origin || 'http://127.0.0.1');
      const send = (status: number, body: string | Uint8Array, headers: Record<string, string> = {}) => {
        res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers });
        res.end(body);
      };
      if (!originOk(req.headers.origin) || !hostOk(req.headers.host)) {
        rejected('origin', url.pathname, req.socket);
        return send(403, 'forbidden origin');
      }
      // The token comes in the URL the CLI printed (?token=), a header, or, for the viewer's own
      // assets (which index.html references without it), the HttpOnly SameSite=Strict cookie
      // set when the page was opened with the token.
      const cookieToken = /(?:^|;\s*)resight_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      const queryToken = url.searchParams.get('token');
      if (!tokenOk(queryToken ?? (req.headers['x-resight-token'] as string | undefined) ?? cookieToken)) {
        rejected('token', url.pathname, req.socket);
        return send(401, 'missing or wrong token');
      }
      if (queryToken) res.setHeader('set-cookie', `resight_token=${token}; HttpOnly; SameSite=Strict; Path=/`);
      if (req.method !== 'GET') return send(405, 'method not allowed');
      const r = await resolveResource(sources, url.pathname);
      return send(r.status, r.body, r.headers);
    })().catch(fail);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    // The token in the query (what the viewer uses) or the x-resight-token header (scripts and
    // tests that keep it out of URLs), as for HTTP requests; no cookie here.
    const headerToken = req.headers['x-resight-token'];
    if (url.pathname !== '/ws' || !originOk(req.headers.origin) || !hostOk(req.headers.host) || !tokenOk(url.searchParams.get('token') ?? (typeof headerToken === 'string' ? headerToken : undefined))) {
      if (url.pathname === '/ws') rejected(originOk(req.headers.origin) && hostOk(req.headers.host) ? 'token' : 'origin', url.pathname, req.socket);
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    const off = session.onEvent((event, payload) => {
      if (ws.readyState === ws.OPEN && EVENT_NAMES.includes(event)) ws.send(JSON.stringify({ event, payload }));
    });
    ws.on('close', off);
    // An oversized or malformed frame makes ws emit 'error' on the socket; unhandled, that
    // would take the whole server down (found by fuzzing). Close that connection only.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data) => {
      void (async () => {
        let msg: { id?: unknown; method?: unknown; params?: unknown };
        try {
          msg = JSON.parse(String(data)) as typeof msg;
        } catch {
          ws.send(JSON.stringify({ id: null, reply: { ok: false, error: { code: 'VALIDATION', message: 'not JSON' } } }));
          return;
        }
        const id = typeof msg?.id === 'number' || typeof msg?.id === 'string' ? msg.id : null;
        const reply = typeof msg?.method !== 'string' ? { ok: false, error: { code: 'VALIDATION', message: 'a call needs a method' } } : await call(msg.method, msg.params);
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, reply }));
      })();
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    // no server, no session: close it (its engine, and the audit trail's session.stop)
    await session.dispose();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
    session,
    async close() {
      // refusals counted since the last record are not lost with the server
      if (unrecorded) recordRejected(`${unrecorded} more refused requests`, '(since the last record)', lastFrom);
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
      await session.dispose();
    },
  };
}

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
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { EVENT_NAMES } from '../shared/api';
import { toErrorInfo } from '../core/errors';
import { dispatch } from '../core/session/dispatch';
import { Session } from '../core/session/session';
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

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.wasm': 'application/wasm' };

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

  const tokenOk = (given: string | null | undefined) => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const originOk = (o: string | undefined) => o === undefined || o === origin;

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin || 'http://127.0.0.1');
      const send = (status: number, body: string | Uint8Array, headers: Record<string, string> = {}) => {
        res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers });
        res.end(body);
      };
      if (!originOk(req.headers.origin)) return send(403, 'forbidden origin');
      // The token comes in the URL the CLI printed (?token=), a header, or, for the viewer's own
      // assets (which index.html references without it), the HttpOnly SameSite=Strict cookie
      // set when the page was opened with the token.
      const cookieToken = /(?:^|;\s*)resight_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      const queryToken = url.searchParams.get('token');
      if (!tokenOk(queryToken ?? (req.headers['x-resight-token'] as string | undefined) ?? cookieToken)) return send(401, 'missing or wrong token');
      if (queryToken) res.setHeader('set-cookie', `resight_token=${token}; HttpOnly; SameSite=Strict; Path=/`);
      if (req.method !== 'GET') return send(405, 'method not allowed');
      const m = /^\/series\/([^/]+)\/slice\/(\d+)$/.exec(url.pathname);
      if (m) {
        try {
          const s = await session.slice(decodeURIComponent(m[1]), Number(m[2]));
          const bytes = new Uint8Array(s.data.buffer.slice(s.data.byteOffset, s.data.byteOffset + s.data.byteLength) as ArrayBuffer);
          return send(200, bytes, {
            'content-type': 'application/octet-stream',
            'x-resight-dtype': s.data instanceof Int16Array ? 'int16' : 'float32',
            'x-resight-rows': String(s.rows),
            'x-resight-columns': String(s.columns),
            'x-resight-samples': String(s.samplesPerPixel),
          });
        } catch (err) {
          const e = toErrorInfo(err);
          return send(e.code === 'SERIES_NOT_FOUND' || e.code === 'FRAME_OUT_OF_RANGE' ? 404 : 422, JSON.stringify({ error: { code: e.code, message: e.message } }), { 'content-type': 'application/json' });
        }
      }
      // Exported files (the viewer's preview and downloads), never outside the export folder.
      const ex = /^\/exports\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (ex) {
        const root = session.exportRoot;
        const file = path.resolve(root, decodeURIComponent(ex[1]), decodeURIComponent(ex[2]));
        if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(404, 'not found');
        const ext = path.extname(file).toLowerCase();
        const type = ext === '.pdf' ? 'application/pdf' : ext === '.dcm' ? 'application/dicom' : ext === '.csv' ? 'text/csv; charset=utf-8' : ext === '.json' ? 'application/json' : 'application/octet-stream';
        return send(200, fs.readFileSync(file), {
          'content-type': type,
          'content-disposition': `${ext === '.pdf' ? 'inline' : 'attachment'}; filename="${path.basename(file).replace(/[^\w.-]/g, '_')}"`,
          // the viewer shows the PDF in a frame of its own page
          ...(ext === '.pdf' ? { 'content-security-policy': "default-src 'none'; frame-ancestors 'self'" } : {}),
        });
      }
      // Static viewer files, never outside staticDir.
      const dir = opts.staticDir;
      if (dir && fs.existsSync(path.join(dir, 'index.html'))) {
        const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
        const file = path.resolve(dir, rel);
        if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(404, 'not found');
        return send(200, fs.readFileSync(file), { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      }
      if (url.pathname === '/') return send(200, '<!doctype html><meta charset="utf-8"><title>ReSight</title><p>ReSight bridge is running. The viewer is not built in this checkout.</p>', { 'content-type': 'text/html; charset=utf-8' });
      return send(404, 'not found');
    })();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname !== '/ws' || !originOk(req.headers.origin) || !tokenOk(url.searchParams.get('token'))) {
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
        const reply = typeof msg?.method === 'string' ? await dispatch(session, msg.method, msg.params) : { ok: false, error: { code: 'VALIDATION', message: 'a call needs a method' } };
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, reply }));
      })();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
    session,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
      await session.dispose();
    },
  };
}

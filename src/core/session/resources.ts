/**
 * The viewer's binary resources, transport-agnostic: slices (modality values), exported files and
 * the built viewer's static files. The bridge answers them over HTTP, the Electron shell through
 * its app:// protocol; both map a path to the same {status, body, headers}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toErrorInfo } from '../errors';
import type { Session } from './session';

export interface Resource {
  status: number;
  body: Uint8Array | string;
  headers: Record<string, string>;
}

const STATIC_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.wasm': 'application/wasm', '.map': 'application/json' };

const text = (status: number, body: string): Resource => ({ status, body, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/** decodeURIComponent that answers null for a malformed escape (`%ff`, `%`) instead of throwing. */
export function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** A file strictly inside `root` (no `..`, no absolute escape, no symlink leading out), or null. */
export function inside(root: string, ...parts: string[]): string | null {
  const r = path.resolve(root);
  const file = path.resolve(r, ...parts);
  if (!file.startsWith(r + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
  try {
    const real = fs.realpathSync(file);
    return real.startsWith(fs.realpathSync(r) + path.sep) ? real : null;
  } catch {
    return null;
  }
}

/** Slice i of a series as binary little-endian values with their shape in headers. */
export async function sliceResource(session: Session, seriesId: string, index: number): Promise<Resource> {
  try {
    const s = await session.slice(seriesId, index);
    return {
      status: 200,
      // a view, not a copy: the transports write it out as is
      body: new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength),
      headers: {
        'content-type': 'application/octet-stream',
        'x-resight-dtype': s.data instanceof Int16Array ? 'int16' : 'float32',
        'x-resight-rows': String(s.rows),
        'x-resight-columns': String(s.columns),
        'x-resight-samples': String(s.samplesPerPixel),
      },
    };
  } catch (err) {
    const e = toErrorInfo(err);
    // the file's name (not its folders) so the viewer can say which file is broken
    const file = e.path ? { file: path.basename(e.path) } : {};
    return { status: e.code === 'SERIES_NOT_FOUND' || e.code === 'FRAME_OUT_OF_RANGE' ? 404 : 422, body: JSON.stringify({ error: { code: e.code, message: e.message, ...file } }), headers: { 'content-type': 'application/json' } };
  }
}

/** The names an export made by the viewer (Session.exportReport) gives its folder and files. */
export const EXPORT_NAMES = { pdf: 'report.pdf', epdf: 'report-pdf.dcm', sr: 'report-sr.dcm', scDir: 'key-images', json: 'analysis.json', csv: 'slices.csv' } as const;

/** `<UTC yyyymmdd-hhmmss>-<8 hex>`: an export folder's name. */
export function exportFolderName(now: Date, id: string): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${id.slice(0, 8)}`;
}

const EXPORT_FOLDER = /^\d{8}-\d{6}-[0-9a-f]{8}$/;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const EXPORT_FILE = new RegExp(
  `^(${[EXPORT_NAMES.pdf, EXPORT_NAMES.epdf, EXPORT_NAMES.sr, EXPORT_NAMES.json, EXPORT_NAMES.csv, EXPORT_NAMES.csv.replace(/\.csv$/, '-findings.csv')].map(escape).join('|')}|${escape(EXPORT_NAMES.scDir)}/ReSight-SC-(\\d+-)?\\d{3}\\.dcm)$`,
);

/**
 * An exported file, never outside the export folder `root`; PDFs may be framed by the viewer.
 * Only what an export writes is served (a folder named as exports are, a file named as they
 * are): the export folder is a setting, and were it ever pointed at a folder with other files
 * (a home folder), they still would not be readable through this route.
 */
export function exportResource(root: string, folder: string, name: string): Resource {
  if (!EXPORT_FOLDER.test(folder) || !EXPORT_FILE.test(name)) return text(404, 'not found');
  const file = inside(root, folder, name);
  if (!file) return text(404, 'not found');
  const ext = path.extname(file).toLowerCase();
  const type = ext === '.pdf' ? 'application/pdf' : ext === '.dcm' ? 'application/dicom' : ext === '.csv' ? 'text/csv; charset=utf-8' : ext === '.json' ? 'application/json' : 'application/octet-stream';
  return {
    status: 200,
    body: fs.readFileSync(file),
    headers: {
      'content-type': type,
      'content-disposition': `${ext === '.pdf' ? 'inline' : 'attachment'}; filename="${path.basename(file).replace(/[^\w.-]/g, '_')}"`,
      ...(ext === '.pdf' ? { 'content-security-policy': "default-src 'none'; frame-ancestors 'self'" } : {}),
    },
  };
}

/** A file of the built viewer, never outside `dir`. */
export function staticResource(dir: string | undefined, pathname: string): Resource {
  if (!dir || !fs.existsSync(path.join(dir, 'index.html'))) {
    if (pathname === '/') return { status: 200, body: '<!doctype html><meta charset="utf-8"><title>ReSight</title><p>ReSight is running. The viewer is not built in this checkout (npm run build).</p>', headers: { 'content-type': 'text/html; charset=utf-8' } };
    return text(404, 'not found');
  }
  const decoded = safeDecode(pathname);
  if (decoded === null) return text(400, 'bad request');
  const rel = pathname === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = inside(dir, rel);
  if (!file) return text(404, 'not found');
  return { status: 200, body: fs.readFileSync(file), headers: { 'content-type': STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream' } };
}

/** Where the viewer's routes are answered from. */
export interface ResourceSources {
  /** Slice i of a series (in-process: sliceResource on a Session; Electron: the engine process). */
  slice(seriesId: string, index: number): Promise<Resource>;
  exportRoot: string;
  staticDir: string | undefined;
}

/** A Session's own routes (the bridge; the shell's tests). */
export function sessionSources(session: Session, staticDir: string | undefined): ResourceSources {
  return { slice: (id, i) => sliceResource(session, id, i), exportRoot: session.exportRoot, staticDir };
}

/** Route a viewer path: /series/<id>/slice/<i>, /exports/<folder>/<file>, else a static file. */
export async function resolveResource(sources: ResourceSources, pathname: string): Promise<Resource> {
  const m = /^\/series\/([^/]+)\/slice\/(\d+)$/.exec(pathname);
  if (m) {
    const id = safeDecode(m[1]);
    return id === null ? text(400, 'bad request') : sources.slice(id, Number(m[2]));
  }
  const ex = /^\/exports\/([^/]+)\/(.+)$/.exec(pathname);
  if (ex) {
    const [folder, name] = [safeDecode(ex[1]), safeDecode(ex[2])];
    return folder === null || name === null ? text(400, 'bad request') : exportResource(sources.exportRoot, folder, name);
  }
  return staticResource(sources.staticDir, pathname);
}

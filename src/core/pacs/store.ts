/**
 * Sending ReSight's DICOM exports (SR, Secondary Captures, Encapsulated PDF) to a PACS: DICOM
 * C-STORE over one association, as a modality or workstation does (PS3.7, PS3.8), with
 * dcmjs-dimse. Only to a destination the user names (`AET@host:port`): ReSight makes no other
 * network connection. C-ECHO checks a destination ("Test connection").
 *
 * Every object's outcome is reported (the PACS's status per C-STORE); an association the PACS
 * refuses is PACS_REJECTED, a host that does not answer is PACS_UNREACHABLE, each naming the
 * destination, never a hang: connection, association and each response have time limits.
 */
import { Client, constants, log, requests } from 'dcmjs-dimse';
import type { responses } from 'dcmjs-dimse';
import { ResightError } from '../errors';

// the library logs to the console by default; a command's output and the app's log are ours
log.setLevel('silent');

export interface PacsDestination {
  /** The PACS's AE title (the called AE). */
  calledAeTitle: string;
  host: string;
  port: number;
  /** Ours (the calling AE); PACS administrators usually register it. RESIGHT unless given. */
  callingAeTitle: string;
}

const DEFAULT_CALLING_AE = 'RESIGHT';

/** AE titles: 1-16 characters of the default repertoire, no backslash or control characters, not only spaces (PS3.5 AE). */
const AE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

function isAeTitle(s: string): boolean {
  return AE.test(s) && s.trim().length > 0;
}

/** `AET@host:port` (IPv6 hosts in brackets: `PACS@[::1]:104`) as a destination, or a USAGE error saying what is wrong. */
export function parseDestination(spec: string, callingAeTitle?: string): PacsDestination {
  const m = /^(.+)@(\[[0-9a-fA-F:.]+\]|[^@:[\]\s]+):(\d{1,5})$/.exec(spec);
  if (!m) throw new ResightError('USAGE', `'${spec}' is not a DICOM destination: write AE_TITLE@host:port (e.g. PACS@10.0.0.5:104)`);
  const [, aet, rawHost, rawPort] = m as unknown as [string, string, string, string];
  if (!isAeTitle(aet)) throw new ResightError('USAGE', `'${aet}' is not an AE title (1-16 characters, no backslash)`);
  const port = Number(rawPort);
  if (port < 1 || port > 65535) throw new ResightError('USAGE', `port ${rawPort} is outside 1..65535`);
  const calling = callingAeTitle ?? DEFAULT_CALLING_AE;
  if (!isAeTitle(calling)) throw new ResightError('USAGE', `'${calling}' is not an AE title (1-16 characters, no backslash)`);
  return { calledAeTitle: aet, host: rawHost.replace(/^\[|\]$/g, ''), port, callingAeTitle: calling };
}

export const describeDestination = (d: PacsDestination) => `${d.calledAeTitle}@${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}`;

export interface StoreOutcome {
  file: string;
  sopInstanceUid?: string;
  /** The PACS's C-STORE status (0 = success; 0xB000-0xBFFF warnings, stored), or none when no response came. */
  status?: number;
  ok: boolean;
  /** Why it was not stored (the PACS's error comment or status, or no response). */
  reason?: string;
}

export interface PacsOptions {
  /** Time to connect and to have the association answered (default 10 s). */
  connectTimeoutMs?: number;
  /** Time the PACS may stay silent once associated, e.g. while it stores an object (default 60 s). */
  responseTimeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

type Response = responses.Response;
/** What the library keeps of a connection: its socket (to close it on failure) and its events (abort). */
type Network = { socket?: { destroy(): void }; on?(event: 'abort', cb: (a: { source?: number; reason?: number }) => void): void };

/**
 * Run requests over one association. Resolves once the association ends: with nothing when it
 * closed normally, with the typed error when it was refused, aborted, timed out or cut. It never
 * rejects, and never leaves a socket open behind it (a silent PACS must not keep the process alive).
 */
function run(dest: PacsDestination, reqs: requests.Request[], opts: PacsOptions): Promise<ResightError | undefined> {
  const client = new Client();
  for (const r of reqs) client.addRequest(r);
  const where = describeDestination(dest);
  const connectMs = opts.connectTimeoutMs ?? 10_000;
  const responseMs = opts.responseTimeoutMs ?? 60_000;
  const network = () => (client as unknown as { network?: Network }).network;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (err?: ResightError) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      // on failure the library leaves its socket open (it only resets its state): close it here
      if (err) network()?.socket?.destroy();
      resolve(err);
    };
    const connectTimer = setTimeout(() => finish(new ResightError('PACS_UNREACHABLE', `${where}: no connection within ${connectMs / 1000} s`)), connectMs);
    client.on('associationRejected', (r: { result?: number; source?: number; reason?: number }) => {
      finish(new ResightError('PACS_REJECTED', `${where} refused the association (result ${r?.result ?? '?'}, source ${r?.source ?? '?'}, reason ${r?.reason ?? '?'}): check the AE titles the PACS knows (ours: ${dest.callingAeTitle})`));
    });
    client.on('networkError', (e: Error) => {
      // the library prefixes its own messages with "<AE> -> "
      const msg = (e?.message ?? String(e)).replace(/^\s*(\S+\s+)?->\s*/, '');
      // a peer that answers with something other than a DICOM PDU (a web server: 'H' = 72) is not a PACS
      if (/unknown pdu type/i.test(msg)) finish(new ResightError('PACS_UNREACHABLE', `${where} does not speak DICOM: it answered with something that is not a DICOM message (${msg}); check the host and port of the PACS`));
      else finish(new ResightError('PACS_UNREACHABLE', `${where}: ${msg}`));
    });
    client.on('connected', () => clearTimeout(connectTimer));
    // a normal end is A-RELEASE, then the close; a close without it is the PACS hanging up (one
    // that drops callers it does not know does just that)
    let released = false;
    client.on('associationReleased', () => (released = true));
    client.on('closed', () => finish(released ? undefined : new ResightError('PACS_UNREACHABLE', `${where} closed the connection without ending the association (check the AE titles it accepts; ours: ${dest.callingAeTitle})`)));
    try {
      client.send(dest.host, dest.port, dest.callingAeTitle, dest.calledAeTitle, {
        // the library's connectTimeout is the socket's idle limit for the whole association, so
        // it is the response limit; the connection itself is timed below
        connectTimeout: responseMs,
        associationTimeout: connectMs,
        pduTimeout: responseMs,
      });
    } catch (e) {
      finish(new ResightError('PACS_UNREACHABLE', `${where}: ${(e as Error).message}`));
      return;
    }
    // an A-ABORT from the PACS: the library hears it but does not pass it on
    network()?.on?.('abort', (a) => finish(new ResightError('PACS_REJECTED', `${where} aborted the association (source ${a?.source ?? '?'}, reason ${a?.reason ?? '?'})`)));
  });
}

/** C-ECHO: resolves with the round trip in ms when the PACS answers with success. */
export async function echo(dest: PacsDestination, opts: PacsOptions = {}): Promise<number> {
  const t0 = performance.now();
  const req = new requests.CEchoRequest();
  let status: number | undefined;
  req.on('response', (r: Response) => (status = r.getStatus()));
  const err = await run(dest, [req], opts);
  if (err) throw err;
  if (status !== constants.Status.Success) throw new ResightError('PACS_REJECTED', `${describeDestination(dest)} did not confirm C-ECHO (status ${status === undefined ? 'none' : `0x${status.toString(16)}`})`);
  return performance.now() - t0;
}

/**
 * C-STORE each file over one association: every file's outcome, in order, and the association's
 * error when it failed (the objects stored before it still count as stored).
 */
export async function storeFiles(files: readonly string[], dest: PacsDestination, opts: PacsOptions = {}): Promise<{ outcomes: StoreOutcome[]; error?: ResightError }> {
  const outcomes: StoreOutcome[] = files.map((file) => ({ file, ok: false }));
  let done = 0;
  let reqs: requests.CStoreRequest[];
  try {
    reqs = files.map((file, i) => {
      const req = new requests.CStoreRequest(file);
      outcomes[i] = { file, sopInstanceUid: req.getAffectedSopInstanceUid(), ok: false };
      req.on('response', (r: Response) => {
        const status = r.getStatus();
        // 0x0000 success; 0xB000, 0xB006, 0xB007: stored with a warning (coercion, elements discarded)
        const ok = status === constants.Status.Success || (status >= 0xb000 && status <= 0xbfff);
        const comment = r.getErrorComment?.() ?? '';
        outcomes[i] = { file, sopInstanceUid: req.getAffectedSopInstanceUid(), status, ok, ...(ok ? {} : { reason: comment ? `${comment} (status 0x${status.toString(16)})` : `status 0x${status.toString(16)}` }) };
        opts.onProgress?.(++done, files.length);
      });
      return req;
    });
  } catch (e) {
    // a file that cannot be read as DICOM: nothing is sent
    const error = new ResightError('EXPORT_FAILED', `cannot read a file to send: ${(e as Error).message}`);
    for (const o of outcomes) o.reason = `not sent: ${error.message}`;
    return { outcomes, error };
  }
  if (!reqs.length) return { outcomes: [] };
  const error = await run(dest, reqs, opts);
  for (const o of outcomes) {
    if (o.status !== undefined || o.reason) continue;
    o.reason = error ? `not stored: ${error.message}` : 'no response from the PACS (the association ended first; it may not accept this SOP class)';
  }
  return error ? { outcomes, error } : { outcomes };
}

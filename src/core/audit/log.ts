/**
 * The audit trail: who opened, analysed, decided on, exported and sent which patient's images,
 * when, from which program, and how it ended. A hospital's privacy office asks this of every
 * system that shows patient data (HIPAA's access audit, IHE ATNA); the shape follows the DICOM
 * Audit Message (PS3.15 A.5): an event ID from DICOM's codes, an action (C R U D E), an outcome
 * (0 success, 4 minor failure, 8 serious failure, 12 major failure), the active participant (the
 * account) and the participant objects (patient, study, series, files, the PACS).
 *
 * It is written as JSON Lines, one file a month (`audit-2026-11.jsonl`), under the app data
 * folder's `audit/` (or RESIGHT_AUDIT_DIR), 0600 in a 0700 folder. Unlike the app's log
 * (main/log.ts, which scrubs paths and UIDs) it names patients: that is its purpose, so it stays
 * on this machine with the user's other patient data, and nothing here sends it anywhere. Each
 * event is one append of one line, so the desktop app, `resight serve` and the CLI can share the
 * file. It is never rotated away: keeping and archiving it is the site's policy, not ours.
 *
 * Writing must not stop a reader from reading: a failed append is reported once through
 * `onError` (the transport logs it) and the work goes on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { APP_NAME, APP_VERSION } from '../report/dicom-modules';
import { ResightError } from '../errors';
import { absoluteEnv } from '../settings/env';

/** DICOM Audit Message event IDs (PS3.16 CID 400, coding scheme DCM) ReSight records. */
export const AUDIT_EVENTS = {
  applicationActivity: { code: '110100', meaning: 'Application Activity' },
  instancesAccessed: { code: '110103', meaning: 'DICOM Instances Accessed' },
  instancesTransferred: { code: '110104', meaning: 'DICOM Instances Transferred' },
  export: { code: '110106', meaning: 'Export' },
  patientRecord: { code: '110110', meaning: 'Patient Record' },
  securityAlert: { code: '110113', meaning: 'Security Alert' },
} as const;

/** Event type codes (CID 401, 403) for the events that have one. */
export const AUDIT_TYPES = {
  applicationStart: { code: '110120', meaning: 'Application Start' },
  applicationStop: { code: '110121', meaning: 'Application Stop' },
  nodeAuthentication: { code: '110126', meaning: 'Node Authentication' },
  softwareConfiguration: { code: '110131', meaning: 'Software Configuration' },
} as const;

export type AuditEventName = keyof typeof AUDIT_EVENTS;
export type AuditTypeName = keyof typeof AUDIT_TYPES;
/** Create, Read, Update, Delete, Execute (EventActionCode). */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
/** EventOutcomeIndicator: success, minor failure, serious failure, major failure. */
export type AuditOutcome = 0 | 4 | 8 | 12;
/** Which ReSight program wrote the event. */
export type AuditProcess = 'desktop' | 'serve' | 'cli';

export interface AuditPatient {
  id: string;
  name: string;
}

/** What an event is about (ParticipantObjectIdentification), beyond the patient. */
export interface AuditObject {
  /** study / series: a UID; file: an absolute path written; node: a PACS (AET@host:port); path: a path asked for. */
  role: 'study' | 'series' | 'file' | 'node' | 'path';
  id: string;
}

export interface AuditRecord {
  /** Format version of a line. */
  v: 1;
  /** ISO 8601, UTC. */
  time: string;
  event: { code: string; scheme: 'DCM'; meaning: string };
  type?: { code: string; scheme: 'DCM'; meaning: string };
  action: AuditAction;
  outcome: AuditOutcome;
  /** Why an event failed (an error code and message), absent on success. */
  outcomeText?: string;
  /** ReSight's own name for what happened: `study.open`, `analysis`, `review`, `report.export`, ... */
  what: string;
  /** The operating-system account (the requesting user as the machine knows it). */
  user: string;
  /** The reviewer's name as typed in the viewer, when the event carries one (not an authenticated identity). */
  reviewer?: string;
  source: { app: string; version: string; host: string; process: AuditProcess; pid: number };
  patients?: AuditPatient[];
  objects?: AuditObject[];
  /** Counts, codes and choices: never free text a reviewer typed (comments, impressions). */
  detail?: Record<string, string | number | boolean | string[]>;
}

export interface AuditEntry {
  event: AuditEventName;
  type?: AuditTypeName;
  action: AuditAction;
  outcome?: AuditOutcome;
  outcomeText?: string;
  what: string;
  reviewer?: string;
  patients?: AuditPatient[];
  objects?: AuditObject[];
  detail?: AuditRecord['detail'];
}

/** The audit folder for a data folder: RESIGHT_AUDIT_DIR, else `<dataDir>/audit`; null when RESIGHT_AUDIT=off or there is no data folder. */
export function auditDirFor(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (/^(off|0|false|no)$/i.test(env.RESIGHT_AUDIT ?? '')) return null;
  // only an absolute folder: a relative one would follow the current folder, a study folder perhaps
  const shared = absoluteEnv('RESIGHT_AUDIT_DIR', env);
  if (shared) return shared;
  return dataDir ? path.join(path.resolve(dataDir), 'audit') : null;
}

/**
 * This month's file in an audit folder (UTC months, so a file never holds two months). In a
 * shared folder (RESIGHT_AUDIT_DIR, which an administrator points every account at) each account
 * has its own file, `audit-2026-11.<account>.jsonl`: one account's file, made private to it,
 * would lock the others out of a common one.
 */
export function auditFileFor(dir: string, at: Date, account?: string): string {
  const who = account ? `.${account.replace(/[^A-Za-z0-9._-]/g, '_')}` : '';
  return path.join(dir, `audit-${at.toISOString().slice(0, 7)}${who}.jsonl`);
}

function accountName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // no passwd entry (a container's arbitrary uid): the uid is what the system knows
    return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'unknown';
  }
}

export class AuditLog {
  private readonly user = accountName();
  private readonly host = os.hostname();
  private warned = false;

  /**
   * `private` (the user's data folder): the folder made 0700 and the file 0600. `shared` (a folder
   * an administrator chose, RESIGHT_AUDIT_DIR): its modes are the administrator's, each account
   * writes its own file, 0640, so a log collector in the folder's group can read them.
   */
  constructor(
    readonly dir: string,
    private readonly process: AuditProcess,
    private readonly onError: (message: string) => void = () => {},
    private readonly kind: 'private' | 'shared' = 'private',
  ) {}

  private dirChecked = false;

  /** The folder, made 0700; one that existed with wider modes is narrowed, once (it names patients). */
  private ensureDir(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: this.kind === 'shared' ? 0o750 : 0o700 });
    if (this.kind === 'shared' || this.dirChecked || process.platform === 'win32') return;
    this.dirChecked = true;
    const st = fs.statSync(this.dir);
    const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
    if (mine && (st.mode & 0o077) !== 0) fs.chmodSync(this.dir, 0o700);
  }

  /** Append one event. Returns the record written, or null when it could not be. */
  record(e: AuditEntry, now = new Date()): AuditRecord | null {
    const ev = AUDIT_EVENTS[e.event];
    const ty = e.type ? AUDIT_TYPES[e.type] : undefined;
    const rec: AuditRecord = {
      v: 1,
      time: now.toISOString(),
      event: { code: ev.code, scheme: 'DCM', meaning: ev.meaning },
      ...(ty ? { type: { code: ty.code, scheme: 'DCM' as const, meaning: ty.meaning } } : {}),
      action: e.action,
      outcome: e.outcome ?? 0,
      ...(e.outcomeText ? { outcomeText: e.outcomeText } : {}),
      what: e.what,
      user: this.user,
      ...(e.reviewer ? { reviewer: e.reviewer } : {}),
      source: { app: APP_NAME, version: APP_VERSION, host: this.host, process: this.process, pid: process.pid },
      ...(e.patients?.length ? { patients: e.patients } : {}),
      ...(e.objects?.length ? { objects: e.objects } : {}),
      ...(e.detail ? { detail: e.detail } : {}),
    };
    try {
      this.ensureDir();
      // one write of one line with O_APPEND: processes sharing the file never interleave lines
      const file = this.kind === 'shared' ? auditFileFor(this.dir, now, this.user) : auditFileFor(this.dir, now);
      appendOwnLine(file, JSON.stringify(rec) + '\n', this.kind === 'shared' ? 0o640 : 0o600, this.kind === 'shared');
      return rec;
    } catch (err) {
      if (!this.warned) {
        this.warned = true;
        this.onError(`the audit trail could not be written in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the work goes on without it`);
      }
      return null;
    }
  }
}

/**
 * Append one line to this account's own audit file. In a folder other accounts can write to (a
 * shared RESIGHT_AUDIT_DIR), a file planted there must not receive our records: a symbolic link
 * (to a file of ours the planter cannot read), a file another account owns (it could read and
 * erase them) or one others may write to is refused, with a code the warning names.
 */
function appendOwnLine(file: string, line: string, mode: number, groupReadable: boolean): void {
  const c = fs.constants;
  // O_NOFOLLOW: the link itself is refused (ELOOP), never followed (0 where the platform has none)
  const fd = fs.openSync(file, c.O_WRONLY | c.O_APPEND | c.O_CREAT | (c.O_NOFOLLOW ?? 0), mode);
  try {
    const st = fs.fstatSync(fd);
    const uid = process.getuid?.();
    const refuse = (code: string, why: string) => Object.assign(new Error(`${file} ${why}`), { code });
    if (!st.isFile()) throw refuse('ENOTFILE', 'is not a regular file');
    if (uid !== undefined && st.uid !== uid) throw refuse('EOWNER', `belongs to another account (uid ${st.uid})`);
    if (process.platform !== 'win32' && st.mode & 0o022) throw refuse('EPERMISSIVE', 'may be written by other accounts');
    // group-readable whatever the umask (a umask of 077 would make it 0600): the collector reads
    // it. On the descriptor: a chmod by name would follow a link swapped in since the open
    if (groupReadable && process.platform !== 'win32' && st.size === 0 && (st.mode & 0o777) !== 0o640) fs.fchmodSync(fd, 0o640);
    // one write of one line with O_APPEND: processes sharing the file never interleave lines
    fs.writeSync(fd, line);
  } finally {
    fs.closeSync(fd);
  }
}

/** The identities a de-identified export carries instead of the patient's (ExportSummary.pseudonyms). */
export interface Pseudonym {
  patientId: string;
  patientName: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

/**
 * A de-identified export's new identities as audit detail: what a recipient or the PACS holds,
 * linked in the trail (and only there) to whose data it was.
 */
export function pseudonymDetail(ps: readonly Pseudonym[] | undefined): Record<string, string> {
  if (!ps?.length) return {};
  const join = (k: keyof Pseudonym) => [...new Set(ps.map((x) => x[k]))].join(', ');
  return { pseudonymPatientId: join('patientId'), pseudonymPatientName: join('patientName'), pseudonymStudyInstanceUid: join('studyInstanceUid'), pseudonymSeriesInstanceUid: join('seriesInstanceUid') };
}

/** An audit log for a data folder as the environment configures it, or null (audit off, or no data folder). */
export function openAuditLog(dataDir: string | undefined, processName: AuditProcess, onError?: (message: string) => void, env: NodeJS.ProcessEnv = process.env): AuditLog | null {
  const dir = auditDirFor(dataDir, env);
  // switched off: said once, where the program's warnings go, never silently
  if (!dir && dataDir && auditDirFor(dataDir, { ...env, RESIGHT_AUDIT: undefined })) onError?.('the audit trail is off (RESIGHT_AUDIT=off): nothing this program does is recorded');
  return dir ? new AuditLog(dir, processName, onError, absoluteEnv('RESIGHT_AUDIT_DIR', env) ? 'shared' : 'private') : null;
}

/** The audit folder to read: as configured, even when recording is off (what was recorded before stays readable). */
export function auditReadDirFor(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  return auditDirFor(dataDir, { ...env, RESIGHT_AUDIT: undefined });
}

/** Read the records of an audit folder in time order (files by month; a line that is not a record is skipped and counted). */
export function readAudit(dir: string): { records: AuditRecord[]; badLines: number; unreadableFiles: string[] } {
  const records: AuditRecord[] = [];
  let badLines = 0;
  // in a shared folder, other accounts' files may be closed to this one: listed, not fatal
  const unreadableFiles: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^audit-\d{4}-\d{2}(\.[A-Za-z0-9._-]+)?\.jsonl$/.test(n)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { records, badLines, unreadableFiles };
    throw new ResightError('FILE_UNREADABLE', `the audit folder cannot be read (${code ?? (err as Error).message})`, { path: dir, cause: err });
  }
  for (const name of names) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      unreadableFiles.push(name);
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as AuditRecord;
        if (r && r.v === 1 && typeof r.time === 'string' && typeof r.what === 'string') records.push(r);
        else badLines++;
      } catch {
        badLines++;
      }
    }
  }
  // processes append independently: order by time, stably
  return { records: records.map((r, i) => ({ r, i })).sort((a, b) => (a.r.time < b.r.time ? -1 : a.r.time > b.r.time ? 1 : a.i - b.i)).map((x) => x.r), badLines, unreadableFiles };
}

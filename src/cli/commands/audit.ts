import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../core/inference/cache';
import * as fs from 'node:fs';
import { auditDirFor, auditReadDirFor, readAudit } from '../../core/audit/log';
import { ResightError } from '../../core/errors';
import type { AuditRecord } from '../../core/audit/log';
import { UsageError } from '../io';

/** What the trail records (`what`): the filter takes only these, so a typo is not "no activity". */
const WHATS = ['session.start', 'session.stop', 'study.open', 'access.denied', 'analysis', 'review', 'report.export', 'pacs.send', 'settings.change', 'bridge.reject'] as const;

export const AUDIT_HELP = `resight audit [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--patient ID] [--what NAME] [--dir DIR] [--json]
  The audit trail: who opened, analysed, decided on, exported and sent which patient's images, from
  which program (desktop, serve, cli), and how it ended; rejected bridge requests too. Kept in the
  data folder's audit/ (RESIGHT_AUDIT_DIR to move it, RESIGHT_AUDIT=off to stop it), one JSON Lines
  file a month, on this machine only. Oldest first; --since/--until are UTC days, inclusive;
  --patient matches the Patient ID exactly; --what one of ${WHATS.join(', ')}.
  --json prints the records. With recording off, what was recorded before is still listed.`;

const OUTCOME: Record<number, string> = { 0: 'ok', 4: 'minor failure', 8: 'failed', 12: 'major failure' };

function day(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  // a real day: Date would take 2026-02-30 as March 2
  const d = new Date(`${v}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) throw new UsageError(`--${name} must be a day, YYYY-MM-DD, got '${v}'`);
  return v;
}

/** What a record says beyond its event, in a few words. */
function gist(r: AuditRecord): string {
  const d = r.detail ?? {};
  const files = (r.objects ?? []).filter((o) => o.role === 'file').length;
  const node = (r.objects ?? []).find((o) => o.role === 'node')?.id;
  switch (r.what) {
    case 'study.open':
      return typeof d.instances === 'number' ? `${d.instances} instances` : '';
    case 'analysis':
      return [d.model, typeof d.findings === 'number' ? `${d.findings} findings` : '', d.cached === true ? 'from the cache' : ''].filter(Boolean).join(', ');
    case 'review':
      return `${String(d.finding ?? '')} ${String(d.decision ?? '')}`.trim();
    case 'report.export': {
      // where they went: the folder they share (their common parent)
      const paths = (r.objects ?? []).filter((o) => o.role === 'file').map((o) => o.id);
      const parts = paths.map((p) => p.split(/[\\/]/));
      let common = parts[0]?.slice(0, -1) ?? [];
      for (const p of parts) while (common.length && common.some((c, i) => p[i] !== c)) common = common.slice(0, -1);
      const where = common.join('/') || (paths.length ? '/' : '');
      return [`${files} ${files === 1 ? 'file' : 'files'}${where ? ` in ${where}` : ''}`, d.deidentified === true ? 'de-identified' : ''].filter(Boolean).join(', ');
    }
    case 'pacs.send':
      return `${String(d.stored ?? '?')} of ${String(d.total ?? '?')} to ${node ?? '?'}`;
    default:
      return '';
  }
}

export async function runAudit(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { since: { type: 'string' }, until: { type: 'string' }, patient: { type: 'string' }, what: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length) throw new UsageError(`audit takes no paths (got '${positionals[0]}'); --dir names another audit folder`);
  const since = day('since', values.since);
  const until = day('until', values.until);
  if (values.what !== undefined && !(WHATS as readonly string[]).includes(values.what)) throw new UsageError(`--what must be one of ${WHATS.join(', ')}, got '${values.what}'`);
  if (values.dir !== undefined && !fs.existsSync(values.dir)) throw new ResightError('FILE_UNREADABLE', 'no such audit folder', { path: values.dir });
  const dir = values.dir ?? auditReadDirFor(defaultDataDir());
  if (!auditDirFor(defaultDataDir())) process.stderr.write('resight: the audit trail is off (RESIGHT_AUDIT=off): nothing is recorded now; what was recorded before is listed\n');
  if (!dir) {
    if (values.json) process.stdout.write(JSON.stringify({ dir: null, records: [], unreadableLines: 0, unreadableFiles: [] }, null, 2) + '\n');
    return 0;
  }
  const { records, badLines, unreadableFiles } = readAudit(dir);
  const chosen = records.filter(
    (r) =>
      (!since || r.time.slice(0, 10) >= since) &&
      (!until || r.time.slice(0, 10) <= until) &&
      (!values.patient || (r.patients ?? []).some((p) => p.id === values.patient)) &&
      (!values.what || r.what === values.what),
  );
  if (values.json) process.stdout.write(JSON.stringify({ dir, records: chosen, unreadableLines: badLines, unreadableFiles }, null, 2) + '\n');
  else {
    for (const r of chosen) {
      const who = r.reviewer ? `${r.user} (reviewer ${r.reviewer})` : r.user;
      const patients = (r.patients ?? []).map((p) => `${p.name || '(no name)'} [${p.id || 'no ID'}]`).join('; ');
      const outcome = OUTCOME[r.outcome] ?? String(r.outcome);
      const cells = [r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), who, `${r.source.process} ${r.source.pid}`, `${r.event.meaning} (${r.action})`, r.outcomeText ? `${outcome}: ${r.outcomeText}` : outcome, r.what, patients, gist(r)];
      process.stdout.write(cells.filter((c) => c !== '').join('  |  ') + '\n');
    }
    process.stderr.write(`${chosen.length} of ${records.length} events in ${dir}${badLines ? `; ${badLines} lines could not be read` : ''}${unreadableFiles.length ? `; ${unreadableFiles.length} files this account may not read (other accounts'): ${unreadableFiles.join(', ')}` : ''}\n`);
  }
  return 0;
}

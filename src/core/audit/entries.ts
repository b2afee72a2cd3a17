/**
 * The audit trail's records of the work both the session (desktop app, `resight serve`) and
 * `resight analyze` do: built here once, so the two programs record an analysis, an export and a
 * send to the PACS alike (docs/security.md "Audit trail").
 */
import type { ModelIdentity, SeriesAnalysis } from '../../shared/analysis';
import type { AuditEntry, AuditOutcome, Pseudonym } from './log';
import { pseudonymDetail } from './log';

/** Whose data and which study and series a record is about. */
export type AuditSubject = Pick<AuditEntry, 'patients' | 'objects'>;

/** The patients, studies and series of `series` (each once), as a record names them. */
export function auditSubject(series: readonly { studyInstanceUid: string; seriesInstanceUid: string }[], studies: readonly { studyInstanceUid: string; patient: { id: string; name: string } }[]): AuditSubject {
  const uids = new Set(series.map((s) => s.studyInstanceUid));
  const these = studies.filter((st) => uids.has(st.studyInstanceUid));
  const patients = new Map(these.map((st) => [`${st.patient.id}\u0000${st.patient.name}`, { id: st.patient.id, name: st.patient.name }]));
  return {
    patients: [...patients.values()],
    objects: [
      ...these.map((st) => ({ role: 'study' as const, id: st.studyInstanceUid })),
      ...[...new Set(series.map((s) => s.seriesInstanceUid))].map((id) => ({ role: 'series' as const, id })),
    ],
  };
}

/** A series the model was run on (110103, the model reads the instances: R); refused or not a slice scored is not a success. */
export function analysisEntry(a: SeriesAnalysis, model: ModelIdentity, provider: string, subject: AuditSubject, operatingPoint?: string): AuditEntry {
  return {
    event: 'instancesAccessed',
    action: 'R',
    ...(a.scored ? {} : { outcome: 4 as const, outcomeText: a.skipped?.code ?? 'not scored' }),
    what: 'analysis',
    ...subject,
    detail: {
      model: `${model.name} ${model.version}`,
      sha256: model.sha256,
      provider,
      slices: a.slices.length,
      findings: a.findings.length,
      cached: a.cached === true,
      ...(operatingPoint ? { operatingPoint } : {}),
    },
  };
}

/** An export (110106): its files by absolute path (where the patient's data went), and a de-identified one's pseudonyms. */
export function exportEntry(e: {
  outcome: AuditOutcome;
  outcomeText?: string | undefined;
  reviewer?: string | undefined;
  subject: AuditSubject;
  files: readonly string[];
  formats: readonly string[];
  deidentified: boolean;
  dateShifted: boolean;
  pseudonyms?: readonly Pseudonym[] | undefined;
}): AuditEntry {
  return {
    event: 'export',
    action: 'R',
    outcome: e.outcome,
    ...(e.outcomeText ? { outcomeText: e.outcomeText } : {}),
    what: 'report.export',
    ...(e.reviewer ? { reviewer: e.reviewer } : {}),
    ...e.subject,
    objects: [...(e.subject.objects ?? []), ...e.files.map((f) => ({ role: 'file' as const, id: f }))],
    detail: { formats: [...e.formats], deidentified: e.deidentified, ...(e.dateShifted ? { dateShifted: true } : {}), ...pseudonymDetail(e.pseudonyms) },
  };
}

/** A send to the PACS (110104, C): all stored 0, some 4, none 8; the association's error, or how many were not stored. */
export function sendEntry(e: {
  subject: AuditSubject;
  destination: string;
  files: readonly string[];
  stored: number;
  total: number;
  errorCode?: string | undefined;
  deidentified: boolean;
  pseudonyms?: readonly Pseudonym[] | undefined;
}): AuditEntry {
  const notStored = e.total - e.stored;
  return {
    event: 'instancesTransferred',
    action: 'C',
    outcome: e.stored === e.total && !e.errorCode ? 0 : e.stored > 0 ? 4 : 8,
    ...(e.errorCode ? { outcomeText: e.errorCode } : notStored ? { outcomeText: `${notStored} not stored` } : {}),
    what: 'pacs.send',
    ...e.subject,
    objects: [...(e.subject.objects ?? []), { role: 'node', id: e.destination }, ...e.files.map((f) => ({ role: 'file' as const, id: f }))],
    detail: { stored: e.stored, total: e.total, deidentified: e.deidentified, ...pseudonymDetail(e.pseudonyms) },
  };
}

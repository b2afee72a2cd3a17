/**
 * Export: the report (PDF with key images, also as DICOM Encapsulated PDF), DICOM SR, Secondary
 * Captures, JSON and CSV of the shown series' analysis and review, optionally de-identified,
 * written by the engine into a new folder of the app's export folder (never the study folder),
 * and, when the installer configured a PACS, its DICOM files sent there. Progress while it runs;
 * then the files, what the PACS stored and a preview of the PDF.
 *
 * Before the Export button it says where the review stands, as the documents will: how many of
 * the model's findings are still not reviewed (no decision, or pending), whether the series is
 * signed off (and still so), whether a reviewer is named. Exporting stays allowed (a draft); the
 * PDF prints a DRAFT line and the SR a review status saying the same (core/report/context.ts,
 * draftReasons).
 */
import { useEffect, useState } from 'react';
import type { ExportFormat, ExportResult, PacsInfo, ResightApi, Review } from '../../shared/api';
import { EXPORT_FORMATS, isDicomExport } from '../../shared/api';
import type { Finding } from '../../shared/analysis';
import { isUnreviewed, reviewerFindings, signOffOf } from '../../shared/review';
import { findingLabelOrder, findingLabelsOf } from '../../shared/finding-labels';
import type { ReadingStep } from '../../shared/planes';
import { sliceSpan, type Numbering } from './FindingsPanel';
import { storedReviewer, storeReviewer } from './reviewer-name';
import type { SignOff } from '../../shared/review';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import type { DrawnMeasurement } from '../../shared/roi';
import { sayWarning } from '../i18n/warnings';

type Format = ExportFormat;

/** The formats whose documents state the review status (the PDF's DRAFT line, the SR's review status). */
const STATUS_FORMATS: readonly Format[] = ['pdf', 'epdf', 'sr'];

/** Where the review of the series stands, as the export will report it. */
export interface ExportReviewStatus {
  /** The model's findings in the analysis (the report lists these). */
  findings: number;
  /** Those without a decision, or left at pending, in the report's order (reading order, then class), with the label the PDF gives them (F1, F2, ...). */
  pending: { finding: Finding; label: string }[];
  /** The findings the reviewer added (not withdrawn). */
  added: number;
  signOff?: SignOff;
  /** How the series' slices are numbered (the panel's and the PDF's numbers). */
  numbering: Numbering;
}

/** What the engine's report will count (core/report/context.ts reviewStatus), from what the viewer can ask for. */
export function exportReviewStatus(findings: readonly Finding[], reviews: readonly Review[], step: ReadingStep = 1, count = 0): ExportReviewStatus {
  // the first decision on a finding is the one the report takes
  const decided = new Map<string, Review>();
  for (const r of reviews) if (!decided.has(r.findingId)) decided.set(r.findingId, r);
  const labels = findingLabelsOf(findings, [], step);
  const signOff = signOffOf(reviews);
  const pending = findingLabelOrder(findings, step)
    .filter((finding) => isUnreviewed(decided.get(finding.id)))
    .map((finding) => ({ finding, label: labels.get(finding.id) as string }));
  return { findings: findings.length, pending, added: reviewerFindings(reviews).length, ...(signOff ? { signOff } : {}), numbering: { count, step } };
}

export function ExportDialog(p: {
  api: ResightApi;
  seriesId: string;
  deidentifyByDefault?: boolean;
  /** The lengths and ROIs drawn on axial slices of this series: measured again by the engine and reported. */
  measurements?: DrawnMeasurement[];
  /** The order the findings are labelled in (shared/planes.ts), as the panel and the report label them. */
  readingStep?: ReadingStep;
  onClose(): void;
}) {
  const { t, num, date, cls, err } = useI18n();
  const [formats, setFormats] = useState<Set<Format>>(new Set(['pdf', 'sr', 'sc']));
  const [deid, setDeid] = useState(p.deidentifyByDefault === true);
  const [shift, setShift] = useState('');
  const [paper, setPaper] = useState<'a4' | 'letter'>('a4');
  const [reviewer, setReviewer] = useState(storedReviewer());
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<{ done: number; total: number; step: string } | null>(null);
  const [result, setResult] = useState<ExportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => p.api.on('export.progress', (e) => e.seriesId === p.seriesId && setProgress(e)), [p.api, p.seriesId]);
  // the PACS the installer configured (none: no send option); the page can only use it, not set it
  const [pacs, setPacs] = useState<PacsInfo | null>(null);
  const [send, setSend] = useState(false);
  useEffect(() => {
    let stop = false;
    p.api.call('pacs.get', {}).then(
      (r) => !stop && setPacs(r),
      () => !stop && setPacs(null),
    );
    return () => {
      stop = true;
    };
  }, [p.api]);
  const dicomChosen = [...formats].some(isDicomExport);
  // the review's state, read when the dialog opens (nothing can be decided while it is open)
  const [review, setReview] = useState<ExportReviewStatus | { error: string } | null>(null);
  useEffect(() => {
    let stop = false;
    Promise.all([p.api.call('analysis.get', { seriesId: p.seriesId }), p.api.call('review.get', { seriesId: p.seriesId })]).then(
      ([a, r]) => !stop && setReview(exportReviewStatus(a.analysis?.findings ?? [], r.reviews, p.readingStep, a.analysis?.slices.length ?? 0)),
      (e: Error) => !stop && setReview({ error: err(e) }),
    );
    return () => {
      stop = true;
    };
  }, [p.api, p.seriesId]);
  const status = review && !('error' in review) ? review : null;
  const unnamed = !reviewer.trim() && !deid;
  const draft = !status || status.pending.length > 0 || !status.signOff?.current || unnamed;
  const statusStated = STATUS_FORMATS.some((f) => formats.has(f));

  // a shift is a non-zero whole number of days; anything else is refused here, not dropped (an
  // export "with shifted dates" that silently removed them would mislead whoever reads it)
  const shiftText = shift.trim();
  const shiftValid = shiftText === '' || (/^[+-]?\d{1,6}$/.test(shiftText) && Number(shiftText) !== 0);
  const run = async () => {
    if (deid && !shiftValid) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const shiftDays = shiftText === '' ? undefined : Number(shiftText);
      const r = await p.api.call('report.export', {
        seriesId: p.seriesId,
        formats: [...formats],
        paper,
        ...(deid ? { deidentify: true } : {}),
        ...(deid && shiftDays !== undefined ? { dateShiftDays: shiftDays } : {}),
        ...(reviewer.trim() ? { reviewer: reviewer.trim() } : {}),
        ...(p.measurements?.length ? { measurements: p.measurements } : {}),
        ...(send && pacs?.destination && dicomChosen ? { send: true } : {}),
      });
      setResult(r);
    } catch (e) {
      setError(err(e));
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };
  const pdf = result?.files.find((f) => f.kind === 'pdf');
  return (
    // Escape while the export runs would hide its result (the files are written all the same): it waits
    <div className="dialog wide" role="dialog" aria-modal="true" aria-label={t('export.title')} onKeyDown={(e) => busy && e.key === 'Escape' && e.stopPropagation()}>
      <h2>{t('export.title')}</h2>
      <fieldset>
        <legend>{t('export.formats')}</legend>
        {EXPORT_FORMATS.map((f) => (
          <label key={f} className="row">
            <input type="checkbox" checked={formats.has(f)} data-testid={`export-${f}`}
              onChange={(e) => setFormats((s) => { const n = new Set(s); if (e.target.checked) n.add(f); else n.delete(f); return n; })} />
            {t(`export.format.${f}` as MessageKey)}
          </label>
        ))}
      </fieldset>
      <label className="row"><input type="checkbox" checked={deid} onChange={(e) => setDeid(e.target.checked)} data-testid="export-deidentify" /> {t('export.deidentify')}</label>
      {deid ? (
        <label className="row">
          {t('export.dateShift')}
          <input value={shift} onChange={(e) => setShift(e.target.value)} inputMode="numeric" placeholder="-30" data-testid="export-date-shift" aria-invalid={!shiftValid} aria-describedby={shiftValid ? undefined : 'export-date-shift-error'} />
        </label>
      ) : null}
      {deid && !shiftValid ? <p className="error" id="export-date-shift-error" role="alert" data-testid="export-date-shift-error">{t('export.dateShiftInvalid', { value: shiftText })}</p> : null}
      <label className="row">{t('export.paper')}
        <select value={paper} onChange={(e) => setPaper(e.target.value as 'a4' | 'letter')}>
          <option value="a4">A4</option>
          <option value="letter">Letter</option>
        </select>
      </label>
      {p.measurements?.length ? <p className="muted" data-testid="export-measurements">{t('export.measurements', { n: p.measurements.length })}</p> : null}
      <label className="row">{t('export.reviewer')}<input value={reviewer} onChange={(e) => { setReviewer(e.target.value); storeReviewer(e.target.value); }} placeholder={t('export.reviewerPlaceholder')} data-testid="export-reviewer" /></label>
      {pacs?.destination ? (
        <label className="row" title={dicomChosen ? undefined : t('export.sendNeedsDicom')}>
          <input type="checkbox" checked={send && dicomChosen} disabled={!dicomChosen} onChange={(e) => setSend(e.target.checked)} data-testid="export-send" />
          {t('export.send', { destination: pacs.destination })}
        </label>
      ) : pacs?.problem ? (
        <p className="muted" data-testid="export-send-problem">{pacs.problem}</p>
      ) : null}
      {review ? (
        <div className={draft ? 'warning' : 'muted'} role="status" data-testid="export-review-status" data-draft={draft}>
          {'error' in review ? (
            <p>{t('export.status.unknown', { message: review.error })}</p>
          ) : (
            <>
              {/* good news is not a warning, even inside a draft's box */}
              <p data-testid="export-status-findings" className={review.pending.length ? undefined : 'good'}>
                {review.pending.length
                  ? t('export.status.pending', { n: review.pending.length, total: review.findings, list: review.pending.map(({ finding: f, label }) => `${label} ${cls(f.class)} ${sliceSpan(t, f.sliceStart, f.sliceEnd, review.numbering)}`).join(', ') })
                  : review.findings
                    ? t('export.status.reviewed', { total: review.findings })
                    : t('export.status.noFindings')}
                {/* the reviewer's own findings are decided by being added: counted apart, not as "reviewed" AI findings */}
                {review.added ? ` ${t('export.status.added', { n: review.added })}` : ''}
              </p>
              <p data-testid="export-status-signoff">
                {!review.signOff
                  ? t('export.status.notSignedOff')
                  : t(review.signOff.current ? 'export.status.signedOff' : 'export.status.signOffStale', { time: date(new Date(review.signOff.at)) })}
              </p>
              {unnamed ? <p data-testid="export-status-reviewer">{t('export.status.noReviewer')}</p> : null}
            </>
          )}
          {draft ? <p data-testid="export-status-draft"><strong>{t(statusStated ? 'export.status.draft' : 'export.status.draftNotStated')}</strong></p> : null}
        </div>
      ) : null}
      <div className="row">
        <button className="primary" onClick={run} disabled={busy || !formats.size || (deid && !shiftValid)} data-testid="export-run">{t('export.run')}</button>
        <button onClick={p.onClose}>{t('help.close')}</button>
      </div>
      {busy ? (
        <div role="status">
          <progress max={progress?.total || 1} value={progress?.done ?? 0} aria-label={t('export.title')} />
          <div className="muted">{progress?.step ?? '…'}</div>
        </div>
      ) : null}
      {error ? <p className="error" role="alert">{error}</p> : null}
      {result ? (
        <div data-testid="export-result">
          <p>{t('export.done', { folder: result.folder })}{result.deidentified ? ` · ${t('export.deidentified')}` : ''}</p>
          <ul>
            {result.files.map((f) => (
              <li key={f.name}><a href={f.url} target="_blank" rel="noreferrer">{f.name}</a> <span className="muted">{num(f.bytes / 1024, 0)} KiB</span></li>
            ))}
          </ul>
          {result.warnings.map((w) => <p key={w} className="muted">{sayWarning(w, t)}</p>)}
          {result.sent ? (
            <p className={result.sent.error || result.sent.failures.length ? 'error' : ''} role="status" data-testid="export-sent">
              {t('export.sent', { stored: result.sent.stored, total: result.sent.total, destination: result.sent.destination })}
              {result.sent.error ? <><br />{t('export.sendFailed', { destination: result.sent.destination, message: err(result.sent.error) })}</> : null}
              {result.sent.failures.map((f) => <span key={f.name} className="muted"><br />{`${f.name}: ${f.reason}`}</span>)}
            </p>
          ) : null}
          {pdf ? <iframe className="pdf-preview" title={t('export.preview')} src={pdf.url} data-testid="export-preview" /> : null}
        </div>
      ) : null}
    </div>
  );
}

/**
 * Export: the report (PDF with key images, also as DICOM Encapsulated PDF), DICOM SR, Secondary
 * Captures, JSON and CSV of the shown series' analysis and review, optionally de-identified,
 * written by the engine into a new folder of the app's export folder (never the study folder),
 * and, when the installer configured a PACS, its DICOM files sent there. Progress while it runs;
 * then the files, what the PACS stored and a preview of the PDF.
 */
import { useEffect, useState } from 'react';
import type { ExportFormat, ExportResult, PacsInfo, ResightApi } from '../../shared/api';
import { EXPORT_FORMATS, isDicomExport } from '../../shared/api';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import type { DrawnMeasurement } from '../../shared/roi';
import { sayWarning } from '../i18n/warnings';

type Format = ExportFormat;

export function ExportDialog(p: {
  api: ResightApi;
  seriesId: string;
  deidentifyByDefault?: boolean;
  /** The lengths and ROIs drawn on axial slices of this series: measured again by the engine and reported. */
  measurements?: DrawnMeasurement[];
  /** Measurements drawn on a coronal or sagittal reformat: not reported (no slice of the series holds them). */
  reformatMeasurements?: number;
  onClose(): void;
}) {
  const { t, num } = useI18n();
  const [formats, setFormats] = useState<Set<Format>>(new Set(['pdf', 'sr', 'sc']));
  const [deid, setDeid] = useState(p.deidentifyByDefault === true);
  const [shift, setShift] = useState('');
  const [paper, setPaper] = useState<'a4' | 'letter'>('a4');
  const [reviewer, setReviewer] = useState(localStorage.getItem('resight.reviewer') ?? '');
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

  // a shift is a non-zero whole number of days; anything else is refused here, not dropped (an
  // export "with shifted dates" that silently removed them would mislead whoever reads it)
  const shiftText = shift.trim();
  const shiftValid = shiftText === '' || (/^[+-]?\d{1,6}$/.test(shiftText) && Number(shiftText) !== 0);
  const run = async () => {
    if (deid && !shiftValid) return;
    setBusy(true);
    setError(null);
    setResult(null);
    localStorage.setItem('resight.reviewer', reviewer);
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
      setError((e as Error).message);
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };
  const pdf = result?.files.find((f) => f.kind === 'pdf');
  return (
    <div className="dialog wide" role="dialog" aria-modal="true" aria-label={t('export.title')}>
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
      {p.reformatMeasurements ? <p className="warning" role="status" data-testid="export-reformat-measurements">{t('export.reformatMeasurements', { n: p.reformatMeasurements })}</p> : null}
      <label className="row">{t('export.reviewer')}<input value={reviewer} onChange={(e) => setReviewer(e.target.value)} placeholder="Sato^Hanako" /></label>
      {pacs?.destination ? (
        <label className="row" title={dicomChosen ? undefined : t('export.sendNeedsDicom')}>
          <input type="checkbox" checked={send && dicomChosen} disabled={!dicomChosen} onChange={(e) => setSend(e.target.checked)} data-testid="export-send" />
          {t('export.send', { destination: pacs.destination })}
        </label>
      ) : pacs?.problem ? (
        <p className="muted" data-testid="export-send-problem">{pacs.problem}</p>
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
              {result.sent.error ? <><br />{t('export.sendFailed', { destination: result.sent.destination, message: result.sent.error.message })}</> : null}
              {result.sent.failures.map((f) => <span key={f.name} className="muted"><br />{`${f.name}: ${f.reason}`}</span>)}
            </p>
          ) : null}
          {pdf ? <iframe className="pdf-preview" title={t('export.preview')} src={pdf.url} data-testid="export-preview" /> : null}
        </div>
      ) : null}
    </div>
  );
}

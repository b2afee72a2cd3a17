/** Patients > studies > series, with slice counts, and the files the scan could not use (with reasons). */
import { useState } from 'react';
import type { ResightApi, UnusedFile } from '../../shared/api';
import type { StudySummary } from '../../shared/dicom';
import { personNameText } from '../../shared/dicom-text';
import { useI18n } from '../i18n/i18n';
import { en } from '../i18n/messages';
import type { MessageKey } from '../i18n/messages';
import { sayWarning } from '../i18n/warnings';
import { Thumbnail } from './Thumbnail';

export function StudyBrowser(p: { api: ResightApi; studies: StudySummary[]; unused: UnusedFile[]; selected: string | null; onSelect(seriesId: string): void }) {
  const { t } = useI18n();
  const [showUnused, setShowUnused] = useState(false);
  const byPatient = new Map<string, StudySummary[]>();
  for (const st of p.studies) {
    const k = `${st.patient.name}\u0000${st.patient.id}`;
    byPatient.set(k, [...(byPatient.get(k) ?? []), st]);
  }
  return (
    <nav className="panel browser" aria-label={t('browser.title')}>
      <h2>{t('browser.title')}</h2>
      {!p.studies.length ? <p className="muted">{t('browser.empty')}</p> : null}
      {[...byPatient.entries()].map(([k, studies]) => (
        <div key={k} className="patient">
          <div className="patient-name">{personNameText(studies[0].patient.name)} <span className="muted">{studies[0].patient.id}</span></div>
          {studies.map((st) => (
            <div key={st.studyInstanceUid} className="study">
              <div className="study-desc">{[st.date ? `${st.date.slice(0, 4)}-${st.date.slice(4, 6)}-${st.date.slice(6, 8)}` : '', st.description ?? ''].filter(Boolean).join(' · ')}</div>
              <ul>
                {st.series.map((s) => (
                  <li key={s.id}>
                    <button className={`series${p.selected === s.id ? ' selected' : ''}`} aria-pressed={p.selected === s.id} data-testid="series-item" onClick={() => p.onSelect(s.id)}>
                      <Thumbnail api={p.api} seriesId={s.id} slices={s.slices} modality={s.modality} />
                      <span>
                        <span className="modality">{s.modality}</span> {s.description || t('browser.series', { n: s.number ?? '' })}
                        <br />
                        {/* the series number tells same-named series apart, and is what a reader cites ("Se 3 Im 45") */}
                        <span className="muted">{[s.number !== undefined ? t('viewer.seriesNumber', { n: s.number }) : '', t(s.slices === 1 ? 'browser.sliceOne' : 'browser.slices', { n: s.slices })].filter(Boolean).join(' · ')}</span>
                        {/* what a reader must know before trusting distances and pixels (OHIF flags such display sets too) */}
                        {s.lossy ? <span className="badge lossy" data-testid="series-lossy" title={t('browser.lossyTitle')}>{t('browser.lossy')}</span> : null}
                        {s.warnings.length ? (
                          <span className="badge warn" data-testid="series-warnings" title={s.warnings.map((w) => sayWarning(w, t)).join('\n')} aria-label={t('browser.warnings', { n: s.warnings.length }) + ': ' + s.warnings.map((w) => sayWarning(w, t)).join('; ')}>
                            ⚠ {s.warnings.length}
                          </span>
                        ) : null}
                        {/* one series shown as several stacks (a localizer, echoes or b-values): say which this is */}
                        {s.split ? <><br /><span className="muted split" data-testid="split-reason" title={s.splitReason}>{s.split.kind === 'repeat' ? t('browser.splitRepeat', { j: s.split.part, k: s.split.parts }) : t(`browser.split.${s.split.kind}`)}</span></> : null}
                      </span>
                    </button>
                    {/* the selected series' warnings in words, for keyboard and touch users (a tooltip needs a mouse) */}
                    {p.selected === s.id && s.warnings.length ? (
                      <ul className="series-warning-list" data-testid="series-warning-list">
                        {s.warnings.map((w, i) => <li key={i}>{sayWarning(w, t)}</li>)}
                      </ul>
                    ) : null}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
      ))}
      {p.unused.length ? (
        <div className="unused">
          <button className="link" aria-expanded={showUnused} onClick={() => setShowUnused(!showUnused)}>
            {t('browser.unused', { n: p.unused.length })}
          </button>
          {showUnused ? (
            <ul aria-label={t('browser.unusedTitle')}>
              {p.unused.map((u) => (
                <li key={u.file}>
                  {/* the reason in the user's words, the engine's detail (English) after it */}
                  <code>{u.file}</code>: <strong data-testid="unused-reason">{(`fileError.${u.code}` in en ? t(`fileError.${u.code}` as MessageKey) : u.code)}</strong> <span className="muted" title={u.code}>({u.message})</span>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </nav>
  );
}

/**
 * The reviewer's measurements on this series (OHIF's measurement panel): each length and ellipse
 * ROI with its value, a button to go to its slice and one to delete it. The ids (M1, M2, ...) are
 * the ones the report gives them, numbered in the order drawn and kept when others are deleted.
 */
import { useEffect, useRef } from 'react';
import type { Measurement } from '../viewer/Viewport';
import { useI18n } from '../i18n/i18n';
import { labelNumber } from '../viewer/measure-labels';
import type { MessageKey } from '../i18n/messages';

export function MeasurementsPanel(p: {
  measurements: Measurement[];
  hounsfield: boolean;
  /** The reformat on screen ("Coronal"): its measurements are at its positions, not at slices. */
  planeName?: string;
  /** The number the viewer gives position `i` of the plane on screen (from 1 in reading order). */
  sliceNumber?(i: number): number;
  onGo(slice: number): void;
  onDelete(index: number): void;
  onClear?(): void;
}) {
  const { t, num } = useI18n();
  const unit = p.hounsfield ? ' HU' : '';
  const valueOf = (m: Measurement): string => {
    // a calibration that is not PixelSpacing (detector, ultrasound region) is said beside the value
    const note = m.calibration ? ` ${t(`calibration.${m.calibration}` as MessageKey)}` : '';
    if (m.kind === 'ellipse') {
      const s = m.stats;
      if (!s) return '—';
      return `${t(m.luminance ? 'roi.meanLuminance' : 'roi.mean')} ${num(s.mean, 1)}${unit} ± ${num(s.sd, 1)} · ${t('roi.area')} ${num(s.area, 1)} ${s.areaUnit === 'mm2' ? `mm²${note}` : 'px²'}`;
    }
    if (m.kind === 'bidirectional') return m.length && m.shortAxis ? `${num(m.length.value, 1)} × ${num(m.shortAxis.value, 1)} ${m.length.unit}${note}` : '—';
    return m.length ? `${num(m.length.value, 1)} ${m.length.unit}${note}` : '—';
  };
  // a measurement just drawn is brought into view: below the findings, the panel can be out of
  // sight, and the new row is the reader's confirmation of the value
  const list = useRef<HTMLUListElement>(null);
  const high = Math.max(0, ...p.measurements.map((m, i) => labelNumber(m, i)));
  const shownHigh = useRef(high);
  useEffect(() => {
    if (high > shownHigh.current) list.current?.lastElementChild?.scrollIntoView?.({ block: 'nearest' });
    shownHigh.current = high;
  }, [high]);
  return (
    <section className="panel measurements" aria-label={t('measure.title')}>
      <div className="panel-head">
        <h2>{t('measure.title')}</h2>
        {p.onClear ? <button onClick={p.onClear} disabled={!p.measurements.length} data-testid="clear-measurements">{t('tools.clearMeasurements')}</button> : null}
      </div>
      {!p.measurements.length ? <p className="muted">{t('measure.none')}</p> : null}
      <ul ref={list}>
        {p.measurements.map((m, i) => (
          <li key={i} className="row" data-testid="measurement">
            <button className="link grow" onClick={() => p.onGo(m.slice)} title={t('findings.goto')}>
              <strong data-testid="measurement-label">M{labelNumber(m, i)}</strong> · {p.planeName ? `${p.planeName} ${p.sliceNumber ? p.sliceNumber(m.slice) : m.slice + 1}` : t('measure.slice', { i: p.sliceNumber ? p.sliceNumber(m.slice) : m.slice + 1 })} · {t(m.kind === 'ellipse' ? 'tools.ellipse' : m.kind === 'bidirectional' ? 'tools.bidirectional' : 'tools.length')}: <span data-testid="measurement-value">{valueOf(m)}</span>
            </button>
            <button onClick={() => p.onDelete(i)} aria-label={t('measure.delete', { id: `M${labelNumber(m, i)}` })} data-testid="measurement-delete">×</button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * The model card as a radiologist needs it before trusting a second reader: what it is for, what it
 * was trained on, and how it did on held-out data — per class the ROC AUC with its 95 % interval,
 * sensitivity and specificity at each operating point (the one in use marked), and sensitivity by
 * lesion size (the small nodules it misses most). Read from the card's `metrics` defensively: a
 * bring-your-own model's card may hold less, and then less is shown, never invented.
 */
import type { ModelInfo } from '../../shared/api';
import { useI18n } from '../i18n/i18n';
import { cardMetrics } from './card-metrics';

export function ModelCardDialog(p: { model: ModelInfo; onClose(): void }) {
  const { t, num: fmt, cls } = useI18n();
  const model = p.model;
  const metrics = cardMetrics(model.card);
  const inUse = model.operatingPoint?.id;
  const pct = (x: number | undefined) => (x === undefined ? '—' : `${fmt(x * 100, 0)} %`);
  const name = cls;
  return (
    <div className="dialog model-card" role="dialog" aria-modal="true" aria-label={t('ai.modelCard')}>
      <h2>{model.model?.name} {model.model?.version}</h2>
      {model.notForClinicalUse !== false ? <p className="badge">{t('app.notForClinicalUse')}</p> : null}
      <h3>{t('model.intendedUse')}</h3>
      <p>{model.intendedUse}</p>
      <h3>{t('model.disclaimer')}</h3>
      <p>{model.disclaimer}</p>
      {metrics ? (
        <>
          <h3>{t('model.performance')}</h3>
          {metrics.dataset ? <p className="muted" data-testid="card-dataset">{metrics.dataset}</p> : null}
          {metrics.training ? <p className="muted">{t('model.trainedOn', { data: metrics.training })}</p> : null}
          <table className="metrics" data-testid="card-metrics">
            <thead>
              <tr>
                <th>{t('model.operatingPointHead')}</th>
                {Object.keys(metrics.perClass).map((cls) => <th key={cls} colSpan={2}>{name(cls)}</th>)}
              </tr>
              <tr>
                <th />
                {Object.keys(metrics.perClass).map((cls) => [<th key={`${cls}-se`}>{t('model.sensitivity')}</th>, <th key={`${cls}-sp`}>{t('model.specificity')}</th>])}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th>{t('model.rocAuc')}</th>
                {Object.entries(metrics.perClass).map(([cls, c]) => (
                  <td key={cls} colSpan={2} data-testid={`card-auc-${cls}`}>
                    {c.rocAuc === undefined ? '—' : fmt(c.rocAuc, 3)}
                    {c.rocAuc95ci ? ` (95 % CI ${fmt(c.rocAuc95ci[0], 2)}–${fmt(c.rocAuc95ci[1], 2)})` : ''}
                  </td>
                ))}
              </tr>
              {metrics.operatingPoints.map((op) => (
                <tr key={op.id} className={op.id === inUse ? 'in-use' : undefined} data-testid="card-point" data-in-use={op.id === inUse}>
                  <th>{op.label}{op.id === inUse ? ` ${t('model.inUse')}` : ''}</th>
                  {Object.keys(metrics.perClass).map((cls) => [
                    <td key={`${cls}-se`}>{pct(op.perClass[cls]?.sensitivity)}</td>,
                    <td key={`${cls}-sp`}>{pct(op.perClass[cls]?.specificity)}</td>,
                  ])}
                </tr>
              ))}
            </tbody>
          </table>
          {Object.entries(metrics.perClass).some(([, c]) => c.sizeBins?.length) ? (
            <>
              <h3>{t('model.bySize')}</h3>
              <ul data-testid="card-size-bins">
                {Object.entries(metrics.perClass).map(([cls, c]) =>
                  c.sizeBins?.length ? (
                    <li key={cls}>
                      {name(cls)}: {c.sizeBins.map((b) => `${b.label} ${pct(b.lesionSensitivity)}${b.lesions !== undefined ? ` (${t('model.lesions', { n: b.lesions })})` : ''}`).join(' · ')}
                    </li>
                  ) : null,
                )}
              </ul>
            </>
          ) : null}
        </>
      ) : null}
      <h3>{t('model.classes')}</h3>
      {model.operatingPoint ? <p data-testid="operating-point">{t('model.operatingPoint', { label: model.operatingPoint.label })}{model.operatingPoint.fallback ? ` (${model.operatingPoint.fallback})` : ''}</p> : null}
      <ul>{(model.classes ?? []).map((c) => <li key={c}>{name(c)}: {fmt(model.thresholds?.[c] ?? 0, 3)}</li>)}</ul>
      <h3>{t('model.sha')}</h3>
      <code className="wrap">{model.model?.sha256}</code>
      <button onClick={p.onClose} autoFocus>{t('model.close')}</button>
    </div>
  );
}

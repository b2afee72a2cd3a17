/** Preferences (saved by the engine in the app data folder): defaults for the heatmap and exports, engine settings. */
import { useEffect, useState } from 'react';
import { PROVIDER_NAMES } from '../../shared/analysis';
import { CAM_METHOD_NAMES } from '../../shared/api';
import { CAM_METHOD_LABELS } from '../../shared/cam';
import type { ModelInfo, PolicyInfo, ResightApi } from '../../shared/api';
import type { Preferences, PreferencesPatch } from '../../shared/settings';
import { useI18n } from '../i18n/i18n';

export function PreferencesDialog(p: { api: ResightApi; layers: string[]; operatingPoints?: ModelInfo['operatingPoints']; onSaved(prefs: Preferences): void; onClose(): void }) {
  const { t, num, cls, err } = useI18n();
  const points = p.operatingPoints ?? [];
  // what is sent: null puts a preference back to its default (the browser bridge drops undefined)
  const [prefs, setPrefs] = useState<PreferencesPatch | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  // the threads as typed: something that is not a whole number above 0 is said, not silently emptied
  const [threadsText, setThreadsText] = useState<string | null>(null);
  const threadsBad = threadsText !== null && threadsText.trim() !== '' && !/^[1-9]\d{0,3}$/.test(threadsText.trim());
  // what the site policy fixes: shown, not editable (an engine without policy.get fixes nothing)
  const [policy, setPolicy] = useState<PolicyInfo | null>(null);
  useEffect(() => {
    p.api.call('settings.get', {}).then(setPrefs, (e: Error) => setError(err(e)));
    p.api.call('policy.get', {}).then(setPolicy, () => setPolicy(null));
  }, [p.api]);
  const locked = new Set<string>(policy?.locked ?? []);
  /** A control's props when the policy fixes its preference. */
  const lock = (k: keyof Preferences) => (locked.has(k) ? { disabled: true, title: t('prefs.lockedOne'), 'data-locked': 'true' } : {});
  const set = (patch: PreferencesPatch) => setPrefs((x) => ({ ...(x ?? {}), ...patch }));
  const save = async () => {
    if (!prefs) return;
    setError(null);
    try {
      // what the policy fixes is not the dialog's to send
      const r = await p.api.call('settings.set', Object.fromEntries(Object.entries(prefs).filter(([k]) => !locked.has(k))) as PreferencesPatch);
      setSaved(true);
      p.onSaved(r);
    } catch (e) {
      setError(err(e));
    }
  };
  const opt = <T extends string>(v: string): T | null => (v === '' ? null : (v as T));
  const thresholdsOf = (op: (typeof points)[number]) => Object.entries(op.thresholds).map(([c, v]) => `${cls(c)} ${num(v, 3)}`).join(', ');
  // the point chosen (none saved: the first, the model's default)
  const chosen = points.find((op) => op.id === prefs?.operatingPoint) ?? points[0];
  return (
    <div className="dialog prefs" role="dialog" aria-modal="true" aria-label={t('prefs.title')}>
      <h2>{t('prefs.title')}</h2>
      {!prefs && !error ? <p className="muted">{t('app.loading')}</p> : null}
      {prefs ? (
        <>
          {locked.size ? <p className="muted" role="note" data-testid="prefs-locked">{t('prefs.locked', { files: policy?.files.join(', ') ?? '' })}</p> : null}
          <fieldset>
            <legend>{t('prefs.viewer')}</legend>
            <label className="row">{t('ai.method')}
              <select {...lock('camMethod')} value={prefs.camMethod ?? ''} onChange={(e) => set({ camMethod: opt<NonNullable<Preferences['camMethod']>>(e.target.value) })} data-testid="prefs-method">
                <option value="">{CAM_METHOD_LABELS.gradcam} ({t('prefs.default')})</option>
                {CAM_METHOD_NAMES.filter((m) => m !== 'scorecam').map((m) => <option key={m} value={m}>{CAM_METHOD_LABELS[m]}</option>)}
              </select>
            </label>
            <label className="row">{t('ai.layer')}
              <select {...lock('camLayer')} value={prefs.camLayer ?? ''} onChange={(e) => set({ camLayer: opt(e.target.value) })}>
                <option value="">{t('prefs.default')}</option>
                {p.layers.map((l) => <option key={l} value={l}>{l}</option>)}
              </select>
            </label>
            {points.length > 1 ? (
              <>
                {/* label above a full-width select: both are long */}
                <label className="row stack">{t('prefs.operatingPoint')}
                  <select {...lock('operatingPoint')} value={prefs.operatingPoint ?? ''} onChange={(e) => set({ operatingPoint: opt(e.target.value) })} data-testid="prefs-operating-point">
                    {points.map((op, i) => (
                      <option key={op.id} value={i === 0 ? '' : op.id}>
                        {op.label} ({thresholdsOf(op)}){i === 0 ? ` · ${t('prefs.default')}` : ''}
                      </option>
                    ))}
                  </select>
                </label>
                {/* the closed select cuts a long option: its thresholds in full */}
                {chosen ? <p className="muted detail" data-testid="prefs-operating-point-detail">{thresholdsOf(chosen)}</p> : null}
              </>
            ) : null}
            <label className="row check"><input type="checkbox" {...lock('deidentifyByDefault')} checked={prefs.deidentifyByDefault === true} onChange={(e) => set({ deidentifyByDefault: e.target.checked })} /> {t('prefs.deidentifyDefault')}</label>
          </fieldset>
          <fieldset>
            <legend>{t('prefs.engine')}</legend>
            <label className="row">{t('prefs.provider')}
              <select {...lock('provider')} value={prefs.provider ?? ''} onChange={(e) => set({ provider: opt<NonNullable<Preferences['provider']>>(e.target.value) })}>
                <option value="">{t('prefs.auto')}</option>
                {PROVIDER_NAMES.map((x) => <option key={x} value={x}>{x}</option>)}
              </select>
            </label>
            <label className="row">{t('prefs.threads')}
              <input
                {...lock('threads')}
                inputMode="numeric"
                value={threadsText ?? (prefs.threads ?? '')}
                placeholder={t('prefs.auto')}
                aria-invalid={threadsBad}
                data-testid="prefs-threads"
                onChange={(e) => {
                  setThreadsText(e.target.value);
                  const v = e.target.value.trim();
                  if (v === '') set({ threads: null });
                  else if (/^[1-9]\d{0,3}$/.test(v)) set({ threads: Number(v) });
                }}
              />
            </label>
            <label className="row">{t('prefs.modelFolder')}<input {...lock('modelFolder')} value={prefs.modelFolder ?? ''} onChange={(e) => set({ modelFolder: e.target.value || null })} /></label>
            <label className="row">{t('prefs.exportFolder')}<input {...lock('exportFolder')} value={prefs.exportFolder ?? ''} onChange={(e) => set({ exportFolder: e.target.value || null })} /></label>
            <p className="muted">{t('prefs.restart')}</p>
          </fieldset>
        </>
      ) : null}
      {error ? <p className="error" role="alert">{error}</p> : null}
      {threadsBad ? <p className="warning" role="alert" data-testid="prefs-threads-error">{t('prefs.threadsInvalid')}</p> : null}
      {saved ? <p role="status">{t('prefs.saved')}</p> : null}
      <div className="row">
        <button className="primary" onClick={save} disabled={!prefs || threadsBad} data-testid="prefs-save">{t('findings.save')}</button>
        <button onClick={p.onClose}>{t('help.close')}</button>
      </div>
    </div>
  );
}

/** The DICOM tag browser for the shown slice's instance, with a filter (tag, keyword or value). */
import { useEffect, useState } from 'react';
import type { TagEntry } from '../../shared/dicom';
import type { ResightApi } from '../../shared/api';
import { useI18n } from '../i18n/i18n';

export function TagBrowser(p: { api: ResightApi; seriesId: string; slice: number; onClose(): void }) {
  const { t, err } = useI18n();
  const [tags, setTags] = useState<TagEntry[] | null>(null);
  const [sop, setSop] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    let stop = false;
    p.api
      .call('instance.tags', { seriesId: p.seriesId, slice: p.slice })
      .then((r) => {
        if (stop) return;
        setTags(r.tags);
        setSop(r.sopInstanceUid);
      })
      .catch((e: Error) => !stop && setError(err(e)));
    return () => {
      stop = true;
    };
  }, [p.api, p.seriesId, p.slice]);
  const f = filter.trim().toLowerCase();
  const shown = (tags ?? []).filter((x) => !f || x.tag.toLowerCase().includes(f) || x.keyword.toLowerCase().includes(f) || x.value.toLowerCase().includes(f));
  return (
    <div className="dialog wide" role="dialog" aria-modal="true" aria-label={t('tags.title')}>
      {/* the title, Close and the filter stay in view while the long list scrolls under them */}
      <div className="dialog-head">
        <div className="panel-head">
          <h2>{t('tags.title')}</h2>
          <button onClick={p.onClose} data-testid="tags-close">{t('help.close')}</button>
        </div>
        <p className="muted">{sop}</p>
        <label className="row">
        <span className="sr-only">{t('tags.filter')}</span>
        <input autoFocus value={filter} onChange={(e) => setFilter(e.target.value)} placeholder={t('tags.filter')} aria-label={t('tags.filter')} />
        </label>
      </div>
      {error ? <p className="error" role="alert">{error}</p> : null}
      {!tags && !error ? <p className="muted">{t('app.loading')}</p> : null}
      <table className="tags" data-testid="tag-table">
        <thead>
          <tr><th>{t('tags.tag')}</th><th>VR</th><th>{t('tags.keyword')}</th><th>{t('tags.value')}</th></tr>
        </thead>
        <tbody>
          {shown.map((x, i) => (
            <tr key={i}>
              <td><code>{x.tag}</code></td>
              <td>{x.vr}</td>
              <td style={{ paddingLeft: `${x.depth * 12}px` }}>{x.keyword}</td>
              <td className="value">{x.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

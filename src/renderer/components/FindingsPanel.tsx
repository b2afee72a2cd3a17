/**
 * Findings: each AI finding (class, score, slices) with accept / reject / edit and a comment, the
 * findings the reviewer added (stored as reviews with an `added:` id), the reviewer's impression
 * (their conclusion, free text) and the sign-off, which warns when slices the model flagged were
 * never looked at.
 */
import { useState } from 'react';
import type { Finding, SeriesAnalysis } from '../../shared/analysis';
import { narrowerCore } from '../../shared/analysis';
import type { ModelInfo, Review } from '../../shared/api';
import type { DECISIONS } from '../../shared/api';
import { addedFindingId, IMPRESSION_ID, impressionOf, isAddedFinding, isStackReview, reviewerFindings, SIGN_OFF_ID, signOffOf } from '../../shared/review';
import { useI18n } from '../i18n/i18n';
import { findingLabelOrder, findingLabelsOf } from '../../shared/finding-labels';
import { sliceNumber, sliceNumbers, type ReadingStep } from '../../shared/planes';
import { storedReviewer, storeReviewer } from './reviewer-name';

type Decision = (typeof DECISIONS)[number];

/** The finding the A / X keys decide: the first listed that covers slice `index`. */
export function findingAt(findings: readonly Finding[], index: number, step: ReadingStep = 1): Finding | undefined {
  // where two overlap, the first listed (the panel's order)
  return findingLabelOrder(findings, step).find((f) => index >= f.sliceStart && index <= f.sliceEnd);
}

/** How the viewer numbers a series' slices: from 1 in reading order (shared/planes.ts sliceNumber). */
export interface Numbering {
  count: number;
  step: ReadingStep;
  /** Slice i's InstanceNumber, the number a PACS viewer shows (none in a multi-frame file, whose frames share one). */
  im?(i: number): number | undefined;
}

/** Slices a..b (0-based, volume order) as the reviewer numbers them, lower first: "slices 25–38", or "slice 18" for one. */
export function sliceSpan(t: ReturnType<typeof useI18n>['t'], a: number, b: number, n: Numbering, key: 'slices' | 'core' = 'slices'): string {
  const [x, y] = sliceNumbers(a, b, n.count, n.step);
  // one slice is one number, as the PDF writes it ("strongest 18", not 18–18)
  if (key === 'core') return x === y ? t('findings.coreOne', { a: x }) : t('findings.core', { a: x, b: y });
  return x === y ? t('findings.slice', { a: x }) : t('findings.slices', { a: x, b: y });
}

/** The same slices by the PACS's image numbers (" · Im 8–21"), to find them there as the PDF gives them; '' when a slice has none of its own. */
function imSpan(t: ReturnType<typeof useI18n>['t'], a: number, b: number, n: Numbering): string {
  const [i, j] = [n.im?.(a), n.im?.(b)];
  if (i === undefined || j === undefined) return '';
  const [lo, hi] = [Math.min(i, j), Math.max(i, j)];
  return ` · ${lo === hi ? t('viewer.instance', { n: lo }) : t('findings.ims', { a: lo, b: hi })}`;
}

function FindingRow(p: { f: Finding; label: string; review: Review | undefined; here: boolean; numbering: Numbering; onDecide(d: Decision, comment?: string): void; onGo(i: number): void }) {
  const { t, num, cls } = useI18n();
  const [editing, setEditing] = useState(false);
  const [comment, setComment] = useState(p.review?.comment ?? '');
  const d = p.review?.decision ?? 'pending';
  const core = narrowerCore(p.f);
  return (
    // the whole card goes to the finding (its title is the keyboard's way there), not only the title
    <li
      className={`finding ${d}${p.here ? ' here' : ''}`}
      aria-current={p.here ? 'true' : undefined}
      data-testid="finding"
      data-finding-id={p.f.id}
      data-score={p.f.score}
      data-threshold={p.f.threshold}
      onClick={(e) => !(e.target as HTMLElement).closest('button, input, select, textarea, label') && p.onGo(p.f.keySlice)}
    >
      <button className="link" onClick={() => p.onGo(p.f.keySlice)} title={t('findings.goto')}>
        <span className="finding-label" data-testid="finding-label">{p.label}</span> <strong>{cls(p.f.class)}</strong> · {sliceSpan(t, p.f.sliceStart, p.f.sliceEnd, p.numbering)}
        {/* where it is narrower than the run: the run's weak ends are not the lesion */}
        {core ? <span data-testid="finding-core" title={t('findings.coreTitle')}> ({sliceSpan(t, core.start, core.end, p.numbering, 'core')})</span> : null}
        <span data-testid="finding-ims">{imSpan(t, p.f.sliceStart, p.f.sliceEnd, p.numbering)}</span> · {t('findings.score', { p: num(p.f.score, 3) })}
      </button>
      <div className="decision" data-testid="decision">{t(`findings.decision.${d}`)}{p.review?.comment ? ` — ${p.review.comment}` : ''}</div>
      <div className="row">
        <button onClick={() => p.onDecide('accepted', comment || undefined)} aria-pressed={d === 'accepted'} data-testid="accept">{t('findings.accept')}</button>
        <button onClick={() => p.onDecide('rejected', comment || undefined)} aria-pressed={d === 'rejected'} data-testid="reject">{t('findings.reject')}</button>
        <button onClick={() => setEditing(!editing)} aria-expanded={editing}>{t('findings.edit')}</button>
      </div>
      {editing ? (
        <CommentEditor value={comment} placeholder={t('findings.comment')} onChange={setComment} onSave={() => { p.onDecide(d === 'pending' ? 'edited' : d === 'accepted' || d === 'rejected' ? d : 'edited', comment); setEditing(false); }} />
      ) : null}
    </li>
  );
}

/** A finding's comment being edited, with Save. */
function CommentEditor(p: { value: string; placeholder: string; onChange(v: string): void; onSave(): void }) {
  const { t } = useI18n();
  return (
    <div className="row">
      <label className="grow">
        <span className="sr-only">{t('findings.comment')}</span>
        <input value={p.value} onChange={(e) => p.onChange(e.target.value)} placeholder={p.placeholder} />
      </label>
      <button onClick={p.onSave}>{t('findings.save')}</button>
    </div>
  );
}

/** A finding the reviewer added: a comment says what it is (the model gave no score or map for it), Remove withdraws it. */
function AddedRow(p: { f: { id: string; class: string; slice: number; comment?: string }; label: string; numbering: Numbering; onDecide(d: Decision, comment?: string): void; onGo(i: number): void }) {
  const { t, cls } = useI18n();
  const [editing, setEditing] = useState(false);
  const [comment, setComment] = useState(p.f.comment ?? '');
  return (
    <li className="finding accepted" data-testid="added-finding" data-finding-id={p.f.id}>
      <button className="link" onClick={() => p.onGo(p.f.slice)}>
        <span className="finding-label">{p.label}</span> <strong>{cls(p.f.class)}</strong> · {sliceSpan(t, p.f.slice, p.f.slice, p.numbering)}{imSpan(t, p.f.slice, p.f.slice, p.numbering)} · <em>{t('findings.added')}</em>
      </button>
      {p.f.comment ? <div className="decision" data-testid="added-comment">{p.f.comment}</div> : null}
      <div className="row">
        <button onClick={() => setEditing(!editing)} aria-expanded={editing} data-testid="added-edit">{t('findings.edit')}</button>
        <button onClick={() => p.onDecide('rejected')} data-testid="added-remove">{t('findings.remove')}</button>
      </div>
      {editing ? (
        // saved as the added finding's own review: the decision stays "added" (accepted)
        <CommentEditor value={comment} placeholder={t('findings.addedComment')} onChange={setComment} onSave={() => { p.onDecide('accepted', comment || undefined); setEditing(false); }} />
      ) : null}
    </li>
  );
}

export function FindingsPanel(p: {
  analysis: SeriesAnalysis | null;
  reviews: Review[];
  classes: string[];
  /** The card's operating points: with more than one, the panel says at which the findings were drawn. */
  operatingPoints?: ModelInfo['operatingPoints'];
  /** Why the operating point in Preferences is not the one in use (the loaded model lacks it). */
  operatingPointFallback?: string;
  index: number;
  /** The order the reader goes through the stack (shared/planes.ts): findings are listed and labelled in it. */
  readingStep?: ReadingStep;
  /** Slices in the stack (numbered from 1 in reading order), also before any analysis (a reviewer's own finding). */
  sliceCount: number;
  /** Slice i's InstanceNumber, when it has its own. */
  imageNumber?(i: number): number | undefined;
  /** The axial plane is on screen (the keys and the highlight follow `index` only then). */
  axial?: boolean;
  viewed: Set<number>;
  /** Saves a decision; resolves to false when it was not saved. */
  onDecide(findingId: string, d: Decision, comment?: string): void | Promise<boolean>;
  /** "Add finding on this slice" with a class: the viewer asks where it is on the image. */
  onAdd?(cls: string): void;
  onGo(i: number): void;
  /** Run the model on a series it refused (another modality): the reviewer's explicit choice. */
  onInsist?(): void;
  /** An analysis is running (no second "Analyse anyway"). */
  busy?: boolean;
}) {
  const { t, date, cls } = useI18n();
  const [addClass, setAddClass] = useState('');
  const [reviewerName, setReviewerName] = useState(storedReviewer());
  const a = p.analysis;
  const numbering: Numbering = { count: p.sliceCount, step: p.readingStep ?? 1, ...(p.imageNumber ? { im: p.imageNumber } : {}) };
  // saved with the decisions (shared/review.ts): it survives a reload and reaches the report
  const signOff = signOffOf(p.reviews);
  const byId = new Map(p.reviews.map((r) => [r.findingId, r]));
  const added = reviewerFindings(p.reviews);
  // the impression as saved, and the text being typed (null: untouched, the saved text shows;
  // the reviews may arrive after the panel mounts)
  const savedImpression = impressionOf(p.reviews) ?? '';
  const [impression, setImpression] = useState<string | null>(null);
  const impressionText = impression ?? savedImpression;
  const impressionDirty = impressionText.trim() !== savedImpression;
  const saveImpression = async () => {
    const text = impressionText.trim();
    // an emptied box withdraws the impression; text that did not reach the engine stays in the box
    const saved = await p.onDecide(IMPRESSION_ID, text ? 'accepted' : 'rejected', text || undefined);
    if (saved !== false) setImpression(null);
    return saved !== false;
  };
  const signOffNow = async () => {
    const flagged = new Set<number>();
    for (const f of a?.findings ?? []) for (let i = f.sliceStart; i <= f.sliceEnd; i++) flagged.add(i);
    const unviewed = [...flagged].filter((i) => !p.viewed.has(i)).map((i) => sliceNumber(i, numbering.count, numbering.step)).sort((x, y) => x - y);
    // what the sign-off leaves open, asked once: AI findings not decided (the report stays a draft),
    // and positive slices never looked at
    const open = [
      ...(undecided.length ? [t('signoff.undecided', { n: undecided.length, list: undecided.map((f) => labels.get(f.id) ?? f.id).join(', ') })] : []),
      ...(unviewed.length ? [t('signoff.unviewed', { n: unviewed.length, list: unviewed.slice(0, 12).join(', ') + (unviewed.length > 12 ? ` (+${unviewed.length - 12})` : '') })] : []),
    ];
    if (open.length && !window.confirm([...open, t('signoff.anyway')].join('\n'))) return;
    // what is signed off includes the impression in the box: saved first, so the sign-off comes after it
    if (impressionDirty && !(await saveImpression())) return;
    await p.onDecide(SIGN_OFF_ID, 'accepted');
  };
  // decisions on findings this analysis does not have (drawn at another operating point): kept, and said
  const shownIds = new Set((a?.findings ?? []).map((f) => f.id));
  const orphaned = a ? p.reviews.filter((r) => !isAddedFinding(r.findingId) && !isStackReview(r.findingId) && !shownIds.has(r.findingId)).length : 0;
  // in reading order (an axial stack's from the head down), as N / P and the score strip go (the
  // engine lists them by class), labelled as the export dialog and the PDF label them (F1, F2, ...)
  const listed = findingLabelOrder(a?.findings ?? [], p.readingStep);
  const labels = findingLabelsOf(listed, added, p.readingStep);
  // the finding the A / X keys decide; none while a coronal or sagittal view is on screen
  const here = p.axial === false ? undefined : findingAt(a?.findings ?? [], p.index, p.readingStep)?.id;
  // the findings no decision was made on, in the panel's order: counted under the list, named by Sign off
  const undecided = listed.filter((f) => (byId.get(f.id)?.decision ?? 'pending') === 'pending');
  const pending = undecided.length;
  return (
    <section className="panel findings" aria-label={t('findings.title')}>
      <h2>{t('findings.title')}</h2>
      {!a ? (
        <p className="muted">{t('findings.notRun')}</p>
      ) : !a.scored ? (
        // not run is not negative: say why, and let the reviewer insist where the refusal allows it
        <div className="warning" role="status" data-testid="findings-skipped">
          <p>{t('findings.skipped', { reason: a.skipped?.message ?? '' })}</p>
          {a.skipped?.code === 'MODALITY_MISMATCH' && p.onInsist && !p.busy ? <button onClick={p.onInsist} data-testid="insist">{t('findings.insist')}</button> : null}
        </div>
      ) : !a.findings.length ? (
        <p className="muted">{t('findings.none')}</p>
      ) : null}
      {a?.operatingPoint && (p.operatingPoints?.length ?? 0) > 1 ? (
        <p className="muted" data-testid="findings-operating-point" data-operating-point={a.operatingPoint}>
          {t('model.operatingPoint', { label: p.operatingPoints?.find((op) => op.id === a.operatingPoint)?.label ?? a.operatingPoint })}
        </p>
      ) : null}
      {p.operatingPointFallback ? <p className="warning" role="status" data-testid="operating-point-fallback">{p.operatingPointFallback}</p> : null}
      {orphaned ? <p className="warning" role="status" data-testid="orphaned-decisions">{t('findings.orphaned', { n: orphaned })}</p> : null}
      <ul>
        {listed.map((f) => (
          <FindingRow key={f.id} f={f} label={labels.get(f.id) ?? ''} review={byId.get(f.id)} here={f.id === here} numbering={numbering} onDecide={(d, c) => p.onDecide(f.id, d, c)} onGo={p.onGo} />
        ))}
        {added.map((f) => (
          <AddedRow key={f.id} f={f} label={labels.get(f.id) ?? ''} numbering={numbering} onDecide={(d, c) => p.onDecide(f.id, d, c)} onGo={p.onGo} />
        ))}
      </ul>
      <div className="row">
        <label>
          <span className="sr-only">{t('ai.class')}</span>
          <select value={addClass} onChange={(e) => setAddClass(e.target.value)} aria-label={t('ai.class')}>
            <option value="">{t('ai.class')}</option>
            {p.classes.map((c) => <option key={c} value={c}>{cls(c)}</option>)}
          </select>
        </label>
        {/* the viewer then asks where on the image it is (onAdd); without it, on the slice alone */}
        <button disabled={!addClass || p.axial === false} onClick={() => (p.onAdd ? p.onAdd(addClass) : p.onDecide(addedFindingId(addClass, p.index), 'accepted'))} data-testid="add-finding">{t('findings.add')}</button>
      </div>
      {/* the reviewer's conclusion: after the model has read the series, as the sign-off */}
      {a?.scored ? (
        <div className="impression">
          <label htmlFor="impression-text"><strong>{t('impression.title')}</strong></label>
          <textarea
            id="impression-text"
            rows={3}
            maxLength={4000}
            value={impressionText}
            onChange={(e) => setImpression(e.target.value)}
            // saved when the reviewer moves on (another series, the export, anywhere): an edit never
            // stays behind in the box while the report takes the version saved before it
            onBlur={() => {
              if (impressionDirty) void saveImpression();
            }}
            placeholder={t('impression.hint')}
            data-testid="impression"
          />
          <div className="row">
            <button onClick={() => void saveImpression()} disabled={!impressionDirty} data-testid="impression-save">{t('impression.save')}</button>
            <span className="muted" role="status" data-testid="impression-state">{impressionDirty ? t('impression.unsaved') : savedImpression ? t('impression.saved') : ''}</span>
          </div>
        </div>
      ) : null}
      {pending ? <p className="muted">{t('signoff.pending', { n: pending })}</p> : null}
      {/* who signs: typed once (the export dialog shows the same name), recorded with the sign-off */}
      <label className="row reviewer">
        {t('export.reviewer')}
        <input value={reviewerName} onChange={(e) => { setReviewerName(e.target.value); storeReviewer(e.target.value); }} placeholder={t('export.reviewerPlaceholder')} data-testid="signoff-reviewer" />
      </label>
      {/* nothing to sign off before the model has read the series */}
      <button className="primary" onClick={() => void signOffNow()} disabled={!a?.scored} data-testid="signoff">{t('signoff.button')}</button>
      {signOff ? (
        <p role="status" className={signOff.current ? undefined : 'warning'} data-testid="signoff-status" data-current={signOff.current}>
          {t(signOff.current ? 'signoff.done' : 'signoff.stale', { time: date(new Date(signOff.at)) })}
          {signOff.reviewer ? ` ${t('signoff.by', { name: signOff.reviewer })}` : ''}
        </p>
      ) : null}
    </section>
  );
}

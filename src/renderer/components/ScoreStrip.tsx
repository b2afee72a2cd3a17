/**
 * Per-slice AI scores beside the scrollbar: each slice a row coloured by its highest score
 * relative to that class's operating threshold, the current slice marked, and on the left a tick
 * for every slice the reviewer has actually looked at. Click jumps to the slice.
 */
import type { SeriesAnalysis } from '../../shared/analysis';
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n/i18n';
import { wheelSteps } from '../viewer/wheel';
import type { ReadingStep } from '../../shared/planes';

export function sliceScore(a: SeriesAnalysis | null, thresholds: Record<string, number>, i: number): number {
  const pr = a?.slices[i]?.probabilities;
  if (!pr) return 0;
  let best = 0;
  for (const [c, v] of Object.entries(pr)) best = Math.max(best, v / Math.max(1e-6, thresholds[c] ?? 0.5));
  return best;
}

/**
 * The strip runs in reading order from the top (shared/planes.ts): an axial stack's head-most slice
 * at the top, as a scout image shows the body, so the wheel and the strip go the same way.
 */
export function ScoreStrip(p: { count: number; index: number; analysis: SeriesAnalysis | null; thresholds: Record<string, number>; viewed: Set<number>; readingStep?: ReadingStep; wheel?: boolean; onIndex(i: number): void }) {
  const { t, cls, num } = useI18n();
  const n = Math.max(1, p.count);
  // the wheel over the strip pages through slices as over the image (a scrollbar's habit): a native
  // listener, since React's onWheel is passive and the panel around it would scroll too
  const el = useRef<HTMLDivElement>(null);
  const props = useRef(p);
  props.current = p;
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    let pending = 0;
    const onWheel = (e: WheelEvent) => {
      if (e.ctrlKey) return;
      e.preventDefault();
      const q = props.current;
      // on a coronal or sagittal view the strip's slices are not the plane's positions: the wheel
      // there would leave the reformat (and its measurements) for the axial stack
      if (q.wheel === false) return;
      const step = wheelSteps(e, pending);
      pending = step.pending;
      if (q.count && step.slices) q.onIndex(Math.min(q.count - 1, Math.max(0, q.index + step.slices * (q.readingStep ?? 1))));
    };
    node.addEventListener('wheel', onWheel, { passive: false });
    return () => node.removeEventListener('wheel', onWheel);
  }, []);
  // a slice's row from the top, and back (the same map both ways)
  const row = (i: number) => (p.readingStep === -1 ? n - 1 - i : i);
  // the slice under the pointer, for the tooltip: its number and its highest score against the threshold
  const [hover, setHover] = useState<number | null>(null);
  const at = (e: { clientY: number; currentTarget: HTMLElement }) => {
    const r = e.currentTarget.getBoundingClientRect();
    return row(Math.min(n - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * n))));
  };
  const tip = (i: number): string => {
    const pr = p.analysis?.slices[i]?.probabilities;
    if (!pr) return t('ai.stripTip', { n: row(i) + 1, score: '' });
    const [c, v] = Object.entries(pr).reduce((a, b) => (b[1] / Math.max(1e-6, p.thresholds[b[0]] ?? 0.5) > a[1] / Math.max(1e-6, p.thresholds[a[0]] ?? 0.5) ? b : a));
    return t('ai.stripTip', { n: row(i) + 1, score: ` · ${cls(c)} p ${num(v, 3)}` });
  };
  return (
    <div ref={el} className="strip" role="slider" aria-label={t('ai.strip')} aria-valuemin={1} aria-valuemax={n} aria-valuenow={row(p.index) + 1} tabIndex={0} data-testid="score-strip"
      title={hover !== null ? tip(hover) : undefined}
      onMouseMove={(e) => setHover(at(e))}
      onMouseLeave={() => setHover(null)}
      onClick={(e) => {
        p.onIndex(at(e));
      }}>
      <svg width="100%" height="100%" viewBox={`0 0 20 ${n}`} preserveAspectRatio="none">
        <defs>
          <pattern id="unscored" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="4" height="4" fill="#333" />
            <rect width="2" height="4" fill="#777" />
          </pattern>
        </defs>
        {Array.from({ length: p.count }, (_, i) => {
          // a slice the model did not score (decode error, or the series was not analysed) is not a low score
          const unscored = p.analysis !== null && !p.analysis.slices[i]?.probabilities;
          const s = sliceScore(p.analysis, p.thresholds, i);
          const fill = !p.analysis ? '#222' : unscored ? 'url(#unscored)' : s >= 1 ? `rgb(${Math.round(200 + Math.min(55, (s - 1) * 80))},60,40)` : `rgb(${Math.round(40 + s * 120)},${Math.round(40 + s * 60)},40)`;
          return <rect key={i} x={6} y={row(i)} width={14} height={1} fill={fill} data-slice={i} data-unscored={unscored || undefined} />;
        })}
        {[...p.viewed].map((i) => <rect key={`v${i}`} x={0} y={row(i)} width={4} height={1} fill="#5fb3ff" />)}
        {/* the thumb: the current slice in a 2 px white frame, with a notch on the left, visible on any row colour */}
        <rect x={4.5} y={row(p.index)} width={15.5} height={1} fill="none" stroke="#000" strokeWidth={4} vectorEffect="non-scaling-stroke" data-testid="strip-thumb" />
        <rect x={4.5} y={row(p.index)} width={15.5} height={1} fill="none" stroke="#fff" strokeWidth={2} vectorEffect="non-scaling-stroke" />
      </svg>
    </div>
  );
}

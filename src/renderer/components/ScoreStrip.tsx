/**
 * Per-slice AI scores beside the scrollbar: each slice a row coloured by its highest score
 * relative to that class's operating threshold, the current slice marked, and on the left a tick
 * for every slice the reviewer has actually looked at. Click jumps to the slice.
 */
import type { SeriesAnalysis } from '../../shared/analysis';
import { useRef, useState } from 'react';
import { useI18n } from '../i18n/i18n';
import { useSliceWheel } from '../viewer/use-slice-wheel';
import type { ReadingStep } from '../../shared/planes';
import { scoreColour } from './score-colour';

/** The class whose probability on slice `i` stands highest against its operating threshold, and that ratio (>= 1: a positive slice); null where the model gave none. */
export function topScore(a: SeriesAnalysis | null, thresholds: Record<string, number>, i: number): { cls: string; p: number; ratio: number } | null {
  const pr = a?.slices[i]?.probabilities;
  if (!pr) return null;
  let best: { cls: string; p: number; ratio: number } | null = null;
  for (const [c, v] of Object.entries(pr)) {
    const ratio = v / Math.max(1e-6, thresholds[c] ?? 0.5);
    if (!best || ratio > best.ratio) best = { cls: c, p: v, ratio };
  }
  return best;
}

/** Slice `i`'s highest score relative to its class's threshold; 0 where the model gave none. */
export function sliceScore(a: SeriesAnalysis | null, thresholds: Record<string, number>, i: number): number {
  return Math.max(0, topScore(a, thresholds, i)?.ratio ?? 0);
}

/**
 * The strip runs in reading order from the top (shared/planes.ts): an axial stack's head-most slice
 * at the top, as a scout image shows the body, so the wheel and the strip go the same way.
 */
export function ScoreStrip(p: { count: number; index: number; analysis: SeriesAnalysis | null; thresholds: Record<string, number>; viewed: Set<number>; readingStep?: ReadingStep; wheel?: boolean; onIndex(i: number): void }) {
  const { t, cls, num } = useI18n();
  const n = Math.max(1, p.count);
  // the wheel over the strip pages through slices as over the image (a scrollbar's habit); on a
  // coronal or sagittal view (`wheel` false) the strip's slices are not the plane's positions, and
  // the wheel there would leave the reformat (and its measurements) for the axial stack
  const el = useRef<HTMLDivElement>(null);
  const props = useRef(p);
  props.current = p;
  useSliceWheel(el, props);
  // a slice's row from the top, and back (the same map both ways)
  const row = (i: number) => (p.readingStep === -1 ? n - 1 - i : i);
  // the slice under the pointer, for the tooltip: its number and its highest score against the threshold
  const [hover, setHover] = useState<number | null>(null);
  const at = (e: { clientY: number; currentTarget: HTMLElement }) => {
    const r = e.currentTarget.getBoundingClientRect();
    return row(Math.min(n - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * n))));
  };
  const tip = (i: number): string => {
    const top = topScore(p.analysis, p.thresholds, i);
    return t('ai.stripTip', { n: row(i) + 1, score: top ? ` · ${cls(top.cls)} p ${num(top.p, 3)}` : '' });
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
          const fill = !p.analysis ? '#222' : unscored ? 'url(#unscored)' : scoreColour(topScore(p.analysis, p.thresholds, i), p.thresholds);
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

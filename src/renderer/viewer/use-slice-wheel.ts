/**
 * The wheel over an element pages through slices and nothing else (the image, the score strip): a
 * native listener, since React's onWheel is passive and cannot keep the page (or a scrolling
 * parent) from scrolling too. A notch is one slice, in reading order (viewer/wheel.ts).
 */
import { useEffect, type RefObject } from 'react';
import type { ReadingStep } from '../../shared/planes';
import { wheelSteps } from './wheel';

/** What the wheel moves, read when it turns (a ref to the component's latest props). */
export interface WheelTarget {
  count: number;
  index: number;
  /** The index of the reader's next slice: +1, or -1 for an axial stack read head to feet. */
  readingStep?: ReadingStep;
  /** false: the wheel does nothing here for now (the page still does not scroll). */
  wheel?: boolean;
  onIndex(i: number): void;
}

export function useSliceWheel(el: RefObject<HTMLElement | null>, target: RefObject<WheelTarget>): void {
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    let pending = 0;
    const onWheel = (e: WheelEvent) => {
      // Ctrl+wheel (and a trackpad pinch, which arrives as one) is the browser's zoom, as Ctrl keys are the browser's
      if (e.ctrlKey) return;
      e.preventDefault();
      const q = target.current;
      if (!q || q.wheel === false) return;
      const step = wheelSteps(e, pending);
      pending = step.pending;
      if (q.count && step.slices) q.onIndex(Math.min(q.count - 1, Math.max(0, q.index + step.slices * (q.readingStep ?? 1))));
    };
    node.addEventListener('wheel', onWheel, { passive: false });
    return () => node.removeEventListener('wheel', onWheel);
  }, [el, target]);
}

/** The mouse wheel over the image: slices per wheel event (a pure function, tested in Node). */

/**
 * A mouse wheel's notch scrolls 50-120 px in browsers (less at a page zoom above 100 %: 53 px at
 * 200 % is 26.5); a trackpad sends many events of a few px.
 */
const WHEEL_NOTCH_PX = 25;
/**
 * Slices for one wheel event: a notch (or a line or page) is one slice, as on every viewer; the
 * small deltas of a trackpad or a smooth-scrolling wheel add up to a slice per 25 px (a slice per
 * event would take a light two-finger swipe of 20 events of 4 px through 20 slices).
 * `pending` is what smaller deltas left over; a change of direction drops it.
 */
export function wheelSteps(e: Pick<WheelEvent, 'deltaY' | 'deltaMode'>, pending: number): { slices: number; pending: number } {
  if (!e.deltaY) return { slices: 0, pending };
  const dir = Math.sign(e.deltaY);
  if (e.deltaMode !== 0 || Math.abs(e.deltaY) >= WHEEL_NOTCH_PX) return { slices: dir, pending: 0 };
  const sum = (Math.sign(pending) === dir ? pending : 0) + e.deltaY;
  return Math.abs(sum) >= WHEEL_NOTCH_PX ? { slices: dir, pending: sum - dir * WHEEL_NOTCH_PX } : { slices: 0, pending: sum };
}

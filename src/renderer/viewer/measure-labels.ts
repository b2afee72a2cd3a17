/**
 * Measurement labels (M1, M2, ...) that stay with their measurement, as OHIF's and Horos's do:
 * deleting M1 leaves M2 and M3 as they were, so a comment or an impression that says "see M3"
 * still means the same one. A new measurement takes the next number after the highest its list
 * has ever had: deleting the last (M3) and drawing again gives M4, never a second M3.
 */

/** A measurement's number: its own, or (one saved before labels were kept) its place in the list. */
export function labelNumber(m: { label?: number }, index: number): number {
  return m.label ?? index + 1;
}

/** The number a measurement added to `list` gets: one more than the highest there, or than `high` (the highest the list has had). */
export function nextLabel(list: readonly { label?: number }[], high = 0): number {
  return list.reduce((hi, m, i) => Math.max(hi, labelNumber(m, i)), high) + 1;
}

/**
 * N / P: where the next (previous) stop is. The stops are each finding's key slice and the positive
 * slices no finding covers, so N never walks through a finding slice by slice (which left the
 * reviewer deciding the same finding again with the next A or X).
 */
import type { Finding } from '../../shared/analysis';

type Span = Pick<Finding, 'id' | 'sliceStart' | 'sliceEnd' | 'keySlice'>;

/** The stops, ascending: every finding's key slice, and the positive slices outside every finding. */
export function findingStops(findings: readonly Span[], positives: readonly number[]): number[] {
  const covered = (i: number) => findings.some((f) => i >= f.sliceStart && i <= f.sliceEnd);
  return [...new Set([...findings.map((f) => f.keySlice), ...positives.filter((i) => !covered(i))])].sort((a, b) => a - b);
}

/**
 * The stop after (`dir` 1) or before (-1) slice `index`, or undefined. Inside a finding short of
 * its key slice, N goes to that key slice while the finding is undecided (it has not been seen
 * yet); once it is decided (A or X on the slice before its key), N goes on to the next finding,
 * so the next X cannot land on the finding just decided.
 */
export function nextStop(findings: readonly Span[], stops: readonly number[], index: number, dir: 1 | -1, decided: (findingId: string) => boolean): number | undefined {
  const here = findings.find((f) => index >= f.sliceStart && index <= f.sliceEnd);
  const skip = here && decided(here.id) ? here.keySlice : undefined;
  const candidates = stops.filter((x) => x !== skip || findings.some((f) => f !== here && f.keySlice === x));
  return dir > 0 ? candidates.find((x) => x > index) : [...candidates].reverse().find((x) => x < index);
}

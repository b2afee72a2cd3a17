/**
 * The labels people read findings by, one rule for the viewer's panel, the export dialog and the
 * report: F1, F2, ... for the model's findings in reading order of their key slices (shared/planes.ts:
 * an axial stack from the head down, so F1 is the finding nearest the head; then by class), the
 * order N visits them in, then the findings the reviewer added, in the order they were added, as
 * measurements are M1, M2, ...
 */
import type { ReadingStep } from './planes';

type Labelled = { id: string; sliceStart: number; sliceEnd: number; keySlice?: number; class: string };

export function findingLabelOrder<F extends Labelled>(findings: readonly F[], step: ReadingStep = 1): F[] {
  // where N stops on a finding: its key slice (without one, the end the reader meets first)
  const at = (f: F) => step * (f.keySlice ?? (step === 1 ? f.sliceStart : f.sliceEnd));
  return [...findings].sort((a, b) => at(a) - at(b) || a.class.localeCompare(b.class));
}

/** id -> "F1", ... for the model's findings (`findings`, in reading order `step`) and then the reviewer's (`added`, ids in their order). */
export function findingLabelsOf(findings: readonly Labelled[], added: readonly { id: string }[] = [], step: ReadingStep = 1): Map<string, string> {
  const ids = [...findingLabelOrder(findings, step).map((f) => f.id), ...added.map((a) => a.id)];
  return new Map(ids.map((id, i) => [id, `F${i + 1}`]));
}

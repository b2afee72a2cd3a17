/**
 * The labels people read findings by, one rule for the viewer's panel, the export dialog and the
 * report: F1, F2, ... for the model's findings in slice order (then by class), then the findings the
 * reviewer added, in the order they were added, as measurements are M1, M2, ...
 */
export function findingLabelOrder<F extends { id: string; sliceStart: number; class: string }>(findings: readonly F[]): F[] {
  return [...findings].sort((a, b) => a.sliceStart - b.sliceStart || a.class.localeCompare(b.class));
}

/** id -> "F1", ... for the model's findings (`findings`) and then the reviewer's (`added`, ids in their order). */
export function findingLabelsOf(findings: readonly { id: string; sliceStart: number; class: string }[], added: readonly { id: string }[] = []): Map<string, string> {
  const ids = [...findingLabelOrder(findings).map((f) => f.id), ...added.map((a) => a.id)];
  return new Map(ids.map((id, i) => [id, `F${i + 1}`]));
}

/** Per-slice results and findings as CSV (spreadsheets, R, pandas) and JSON (the analyze schema). */
import type { ReportContext } from './context';
import { findingLabels, reviewedFindings, sliceNumbersOf } from './context';

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. Text starting with = + - @
 * (a comment, a class name from someone else's model) gets a leading apostrophe, so a
 * spreadsheet shows it instead of running it as a formula.
 */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const line = (cells: (string | number | null | undefined)[]) => cells.map(csvField).join(',') + '\r\n';

/** One row per slice and series: probabilities per class, or the error when it was not decodable. */
export function slicesCsv(ctxs: readonly ReportContext[]): string {
  const classes = ctxs[0]?.model.classes ?? [];
  let out = line(['series_instance_uid', 'slice_index', 'sop_instance_uid', 'frame', ...classes.map((c) => `p_${c}`), 'error']);
  for (const ctx of ctxs) {
    for (const s of ctx.analysis.slices) {
      out += line([ctx.series.seriesInstanceUid, s.index, s.sopInstanceUid, s.frame, ...classes.map((c) => s.probabilities?.[c] ?? null), s.error ? `${s.error.code}: ${s.error.message}` : '']);
    }
  }
  return out;
}

/**
 * One row per finding (model and reviewer-added) with the review. `label` is the finding as the
 * PDF and the key images name it (F1, F2, ...: the model's findings in reading order, then the
 * reviewer's); `first_slice`/`last_slice` are its slices as people (the viewer, the PDF) number
 * them, from 1 in reading order (an axial stack from its top: shared/planes.ts), lower first. They are the last columns, so the earlier ones keep their positions: the
 * 0-based `slice_start`, `slice_end` and `key_slice` (the `slice_index` of slices.csv) stay for
 * compatibility. `key_instance_number` (added last, after them) is the key slice's InstanceNumber,
 * the image number another viewer shows (a reviewer-added finding: its slice's). `core_first_slice`
 * and `core_last_slice` (added after it) are the finding's core counted from 1, the slices scoring at
 * least half its peak (Finding.coreStart/coreEnd; empty for a reviewer's finding). Rows are in label order.
 */
export function findingsCsv(ctxs: readonly ReportContext[]): string {
  let out = line(['series_instance_uid', 'finding_id', 'origin', 'class', 'score', 'threshold', 'slice_start', 'slice_end', 'key_slice', 'key_sop_instance_uid', 'centroid_x', 'centroid_y', 'decision', 'comment', 'label', 'first_slice', 'last_slice', 'key_instance_number', 'core_first_slice', 'core_last_slice']);
  for (const ctx of ctxs) {
    const labels = findingLabels(ctx);
    // the numbers people use, lower first (reading order may run against the 0-based indices)
    const numbers = (a: number, b: number) => sliceNumbersOf(ctx, a, b);
    for (const { finding: f, review } of reviewedFindings(ctx)) {
      const core = f.coreStart !== undefined && f.coreEnd !== undefined ? numbers(f.coreStart, f.coreEnd) : [null, null];
      out += line([ctx.series.seriesInstanceUid, f.id, 'model', f.class, f.score, f.threshold, f.sliceStart, f.sliceEnd, f.keySlice, f.keySopInstanceUid, f.centroid?.[0] ?? null, f.centroid?.[1] ?? null, review?.decision ?? 'pending', review?.comment ?? '', labels.get(f.id), ...numbers(f.sliceStart, f.sliceEnd), ctx.sliceMeta?.[f.keySlice]?.instanceNumber, ...core]);
    }
    for (const a of ctx.added) {
      // its slice is its key slice (as its key image and the SR have it)
      out += line([ctx.series.seriesInstanceUid, a.id, 'reviewer', a.class, null, null, a.sliceStart, a.sliceEnd, a.sliceStart, ctx.analysis.slices[a.sliceStart]?.sopInstanceUid ?? null, a.centroid?.[0] ?? null, a.centroid?.[1] ?? null, 'added', a.comment ?? '', labels.get(a.id), ...numbers(a.sliceStart, a.sliceEnd), ctx.sliceMeta?.[a.sliceStart]?.instanceNumber, null, null]);
    }
  }
  return out;
}

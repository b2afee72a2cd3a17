/**
 * Findings the reviewer added (what the model missed) travel as reviews with the id
 * `added:<class>:<slice>` (decision accepted; rejected = withdrawn): the viewer writes and lists
 * them, the engine exports them. The reviewer's sign-off of the series travels the same way, as
 * the review `signoff` (decision accepted; pending = withdrawn), so it is saved, comes back after
 * a reload and reaches the report like any decision. The reviewer's impression (their conclusion,
 * free text) is the review `impression` with the text as its comment (decision accepted; rejected
 * = withdrawn). This is the one place that knows the encoding.
 */
import type { Review } from './api';

const PREFIX = 'added:';

export function addedFindingId(cls: string, slice: number): string {
  return `${PREFIX}${cls}:${slice}`;
}

export function isAddedFinding(findingId: string): boolean {
  return findingId.startsWith(PREFIX);
}

/** A finding nobody has decided on: no review, or one left at (or set back to) pending. What the panel, the export dialog and the report count alike. */
export const isUnreviewed = (review: Review | undefined): boolean => !review || review.decision === 'pending';

export const SIGN_OFF_ID = 'signoff';

/** The series' sign-off (a stack review, below). */
export function isSignOff(findingId: string): boolean {
  return findingId === SIGN_OFF_ID;
}

export const IMPRESSION_ID = 'impression';

/**
 * The reviewer's measurements changed after the sign-off (the review `measurements`, decision
 * edited): the measurements live in the viewer, so the viewer says so with this review, and the
 * sign-off goes stale like after any changed decision; the report lists the measurements as they
 * are at export.
 */
export const MEASUREMENTS_ID = 'measurements';

/**
 * A review of the whole stack rather than of one finding (the sign-off, the impression, the
 * measurements' change): finding lists leave these out, and they are anchored to the stack's
 * ends, not to slice numbers.
 */
export function isStackReview(findingId: string): boolean {
  return findingId === SIGN_OFF_ID || findingId === IMPRESSION_ID || findingId === MEASUREMENTS_ID;
}

/** The reviewer's impression among `reviews` (trimmed), or undefined when none was written or it was withdrawn. */
export function impressionOf(reviews: readonly Review[]): string | undefined {
  const r = reviews.find((x) => x.findingId === IMPRESSION_ID);
  const text = r?.decision === 'accepted' ? r.comment?.trim() : undefined;
  return text ? text : undefined;
}

export interface SignOff {
  /** ISO time of the sign-off. */
  at: string;
  reviewer?: string;
  /** False when a decision (or the impression) was changed after it: the series needs signing off again. */
  current: boolean;
}

/** The series' sign-off among `reviews`, or undefined when it was never signed off (or withdrawn). */
export function signOffOf(reviews: readonly Review[]): SignOff | undefined {
  const r = reviews.find((x) => isSignOff(x.findingId));
  if (!r || r.decision !== 'accepted') return undefined;
  const when = Date.parse(r.at);
  const current = !reviews.some((x) => !isSignOff(x.findingId) && Date.parse(x.at) > when);
  return { at: r.at, ...(r.reviewer ? { reviewer: r.reviewer } : {}), current };
}

export interface ReviewerFinding {
  id: string;
  class: string;
  slice: number;
  comment?: string;
  /** Where the reviewer placed it on its slice ([column, row]), when they did. */
  point?: [number, number];
}

/** The reviewer-added findings among `reviews` (withdrawn ones left out). */
export function reviewerFindings(reviews: readonly Review[]): ReviewerFinding[] {
  return reviews
    .filter((r) => isAddedFinding(r.findingId) && r.decision !== 'rejected')
    .map((r) => {
      const [, cls, slice] = r.findingId.split(':');
      return { id: r.findingId, class: cls ?? '', slice: Number(slice), ...(r.comment ? { comment: r.comment } : {}), ...(r.point ? { point: r.point } : {}) };
    });
}

/** A slice's instance: the SOP instance and the frame in it. */
export interface InstanceRef {
  sopInstanceUid: string;
  frame: number;
}

/** A slice's instance as decisions name it: `<SOPInstanceUID>#<frame>`. */
export const instanceKey = (ref: InstanceRef): string => `${ref.sopInstanceUid}#${ref.frame}`;

export interface ParsedReviewId {
  /** What the id says apart from its slice numbers (`lung_nodule`, `added:liver_lesion`). */
  kind: string;
  /** The slice numbers in the id (a finding's first and last, an added finding's one). */
  slices: number[];
  /** The id with other slice numbers (a range is written low-high). */
  make: (slices: number[]) => string;
}

/** The slice numbers inside a finding or reviewer-added id, or null for an id that names none. */
export function parseReviewId(id: string): ParsedReviewId | null {
  const added = /^added:(.+):(\d+)$/.exec(id);
  if (added) {
    const cls = added[1] as string;
    return { kind: `${PREFIX}${cls}`, slices: [Number(added[2])], make: ([s]) => addedFindingId(cls, s ?? 0) };
  }
  const finding = /^(.+):(\d+)-(\d+)$/.exec(id);
  if (finding) {
    const cls = finding[1] as string;
    return { kind: cls, slices: [Number(finding[2]), Number(finding[3])], make: (sl) => `${cls}:${Math.min(...sl)}-${Math.max(...sl)}` };
  }
  return null;
}

/** The anchor of `findingId`'s slice numbers in `ordered` (their instance keys), or undefined if it names no slice there. */
export function anchorOf(findingId: string, ordered: readonly InstanceRef[]): string[] | undefined {
  const parsed = parseReviewId(findingId);
  if (!parsed) return undefined;
  const refs = parsed.slices.map((i) => ordered[i]);
  if (refs.some((x) => x === undefined)) return undefined;
  return refs.map((x) => instanceKey(x as InstanceRef));
}

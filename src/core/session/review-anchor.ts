/**
 * Decisions are made on slice numbers: a finding's id is `lung_nodule:31-34`, a finding the
 * reviewer added is `added:liver_lesion:12`. Slice numbers move: opening the rest of a series
 * inserts slices before them, and a later session may open fewer of its files. A decision kept
 * by its numbers alone would then attach to whatever finding has those numbers now.
 *
 * So each stored decision also names the instances its numbers pointed at (SOP Instance UID and
 * frame: its anchor), and its id is derived again from them against the stack as it is now. A
 * decision whose instances are not in the stack is not shown there (it stays stored, and comes
 * back once its files are open again). Nothing here touches the disk; the session does.
 */
import { DECISIONS } from '../../shared/api';
import type { Review } from '../../shared/api';
import { anchorOf, instanceKey, isStackReview, parseReviewId } from '../../shared/review';
import type { InstanceRef } from '../../shared/review';
import type { AssembledSeries } from '../dicom/series';
import { isMainStack } from '../dicom/series';

/** A decision as the session stores it. */
export interface StoredReview extends Review {
  /** The instances the id's slice numbers named when the decision was made (`sop#frame`). */
  anchor?: string[];
}

/**
 * The anchor of a stack review (the sign-off, the impression): the stack's first and last
 * instances. It is the sign-off of that stack as it was (another stack of a split series has other
 * ends; opening more of the series moves them, and the stack then needs signing off again); the
 * impression was written on that stack, and comes back with it.
 */
function stackAnchor(ordered: readonly InstanceRef[]): string[] | undefined {
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  return first && last ? [instanceKey(first), instanceKey(last)] : undefined;
}

/** `r` with the anchor of its slice numbers in `ordered` (without one if its id names no slice there). */
export function anchorReview(r: Review, ordered: readonly InstanceRef[]): StoredReview {
  const { anchor: _old, ...plain } = r as StoredReview;
  const anchor = isStackReview(r.findingId) ? stackAnchor(ordered) : anchorOf(r.findingId, ordered);
  return anchor ? { ...plain, anchor } : plain;
}

/**
 * What makes two stored decisions one: the same kind of id on the same instances (anchored), or
 * the same id (stored before anchors existed). Deciding again replaces the decision with this key.
 */
export function reviewKey(r: StoredReview): string {
  if (isStackReview(r.findingId) && r.anchor) return `${r.findingId}@${r.anchor.join(',')}`;
  const parsed = parseReviewId(r.findingId);
  return r.anchor && parsed ? `${parsed.kind}@${r.anchor.join(',')}` : `id:${r.findingId}`;
}

/**
 * The decisions that apply to the stack `ordered`, by their id there: an anchored one where all
 * its instances are in the stack (with the numbers they have now), one without an anchor (stored
 * before anchors existed) at its numbers when `legacy` allows (only the stack it was made on can
 * take it: the series' main stack). Where two land on the same id the later decision wins.
 */
export function placeReviews(stored: readonly StoredReview[], ordered: readonly InstanceRef[], legacy = true): Map<string, StoredReview> {
  const at = new Map<string, number>();
  ordered.forEach((ref, i) => at.set(instanceKey(ref), i));
  const active = new Map<string, StoredReview>();
  const byTime = [...stored].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const ends = stackAnchor(ordered)?.join(',');
  for (const r of byTime) {
    if (isStackReview(r.findingId) && r.anchor) {
      // this stack's own sign-off or impression, while its ends are what they were
      if (r.anchor.join(',') === ends) active.set(r.findingId, r);
      continue;
    }
    const parsed = parseReviewId(r.findingId);
    if (!parsed || !r.anchor) {
      if (legacy && (!parsed || parsed.slices.every((i) => i < ordered.length))) active.set(r.findingId, r);
      continue;
    }
    const slices = r.anchor.map((k) => at.get(k));
    if (slices.length !== parsed.slices.length || slices.some((i) => i === undefined)) continue;
    const id = parsed.make(slices as number[]);
    active.set(id, { ...r, findingId: id });
  }
  return active;
}

/** `placeReviews` on a stack of a series, as the wire form: legacy decisions only on the series' main stack. */
export function reviewsOnStack(stored: readonly StoredReview[], s: Pick<AssembledSeries, 'id' | 'seriesInstanceUid' | 'ordered'>): Review[] {
  return [...placeReviews(stored, s.ordered, isMainStack(s)).values()].map(plainReview);
}

/** The decisions in a parsed review file; entries that are not decisions are dropped. */
export function storedReviews(json: unknown): StoredReview[] {
  if (!Array.isArray(json)) return [];
  return json.filter((r): r is StoredReview => {
    if (typeof r !== 'object' || r === null) return false;
    const x = r as Record<string, unknown>;
    const anchorOk = x['anchor'] === undefined || (Array.isArray(x['anchor']) && x['anchor'].every((k) => typeof k === 'string'));
    return typeof x['findingId'] === 'string' && (DECISIONS as readonly unknown[]).includes(x['decision']) && typeof x['at'] === 'string' && anchorOk;
  }).map((r) => {
    // a point that is not two finite numbers is dropped (the finding stays, without a place)
    const pt = (r as { point?: unknown }).point;
    if (pt === undefined || (Array.isArray(pt) && pt.length === 2 && pt.every((v) => typeof v === 'number' && Number.isFinite(v)))) return r;
    const { point: _bad, ...rest } = r;
    return rest;
  });
}

/** The wire form of a stored decision (the anchor stays in the session). */
export function plainReview(r: StoredReview): Review {
  const { anchor: _a, ...plain } = r;
  return plain;
}

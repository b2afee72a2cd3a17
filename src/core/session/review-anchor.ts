/**
 * Decisions are made on slice numbers: a finding's id is `lung_nodule:31-34`, a finding the
 * reviewer added is `added:liver_lesion:12`. Slice numbers move: opening the rest of a series
 * inserts slices before them, and a later session may open fewer of its files. A decision kept
 * by its numbers alone would then attach to whatever finding has those numbers now.
 *
 * So each stored decision also names the instances its numbers pointed at (SOP Instance UID and
 * frame: its anchor), and its id is derived again from them against the stack as it is now. A
 * decision whose instances are not all open is set aside: kept in the file, not shown, and back
 * once its files are open again. Nothing here touches the disk; the session does.
 */
import { DECISIONS } from '../../shared/api';
import type { Review } from '../../shared/api';

/** A decision as the session stores it. */
export interface StoredReview extends Review {
  /** The instances the id's slice numbers named when the decision was made (`sop#frame`). */
  anchor?: string[];
}

export interface InstanceRef {
  sopInstanceUid: string;
  frame: number;
}

export const instanceKey = (ref: InstanceRef): string => `${ref.sopInstanceUid}#${ref.frame}`;

interface ParsedId {
  /** Rebuild the id with other slice numbers. */
  make: (slices: number[]) => string;
  slices: number[];
}

/** The slice numbers inside a review id, or null for an id that names none. */
export function parseReviewId(id: string): ParsedId | null {
  const added = /^added:(.+):(\d+)$/.exec(id);
  if (added) {
    const cls = added[1] as string;
    return { slices: [Number(added[2])], make: ([s]) => `added:${cls}:${s}` };
  }
  const finding = /^(.+):(\d+)-(\d+)$/.exec(id);
  if (finding) {
    const cls = finding[1] as string;
    return { slices: [Number(finding[2]), Number(finding[3])], make: ([a, b]) => `${cls}:${a}-${b}` };
  }
  return null;
}

/** `r` with the anchor of its slice numbers in `ordered` (unchanged if its id names no slice there). */
export function anchorReview(r: Review, ordered: readonly InstanceRef[]): StoredReview {
  const { anchor: _old, ...plain } = r as StoredReview;
  const parsed = parseReviewId(r.findingId);
  if (!parsed) return plain;
  const refs = parsed.slices.map((i) => ordered[i]);
  if (refs.some((x) => x === undefined)) return plain;
  return { ...plain, anchor: refs.map((x) => instanceKey(x as InstanceRef)) };
}

/**
 * Place stored decisions on the stack `ordered`: each anchored one gets the id its instances have
 * now, or goes aside when one of them is not in the stack. A decision stored without an anchor
 * (before anchors existed) is taken at its numbers and anchored there. Where two land on the same
 * id the later decision wins, as it did when it was made.
 */
export function placeReviews(stored: readonly StoredReview[], ordered: readonly InstanceRef[]): { active: Map<string, StoredReview>; aside: StoredReview[] } {
  const at = new Map<string, number>();
  ordered.forEach((ref, i) => at.set(instanceKey(ref), i));
  const active = new Map<string, StoredReview>();
  const aside: StoredReview[] = [];
  const byTime = [...stored].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const r of byTime) {
    const parsed = parseReviewId(r.findingId);
    if (!parsed) {
      active.set(r.findingId, r);
      continue;
    }
    if (!r.anchor) {
      const anchored = anchorReview(r, ordered);
      if (anchored.anchor) active.set(r.findingId, anchored);
      else aside.push(r);
      continue;
    }
    const slices = r.anchor.map((k) => at.get(k));
    if (slices.length !== parsed.slices.length || slices.some((i) => i === undefined)) {
      aside.push(r);
      continue;
    }
    const id = parsed.make(slices as number[]);
    active.set(id, { ...r, findingId: id });
  }
  return { active, aside };
}

/** The decisions in a parsed review file; entries that are not decisions are dropped. */
export function storedReviews(json: unknown): StoredReview[] {
  if (!Array.isArray(json)) return [];
  return json.filter((r): r is StoredReview => {
    if (typeof r !== 'object' || r === null) return false;
    const x = r as Record<string, unknown>;
    const anchorOk = x['anchor'] === undefined || (Array.isArray(x['anchor']) && x['anchor'].every((k) => typeof k === 'string'));
    return typeof x['findingId'] === 'string' && (DECISIONS as readonly unknown[]).includes(x['decision']) && typeof x['at'] === 'string' && anchorOk;
  });
}

/** The wire form of a stored decision (the anchor stays in the session). */
export function plainReview(r: StoredReview): Review {
  const { anchor: _a, ...plain } = r;
  return plain;
}

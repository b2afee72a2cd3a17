/**
 * Findings the reviewer added (what the model missed) travel as reviews with the id
 * `added:<class>:<slice>` (decision accepted; rejected = withdrawn): the viewer writes and lists
 * them, the engine exports them. This is the one place that knows the encoding.
 */
import type { Review } from './api';

const PREFIX = 'added:';

export function addedFindingId(cls: string, slice: number): string {
  return `${PREFIX}${cls}:${slice}`;
}

export function isAddedFinding(findingId: string): boolean {
  return findingId.startsWith(PREFIX);
}

export interface ReviewerFinding {
  id: string;
  class: string;
  slice: number;
  comment?: string;
}

/** The reviewer-added findings among `reviews` (withdrawn ones left out). */
export function reviewerFindings(reviews: readonly Review[]): ReviewerFinding[] {
  return reviews
    .filter((r) => isAddedFinding(r.findingId) && r.decision !== 'rejected')
    .map((r) => {
      const [, cls, slice] = r.findingId.split(':');
      return { id: r.findingId, class: cls ?? '', slice: Number(slice), ...(r.comment ? { comment: r.comment } : {}) };
    });
}

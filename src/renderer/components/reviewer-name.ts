/**
 * The reviewer's name as they typed it, kept in the browser's storage: the sign-off records it
 * and the export prints it, so it is typed once, in the findings panel or the export dialog.
 */
export const REVIEWER_KEY = 'resight.reviewer';

export function storedReviewer(): string {
  return localStorage.getItem(REVIEWER_KEY) ?? '';
}

export function storeReviewer(name: string): void {
  localStorage.setItem(REVIEWER_KEY, name);
}

/**
 * Operating points: which score counts as a finding. A card's `outputs.thresholds` is its
 * default point (the default model's: Youden's J on validation, a balance of sensitivity and
 * specificity); `outputs.operatingPoints` may name others (e.g. specificity >= 0.90 on
 * validation, for fewer false flags per study). A site picks one in Preferences; a point the
 * loaded model does not have falls back to the default, and says so.
 */
import type { OperatingPoint } from '../../shared/analysis';
import type { ModelCard } from './card';

export interface ResolvedOperatingPoint extends OperatingPoint {
  /** Set when the requested point was not found and the default was used instead: why, and what was used. */
  fallback?: string;
  /** With `fallback`: only why (the requested id is not in the card, and which ids it has), for callers that refuse instead of falling back. */
  notFound?: string;
}

const sameThresholds = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>, classes: readonly string[]) =>
  classes.every((c) => a[c] === b[c]);

/** Every point the card offers, the default first (named after the listed point it equals, if any). */
export function operatingPoints(card: ModelCard): OperatingPoint[] {
  const { classes, thresholds } = card.outputs;
  const listed = card.outputs.operatingPoints ?? [];
  const same = listed.find((op) => sameThresholds(op.thresholds, thresholds, classes));
  const first: OperatingPoint = same
    ? { id: same.id, label: same.label, thresholds: { ...same.thresholds } }
    : { id: 'default', label: "The card's operating thresholds", thresholds: { ...thresholds } };
  return [first, ...listed.filter((op) => op !== same).map((op) => ({ id: op.id, label: op.label, thresholds: { ...op.thresholds } }))];
}

/** The point with this id (undefined: the default); an unknown id gives the default with a reason. */
export function resolveOperatingPoint(card: ModelCard, id?: string): ResolvedOperatingPoint {
  const all = operatingPoints(card);
  if (id === undefined) return all[0];
  const hit = all.find((op) => op.id === id);
  if (hit) return hit;
  const notFound = `operating point '${id}' is not in ${card.name} ${card.version}'s card (it has ${all.map((op) => op.id).join(', ')})`;
  return { ...all[0], notFound, fallback: `${notFound}; using '${all[0].id}'` };
}

/** True when an analysis made at `used` thresholds can be reused for `wanted` ones. */
export function thresholdsEqual(used: Readonly<Record<string, number>> | undefined, wanted: Readonly<Record<string, number>>, classes: readonly string[]): boolean {
  return used !== undefined && sameThresholds(used, wanted, classes);
}

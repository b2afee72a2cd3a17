/** The score strip's row colours (ScoreStrip.tsx). */

/**
 * A row's colour. Below the operating threshold, olive brightening toward it; at or above it, red
 * as strong as the probability is between the threshold and 1: a finding the model barely calls
 * (p 0.29 against a threshold of 0.16) is a dull red, one it is sure of (p 0.998) a bright one
 * (the red used to be full at 1.7 times the threshold, so the two looked alike).
 */
export function scoreColour(top: { cls: string; p: number; ratio: number } | null, thresholds: Record<string, number>): string {
  const s = Math.max(0, top?.ratio ?? 0);
  if (!top || s < 1) return `rgb(${Math.round(40 + s * 120)},${Math.round(40 + s * 60)},40)`;
  const th = Math.min(0.999, Math.max(0, thresholds[top.cls] ?? 0.5));
  const u = Math.min(1, Math.max(0, (top.p - th) / (1 - th)));
  return `rgb(${Math.round(130 + 125 * u)},${Math.round(56 - 16 * u)},40)`;
}

/** Patient orientation labels from DICOM direction cosines (LPS), for the viewer and key images. */

/** Patient-direction letters of a direction cosine vector: the dominant axes, strongest first. */
export function directionLetters(v: readonly number[]): string {
  const axes: [number, string, string][] = [
    [v[0], 'L', 'R'],
    [v[1], 'P', 'A'],
    [v[2], 'H', 'F'],
  ];
  return axes
    .filter(([c]) => Math.abs(c) > 0.3)
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .map(([c, pos, neg]) => (c > 0 ? pos : neg))
    .join('');
}

const LETTER: Record<string, [number, number, number]> = { L: [1, 0, 0], R: [-1, 0, 0], P: [0, 1, 0], A: [0, -1, 0], H: [0, 0, 1], F: [0, 0, -1] };

/**
 * A direction cosine vector (LPS) from patient-direction letters, as PatientOrientation (0020,0020)
 * gives them ('F', 'LF', 'LFP'): the unit sum of the letters' axes weighted 1, 0.8, 0.6, so the
 * order stays and even a third letter keeps more than directionLetters' 0.3 (0.42). Only for
 * orientation letters: a radiograph has no geometry beyond them.
 */
const LETTER_WEIGHTS = [1, 0.8, 0.6];
export function cosinesOfLetters(letters: string): number[] {
  const v = [0, 0, 0];
  [...letters].forEach((c, i) => LETTER[c]?.forEach((x, k) => (v[k] += x * (LETTER_WEIGHTS[i] ?? 0.5))));
  const n = Math.hypot(v[0], v[1], v[2]) || 1;
  return v.map((x) => x / n + 0);
}

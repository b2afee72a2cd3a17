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

/** Showing DICOM values to people. */

/** A Person Name (PN) as text: the alphabetic group, components separated by spaces ("DOE^JOHN" -> "DOE JOHN"). */
export function personNameText(pn: string): string {
  return pn.split('=')[0].replace(/\^+/g, ' ').trim();
}

/** English counts for the CLI's and the report's text (the viewer's are in its messages, per language). */

/** The singular for 1, else the plural: "finding" / "findings", "was" / "were". */
export const plural = (n: number, one: string, other = `${one}s`): string => (n === 1 ? one : other);

/** "1 file", "3 files": the count with its noun (never "file(s)"). */
export const count = (n: number, one: string, other?: string): string => `${n} ${plural(n, one, other)}`;

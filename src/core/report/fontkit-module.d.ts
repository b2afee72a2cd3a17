// fontkit 2 ships no type declarations; core/report/fontkit.ts adapts the parts pdf-lib uses.
declare module 'fontkit' {
  /** A font file's font, or a collection (.ttc, .dfont) when no PostScript name picks one. */
  export function create(buffer: Buffer, postscriptName?: string): { createSubset(): unknown } | { fonts: unknown[] };
}

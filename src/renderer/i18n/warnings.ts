/**
 * The engine words its series warnings in English (the CLI prints them, logs keep them). The
 * viewer says them in the user's language: each known warning is recognised here and reworded
 * through the message catalogue; one not known here is shown as the engine wrote it. The unit test
 * runs the real assembly code on series that raise each warning, so a change of wording in the
 * engine fails there, not silently in the UI.
 */
import type { MessageKey } from './messages';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

const RULES: { re: RegExp; say: (m: RegExpExecArray, t: T) => string }[] = [
  { re: /^(\d+) duplicate slice position\(s\)/, say: (m, t) => t('warn.duplicates', { n: m[1] ?? '' }) },
  {
    re: /^gap in slice positions (.+)$/,
    say: (m, t) =>
      t('warn.gap', {
        gaps: (m[1] ?? '')
          .split('; ')
          .map((g) => {
            const x = /^between the slices at (-?[\d.]+) and (-?[\d.]+) mm: ([\d.]+) mm \((\d+) missing at ([\d.]+) mm\)$/.exec(g);
            return x ? t('warn.gapOne', { a: x[1] ?? '', b: x[2] ?? '', d: x[3] ?? '', k: x[4] ?? '', s: x[5] ?? '' }) : g;
          })
          .join('; '),
      }),
  },
  { re: /^non-uniform slice spacing: ([\d.]+) to ([\d.]+) mm \(median ([\d.]+) mm\)$/, say: (m, t) => t('warn.uneven', { min: m[1] ?? '', max: m[2] ?? '', median: m[3] ?? '' }) },
  { re: /^gantry tilt \/ sheared stack: slices advance ([\d.]+) degrees off the slice normal$/, say: (m, t) => t('warn.tilt', { deg: m[1] ?? '' }) },
  { re: /^all slices share one position/, say: (_m, t) => t('warn.onePosition') },
  { re: /^ImagePositionPatient\/ImageOrientationPatient missing: slices ordered by InstanceNumber/, say: (_m, t) => t('warn.byInstance') },
  { re: /^no position or InstanceNumber: slices kept in file order/, say: (_m, t) => t('warn.byFile') },
  { re: /^(.+): the file ends inside its pixel data \((\d+) of (\d+) bytes\)$/, say: (m, t) => t('warn.truncated', { file: m[1] ?? '', got: m[2] ?? '', want: m[3] ?? '' }) },
  { re: /^(.+): the file ends inside its pixel data \((\d+) fragments?, no end of the encapsulated data\)$/, say: (m, t) => t('warn.truncatedFragments', { file: m[1] ?? '', n: m[2] ?? '' }) },
  { re: /^(.+): NumberOfFrames is (\d+), but its Pixel Data holds (\d+) frames?: (\d+) used$/, say: (m, t) => t('warn.framesClamped', { file: m[1] ?? '', declared: m[2] ?? '', fit: m[3] ?? '', kept: m[4] ?? '' }) },
  { re: /^missing Study\/Series Instance UID/, say: (_m, t) => t('warn.noUid') },
  { re: /^lossy transfer syntax$/, say: (_m, t) => t('warn.lossy') },
  { re: /^no preamble\/DICM prefix/, say: (_m, t) => t('warn.raw') },
  // export warnings (report/export.ts, report/pdf.ts)
  {
    re: /^key image of (.+) left out of the de-identified export: its source image may carry burned-in patient text \(BurnedInAnnotation (.+), modality (.+)\)$/,
    say: (m, t) => t('warn.keyImageLeftOut', { finding: m[1] ?? '', burnedIn: m[2] ?? '', modality: m[3] ?? '' }),
  },
  {
    re: /^key image of (.+) not written as a Secondary Capture: the reviewer rejected the finding \(the PDF and the SR keep it\)$/,
    say: (m, t) => t('warn.keyImageRejected', { finding: m[1] ?? '' }),
  },
  { re: /^no Unicode font found/, say: (_m, t) => t('warn.noFont') },
];

/** A series or export warning in the user's language (as written when it is not one this table knows). */
export function sayWarning(w: string, t: T): string {
  for (const r of RULES) {
    const m = r.re.exec(w);
    if (m) return r.say(m, t);
  }
  return w;
}

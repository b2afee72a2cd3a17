/**
 * The PDF report (pdf-lib): real text, not pictures of text, so it can be searched, copied and
 * read by a screen reader. Page 1 holds the header (patient, study, series) with a DRAFT line while
 * the review is not complete, the AI summary, the findings (F1, F2, ..., slices counted from 1)
 * with the reviewer's decisions, the model and the sign-off; then one page per two key images
 * with their captions. Every page carries the intended-use statement and "Page n of N".
 *
 * Text outside WinAnsi (Japanese names, ...) needs a Unicode font: ReSight looks for one on the
 * system (RESIGHT_PDF_FONT first, then common CJK TrueType fonts) and embeds the subset it uses;
 * without one those characters print as '?' and the result lists a warning.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { PDFFont, PDFPage } from 'pdf-lib';
import { PDFDocument, PageSizes, StandardFonts, rgb } from 'pdf-lib';
import type { Review } from '../../shared/api';
import type { Finding } from '../../shared/analysis';
import { narrowerCore } from '../../shared/analysis';
import { plural } from '../../shared/plural';
import type { ReportContext } from './context';
import { CALIBRATION_NOTE, draftReasons, findingLabels, imageNumberText, imageRangeText, isUnreviewed, keyImagesInLabelOrder, patientPointText, reviewedFindings, reviewStatus, sliceNumberOf, sliceRangeOf } from './context';
import { keyImageForExport } from './sc';
import { personNameText } from '../../shared/dicom-text';
import { encodePng } from './png';
import { formatScale, renderKeyImage, scaleBarMm } from './render';
import { APP_NAME, APP_VERSION } from './dicom-modules';
import { fontkit } from './fontkit';
import { warnEnv } from '../settings/env';

export type PaperSize = 'a4' | 'letter';

export interface PdfOptions {
  paper?: PaperSize;
  /** A TrueType font with the glyphs the report needs beyond WinAnsi (default: searched). */
  unicodeFontPath?: string;
}

export interface PdfResult {
  bytes: Uint8Array;
  pages: number;
  warnings: string[];
}

/** TrueType fonts with Japanese glyphs, in order of preference (Linux, Windows, macOS). */
const UNICODE_FONT_CANDIDATES = [
  '/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf',
  '/usr/share/fonts/truetype/fonts-japanese-gothic.ttf',
  '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
  '/usr/share/fonts/truetype/droid/DroidSansFallback.ttf',
  'C:\\Windows\\Fonts\\arialuni.ttf',
  '/Library/Fonts/Arial Unicode.ttf',
  '/System/Library/Fonts/Supplemental/Arial Unicode.ttf',
];

export function findUnicodeFont(explicit?: string): string | undefined {
  const env = process.env.RESIGHT_PDF_FONT;
  if (env && !fs.existsSync(env)) warnEnv('RESIGHT_PDF_FONT', env, 'is not a file: the first installed Unicode font is used');
  for (const p of [explicit, env, ...UNICODE_FONT_CANDIDATES]) if (p && fs.existsSync(p)) return p;
  return undefined;
}

/**
 * What the standard fonts (Helvetica, Courier) print: WinAnsi (cp1252), i.e. printable ASCII,
 * Latin-1 and the characters cp1252 puts at 0x80-0x9F: typographic quotes ’ ‘ “ ” ‚ „, dashes
 * – —, … € • ™ † ‡ ‰ ‹ › ˆ ˜ Š š Œ œ Ž ž Ÿ ƒ. A name like O’Brien keeps its apostrophe.
 */
const winAnsi = (s: string) => /^[\x20-\x7e\u00a0-\u00ff\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]*$/.test(s);

const GREY = rgb(0.35, 0.35, 0.35);
const BLACK = rgb(0, 0, 0);
const RED = rgb(0.75, 0.05, 0.05);
const RULE = rgb(0.75, 0.75, 0.75);

const fmtDate = (da?: string) => (da && /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : da || '-');
const fmtPn = (pn: string) => personNameText(pn) || pn || '-';

export async function renderPdf(ctx: ReportContext, opts: PdfOptions = {}): Promise<PdfResult> {
  const warnings: string[] = [];
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const mono = await doc.embedFont(StandardFonts.Courier);
  let unicode: PDFFont | null = null;
  let unicodeChars: Set<number> | null = null;
  let unicodeTried = false;
  const loadUnicode = async () => {
    if (unicodeTried) return;
    unicodeTried = true;
    const p = findUnicodeFont(opts.unicodeFontPath);
    if (p) {
      const bytes = fs.readFileSync(p);
      // a subset's name carries a six-letter tag (PDF 32000-1, 9.6.4), so readers and archive
      // validators know the font is not complete
      const tag = Array.from(randomBytes(6), (b) => String.fromCharCode(65 + (b % 26))).join('');
      unicode = await doc.embedFont(bytes, { subset: true, customName: `${tag}+${fontkit.create(bytes).postscriptName || 'Unicode'}` });
      unicodeChars = new Set(unicode.getCharacterSet());
    } else warnings.push('no Unicode font found (set RESIGHT_PDF_FONT to a TrueType font with the needed glyphs): characters outside Latin-1 are printed as ?');
  };
  /** `s` as runs of one font each: WinAnsi text in `base` (Helvetica/Courier: the report's own
   * look), the rest in the Unicode font, so a Japanese name next to Latin text keeps both (CJK
   * fallback fonts such as Droid Sans Fallback have no Latin glyphs). A character no font has
   * becomes '?'. */
  const runsOf = async (s: string, base: PDFFont): Promise<{ s: string; f: PDFFont }[]> => {
    if (winAnsi(s)) return [{ s, f: base }];
    await loadUnicode();
    const runs: { s: string; f: PDFFont }[] = [];
    for (const ch of s) {
      const cp = ch.codePointAt(0) ?? 0x3f;
      const latin = winAnsi(ch);
      const f = latin || !unicode || !unicodeChars?.has(cp) ? base : unicode;
      const c = latin || f === unicode ? ch : '?';
      const last = runs[runs.length - 1];
      if (last && last.f === f) last.s += c;
      else runs.push({ s: c, f });
    }
    return runs;
  };

  const [W, H] = opts.paper === 'letter' ? PageSizes.Letter : PageSizes.A4;
  const M = 42;
  const footerH = 46;
  const pages: PDFPage[] = [];
  let page!: PDFPage;
  let y = 0;
  const newPage = () => {
    page = doc.addPage([W, H]);
    pages.push(page);
    y = H - M;
  };

  const text = async (s: string, x: number, size = 9, base: PDFFont = regular, color = BLACK) => {
    let xx = x;
    for (const r of await runsOf(s, base)) {
      page.drawText(r.s, { x: xx, y, size, font: r.f, color });
      xx += r.f.widthOfTextAtSize(r.s, size);
    }
  };
  const widthOf = async (s: string, size: number, base: PDFFont) => {
    let w = 0;
    for (const r of await runsOf(s, base)) w += r.f.widthOfTextAtSize(r.s, size);
    return w;
  };
  /** Word-wrap `s` into lines no wider than `width`. A word wider than a line (a UID, a path,
   * Japanese text, which has no spaces) is broken between characters rather than run off the page. */
  const wrap = async (s: string, width: number, size: number, base: PDFFont): Promise<string[]> => {
    const out: string[] = [];
    for (const para of s.split('\n')) {
      let line = '';
      for (const word of para.split(/\s+/).filter(Boolean)) {
        const next = line ? `${line} ${word}` : word;
        if ((await widthOf(next, size, base)) <= width) {
          line = next;
          continue;
        }
        if (line) out.push(line);
        line = '';
        for (const ch of word) {
          if (line && (await widthOf(line + ch, size, base)) > width) {
            out.push(line);
            line = '';
          }
          line += ch;
        }
      }
      out.push(line);
    }
    return out;
  };
  const ensure = (h: number) => {
    if (y - h < M + footerH) newPage();
  };
  const paragraph = async (s: string, size = 9, base: PDFFont = regular, color = BLACK, x = M, width = W - 2 * M) => {
    for (const line of await wrap(s, width, size, base)) {
      ensure(size + 3);
      await text(line, x, size, base, color);
      y -= size + 3;
    }
  };
  const heading = async (s: string) => {
    // room for the heading, a table's column titles and its first row: a heading never ends a page
    ensure(52);
    y -= 6;
    await text(s, M, 11, bold);
    y -= 5;
    page.drawLine({ start: { x: M, y }, end: { x: W - M, y }, thickness: 0.5, color: RULE });
    y -= 12;
  };
  /** Label/value rows in two columns. */
  const fields = async (rows: [string, string][], x: number, labelW: number, colW: number): Promise<number> => {
    let yy = y;
    for (const [k, v] of rows) {
      const lines = await wrap(v || '-', colW - labelW, 9, regular);
      const save = y;
      y = yy;
      await text(k, x, 8, regular, GREY);
      for (const l of lines) {
        await text(l, x + labelW, 9);
        y -= 11;
      }
      yy = y;
      y = save;
    }
    return yy;
  };
  const table = async (cols: { title: string; w: number }[], rows: string[][]) => {
    ensure(28);
    const titles = async () => {
      let tx = M;
      for (const c of cols) {
        await text(c.title, tx, 8, bold, GREY);
        tx += c.w;
      }
      y -= 4;
      page.drawLine({ start: { x: M, y }, end: { x: W - M, y }, thickness: 0.4, color: RULE });
      y -= 10;
    };
    await titles();
    let x = M;
    for (const r of rows) {
      const cells = await Promise.all(r.map((v, i) => wrap(v, cols[i].w - 6, 8.5, regular)));
      const h = Math.max(...cells.map((c) => c.length)) * 10.5;
      // a table that runs onto a new page repeats its column titles there
      const before = page;
      ensure(h + 2);
      if (page !== before) await titles();
      const top = y;
      x = M;
      for (let i = 0; i < cols.length; i++) {
        y = top;
        for (const l of cells[i]) {
          await text(l, x, 8.5);
          y -= 10.5;
        }
        x += cols[i].w;
      }
      y = top - h - 2;
    }
    y -= 4;
  };

  // ------------------------------------------------------------------ page 1: header
  newPage();
  await text('ReSight - AI second-reader report', M, 16, bold);
  y -= 16;
  if (ctx.model.notForClinicalUse) {
    await text('NOT FOR CLINICAL USE - research and demonstration only', M, 10, bold, RED);
    y -= 13;
  }
  // a report that is not final says so where it is read first, not only in its Sign-off section
  const status = reviewStatus(ctx);
  const draft = draftReasons(status);
  if (draft.length) await paragraph(`DRAFT - ${draft.join('; ')}.`, 10, bold, RED);
  // a final report says so as plainly as a draft does, rather than by the draft line's absence
  else if (ctx.signOff?.current) await paragraph(`Reviewed: signed off in the viewer at ${ctx.signOff.at.replace('T', ' ').slice(0, 16)} UTC${ctx.signOff.reviewer ? ` by ${fmtPn(ctx.signOff.reviewer)}` : ''}${status.findings ? `; ${status.findings === 1 ? 'the AI finding' : `all ${status.findings} AI findings`} reviewed` : ''}.`, 10, bold, BLACK);
  if (ctx.deidentified) {
    await text(`De-identified export: ${ctx.deidentified.methodText}`, M, 8.5, regular, GREY);
    y -= 12;
  }
  y -= 4;
  await heading('Patient, study and series');
  const colW = (W - 2 * M) / 2;
  const p = ctx.patient;
  const s = ctx.study;
  const left = await fields(
    [
      ['Patient', fmtPn(p.name)],
      ['Patient ID', p.id || '-'],
      ['Birth date', fmtDate(p.birthDate)],
      ['Sex', p.sex || '-'],
      ['Series', `${ctx.series.number ?? '-'} ${ctx.series.description ?? ''} (${ctx.series.modality}, ${ctx.analysis.slices.length} ${plural(ctx.analysis.slices.length, 'slice')})`.trim()],
    ],
    M,
    62,
    colW,
  );
  const right = await fields(
    [
      ['Study date', `${fmtDate(s.date)}${s.time ? ` ${s.time.slice(0, 2)}:${s.time.slice(2, 4)}` : ''}`],
      ['Study', s.description || '-'],
      ['Accession', s.accessionNumber || '-'],
      ['Institution', s.institution || '-'],
      ['Referring', s.referringPhysician ? fmtPn(s.referringPhysician) : '-'],
    ],
    M + colW,
    62,
    colW,
  );
  y = Math.min(left, right) - 4;
  await text('Series UID', M, 8, regular, GREY);
  await text(ctx.series.seriesInstanceUid, M + 62, 7.5, mono);
  y -= 12;

  // ------------------------------------------------------------------ the reviewer's impression
  // their own conclusion, in their words, where a referring physician reads first (after whose
  // report it is); "(reviewer)" so nobody reads it as the model's
  if (ctx.impression) {
    await heading('Impression (reviewer)');
    await paragraph(ctx.impression, 10);
  }

  // ------------------------------------------------------------------ AI summary
  await heading('AI summary');
  const findings = reviewedFindings(ctx);
  // findings are named F1, F2, ... (report order) and slices numbered from 1 in reading order, as the
  // viewer numbers them (an axial stack from its top); the internal id (0-based slices) is for the SR, JSON and CSV
  const labels = findingLabels(ctx);
  const labelOf = (id: string) => labels.get(id) ?? '-';
  const summaryRows = ctx.model.classes.map((cls) => {
    const probs = ctx.analysis.slices.map((x) => x.probabilities?.[cls]).filter((v): v is number => typeof v === 'number');
    const max = probs.length ? Math.max(...probs) : NaN;
    const runs = findings.filter((f) => f.finding.class === cls).map((f) => `${labelOf(f.finding.id)} ${sliceRangeOf(ctx, f.finding.sliceStart, f.finding.sliceEnd)}`);
    return [cls.replace(/_/g, ' '), Number.isFinite(max) ? max.toFixed(3) : '-', (ctx.model.thresholds[cls] ?? NaN).toFixed(3), runs.length ? runs.join(', ') : 'none'];
  });
  await table(
    [
      { title: 'Class', w: 120 },
      { title: 'Highest probability', w: 110 },
      { title: 'Operating threshold', w: 110 },
      { title: 'Finding slices (1-based)', w: W - 2 * M - 340 },
    ],
    summaryRows,
  );
  if (ctx.model.operatingPoint) await paragraph(`Operating point: ${ctx.model.operatingPoint} (model card ${ctx.model.name} ${ctx.model.version}).`, 8, regular, GREY);
  const failed = ctx.analysis.slices.filter((x) => x.probabilities === null).length;
  if (failed) await paragraph(`${failed} ${plural(failed, 'slice', 'slices')} could not be decoded and ${plural(failed, 'was', 'were')} not scored.`, 8.5, regular, RED);

  // ------------------------------------------------------------------ findings and review
  await heading('Findings and review');
  if (!findings.length && !ctx.added.length) await paragraph('The model flagged no finding above the operating thresholds and the reviewer added none.');
  // a decision left at pending is no decision: "Not reviewed", as the SR codes it and the viewer shows it
  // the core, where it is narrower than the run: a run's long weak tails are not the lesion
  const coreText = (f: Finding) => {
    const core = narrowerCore(f);
    return core ? `strongest ${sliceRangeOf(ctx, core.start, core.end)}` : '';
  };
  // where a finding is, as a clinician places it: the side, front or back, and height in the
  // patient (mm, rounded) from its key image's geometry; pixels only where there is none
  const locationText = (id: string, index: number, pt: [number, number]) => {
    const k = ctx.keyImages.find((x) => x.findingId === id);
    const where = k ? patientPointText(ctx, index, pt, k.image.imageOrientationPatient, k.image.pixelSpacing) : '';
    return where ? where.replace(/\d+\.\d/g, (mm) => String(Math.round(Number(mm)))) : `${pt[0].toFixed(0)}, ${pt[1].toFixed(0)} px`;
  };
  // a line each: the report's numbers, the InstanceNumbers (what a PACS viewer shows, to find the
  // finding there), the core
  const slicesCell = (f: Finding) => {
    const ims = imageRangeText(ctx, f.sliceStart, f.sliceEnd);
    const key = imageNumberText(ctx, f.keySlice);
    return [`${sliceRangeOf(ctx, f.sliceStart, f.sliceEnd)}, key ${sliceNumberOf(ctx, f.keySlice)}`, ims && key ? `${ims}, key ${key.replace(/^Im /, '')}` : key ? `key ${key}` : '', coreText(f)].filter(Boolean).join('\n');
  };
  const decisionText = (r: Review | undefined) => (r && !isUnreviewed(r) ? r.decision[0].toUpperCase() + r.decision.slice(1) : 'Not reviewed');
  await table(
    [
      { title: 'Finding', w: 34 },
      { title: 'Class', w: 78 },
      { title: 'Score', w: 40 },
      { title: 'Slices', w: 90 },
      // wide enough for "R 122, A 43, I 164 mm" on one line (the unit wrapped onto a line of its own)
      { title: 'Location', w: 92 },
      { title: 'Decision', w: 62 },
      { title: 'Comment', w: W - 2 * M - 396 },
    ],
    [
      ...findings.map(({ finding: f, review }) => [
        labelOf(f.id),
        f.class.replace(/_/g, ' '),
        f.score.toFixed(3),
        slicesCell(f),
        f.centroid ? locationText(f.id, f.keySlice, f.centroid) : '-',
        decisionText(review),
        review?.comment ?? '',
      ]),
      ...ctx.added.map((a) => [labelOf(a.id), a.class.replace(/_/g, ' '), '-', [sliceRangeOf(ctx, a.sliceStart, a.sliceEnd), imageRangeText(ctx, a.sliceStart, a.sliceEnd) || imageNumberText(ctx, a.sliceStart)].filter(Boolean).join('\n'), a.centroid ? locationText(a.id, a.sliceStart, a.centroid) : '-', 'Added by reviewer', a.comment ?? '']),
    ],
  );
  if (status.pending.length) await paragraph(`${status.pending.length} of ${status.findings} AI ${plural(status.findings, 'finding', 'findings')} not reviewed: ${status.pending.join(', ')}.`, 8.5, regular, RED);
  // slice numbers are ReSight's (reading order); another viewer numbers by InstanceNumber, which
  // may run the other way: said where a finding's slice has one
  if (findings.some((f) => narrowerCore(f.finding))) {
    await paragraph('Slices: every slice scoring at or above the class\'s operating threshold; strongest: the slices around the key slice scoring at least half its peak, where the model is sure.', 8, regular, GREY);
  }
  if ([...findings.map((f) => f.finding.keySlice), ...ctx.added.map((a) => a.sliceStart)].some((i) => imageNumberText(ctx, i))) {
    await paragraph('Slices are numbered from 1 in reading order (an axial stack from its top slice), as ReSight shows them, and findings are labelled in that order; Im is the image\'s Instance Number, as PACS viewers number images.', 8, regular, GREY);
  }

  // ------------------------------------------------------------------ reviewer's measurements
  if (ctx.measurements.length) {
    await heading('Measurements');
    const u = (m: (typeof ctx.measurements)[number]) => (m.valueUnit ? ` ${m.valueUnit}` : '');
    // mm not from PixelSpacing say where they come from (cornerstone3D labels them too)
    const cal = (m: (typeof ctx.measurements)[number]) => (m.pixelSpacingSource && m.pixelSpacingSource !== 'pixel' ? `; ${CALIBRATION_NOTE[m.pixelSpacingSource]}` : '');
    await table(
      [
        { title: 'Id', w: 30 },
        { title: 'Slice', w: 52 },
        { title: 'Kind', w: 62 },
        { title: 'Value', w: W - 2 * M - 144 },
      ],
      ctx.measurements.map((m) => {
        const value =
          m.length && m.shortAxis
            ? `long axis ${m.length.value.toFixed(1)} ${m.length.unit} × short axis ${m.shortAxis.value.toFixed(1)} ${m.shortAxis.unit}`
            : m.length
              ? `${m.length.value.toFixed(1)} ${m.length.unit}`
              : m.stats
                ? `${m.luminance ? 'luminance ' : ''}mean ${m.stats.mean.toFixed(1)}${u(m)} (SD ${m.stats.sd.toFixed(1)}), range ${m.stats.min.toFixed(0)} to ${m.stats.max.toFixed(0)}${u(m)}, area ${m.stats.area.toFixed(1)} ${m.stats.areaUnit === 'mm2' ? 'mm²' : 'px²'}, ${m.stats.n} pixels`
                : `not measured: ${m.unmeasurable ?? 'no pixel inside'}`;
        // one drawn on a reformat is on no slice: its plane and position there, as the viewer numbers them
        const where = m.reformat
          ? `${m.reformat.plane[0].toUpperCase()}${m.reformat.plane.slice(1)}\n${m.reformat.position} of ${m.reformat.count}`
          : m.sliceIndex !== undefined
            ? [String(sliceNumberOf(ctx, m.sliceIndex)), imageNumberText(ctx, m.sliceIndex)].filter(Boolean).join('\n')
            : '';
        return [m.id, where, m.kind === 'length' ? 'Length' : m.kind === 'bidirectional' ? 'Bidirectional' : 'Ellipse ROI', `${value}${cal(m)}`];
      }),
    );
    if (ctx.measurements.some((m) => m.reformat)) {
      await paragraph('A measurement on a coronal or sagittal reformat is on no slice of the series: its row gives the plane and its position there, numbered from 1 in reading order (coronal front to back, sagittal from the patient\'s right), as ReSight shows them; its lengths are distances in the patient between the points drawn.', 8, regular, GREY);
    }
  }


  // ------------------------------------------------------------------ model and sign-off
  await heading('Model and method');
  // which providers were not used, not ONNX Runtime's paragraphs on why (CUDA libraries, drivers):
  // a referring physician reads this page; the reasons are in the JSON export and the viewer
  const fb = ctx.provider.fallbacks.map((f) => f.provider).join(', ');
  const mrows: [string, string][] = [
    ['Model', `${ctx.model.name} ${ctx.model.version}`],
    ['Heatmaps', `${ctx.cam.method} at ${ctx.cam.layer} (class score: logit)`],
    ['Provider', `${ctx.provider.used}, ${ctx.provider.threads} ${plural(ctx.provider.threads, 'thread', 'threads')}${fb ? ` (not available here: ${fb}; why: in the JSON export)` : ''}`],
    ['Intended use', ctx.model.intendedUse || '-'],
  ];
  y = (await fields(mrows, M, 80, W - 2 * M)) - 2;
  ensure(14);
  await text('SHA-256', M, 8, regular, GREY);
  await text(ctx.model.sha256, M + 80, 7.5, mono);
  y -= 14;
  await heading('Sign-off');
  const utc = (iso: string) => `${iso.replace('T', ' ').slice(0, 19)} UTC`;
  const so = ctx.signOff;
  // who signed off, as the viewer recorded it (a de-identified export's sign-off carries no name)
  // a sign-off without a name must not read as the export's reviewer's: the Reviewer line sits
  // just above it, and the name typed at export time says nothing of who signed
  const by = so?.reviewer ? ` by ${fmtPn(so.reviewer)}` : so && ctx.reviewer && !ctx.deidentified ? ' (no name was recorded with the sign-off)' : '';
  // signed off with findings still pending (or no reviewer named) is not final: said here too,
  // beside the sign-off, not only in the DRAFT line at the top
  const open = [status.pending.length ? `${status.pending.join(', ')} not reviewed` : '', status.reviewer === 'none' ? 'no reviewer named' : ''].filter(Boolean);
  const signedText = !so
    ? 'not signed off in the viewer'
    : so.current
      ? `signed off in the viewer at ${utc(so.at)}${by}${open.length ? `, with ${open.join(' and ')}: a draft, not final` : ''}`
      : `signed off in the viewer at ${utc(so.at)}${by}, but the review changed after it (a decision, the impression or a measurement): not signed off as it stands`;
  y = (await fields([['Reviewer', ctx.reviewer ? fmtPn(ctx.reviewer) : ctx.deidentified ? '(withheld in a de-identified export)' : '(not given)'], ['Review', signedText], ['Created', utc(ctx.createdAt.toISOString())]], M, 80, W - 2 * M)) - 2;

  // ------------------------------------------------------------------ key images
  const findingById = new Map(ctx.analysis.findings.map((f) => [f.id, f]));
  // in the order of their labels (F1 first), whatever order the context lists them in
  const keyImages = keyImagesInLabelOrder(ctx, labels);
  // each key image's map is stretched to its own maximum, so the evidence's place shows; how strong
  // it is beside the class's strongest is said in words (a false positive at p 0.29 looked as sure
  // as a lesion at 0.998): the viewer's model units show it in colour
  const strongest = new Map<string, number>();
  const groupOf = (k: (typeof keyImages)[number]) => `${findingById.get(k.findingId)?.class ?? ''}|${k.camSource ?? ''}`;
  for (const k of keyImages) if (k.camSource && k.image.heatMax) strongest.set(groupOf(k), Math.max(strongest.get(groupOf(k)) ?? 0, k.image.heatMax));
  const weaker = (k: (typeof keyImages)[number]): string => {
    const top = strongest.get(groupOf(k));
    const own = k.image.heatMax;
    return top && own !== undefined && own < 0.5 * top ? `; its maximum is ${Math.max(1, Math.round((100 * own) / top))} % of the strongest ${(findingById.get(k.findingId)?.class ?? '').replace(/_/g, ' ')} map in this report` : '';
  };
  for (let i = 0; i < keyImages.length; i++) {
    const k = keyImages[i] as (typeof keyImages)[number];
    const f = findingById.get(k.findingId);
    const side = Math.min(W - 2 * M, (H - 2 * M - footerH - 80) / 2 - 30);
    if (i === 0) newPage();
    else ensure(side + 60);
    if (i === 0) await heading('Key images');
    // the same pixels as the Secondary Capture, AI caption included
    const img = renderKeyImage(keyImageForExport(ctx, k, labels).image);
    const png = await doc.embedPng(encodePng(img));
    const drawW = Math.min(side, (side * img.width) / img.height);
    const drawH = (drawW * img.height) / img.width;
    page.drawImage(png, { x: M, y: y - drawH, width: drawW, height: drawH });
    const capX = M + drawW + 14;
    const capW = W - M - capX;
    const save = y;
    y -= 2;
    const review = ctx.reviews.find((r) => r.findingId === k.findingId);
    const ps = k.image.pixelSpacing;
    // where another viewer has the key slice: its Instance Number and position along the normal
    const where = (i: number) => {
      const loc = ctx.sliceMeta?.[i]?.location;
      return [imageNumberText(ctx, i) ? `${imageNumberText(ctx, i)} (Instance Number)` : '', loc !== undefined ? `position ${loc.toFixed(1)} mm` : ''].filter(Boolean).join(', ');
    };
    const added = f ? undefined : ctx.added.find((a) => a.id === k.findingId);
    // the marker in patient coordinates, which any viewer's probe or crosshair reads
    const inPatient = (pt: [number, number]) => {
      const where = patientPointText(ctx, k.sliceIndex, pt, k.image.imageOrientationPatient, k.image.pixelSpacing);
      return where ? ` (${where}, patient coordinates)` : '';
    };
    const lines = [
      `${labels.has(k.findingId) ? `${labelOf(k.findingId)} ` : ''}${(f?.class ?? added?.class ?? '').replace(/_/g, ' ') || 'finding'}`,
      added ? `added by the reviewer on slice ${sliceNumberOf(ctx, k.sliceIndex)} of ${ctx.analysis.slices.length}` : '',
      f ? `probability ${f.score.toFixed(3)} (threshold ${f.threshold.toFixed(3)})` : '',
      f ? `${f.sliceStart === f.sliceEnd ? 'slice' : 'slices'} ${sliceRangeOf(ctx, f.sliceStart, f.sliceEnd)}; key slice ${sliceNumberOf(ctx, k.sliceIndex)} of ${ctx.analysis.slices.length}` : '',
      where(k.sliceIndex),
      // an added finding is the reviewer's own: no decision to take on it
      added ? '' : `decision: ${decisionText(review)}`,
      (review?.comment ?? added?.comment) ? `comment: ${review?.comment ?? added?.comment ?? ''}` : '',
      '',
      `window ${k.image.window.width}/${k.image.window.center} (W/L)`,
      !k.camSource ? 'no heatmap: the model did not flag this finding' : `heatmap: ${k.camSource}, colour bar 0 to ${k.image.heatMax !== undefined ? formatScale(k.image.heatMax) : '1'} (this slice's maximum, model units; the viewer's "per slice" scale), drawn above ${((k.image.overlay?.threshold ?? 0.2) * 100).toFixed(0)} %${weaker(k)}`,
      ps ? `scale bar ${scaleBarMm(k.image.columns * ps[1])} mm (pixel ${ps[1].toFixed(3)} mm)` : 'no pixel spacing: no scale bar',
      f?.centroid ? `marker: hot spot at x ${f.centroid[0].toFixed(0)}, y ${f.centroid[1].toFixed(0)} px${inPatient(f.centroid)}` : added?.centroid ? `marker: the reviewer's point at x ${added.centroid[0].toFixed(0)}, y ${added.centroid[1].toFixed(0)} px${inPatient(added.centroid)}` : '',
      `source SOP Instance UID:`,
    ].filter((l, idx, arr) => l !== '' || (idx > 0 && arr[idx - 1] !== ''));
    for (const [j, l] of lines.entries()) {
      for (const w of await wrap(l, capW, j === 0 ? 10 : 8.5, j === 0 ? bold : regular)) {
        await text(w, capX, j === 0 ? 10 : 8.5, j === 0 ? bold : regular, j === 0 ? BLACK : GREY);
        y -= j === 0 ? 13 : 10.5;
      }
    }
    for (const w of await wrap(k.sopInstanceUid.replace(/\./g, '. ').trim(), capW, 7, mono)) {
      await text(w.replace(/\. /g, '.'), capX, 7, mono, GREY);
      y -= 9;
    }
    y = Math.min(y, save - drawH) - 18;
  }

  // ------------------------------------------------------------------ footer on every page
  const statement = `${ctx.model.notForClinicalUse && !/^not for clinical use/i.test(ctx.model.disclaimer) ? 'NOT FOR CLINICAL USE. ' : ''}${ctx.model.disclaimer || ''} AI output is a second reader's suggestion with visible evidence; the reviewer's decisions above are the result.`.trim();
  const footLines = await wrap(statement, W - 2 * M - 70, 7, regular);
  for (const [i, pg] of pages.entries()) {
    page = pg;
    y = M + footerH - 12;
    page.drawLine({ start: { x: M, y: y + 9 }, end: { x: W - M, y: y + 9 }, thickness: 0.4, color: RULE });
    for (const l of footLines.slice(0, 4)) {
      await text(l, M, 7, regular, GREY);
      y -= 8.5;
    }
    y = M + footerH - 12;
    const label = `Page ${i + 1} of ${pages.length}`;
    await text(label, W - M - (await widthOf(label, 8, regular)), 8, regular, GREY);
  }

  doc.setTitle('ReSight AI second-reader report');
  doc.setSubject(`${ctx.model.name} ${ctx.model.version}`);
  doc.setProducer(`${APP_NAME} ${APP_VERSION} (pdf-lib)`);
  doc.setCreator(APP_NAME);
  doc.setCreationDate(ctx.createdAt);
  doc.setModificationDate(ctx.createdAt);
  const bytes = await doc.save({ useObjectStreams: false });
  return { bytes, pages: pages.length, warnings };
}

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { scanPaths } from '../../core/dicom/scan';
import type { AssembledStudy } from '../../core/dicom/series';
import { transferSyntaxName } from '../../core/dicom/transfer-syntax';
import { ResightError } from '../../core/errors';
import type { FileError, PixelRegion, PixelSpacingSource, SeriesSummary, StudySummary } from '../../shared/dicom';
import { count, progressBar, reportError, UsageError } from '../io';

export const INFO_HELP = `resight info <path...> [--json]
  Scan files, folders (recursively) and DICOMDIRs, reading headers only, and list
  Patient > Study > Series with geometry, plus every file that was not used and why.`;

/** A series as `info --json` prints it: the contract's spacing fields always there, null when unknown. */
export type InfoSeries = Omit<SeriesSummary, 'pixelSpacing' | 'sliceSpacing' | 'pixelSpacingSource' | 'pixelSpacingRegions'> & {
  pixelSpacing: [number, number] | null;
  sliceSpacing: number | null;
  /** A calibration for measurements that is not PixelSpacing (a radiograph's detector spacing, ultrasound regions). */
  measurementCalibration?: { pixelSpacing: [number, number]; source: Exclude<PixelSpacingSource, 'pixel'>; regions?: PixelRegion[] };
};
export type InfoJson = { studies: (Omit<StudySummary, 'series'> & { series: InfoSeries[] })[]; errors: FileError[] };

/**
 * The wire form of a scan: core-only fields (ordered slices, headers) stripped; pixelSpacing and
 * sliceSpacing null where unknown (a CR without PixelSpacing, a single slice), so a reader can
 * count on every field the contract lists.
 */
/** How `info` names a calibration that is not PixelSpacing. */
const CALIBRATION_WORDS: Record<Exclude<PixelSpacingSource, 'pixel'>, string> = {
  imager: 'at the detector, ImagerPixelSpacing',
  'imager-ermf': 'ImagerPixelSpacing / estimated magnification',
  'ultrasound-region': 'ultrasound region calibration',
};

export function infoJson(studies: AssembledStudy[], errors: FileError[]): InfoJson {
  return {
    studies: studies.map((st) => ({
      ...st,
      series: st.series.map(({ ordered: _o, headers: _h, pixelSpacingSource: source, pixelSpacingRegions: regions, ...s }) => {
        // pixelSpacing is the file's PixelSpacing, as the contract (and pydicom) reads it; a
        // detector or ultrasound calibration is reported beside it, never in its place
        const calibrated = s.pixelSpacing && source && source !== 'pixel' ? { pixelSpacing: s.pixelSpacing, source, ...(regions ? { regions } : {}) } : undefined;
        return { ...s, pixelSpacing: calibrated ? null : (s.pixelSpacing ?? null), sliceSpacing: s.sliceSpacing ?? null, ...(calibrated ? { measurementCalibration: calibrated } : {}) };
      }),
    })),
    errors,
  };
}

export async function runInfo(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true });
  if (!positionals.length) throw new UsageError('info needs at least one path');
  const bar = progressBar('scanning');
  const result = await scanPaths(positionals, { onProgress: (p) => bar.update(p.done, p.total, p.errors ? `(${p.errors} not used)` : '') });
  bar.end();
  const out = infoJson(result.studies, result.errors);
  // Nothing usable at all is an input error (exit 1), after the listing that says why file by file.
  const nothing = result.studies.length === 0;
  // a mistyped path is said as analyze and serve say it: "<path>: not found"
  const missing = positionals.find((p) => !fs.existsSync(p));
  const failed = () =>
    missing !== undefined ? reportError(new ResightError('FILE_UNREADABLE', 'not found', { path: missing }), values.json === true) :
    reportError(new ResightError(result.errors[0]?.code ?? 'NOT_DICOM', `no DICOM image found in ${positionals.join(', ')}${result.errors.length ? ` (${count(result.errors.length, 'file')} not used)` : ''}`), values.json === true);
  if (values.json) {
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return nothing ? failed() : 0;
  }
  const lines: string[] = [];
  for (const st of result.studies) {
    lines.push(`Patient ${st.patient.name || '(no name)'} [${st.patient.id || 'no id'}]  Study ${st.date ?? ''} ${st.description ?? ''}`.trimEnd());
    lines.push(`  StudyInstanceUID ${st.studyInstanceUid}`);
    for (const s of st.series) {
      const ps = s.pixelSpacing ? `${s.pixelSpacing[0].toFixed(3)}x${s.pixelSpacing[1].toFixed(3)} mm${s.pixelSpacingSource && s.pixelSpacingSource !== 'pixel' ? ` (${CALIBRATION_WORDS[s.pixelSpacingSource]})` : ''}` : 'spacing ?';
      const ss = s.sliceSpacing !== undefined ? `, ${s.sliceSpacing.toFixed(3)} mm apart` : '';
      lines.push(`  - ${s.modality} #${s.number ?? '-'} "${s.description}": ${count(s.slices, 'slice')} ${s.columns}x${s.rows}, ${ps}${ss}${s.splitReason ? ` [split: ${s.splitReason}]` : ''}`);
      lines.push(`      ${s.transferSyntaxes.map(transferSyntaxName).join(', ')}${s.lossy ? ' (lossy)' : ''}`);
      for (const w of s.warnings) lines.push(`      ! ${w}`);
    }
  }
  if (result.errors.length) {
    lines.push(`Not used (${result.errors.length}):`);
    for (const e of result.errors) lines.push(`  ${e.path}: ${e.message} [${e.code}]`);
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  return nothing ? failed() : 0;
}

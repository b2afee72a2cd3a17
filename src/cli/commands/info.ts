import { parseArgs } from 'node:util';
import { scanPaths } from '../../core/dicom/scan';
import type { AssembledStudy } from '../../core/dicom/series';
import { transferSyntaxName } from '../../core/dicom/transfer-syntax';
import type { FileError, StudySummary } from '../../shared/dicom';
import { progressBar, UsageError } from '../io';

export const INFO_HELP = `resight info <path...> [--json]
  Scan files, folders (recursively) and DICOMDIRs, reading headers only, and list
  Patient > Study > Series with geometry, plus every file that was not used and why.`;

/** The wire form of a scan: core-only fields (ordered slices, headers) stripped. */
export function infoJson(studies: AssembledStudy[], errors: FileError[]): { studies: StudySummary[]; errors: FileError[] } {
  return {
    studies: studies.map((st) => ({
      ...st,
      series: st.series.map(({ ordered: _o, headers: _h, ...s }) => s),
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
  if (values.json) {
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  const lines: string[] = [];
  for (const st of result.studies) {
    lines.push(`Patient ${st.patient.name || '(no name)'} [${st.patient.id || 'no id'}]  Study ${st.date ?? ''} ${st.description ?? ''}`.trimEnd());
    lines.push(`  StudyInstanceUID ${st.studyInstanceUid}`);
    for (const s of st.series) {
      const ps = s.pixelSpacing ? `${s.pixelSpacing[0].toFixed(3)}x${s.pixelSpacing[1].toFixed(3)} mm` : 'spacing ?';
      const ss = s.sliceSpacing !== undefined ? `, ${s.sliceSpacing.toFixed(3)} mm apart` : '';
      lines.push(`  - ${s.modality} #${s.number ?? '-'} "${s.description}": ${s.slices} slice(s) ${s.columns}x${s.rows}, ${ps}${ss}${s.splitReason ? ` [split: ${s.splitReason}]` : ''}`);
      lines.push(`      ${s.transferSyntaxes.map(transferSyntaxName).join(', ')}${s.lossy ? ' (lossy)' : ''}`);
      for (const w of s.warnings) lines.push(`      ! ${w}`);
    }
  }
  if (result.errors.length) {
    lines.push(`Not used (${result.errors.length}):`);
    for (const e of result.errors) lines.push(`  ${e.path}: ${e.message} [${e.code}]`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadFrame } from '../../core/dicom/frame';
import { besideNoStudy, UsageError, writeFileAtomic } from '../io';

export const DECODE_HELP = `resight decode <file> [--frame N] --out <file.f32> [--json]
  Decode one frame to modality values (after RescaleSlope/Intercept or the Modality LUT;
  MONOCHROME1 not inverted; color as interleaved RGB) as little-endian float32, row-major.`;

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

export async function runDecode(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { frame: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('decode needs exactly one file');
  if (!values.out) throw new UsageError('decode needs --out <file.f32>');
  // Digits only: Number() would also take '', ' 1', '0x1' and '1e0'.
  if (values.frame !== undefined && !/^\d+$/.test(values.frame)) throw new UsageError(`--frame must be a non-negative integer, got '${values.frame}'`);
  const frame = values.frame === undefined ? 0 : Number(values.frame);
  if (!Number.isSafeInteger(frame)) throw new UsageError(`--frame must be a non-negative integer, got '${values.frame}'`);
  const outDir = path.dirname(path.resolve(values.out));
  if (statOrUndefined(values.out)?.isDirectory()) throw new UsageError(`--out must name a file; '${values.out}' is a directory`);
  if (!statOrUndefined(outDir)?.isDirectory()) throw new UsageError(`--out: the folder '${outDir}' does not exist`);
  const { header, decoded, values: px } = await loadFrame(positionals[0], frame);
  // nothing is ever written into a study folder: not beside the file decoded either (checked once
  // the file is read, so a file that is not there says so first)
  besideNoStudy([values.out], positionals[0]);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < px.length; i++) {
    const v = px[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  // Float32Array is host-endian; every platform Electron ships on is little-endian.
  writeFileAtomic(values.out, new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
  const summary = {
    rows: decoded.rows,
    columns: decoded.columns,
    samplesPerPixel: decoded.samplesPerPixel,
    photometric: decoded.photometric,
    sourcePhotometric: decoded.sourcePhotometric,
    transferSyntaxUid: header.transferSyntaxUid,
    frame,
    frames: header.frames,
    min,
    max,
    mean: px.length ? sum / px.length : 0,
    lossy: header.lossyImageCompression,
  };
  if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(`${decoded.columns}x${decoded.rows}x${decoded.samplesPerPixel} ${decoded.photometric} min ${min} max ${max} mean ${summary.mean.toFixed(3)} -> ${values.out}\n`);
  return 0;
}

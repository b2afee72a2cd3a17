/**
 * One DICOM fuzz case, as the engine meets an untrusted file: scan the header (`scanFile`, what
 * `resight info` and the app's Open do), and when that yields an image, open the file and decode
 * its frames (`openDicomFile` + `decodeOpenedFrame`, exactly the two halves of `loadFrame`; the
 * file is parsed once instead of once per frame).
 *
 * The contract under test: every step ends in success or a thrown `ResightError` (a typed code).
 * Anything else is a finding. `scanFile` itself never throws: it folds unexpected exceptions into
 * a FileError with code INTERNAL, and `readDicomHeader` folds them into FILE_UNREADABLE (the
 * fuzzer's file always exists and is readable, so that code can only mean a masked exception).
 * In both cases the header read is repeated here step by step to recover the real exception
 * and its stack.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { ResightError } from '../../src/core/errors';
import { decodeOpenedFrame, openDicomFile } from '../../src/core/dicom/frame';
import { instanceHeader } from '../../src/core/dicom/header';
import { NeedMoreBytes, parseDicomBytes } from '../../src/core/dicom/parse';
import { ScratchBuffer } from '../../src/core/dicom/read';
import { scanFile } from '../../src/core/dicom/scan';
import { lookupTransferSyntax } from '../../src/core/dicom/transfer-syntax';

export type Stage = 'scan' | 'open' | 'decode';

export interface ExceptionInfo {
  /** Constructor name (TypeError, RangeError, ...), or typeof for non-Errors. */
  name: string;
  message: string;
  stack: string;
}

export interface DicomCaseResult {
  status: 'ok' | 'typed' | 'finding';
  /** Where the case ended (the first typed error, or the finding). */
  stage?: Stage;
  /** The typed code (status 'typed'). */
  code?: string;
  message?: string;
  /** Typed codes seen per stage ("scan:NOT_DICOM", "decode:CODEC_FAILED", ...). */
  codes: string[];
  framesDecoded: number;
  /** The codec the file's transfer syntax names, once the file was opened. */
  codec?: string;
  /** For findings raised in this thread. */
  kind?: string;
  exception?: ExceptionInfo;
}

const HEADER_PREFIX_BYTES = 16 * 1024;

export function describeException(err: unknown): ExceptionInfo {
  if (err instanceof Error) {
    return { name: err.constructor?.name || err.name || 'Error', message: err.message.slice(0, 2000), stack: String(err.stack ?? '').slice(0, 6000) };
  }
  let message: string;
  try {
    message = typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
  } catch {
    message = String(err);
  }
  return { name: `thrown-${err === null ? 'null' : typeof err}`, message: message.slice(0, 2000), stack: '' };
}

/** Finding kind from an exception: lower-case constructor name ("rangeerror", "typeerror", ...). */
export function exceptionKind(e: ExceptionInfo): string {
  return e.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/**
 * Repeat `readDicomHeader` + `instanceHeader` without their catch-alls, to recover the exception
 * that scanFile reported as INTERNAL or FILE_UNREADABLE.
 */
function recoverScanException(path: string): ExceptionInfo | undefined {
  try {
    const bytes = new Uint8Array(fs.readFileSync(path));
    if (bytes.length > HEADER_PREFIX_BYTES) {
      try {
        parseDicomBytes(bytes.subarray(0, HEADER_PREFIX_BYTES), path, { untilPixelData: true, partial: true });
      } catch (err) {
        if (!(err instanceof NeedMoreBytes) && !(err instanceof ResightError)) return describeException(err);
      }
    }
    const parsed = parseDicomBytes(bytes, path, { untilPixelData: true });
    instanceHeader({ ...parsed, warnings: [...parsed.warnings] }, path);
  } catch (err) {
    if (!(err instanceof ResightError)) return describeException(err);
  }
  return undefined;
}

function finding(stage: Stage, err: unknown, codes: string[], framesDecoded: number): DicomCaseResult {
  const exception = describeException(err);
  return { status: 'finding', stage, kind: exceptionKind(exception), message: exception.message, exception, codes, framesDecoded };
}

/** Run one case in this thread. Never throws (except for bugs in the harness itself). */
export async function runDicomCase(path: string, maxFrames: number): Promise<DicomCaseResult> {
  const codes: string[] = [];
  const scanned = scanFile(path, new ScratchBuffer());
  if ('code' in scanned) {
    if (scanned.code === 'INTERNAL' || scanned.code === 'FILE_UNREADABLE') {
      const exception = recoverScanException(path);
      if (exception) return { status: 'finding', stage: 'scan', kind: exceptionKind(exception), message: exception.message, exception, codes, framesDecoded: 0 };
      // Not reproduced step by step: still a finding, under the code scanFile gave.
      return { status: 'finding', stage: 'scan', kind: scanned.code === 'INTERNAL' ? 'internal' : 'masked', message: scanned.message, codes, framesDecoded: 0 };
    }
    codes.push(`scan:${scanned.code}`);
    return { status: 'typed', stage: 'scan', code: scanned.code, message: scanned.message, codes, framesDecoded: 0 };
  }
  let file;
  try {
    file = openDicomFile(path);
  } catch (err) {
    if (err instanceof ResightError) {
      codes.push(`open:${err.code}`);
      return { status: 'typed', stage: 'open', code: err.code, message: err.detail, codes, framesDecoded: 0 };
    }
    return finding('open', err, codes, 0);
  }
  const codec = lookupTransferSyntax(file.header.transferSyntaxUid)?.codec ?? undefined;
  const declared = file.header.frames;
  const frames = Number.isInteger(declared) && declared > 0 ? Math.min(declared, maxFrames) : 1;
  let framesDecoded = 0;
  let firstTyped: ResightError | undefined;
  for (let f = 0; f < frames; f++) {
    try {
      const loaded = await decodeOpenedFrame(file, f);
      const d = loaded.decoded;
      const expected = d.rows * d.columns * d.samplesPerPixel;
      if (loaded.values.length !== expected) {
        return {
          status: 'finding',
          stage: 'decode',
          kind: 'invariant',
          message: `frame ${f} decoded to ${loaded.values.length} values, rows x columns x samples = ${expected}`,
          codes,
          framesDecoded,
          codec,
        };
      }
      framesDecoded++;
    } catch (err) {
      if (err instanceof ResightError) {
        codes.push(`decode:${err.code}`);
        firstTyped ??= err;
        continue;
      }
      return { ...finding('decode', err, codes, framesDecoded), codec };
    }
  }
  if (firstTyped) return { status: 'typed', stage: 'decode', code: firstTyped.code, message: firstTyped.detail, codes, framesDecoded, codec };
  return { status: 'ok', codes, framesDecoded, codec };
}

/** Codec families whose decoder keeps state across calls (a WebAssembly instance per thread). */
export const STATEFUL_CODECS: Readonly<Record<string, readonly string[]>> = {
  jpeg2000: ['jpeg2000'],
  'jpeg-ls': ['jpeg-ls'],
  'jpeg-baseline': ['jpeg8', 'jpeg12'],
  'jpeg-extended': ['jpeg8', 'jpeg12'],
};

/** Known-good corpus files, one per stateful decoder (relative to the corpus folder). */
export const CANARY_FILES: Readonly<Record<string, string>> = {
  jpeg2000: 'pydicom_MR_small_jp2klossless.dcm',
  'jpeg-ls': 'pydicom_MR_small_jpeg_ls_lossless.dcm',
  jpeg8: 'cswado_CTImage_jpeg_baseline_50.dcm',
  jpeg12: 'pydicom_JPEG-lossy.dcm',
};

async function frameHash(path: string): Promise<string> {
  const loaded = await decodeOpenedFrame(openDicomFile(path), 0);
  return createHash('sha256').update(new Uint8Array(loaded.values.buffer, loaded.values.byteOffset, loaded.values.byteLength)).digest('hex');
}

/**
 * Decoder poisoning: the WebAssembly decoders are created once per thread and reused, so a
 * corrupt stream that leaves one in a bad state (an aborted Emscripten runtime, a trap in the
 * middle of a decode) would make every later file of that syntax fail or decode wrongly, while
 * each of those failures looks like an honest CODEC_FAILED. After each case that used a stateful
 * decoder, a known-good file is decoded again and must give the same values as in a fresh thread.
 */
export class Canaries {
  private constructor(private readonly refs: Map<string, { path: string; hash: string }>) {}

  /** Decode the canaries once, in this (fresh) thread. Missing files are skipped. */
  static async create(files: Readonly<Record<string, string>>): Promise<Canaries> {
    const refs = new Map<string, { path: string; hash: string }>();
    for (const [decoder, path] of Object.entries(files)) {
      if (!fs.existsSync(path)) continue;
      try {
        refs.set(decoder, { path, hash: await frameHash(path) });
      } catch {
        // A canary that does not decode in a fresh thread cannot tell anything.
      }
    }
    return new Canaries(refs);
  }

  /** After a case that used `codec`: undefined when its decoders still work, else what broke. */
  async check(codec: string | undefined): Promise<string | undefined> {
    for (const decoder of codec ? (STATEFUL_CODECS[codec] ?? []) : []) {
      const ref = this.refs.get(decoder);
      if (!ref) continue;
      let hash: string;
      try {
        hash = await frameHash(ref.path);
      } catch (err) {
        return `the ${decoder} decoder no longer decodes a known-good file after this case: ${(err as Error)?.message ?? String(err)}`;
      }
      if (hash !== ref.hash) return `the ${decoder} decoder decodes a known-good file differently after this case (values sha256 ${hash.slice(0, 12)}, fresh thread ${ref.hash.slice(0, 12)})`;
    }
    return undefined;
  }
}

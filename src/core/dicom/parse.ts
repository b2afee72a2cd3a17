/**
 * Turning bytes into a dicom-parser DataSet, robustly.
 *
 * dicom-parser does the element walking; this module adds what a viewer facing arbitrary files
 * needs on top of it: raw data sets without preamble/DICM (transfer syntax sniffed from the
 * first element), header-only reads that stop before Pixel Data, bounds checks (dicom-parser
 * silently accepts lengths that point past the end of the buffer), deflate via node:zlib, and
 * typed errors that name the file and the problem.
 */
import * as zlib from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { ResightError } from '../errors';
import { readU32LE } from '../io/bytes';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  lookupTransferSyntax,
} from './transfer-syntax';

export const PIXEL_DATA_TAG = 'x7fe00010';
const FLOAT_PIXEL_DATA_TAG = 'x7fe00008';
const DOUBLE_PIXEL_DATA_TAG = 'x7fe00009';

export interface ParsedDicom {
  dataSet: DataSet;
  /** The bytes the data set indexes into (the inflated stream for deflated files). */
  bytes: Uint8Array;
  transferSyntaxUid: string;
  /** False when the file had no preamble/DICM and was read as a raw data set. */
  part10: boolean;
  /** True when parsing stopped at Pixel Data (header-only read). */
  headerOnly: boolean;
  warnings: string[];
}

export interface ParseOptions {
  /** Stop at (7FE0,0010) without reading the pixel data value. */
  untilPixelData?: boolean;
  /** The buffer is a prefix of a longer file (header-only reads): overruns mean "read more". */
  partial?: boolean;
  /** Refuse a deflated data set that inflates to more bytes than this (default MAX_INFLATED_BYTES). */
  maxInflatedBytes?: number;
}

/** Thrown when a partial (prefix) buffer ends before the header does; callers read more. */
export class NeedMoreBytes extends Error {
  constructor() {
    super('header extends past the bytes read so far');
  }
}

const VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

function hasDicmPrefix(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/**
 * Guess the transfer syntax of a raw data set (no File Meta) from its first element, as DCMTK
 * and pydicom do: a plausible VR at offset 4 means explicit VR; a group number that only reads
 * sensibly big-endian means big endian. Returns undefined when the bytes do not look like DICOM.
 */
export function sniffRawTransferSyntax(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  const groupLE = bytes[0] | (bytes[1] << 8);
  const groupBE = (bytes[0] << 8) | bytes[1];
  const vr = String.fromCharCode(bytes[4], bytes[5]);
  const plausibleGroup = (g: number) => g === 0x0002 || g === 0x0008 || (g > 0x0000 && g <= 0x0028 && g % 2 === 0);
  if (plausibleGroup(groupLE)) return VRS.has(vr) ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN;
  if (plausibleGroup(groupBE) && VRS.has(vr)) return EXPLICIT_VR_BIG_ENDIAN;
  return undefined;
}

function describeThrown(err: unknown): string {
  // dicom-parser throws strings, Errors, or {exception, dataSet} objects.
  if (err && typeof err === 'object' && 'exception' in err) return describeThrown((err as { exception: unknown }).exception);
  if (typeof err === 'string') return err.replace(/^dicomParser[.:]?/, '');
  if (err instanceof Error) return err.message.replace(/^dicomParser[.:]?/, '');
  return String(err);
}

const tagLabel = (tag: string) => `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;

/**
 * dicom-parser seeks past elements whose length points beyond the buffer without complaint.
 * Walk the tree and report the first such element (or NeedMoreBytes for prefix reads).
 */
function checkBounds(dataSet: DataSet, size: number, partial: boolean, skipTag?: string, depth = 0): void {
  if (depth > 64) throw new ResightError('PARSE_FAILED', 'sequences nested deeper than 64 levels');
  for (const tag in dataSet.elements) {
    const el: Element = dataSet.elements[tag];
    if (tag === skipTag) continue;
    if (el.hadUndefinedLength && !el.items && !el.fragments && el.tag !== PIXEL_DATA_TAG) continue;
    const end = el.dataOffset + (el.length === 0xffffffff ? 0 : el.length);
    if (end > size || el.dataOffset > size) {
      if (partial) throw new NeedMoreBytes();
      throw new ResightError(
        'FILE_TRUNCATED',
        `element ${tagLabel(el.tag)} of length ${el.length} at offset ${el.dataOffset} extends past the end of the data (${size} bytes)`,
      );
    }
    if (el.items) for (const item of el.items) if (item.dataSet) checkBounds(item.dataSet, size, partial, undefined, depth + 1);
  }
}

/**
 * The most a deflated data set may inflate to. A deflate stream expands up to ~1000:1, so a
 * 1.5 MB file can hold 1.5 GB of zeros: a headers-only scan would inflate all of it (twice that
 * in memory while zlib joins its chunks), in every worker at once. Deflate is used for reports
 * and small images; an object beyond this is refused as a likely decompression bomb.
 */
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024;

/**
 * `bytes[0, position)` (preamble and File Meta) followed by the inflated rest, in one allocation:
 * the File Meta is fed to zlib as stored (uncompressed) deflate blocks in front of the stream,
 * so zlib's output already is the whole buffer and the inflated data set is not copied again.
 * A stored block ends on a byte boundary, which is where the file's own stream starts.
 */
function inflater(bytes: Uint8Array, position: number, maxBytes: number): Uint8Array {
  const blocks = Math.max(1, Math.ceil(position / 0xffff));
  const input = new Uint8Array(position + blocks * 5 + (bytes.length - position));
  let at = 0;
  for (let start = 0, k = 0; k < blocks; k++, start += 0xffff) {
    const len = Math.min(0xffff, position - start);
    // BFINAL 0, BTYPE 00 (stored), padded to the byte; LEN and its one's complement NLEN
    input.set([0, len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff], at);
    input.set(bytes.subarray(start, start + len), at + 5);
    at += 5 + len;
  }
  input.set(bytes.subarray(position), at);
  try {
    return zlib.inflateRawSync(input, { maxOutputLength: position + maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ResightError('PARSE_FAILED', `deflated data set inflates to more than ${maxBytes} bytes: refused (a decompression bomb?)`);
    }
    // Z_BUF_ERROR: the deflate stream stops before its final block, i.e. the file was cut short.
    const cut = (err as NodeJS.ErrnoException)?.code === 'Z_BUF_ERROR';
    throw new ResightError(cut ? 'FILE_TRUNCATED' : 'PARSE_FAILED', `deflated data set could not be inflated: ${describeThrown(err)}`);
  }
}

type DataSetConstructor = new (parser: dicomParser.ByteArrayParser, byteArray: Uint8Array, elements: Record<string, Element>) => DataSet;

/**
 * Deflated data sets are parsed here rather than by dicom-parser, which restarts its element
 * walk at offset 0 of the inflated copy: it reads the 128-byte preamble as elements, so any
 * file whose preamble is not all zeros (TIFF/DICOM dual files, vendor signatures) fails with a
 * bogus "buffer overrun". Same steps as dicom-parser's parseDicom, starting after the meta.
 */
function parseDeflated(bytes: Uint8Array, meta: DataSet & { position: number }, untilTag: string | undefined, maxInflatedBytes: number): DataSet {
  const full = inflater(bytes, meta.position, maxInflatedBytes);
  const stream = new dicomParser.ByteStream(dicomParser.littleEndianByteArrayParser, full, meta.position);
  const DataSetClass = (dicomParser as unknown as { DataSet: DataSetConstructor }).DataSet;
  const dataSet = new DataSetClass(stream.byteArrayParser, full, {});
  dataSet.warnings = stream.warnings;
  try {
    dicomParser.parseDicomDataSetExplicit(dataSet, stream, full.length, untilTag ? { untilTag } : undefined);
  } catch (err) {
    throw { exception: err, dataSet };
  }
  for (const tag in meta.elements) dataSet.elements[tag] = meta.elements[tag];
  dataSet.warnings = [...(meta.warnings ?? []), ...dataSet.warnings];
  return dataSet;
}

/**
 * For a Part 10 file, whether the bytes end inside (or right at the end of) the File Meta
 * Information, judged from its group length (0002,0000). dicom-parser stops reading the meta
 * header quietly at the end of the buffer and then complains about something else (a missing
 * Transfer Syntax UID, a stream position), so the cut is detected here.
 */
function endsInFileMeta(bytes: Uint8Array): boolean {
  if (!hasDicmPrefix(bytes)) return false;
  if (bytes.length < 144) return true; // not even the group length element
  const isGroupLength = bytes[132] === 0x02 && bytes[133] === 0x00 && bytes[134] === 0x00 && bytes[135] === 0x00 && bytes[136] === 0x55 && bytes[137] === 0x4c;
  if (!isGroupLength) return false;
  const metaEnd = 144 + readU32LE(bytes, 140);
  return metaEnd >= bytes.length;
}

/** dicom-parser's ways of saying "the buffer ended": overruns, stream positions past the end. */
const TRUNCATION_MESSAGE = /overread|overrun|beyond|end of|eof|past end|cannot be greater than or equal to 'byteArray' length|maxP ?osition/i;

/**
 * A FILE_TRUNCATED message that says where, instead of dicom-parser's internal text ("buffer
 * overrun"): the last element it read before running out of bytes (it throws the partial data
 * set along with the exception).
 */
function truncationMessage(err: unknown, size: number): string {
  const partial = err && typeof err === 'object' && 'dataSet' in err ? (err as { dataSet?: DataSet }).dataSet : undefined;
  let last: Element | undefined;
  for (const tag in partial?.elements ?? {}) {
    const el = partial?.elements[tag];
    if (el && tag > 'x0002ffff' && (!last || el.dataOffset > last.dataOffset)) last = el;
  }
  const where = last ? `the last element read is ${tagLabel(last.tag)} at offset ${last.dataOffset}` : 'no element of it could be read';
  return `the data set is cut short at ${size} bytes: ${where}`;
}

/**
 * Parse bytes into a DataSet. `path` is only used to name the file in errors.
 * Throws ResightError (NOT_DICOM, FILE_TRUNCATED, PARSE_FAILED) or NeedMoreBytes for partial reads.
 */
export function parseDicomBytes(bytes: Uint8Array, path: string, options: ParseOptions = {}): ParsedDicom {
  if (bytes.length === 0) throw new ResightError('FILE_EMPTY', 'file is empty (0 bytes)', { path });
  const part10 = hasDicmPrefix(bytes);
  let rawTs: string | undefined;
  if (!part10) {
    rawTs = sniffRawTransferSyntax(bytes);
    if (!rawTs) {
      throw new ResightError('NOT_DICOM', 'no DICM prefix at offset 128 and the first bytes are not a DICOM data set', { path });
    }
  }
  const warnings: string[] = [];
  if (!part10) warnings.push('no preamble/DICM prefix: read as a raw data set');
  const parseOpts: Record<string, unknown> = {};
  if (options.untilPixelData) parseOpts.untilTag = PIXEL_DATA_TAG;
  if (rawTs) parseOpts.TransferSyntaxUID = rawTs;

  let dataSet: DataSet;
  let metaTs: string | undefined;
  try {
    const meta = part10 ? (dicomParser.readPart10Header(bytes) as DataSet & { position: number }) : undefined;
    metaTs = meta ? (meta.string('x00020010') ?? '').replace(/\0/g, '').trim() || undefined : undefined;
    if (metaTs === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN && meta) {
      // A prefix of a deflated stream cannot be inflated on its own: read the whole file.
      if (options.partial) throw new NeedMoreBytes();
      dataSet = parseDeflated(bytes, meta, options.untilPixelData ? PIXEL_DATA_TAG : undefined, options.maxInflatedBytes ?? MAX_INFLATED_BYTES);
    } else {
      dataSet = dicomParser.parseDicom(bytes, parseOpts);
    }
  } catch (err) {
    if (err instanceof NeedMoreBytes) throw err;
    if (err instanceof ResightError) throw err.withPath(path);
    if (options.partial) throw new NeedMoreBytes();
    const msg = describeThrown(err);
    if (endsInFileMeta(bytes)) {
      throw new ResightError('FILE_TRUNCATED', `the file ends inside its File Meta Information (${bytes.length} bytes)`, { path, cause: err });
    }
    if (/missing required meta header attribute 0002,0010/.test(msg)) {
      throw new ResightError('PARSE_FAILED', 'File Meta Information has no Transfer Syntax UID (0002,0010)', { path });
    }
    const truncated = TRUNCATION_MESSAGE.test(msg);
    if (metaTs && !lookupTransferSyntax(metaTs)) {
      // dicom-parser reads an unknown syntax as Explicit VR Little Endian; when that fails the
      // syntax is the problem (a big-endian or private encoding), not the file's length
      throw new ResightError('UNSUPPORTED_TRANSFER_SYNTAX', `unknown Transfer Syntax UID ${metaTs}: the data set cannot be read (as Explicit VR Little Endian: ${truncated ? 'elements run past the end' : msg})`, { path, cause: err });
    }
    if (truncated) throw new ResightError('FILE_TRUNCATED', truncationMessage(err, bytes.length), { path, cause: err });
    throw new ResightError('PARSE_FAILED', msg, { path, cause: err });
  }
  const ts = (rawTs ?? dataSet.string('x00020010') ?? '').replace(/\0/g, '').trim();
  const isDeflated = ts === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN;
  // For deflated files the data set indexes into the inflated copy (parseDeflated).
  const indexed = (isDeflated ? (dataSet.byteArray as Uint8Array) : bytes) ?? bytes;
  try {
    // A header-only read stops at Pixel Data without reading its value: whether the value is all
    // there is the decoder's business (PIXEL_DATA_TRUNCATED), and checking it here would turn
    // every prefix read of an image larger than the prefix into a whole-file read.
    checkBounds(dataSet, indexed.length, options.partial === true && !isDeflated, options.untilPixelData ? PIXEL_DATA_TAG : undefined);
  } catch (err) {
    if (err instanceof ResightError) throw err.withPath(path);
    throw err;
  }
  if (options.partial && options.untilPixelData && !dataSet.elements[PIXEL_DATA_TAG]) {
    // The prefix ended before Pixel Data (or there is none): only the whole file can tell.
    throw new NeedMoreBytes();
  }
  for (const w of dataSet.warnings ?? []) warnings.push(describeThrown(w));
  // Anything beyond the File Meta group counts (a DICOMDIR holds only group 0004 elements).
  const hasDataSetContent = Object.keys(dataSet.elements).some((t) => t > 'x0002ffff');
  if (!hasDataSetContent) {
    if (endsInFileMeta(bytes)) {
      throw new ResightError('FILE_TRUNCATED', `the file ends inside its File Meta Information (${bytes.length} bytes)`, { path });
    }
    throw new ResightError('NOT_DICOM', 'no DICOM data elements beyond the file meta header', { path });
  }
  return {
    dataSet,
    bytes: indexed,
    transferSyntaxUid: ts || IMPLICIT_VR_LITTLE_ENDIAN,
    part10,
    headerOnly: options.untilPixelData === true,
    warnings,
  };
}

/** The pixel data element (integer, float or double), if any. */
export function pixelDataElement(dataSet: DataSet): Element | undefined {
  return dataSet.elements[PIXEL_DATA_TAG] ?? dataSet.elements[FLOAT_PIXEL_DATA_TAG] ?? dataSet.elements[DOUBLE_PIXEL_DATA_TAG];
}

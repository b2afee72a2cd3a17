/**
 * Frame decoding: Pixel Data bytes (native or compressed) -> stored pixel values, with the
 * BitsStored/HighBit masking and sign extension applied, color converted to interleaved RGB.
 * Modality values (rescale, Modality LUT) are the next step: imaging/modality.ts.
 */
import type { InstanceHeader } from '../../shared/dicom';
import { ResightError } from '../errors';
import type { CodecOutput, JpegFrameHeader } from './codecs';
import {
  codecError,
  decodeHtj2k,
  decodeJpeg12,
  decodeJpeg2000,
  decodeJpeg8,
  decodeJpegLossless,
  decodeJpegLs,
  jpegFrameHeader,
} from './codecs';
import type { ParsedDicom } from './parse';
import { encapsulatedFrame, nativeFrame, nativeLayout, requirePixelData } from './pixel-data';
import { decodeRle } from './rle';
import { lookupTransferSyntax, transferSyntaxName } from './transfer-syntax';
import { applyPalette, ybrToRgb, ybr422ToRgb, planarToInterleaved } from '../imaging/color';
import { count } from '../../shared/plural';

export type StoredArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface DecodedFrame {
  rows: number;
  columns: number;
  /** 1 (grayscale) or 3 (RGB, interleaved). */
  samplesPerPixel: number;
  /** Photometric interpretation of `data`: MONOCHROME1/2 or RGB after color conversion. */
  photometric: string;
  /** Photometric interpretation as stored in the file. */
  sourcePhotometric: string;
  data: StoredArray;
  /** Stored values are signed (PixelRepresentation 1). */
  signed: boolean;
  bitsStored: number;
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
const HOST_LE = isLittleEndianHost();

/** Typed view over raw sample bytes (native endian), copying when unaligned. */
function typed(bytes: Uint8Array, bitsAllocated: number, signed: boolean, float = false): StoredArray {
  const bpe = bitsAllocated / 8;
  let src = bytes;
  if (src.byteOffset % bpe !== 0) src = new Uint8Array(src); // aligned copy
  const n = Math.floor(src.byteLength / bpe);
  if (float) return bitsAllocated === 64 ? new Float64Array(src.buffer, src.byteOffset, n) : new Float32Array(src.buffer, src.byteOffset, n);
  switch (bitsAllocated) {
    case 8:
      return signed ? new Int8Array(src.buffer, src.byteOffset, n) : src;
    case 16:
      return signed ? new Int16Array(src.buffer, src.byteOffset, n) : new Uint16Array(src.buffer, src.byteOffset, n);
    case 32:
      return signed ? new Int32Array(src.buffer, src.byteOffset, n) : new Uint32Array(src.buffer, src.byteOffset, n);
    default:
      throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `BitsAllocated ${bitsAllocated} is not supported`);
  }
}

function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + width <= bytes.length; i += width) for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
  return out;
}

/**
 * Apply BitsStored/HighBit: keep bits [HighBit-BitsStored+1 .. HighBit], shift them down, and
 * sign-extend when the data are signed. Values outside BitsStored (overlay bits in the unused
 * high bits of old files, or codecs that return a wider unsigned pattern) are removed.
 * Works in place when it can; returns the array to use.
 */
export function maskStoredBits(data: StoredArray, bitsAllocated: number, bitsStored: number, highBit: number, signed: boolean): StoredArray {
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  const lowBit = Math.max(0, highBit - bitsStored + 1);
  if (bitsStored >= bitsAllocated && lowBit === 0) {
    return data;
  }
  const mask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  let out: StoredArray = data;
  if (signed && (data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Uint32Array)) {
    out = data instanceof Uint8Array ? new Int8Array(data.length) : data instanceof Uint16Array ? new Int16Array(data.length) : new Int32Array(data.length);
  } else if (!signed && (data instanceof Int8Array || data instanceof Int16Array || data instanceof Int32Array)) {
    out = data instanceof Int8Array ? new Uint8Array(data.length) : data instanceof Int16Array ? new Uint16Array(data.length) : new Uint32Array(data.length);
  }
  const n = data.length;
  if (signed) {
    for (let i = 0; i < n; i++) {
      const v = (data[i] >>> lowBit) & mask;
      out[i] = v & signBit ? v - (mask + 1) : v;
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = (data[i] >>> lowBit) & mask;
  }
  return out;
}

function unpackBits(bytes: Uint8Array, bitOffset: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = bitOffset + i;
    out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1; // DICOM packs 1-bit data LSB first
  }
  return out;
}

/**
 * The JPEG decoders for lossless (process 14) and 12-bit streams decode into a buffer sized from
 * the DICOM header and do not report the stream's own size, so a header that disagrees with the
 * stream (512x512 stream, header 1024x256: same sample count) decodes into a scrambled image.
 * Check the SOF marker's size against the header first, for every JPEG process alike.
 */
function checkJpegSize(encoded: Uint8Array, h: InstanceHeader, tsName: string): JpegFrameHeader {
  const sof = jpegFrameHeader(encoded);
  if (sof === undefined) throw new Error('no JPEG frame header (SOF) found');
  // height 0: the lines are given by a DNL marker after the first scan (the codec checks it)
  if (sof.width !== h.columns || (sof.height !== 0 && sof.height !== h.rows)) {
    throw new ResightError('CODEC_FAILED', `${tsName} codestream is ${sof.width}x${sof.height}, the header says ${h.columns}x${h.rows}`);
  }
  return sof;
}

async function runCodec(encoded: Uint8Array, h: InstanceHeader, tsName: string, codec: string): Promise<CodecOutput | Uint8Array> {
  switch (codec) {
    case 'jpeg-ls':
      return decodeJpegLs(encoded);
    case 'jpeg2000':
      return decodeJpeg2000(encoded);
    case 'htj2k':
      return decodeHtj2k(encoded);
    case 'jpeg-baseline':
    case 'jpeg-extended': {
      const { precision } = checkJpegSize(encoded, h, tsName);
      return precision <= 8 ? decodeJpeg8(encoded) : decodeJpeg12(encoded, h.columns, h.rows, h.bitsStored, h.pixelRepresentation === 1);
    }
    case 'jpeg-lossless':
      checkJpegSize(encoded, h, tsName);
      return decodeJpegLossless(encoded, h.bitsAllocated <= 8 ? 1 : 2);
    default:
      throw new ResightError('UNSUPPORTED_TRANSFER_SYNTAX', `no decoder for ${tsName}`);
  }
}

/**
 * The most samples one frame may have: its modality values are a Float32Array, which Node caps
 * at 4 GiB. Rows/Columns come from untrusted headers (a mismatch with the data is caught earlier).
 */
const MAX_FRAME_SAMPLES = 2 ** 30;

function checkFrameSize(rows: number, columns: number, spp: number): void {
  if (rows * columns * spp > MAX_FRAME_SAMPLES) {
    throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `a ${columns}x${rows}x${spp} frame is too large to decode (more than ${MAX_FRAME_SAMPLES} samples)`);
  }
}

/** Decode frame `frame` (0-based) of a fully parsed file. */
export async function decodeFrame(parsed: ParsedDicom, h: InstanceHeader, frame: number): Promise<DecodedFrame> {
  if (frame < 0 || frame >= h.frames || !Number.isInteger(frame)) {
    throw new ResightError('FRAME_OUT_OF_RANGE', `frame ${frame} requested, the object has ${count(h.frames, 'frame')} (counted from 0)`);
  }
  const ts = lookupTransferSyntax(h.transferSyntaxUid);
  const tsName = transferSyntaxName(h.transferSyntaxUid);
  if (!ts || !ts.codec) {
    throw new ResightError('UNSUPPORTED_TRANSFER_SYNTAX', `pixel data in ${tsName} (${h.transferSyntaxUid}) cannot be decoded`);
  }
  const { rows, columns, samplesPerPixel: spp, bitsAllocated, pixelRepresentation } = h;
  if (!rows || !columns) throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', 'Rows/Columns missing or zero');
  if (![1, 8, 16, 32, 64].includes(bitsAllocated)) {
    throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `BitsAllocated ${bitsAllocated} is not supported`);
  }
  if (spp !== 1 && spp !== 3) throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `SamplesPerPixel ${spp} is not supported`);
  const signed = pixelRepresentation === 1;
  const pixels = rows * columns;
  const el = requirePixelData(parsed);
  const isFloat = el.tag === 'x7fe00008' || el.tag === 'x7fe00009';
  let data: StoredArray;
  let planar = h.planarConfiguration === 1;
  let photometric = h.photometric;

  if (ts.codec === 'native') {
    // native YBR_FULL_422 holds 2 samples per pixel in the file, not 3 (nativeLayout)
    const layout = nativeLayout(h);
    const { bytes, bitOffset } = nativeFrame(parsed, layout, frame);
    if (bitsAllocated === 1) {
      data = unpackBits(bytes, bitOffset, pixels * layout.samplesPerPixel);
    } else {
      let raw = bytes;
      const width = bitsAllocated / 8;
      const fileLE = ts.littleEndian;
      if (!fileLE && width > 1) raw = swapBytes(raw, width);
      // Explicit VR Big Endian stores 8-bit data in OW words: bytes swapped in pairs.
      if (!fileLE && width === 1 && el.vr === 'OW') raw = swapBytes(raw, 2);
      if (!HOST_LE && width > 1) raw = swapBytes(raw, width);
      data = typed(raw, bitsAllocated, signed, isFloat);
    }
  } else {
    const encoded = encapsulatedFrame(parsed, h.frames, frame, ts.codec === 'rle');
    if (ts.codec === 'rle') {
      const bps = Math.ceil(bitsAllocated / 8);
      data = typed(decodeRle(encoded, pixels, spp, bps), bitsAllocated, signed);
      planar = false;
    } else {
      let out: CodecOutput | Uint8Array;
      try {
        out = await runCodec(encoded, h, tsName, ts.codec);
      } catch (err) {
        if (err instanceof ResightError) throw err;
        throw codecError(tsName, err);
      }
      const bytes = out instanceof Uint8Array ? out : out.bytes;
      if (!(out instanceof Uint8Array) && (out.width !== columns || out.height !== rows)) {
        throw new ResightError('CODEC_FAILED', `${tsName} codestream is ${out.width}x${out.height}, the header says ${columns}x${rows}`);
      }
      const bps = out instanceof Uint8Array ? (bitsAllocated <= 8 ? 1 : 2) : out.bitsPerSample <= 8 ? 1 : 2;
      data = typed(bytes, bps * 8, signed);
      planar = false;
      // Codecs return color as RGB (JPEG/J2K undo their own color transforms).
      if (spp === 3 && photometric !== 'RGB' && ts.codec !== 'jpeg-ls' && ts.codec !== 'jpeg-lossless') photometric = 'RGB';
    }
    if (data.length < pixels * spp) {
      throw new ResightError('PIXEL_DATA_TRUNCATED', `${tsName} frame decoded to ${data.length} samples, expected ${pixels * spp}`);
    }
    if (data.length > pixels * spp) data = data.subarray(0, pixels * spp);
  }

  // The stored samples are in memory by now; their modality values (float32) are next.
  checkFrameSize(rows, columns, spp);

  // the width the samples really have in memory (a codec may hand back 8-bit samples for a 16-bit
  // header; BitsStored may be missing or larger than the allocation), and the bits stored in it
  const width = data.BYTES_PER_ELEMENT * 8;
  const stored = Math.min(h.bitsStored || width, width);
  if (!isFloat && bitsAllocated > 1) {
    // Codecs hand back low-aligned samples; only native data can carry a HighBit offset.
    const highBit = ts.codec === 'native' && h.highBit >= stored - 1 && h.highBit < width ? h.highBit : stored - 1;
    data = maskStoredBits(data, width, stored, highBit, signed);
  }

  // YBR's chroma offset is half the stored range
  const sampleBits = Math.min(16, Math.max(1, stored));
  const sourcePhotometric = h.photometric;
  let outSpp = spp;
  if (photometric === 'PALETTE COLOR') {
    data = applyPalette(parsed.dataSet, data);
    outSpp = 3;
    photometric = 'RGB';
  } else if (spp === 3) {
    if (photometric === 'YBR_FULL_422' && ts.codec === 'native') {
      data = ybr422ToRgb(data as Uint8Array | Uint16Array, rows, columns, sampleBits);
      photometric = 'RGB';
    } else {
      if (planar) data = planarToInterleaved(data, pixels);
      if (photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422') {
        data = ybrToRgb(data, sampleBits);
        photometric = 'RGB';
      }
    }
  }
  return { rows, columns, samplesPerPixel: outSpp, photometric, sourcePhotometric, data, signed, bitsStored: h.bitsStored };
}

/**
 * Compressed-frame codecs. The heavy lifting is done by well-kept libraries:
 *  - JPEG-LS: CharLS (@cornerstonejs/codec-charls, WebAssembly)
 *  - JPEG 2000: OpenJPEG (@cornerstonejs/codec-openjpeg)
 *  - HTJ2K: OpenJPH (@cornerstonejs/codec-openjph)
 *  - JPEG baseline/extended 8-bit: libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit)
 *  - JPEG extended 12-bit: IJG libjpeg via dcmjs-codecs (libjpeg-turbo's build is 8-bit only)
 *  - JPEG lossless (process 14, any predictor): @cornerstonejs/jpeg-lossless-decoder-js (the
 *    upstream jpeg-lossless-decoder-js 2.1 drops the last sample of a frame; the fork does not)
 * RLE Lossless is small and is implemented in rle.ts.
 *
 * The WebAssembly modules load lazily, once per thread, on first use of their syntax.
 */
import * as path from 'node:path';
import { ResightError } from '../errors';

export interface CodecOutput {
  /** Decoded samples as raw bytes (8-bit: 1 byte/sample, >8-bit: 2 bytes/sample, native endian). */
  bytes: Uint8Array;
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  signed: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
  delete?(): void;
}
interface WasmModule {
  [ctor: string]: unknown;
}
type Factory = (opts?: Record<string, unknown>) => Promise<WasmModule>;

/* eslint-disable @typescript-eslint/no-require-imports -- the codec packages are CommonJS factories without types */
const loaders: Record<string, () => Factory> = {
  charls: () => require('@cornerstonejs/codec-charls/decodewasmjs') as Factory,
  openjpeg: () => require('@cornerstonejs/codec-openjpeg/decodewasmjs') as Factory,
  openjph: () => require('@cornerstonejs/codec-openjph/wasmjs') as Factory,
  libjpegturbo: () => require('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs') as Factory,
};
/* eslint-enable @typescript-eslint/no-require-imports */

const modules = new Map<string, Promise<WasmModule>>();
const decoders = new Map<string, WasmDecoder>();

async function wasmDecoder(lib: keyof typeof loaders, ctor: string): Promise<WasmDecoder> {
  const key = `${lib}:${ctor}`;
  const existing = decoders.get(key);
  if (existing) return existing;
  let mod = modules.get(lib);
  if (!mod) {
    // Silence the codecs' stdout/stderr chatter (OpenJPEG logs [INFO] lines): stdout carries JSON.
    mod = loaders[lib]()({ print: () => undefined, printErr: () => undefined });
    modules.set(lib, mod);
  }
  const instance = await mod;
  const Ctor = instance[ctor] as new () => WasmDecoder;
  const decoder = new Ctor();
  decoders.set(key, decoder);
  return decoder;
}

function runWasm(decoder: WasmDecoder, encoded: Uint8Array): CodecOutput {
  decoder.getEncodedBuffer(encoded.length).set(encoded);
  decoder.decode();
  const info = decoder.getFrameInfo();
  // Copy out: the WASM heap view is reused by the next decode.
  const bytes = new Uint8Array(decoder.getDecodedBuffer());
  return {
    bytes,
    width: info.width,
    height: info.height,
    bitsPerSample: info.bitsPerSample,
    components: info.componentCount,
    signed: info.isSigned,
  };
}

export async function decodeJpegLs(encoded: Uint8Array): Promise<CodecOutput> {
  return runWasm(await wasmDecoder('charls', 'JpegLSDecoder'), encoded);
}

/**
 * Refuse a JPEG 2000 codestream whose SIZ marker declares tiles larger than any DICOM image can
 * be (Rows and Columns are 16-bit): OpenJPEG accepts them and spends seconds of CPU on a 3 KB
 * file before failing (found by fuzzing), which would let one hostile file stall decoding.
 */
export function checkJ2kSiz(encoded: Uint8Array): void {
  // SOC (FF4F) then SIZ (FF51): Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz (32-bit BE).
  let at = -1;
  for (let i = 0; i + 1 < Math.min(encoded.length, 256); i++) {
    if (encoded[i] === 0xff && encoded[i + 1] === 0x51) {
      at = i + 2;
      break;
    }
  }
  if (at < 0 || at + 38 > encoded.length) return; // no SIZ up front: let the codec report it
  const u32 = (o: number) => ((encoded[o] << 24) | (encoded[o + 1] << 16) | (encoded[o + 2] << 8) | encoded[o + 3]) >>> 0;
  const [xsiz, ysiz, xo, yo, xt, yt] = [u32(at + 4), u32(at + 8), u32(at + 12), u32(at + 16), u32(at + 20), u32(at + 24)];
  const limit = 65535;
  if (xsiz - xo > limit || ysiz - yo > limit || xt > limit || yt > limit || xt === 0 || yt === 0) {
    throw new ResightError('CODEC_FAILED', `JPEG 2000 codestream declares ${xsiz - xo}x${ysiz - yo} pixels in ${xt}x${yt} tiles: beyond any DICOM image (max 65535)`);
  }
}

export async function decodeJpeg2000(encoded: Uint8Array): Promise<CodecOutput> {
  checkJ2kSiz(encoded);
  return runWasm(await wasmDecoder('openjpeg', 'J2KDecoder'), encoded);
}

export async function decodeHtj2k(encoded: Uint8Array): Promise<CodecOutput> {
  checkJ2kSiz(encoded);
  return runWasm(await wasmDecoder('openjph', 'HTJ2KDecoder'), encoded);
}

export async function decodeJpeg8(encoded: Uint8Array): Promise<CodecOutput> {
  return runWasm(await wasmDecoder('libjpegturbo', 'JPEGDecoder'), encoded);
}

export interface JpegFrameHeader {
  /** Sample precision, bits. */
  precision: number;
  /** Number of lines; 0 means it is defined later by a DNL marker. */
  height: number;
  width: number;
  components: number;
}

/** The frame header (SOFn marker) of a JPEG stream, or undefined if none is found. */
export function jpegFrameHeader(encoded: Uint8Array): JpegFrameHeader | undefined {
  let i = 2;
  while (i + 4 < encoded.length) {
    if (encoded[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = encoded[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC): FFCn Lf P Y X Nf
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 >= encoded.length) return undefined;
      return {
        precision: encoded[i + 4],
        height: (encoded[i + 5] << 8) | encoded[i + 6],
        width: (encoded[i + 7] << 8) | encoded[i + 8],
        components: encoded[i + 9],
      };
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const len = (encoded[i + 2] << 8) | encoded[i + 3];
    i += 2 + len;
  }
  return undefined;
}

interface DcmjsContext {
  getDecodedBuffer(): Uint8Array;
  getWidth(): number | undefined;
  getHeight(): number | undefined;
}
interface DcmjsCodecs {
  NativeCodecs: { initializeAsync(opts?: Record<string, unknown>): Promise<void>; decodeJpeg(ctx: DcmjsContext): DcmjsContext };
  Context: new (attrs: Record<string, unknown>) => DcmjsContext;
}
let dcmjsCodecs: Promise<DcmjsCodecs> | undefined;

function resetDcmjsCodecs(): void {
  dcmjsCodecs = undefined;
  for (const key of Object.keys(require.cache)) if (key.includes(`${path.sep}dcmjs-codecs${path.sep}`)) delete require.cache[key];
}

function loadDcmjsCodecs(): Promise<DcmjsCodecs> {
  if (!dcmjsCodecs) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS package without types
    const mod = require('dcmjs-codecs') as DcmjsCodecs;
    dcmjsCodecs = mod.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false }).then(() => mod);
  }
  return dcmjsCodecs;
}

/**
 * JPEG with more than 8 bits of precision (12-bit extended, process 4). Decoded with the IJG
 * libjpeg 12-bit build inside dcmjs-codecs (DCMTK's codec compiled to WebAssembly): the
 * pdf.js-derived JS decoder that web viewers use for this case has a level-shift error at
 * 12 bits (values come out ~15 too high; measured against GDCM and dcmdjpeg on the corpus).
 */
export async function decodeJpeg12(encoded: Uint8Array, width: number, height: number, bitsStored: number, signed: boolean): Promise<CodecOutput> {
  const { NativeCodecs, Context } = await loadDcmjsCodecs();
  const ctx = new Context({
    width,
    height,
    bitsAllocated: 16,
    bitsStored,
    samplesPerPixel: 1,
    pixelRepresentation: signed ? 1 : 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    encodedBuffer: encoded,
  });
  let out: DcmjsContext;
  try {
    out = NativeCodecs.decodeJpeg(ctx);
  } catch (err) {
    // Each rejected stream leaks inside this WebAssembly build; after ~30 rejections every
    // decode in the thread fails and later hangs (found by fuzzing). A failed decode therefore
    // discards the instance: the next 12-bit JPEG loads a fresh one.
    resetDcmjsCodecs();
    throw err;
  }
  const bytes = new Uint8Array(out.getDecodedBuffer());
  // The context echoes the size it was given: the header's, which decode.ts checked against the
  // stream's SOF before calling (checkJpegSize).
  return { bytes, width: out.getWidth() ?? width, height: out.getHeight() ?? height, bitsPerSample: 16, components: 1, signed: false };
}

interface LosslessDecoder {
  decode(buffer: ArrayBufferLike, offset: number, length: number, numBytes: number): { buffer: ArrayBufferLike; byteLength: number; byteOffset: number };
}

/** JPEG lossless process 14 (any selection value). `bytesPerSample` is 1 or 2. */
export function decodeJpegLossless(encoded: Uint8Array, bytesPerSample: number): Uint8Array {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS package
  const { Decoder } = require('@cornerstonejs/jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };
  // The decoder reads through a DataView over the buffer; hand it a tight copy.
  const copy = new Uint8Array(encoded); // a real copy (Buffer#slice would be a view)
  const out = new Decoder().decode(copy.buffer, 0, copy.length, bytesPerSample);
  return new Uint8Array(out.buffer, out.byteOffset ?? 0, out.byteLength);
}

/** Wrap a codec failure in a typed error naming the transfer syntax. */
export function codecError(syntaxName: string, err: unknown): ResightError {
  const msg = err instanceof Error ? err.message : typeof err === 'number' ? `WASM exception ${err}` : String(err);
  return new ResightError('CODEC_FAILED', `${syntaxName} frame could not be decoded: ${msg}`, { cause: err });
}

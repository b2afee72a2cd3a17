/**
 * Model cards (resources/models/<name>.card.json, ARCHITECTURE.md "Model card"): what a model
 * is, how to feed it, how to read it, and the evidence for it. Validated with zod; the ONNX file's
 * sha256 must match the card or the model is refused (the viewer keeps working without AI).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { OPERATING_POINT_ID } from '../../shared/analysis';
import { ResightError } from '../errors';
import { NotRegularFile, openRegularFile, readFully } from '../io/files';

/** The card format this code reads (`schema` in a card). */
export const CARD_SCHEMA = 'resight.model-card/1';

/** Names that are properties of every JavaScript object: never usable as class names (keys). */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const windowSchema = z.object({ level: z.number(), width: z.number().positive() });

export const modelCardSchema = z
  .object({
    // absent in hand-written cards; when given it must be the version this code reads
    schema: z.literal(CARD_SCHEMA, { message: `unknown card schema: this ReSight reads ${CARD_SCHEMA}` }).optional(),
    name: z.string().min(1),
    version: z.string().min(1),
    description: z.string().optional(),
    architecture: z.object({ family: z.string(), block: z.string().optional() }).passthrough(),
    onnx: z.object({ file: z.string().min(1), sha256: z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/)
        // Windows' Get-FileHash prints upper case: one hash, one spelling
        .transform((h) => h.toLowerCase()), opset: z.number().int().optional() }).passthrough(),
    input: z
      .object({
        tensor: z.string().min(1),
        // ReSight feeds float32; a card promising another type describes another graph
        dtype: z.literal('float32', { message: 'ReSight feeds the model float32 tensors: give float32 (or leave dtype out)' }).optional(),
        shape: z.tuple([z.union([z.literal('N'), z.number()]), z.number().int(), z.number().int(), z.number().int()]),
        padding: z.object({ fill: z.number() }).passthrough(),
        resampling: z.object({ size: z.tuple([z.number().int().positive(), z.number().int().positive()]), method: z.literal('bilinear'), alignCorners: z.literal(false) }).passthrough(),
        channels: z.array(z.object({ index: z.number().int(), name: z.string(), window: windowSchema }).passthrough()).min(1),
        normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }).passthrough(),
      })
      .passthrough(),
    outputs: z
      .object({
        tensor: z.string().min(1),
        activation: z.enum(['sigmoid', 'softmax']),
        probabilities: z.string().optional(),
        classes: z.array(z.string().min(1)).min(1),
        thresholds: z.record(z.string(), z.number().min(0).max(1)),
        /**
         * Named alternatives to `thresholds` (the default point), e.g. a high-specificity point
         * for fewer flags per study; the user picks one in Preferences (core/inference/operating-point.ts).
         */
        operatingPoints: z
          .array(
            z
              .object({
                id: z.string().regex(OPERATING_POINT_ID),
                label: z.string().min(1).max(200),
                thresholds: z.record(z.string(), z.number().min(0).max(1)),
              })
              .passthrough(),
          )
          .optional(),
      })
      .passthrough(),
    cam: z.object({ defaultLayer: z.string(), layers: z.array(z.string()).min(1) }).passthrough(),
    modalities: z.array(z.string()).min(1),
    intendedUse: z.string().optional(),
    notForClinicalUse: z.boolean().optional(),
    license: z.string().optional(),
  })
  .passthrough()
  .superRefine((card, ctx) => {
    const { mean, std } = card.input.normalization;
    for (const [name, arr] of [['mean', mean], ['std', std]] as const) {
      if (arr.length !== 1 && arr.length !== card.input.channels.length) ctx.addIssue({ code: 'custom', message: `input.normalization.${name} needs 1 or ${card.input.channels.length} values, has ${arr.length}` });
    }
    if (card.input.channels.length !== card.input.shape[1]) {
      ctx.addIssue({ code: 'custom', message: `input.channels has ${card.input.channels.length} entries, input.shape[1] is ${card.input.shape[1]}` });
    }
    // each channel says where it goes in the tensor: every index 0..C-1 once (preprocess places them by it)
    const indices = card.input.channels.map((ch) => ch.index);
    if ([...indices].sort((a, b) => a - b).some((v, i) => v !== i)) {
      ctx.addIssue({ code: 'custom', path: ['input', 'channels'], message: `channel indices must be 0..${card.input.channels.length - 1}, each once; the card gives ${indices.join(', ')}` });
    }
    // the ONNX file sits beside its card (loadCard): a folder in its name would be ignored
    if (/[\\/]/.test(card.onnx.file)) {
      ctx.addIssue({ code: 'custom', path: ['onnx', 'file'], message: `'${card.onnx.file}': give the file name only; the ONNX file must sit beside its card` });
    }
    // Class names become object keys (probabilities, thresholds) and finding ids: a repeated
    // name would lose a class's probabilities and give two findings one id, and a name such as
    // __proto__ does not survive as a key at all. Own-property checks, because `in` also sees
    // inherited keys (a class called toString would seem to have a threshold).
    const seen = new Set<string>();
    for (const c of card.outputs.classes) {
      if (seen.has(c)) ctx.addIssue({ code: 'custom', message: `class '${c}' is listed twice in outputs.classes` });
      seen.add(c);
      if (RESERVED_NAMES.has(c)) ctx.addIssue({ code: 'custom', message: `class name '${c}' is reserved (it is a JavaScript object property); rename the class` });
      else if (!Object.hasOwn(card.outputs.thresholds, c)) ctx.addIssue({ code: 'custom', message: `no operating threshold for class '${c}'` });
    }
    const ids = new Set<string>();
    for (const op of card.outputs.operatingPoints ?? []) {
      if (ids.has(op.id)) ctx.addIssue({ code: 'custom', message: `operating point '${op.id}' is listed twice` });
      if (op.id === 'default') ctx.addIssue({ code: 'custom', message: "operating point id 'default' is reserved (it names the card's own thresholds)" });
      ids.add(op.id);
      for (const c of card.outputs.classes) {
        if (!RESERVED_NAMES.has(c) && !Object.hasOwn(op.thresholds, c)) ctx.addIssue({ code: 'custom', message: `operating point '${op.id}' has no threshold for class '${c}'` });
      }
    }
    if (!card.cam.layers.includes(card.cam.defaultLayer)) ctx.addIssue({ code: 'custom', message: `cam.defaultLayer '${card.cam.defaultLayer}' is not in cam.layers` });
  });

export type ModelCard = z.infer<typeof modelCardSchema>;

export interface LoadedCard {
  card: ModelCard;
  cardPath: string;
  onnxPath: string;
  /** The ONNX bytes whose sha256 matched the card. */
  onnxBytes: Uint8Array;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A model card is a few kilobytes (the default one ~20 KB). */
export const MAX_CARD_BYTES = 1024 * 1024;
/**
 * ONNX files above this are refused before they are read. A single protobuf is limited to 2 GiB
 * and the largest ResNet-family classifiers in float32 are ~0.5 GB (Wide ResNet-101); a model
 * folder holding more is a mistake, and reading it whole to hash it would stall the app.
 */
export const MAX_ONNX_BYTES = 1024 * 1024 * 1024;

const human = (n: number) => (n >= 1024 ** 3 ? `${+(n / 1024 ** 3).toFixed(2)} GiB` : `${+(n / 1024 ** 2).toFixed(2)} MiB`);

/**
 * Read a whole regular file of at most `limit` bytes. A FIFO or device in the model folder must
 * not hang the app, so the file is opened as io/files.ts opens user files (non-blocking, fstat on
 * the descriptor) and the size cap is checked from fstat before a byte is read.
 */
export function readRegularFile(file: string, limit: number, what: string, where: string): Buffer {
  const fail = (msg: string): never => {
    throw new ResightError('MODEL_INVALID', `${what} ${msg}`, { path: where });
  };
  const unreadable = (err: unknown) => fail(`is not readable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  let opened: { fd: number; size: number };
  try {
    opened = openRegularFile(file);
  } catch (err) {
    if (!(err instanceof NotRegularFile)) return unreadable(err);
    const st = err.stats;
    return fail(`is not a regular file (${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a named pipe' : 'a device or socket'})`);
  }
  const { fd, size } = opened;
  try {
    if (size > limit) fail(`is ${size} bytes, over the limit of ${human(limit)}`);
    const buf = Buffer.alloc(size);
    // A file truncated while being read is not the file that was hashed; the hash check catches
    // a changed one.
    const got = readFully(fd, buf, 0);
    return got === buf.length ? buf : buf.subarray(0, got);
  } catch (err) {
    if (err instanceof ResightError) throw err;
    return unreadable(err);
  } finally {
    fs.closeSync(fd);
  }
}

/** Read and validate a card and its ONNX file; refuses a model whose bytes do not match. */
export function loadModelCard(cardPath: string): LoadedCard {
  const text = readRegularFile(cardPath, MAX_CARD_BYTES, 'model card', cardPath).toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ResightError('MODEL_INVALID', `model card is not readable JSON: ${(err as Error).message}`, { path: cardPath });
  }
  const parsed = modelCardSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(card)'}: ${i.message}`).join('; ');
    throw new ResightError('MODEL_INVALID', `model card is invalid: ${issues}`, { path: cardPath });
  }
  const card = parsed.data;
  // The ONNX file sits beside its card; a card cannot point elsewhere on disk (the schema refuses folders).
  const onnxPath = path.join(path.dirname(cardPath), card.onnx.file);
  const onnxBytes: Uint8Array = readRegularFile(onnxPath, MAX_ONNX_BYTES, `model file ${card.onnx.file}`, cardPath);
  const actual = sha256Hex(onnxBytes);
  if (actual !== card.onnx.sha256) {
    throw new ResightError('MODEL_HASH_MISMATCH', `${card.onnx.file} has sha256 ${actual}, the card says ${card.onnx.sha256}: refusing the model`, { path: onnxPath });
  }
  return { card, cardPath, onnxPath, onnxBytes };
}

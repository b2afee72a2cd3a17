import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadFrame } from '../../core/dicom/frame';
import { ResightError } from '../../core/errors';
import { CAM_METHODS } from '../../core/explain/cam';
import type { CamMethod } from '../../core/explain/cam';
import { Explainer } from '../../core/explain/explainer';
import { paddingRangeOf } from '../../core/imaging/voi';
import { defaultModelCard } from '../../core/inference/default-model';
import { InferenceEngine } from '../../core/inference/engine';
import { isProviderName } from '../../core/inference/providers';
import { PROVIDER_NAMES } from '../../shared/analysis';
import type { ProviderName } from '../../shared/analysis';
import { besideNoStudy, UsageError, writeFileAtomic } from '../io';
import { mapMax } from '../../core/explain/geometry';

/** What explain writes into --out-dir (ARCHITECTURE.md). */
const EXPLAIN_FILES = ['input.f32', 'cam.f32', 'heatmap.f32', 'meta.json'] as const;

export const EXPLAIN_HELP = `resight explain <file> [--frame N] [--model <card.json>] [--method ${CAM_METHODS.join('|')}]
                [--layer <tensor>] [--class <name>] [--score logit|probability] [--provider P] --out-dir <dir> [--json]
  Class-activation map of one slice: writes input.f32 (the exact model input, NCHW), cam.f32
  (raw map at the layer's resolution, after ReLU), heatmap.f32 (0..1 at the slice's rows x
  columns, aligned to the image) and meta.json. Default: Grad-CAM at the card's default layer
  for the highest-scoring class, differentiating the logit.`;

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export async function runExplain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      frame: { type: 'string' },
      model: { type: 'string' },
      method: { type: 'string' },
      layer: { type: 'string' },
      class: { type: 'string' },
      score: { type: 'string' },
      provider: { type: 'string' },
      'out-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('explain needs exactly one file');
  const outDir = values['out-dir'];
  if (!outDir) throw new UsageError('explain needs --out-dir <dir>');
  if (values.frame !== undefined && !/^\d+$/.test(values.frame)) throw new UsageError(`--frame must be a non-negative integer, got '${values.frame}'`);
  const method = (values.method ?? 'gradcam') as CamMethod;
  if (!CAM_METHODS.includes(method)) throw new UsageError(`--method must be one of ${CAM_METHODS.join(', ')}`);
  const score = values.score ?? 'logit';
  if (score !== 'logit' && score !== 'probability') throw new UsageError('--score must be logit or probability');
  if (values.provider !== undefined && !isProviderName(values.provider)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}`);
  const cardPath = values.model ?? defaultModelCard();
  if (!cardPath) throw new ResightError('MODEL_INVALID', 'no --model given and the default model (resources/models) was not found');
  if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new UsageError(`--out-dir '${outDir}' is not a folder`);

  const frame = values.frame === undefined ? 0 : Number(values.frame);
  const { header, decoded, values: px } = await loadFrame(positionals[0], frame);
  // nothing is ever written into a study folder: not beside the file explained either (checked
  // once the file is read, so a file that is not there says so first)
  besideNoStudy(EXPLAIN_FILES.map((f) => path.join(outDir, f)), positionals[0]);
  if (decoded.samplesPerPixel !== 1) throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `the model reads single-sample modality values; this image is ${decoded.photometric}`, { path: positionals[0] });
  const engine = new InferenceEngine();
  const explainer = new Explainer();
  try {
    const model = await engine.model(path.resolve(cardPath), { force: values.provider as ProviderName | undefined });
    // a provider asked for and not used says why (stderr: stdout stays the result), as analyze does
    if (values.provider) for (const f of model.provider.fallbacks) process.stderr.write(`resight: provider ${f.provider} not used: ${f.reason}\n`);
    if (!model.card.modalities.includes(header.series.modality)) process.stderr.write(`resight: warning: ${model.card.name} is meant for ${model.card.modalities.join('/')}; this image is ${header.series.modality || 'of unknown modality'}\n`);
    const e = await explainer
      .explainSlice(
        model,
        { values: px, rows: decoded.rows, columns: decoded.columns, paddingRange: paddingRangeOf(header) },
        { method, score, ...(values.layer ? { layer: values.layer } : {}), ...(values.class ? { class: values.class } : {}) },
      )
      .catch((err: unknown) => {
        // The engine says USAGE for a --layer, --class or --score the model does not have: an
        // argument error like any other, so it exits 2 as --method does.
        if (err instanceof ResightError && err.code === 'USAGE') throw new UsageError(err.detail);
        throw err;
      });
    const heat = Explainer.heatmap(e, decoded.rows, decoded.columns);
    fs.mkdirSync(outDir, { recursive: true });
    const meta = {
      method: e.method,
      layer: e.layer,
      class: e.class,
      classIndex: e.classIndex,
      score: e.scoreValue,
      scoreKind: e.score,
      logits: e.logits,
      camShape: e.camShape,
      inputShape: e.inputShape,
      rows: decoded.rows,
      columns: decoded.columns,
      camMax: mapMax(e.cam.map),
      provider: e.provider,
      providerReport: model.provider,
      model: model.identity,
      ms: e.ms,
      notForClinicalUse: model.card.notForClinicalUse !== false,
    };
    writeFileAtomic(path.join(outDir, 'input.f32'), bytesOf(e.input));
    writeFileAtomic(path.join(outDir, 'cam.f32'), bytesOf(e.cam.map));
    writeFileAtomic(path.join(outDir, 'heatmap.f32'), bytesOf(heat.values));
    writeFileAtomic(path.join(outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    if (values.json) process.stdout.write(JSON.stringify(meta) + '\n');
    else process.stdout.write(`${e.method} at ${e.layer} for ${e.class} (${e.score} ${e.scoreValue.toFixed(3)}) on ${e.provider} in ${e.ms.toFixed(0)} ms: ${e.camShape.join('x')} map -> ${outDir}\n`);
    return 0;
  } finally {
    await explainer.release();
    await engine.release();
  }
}

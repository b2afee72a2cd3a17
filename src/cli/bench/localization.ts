/**
 * `resight bench --suite localization`: does the heatmap point at the lesion? On held-out
 * phantom slices with lesion masks (training/localization_set.py; seeds the model never saw),
 * for the slices the model gets right at its operating threshold (true positives), per CAM
 * method and layer, at the model's input scale:
 *  - pointing game: the heatmap's maximum lies inside the lesion mask dilated by 2 px;
 *  - energy inside the mask: share of the heatmap's sum inside the (undilated) mask;
 *  - deletion AUC: remove the input's pixels most-salient first (set to air), 5% at a time, and
 *    average the class probability over the 21 steps, relative to the unmasked probability
 *    (lower is better: the evidence was where the map said). A random ranking is the baseline.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from '../../core/inference/ort';
import type { CamMethod } from '../../core/explain/cam';
import { Explainer } from '../../core/explain/explainer';
import { resizeMap } from '../../core/explain/geometry';
import { VolumeCache } from '../../core/imaging/volume';
import { loadModelCard } from '../../core/inference/card';
import { defaultModelCard } from '../../core/inference/default-model';
import { InferenceEngine } from '../../core/inference/engine';
import type { LoadedModel } from '../../core/inference/model';
import { inputLength, preprocessInto } from '../../core/inference/preprocess';
import { UsageError } from '../io';
import { f2, machineLine, repoFile } from './common';
import { activate } from '../../core/inference/activation';

interface SetEntry {
  id: number;
  class: string;
  classIndex: number;
  rows: number;
  columns: number;
  hu: string;
  mask: string;
}

const STEPS = 20;

/** Mask at the model's input scale: an input pixel is lesion when any source pixel under it is. */
function maskAtInput(mask: Uint8Array, rows: number, columns: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < rows; y++) {
    const iy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / rows));
    for (let x = 0; x < columns; x++) if (mask[y * columns + x]) out[iy * w + Math.min(w - 1, Math.floor(((x + 0.5) * w) / columns))] = 1;
  }
  return out;
}

function dilate(mask: Uint8Array, h: number, w: number, r: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy >= 0 && yy < h && xx >= 0 && xx < w && dx * dx + dy * dy <= r * r) out[yy * w + xx] = 1;
      }
    }
  }
  return out;
}

/** The classes of the localization set (training/localization_set.py). */
const SET_CLASSES = ['lung_nodule', 'liver_lesion'];

/** Mean class probability as the top-ranked input pixels are set to air, 0..100% in 5% steps, over p(0). */
async function deletionAuc(model: LoadedModel, input: Float32Array, ranking: Int32Array, classIndex: number): Promise<number> {
  const [h, w] = model.spec.size;
  const c = model.spec.channels.length;
  const plane = h * w;
  const per = c * plane;
  const air = model.spec.channels.map((ch) => (Math.min(1, Math.max(0, (-1000 - ch.low) / ch.width)) - ch.mean) / ch.std);
  const batch = new Float32Array((STEPS + 1) * per);
  for (let s = 0; s <= STEPS; s++) {
    const x = batch.subarray(s * per, (s + 1) * per);
    x.set(input);
    const k = Math.round((s / STEPS) * plane);
    for (let j = 0; j < k; j++) for (let ch = 0; ch < c; ch++) x[ch * plane + ranking[j]] = air[ch];
  }
  const out = await model.session.run({ [model.card.input.tensor]: new ort.Tensor('float32', batch, [STEPS + 1, c, h, w]) });
  const logits = out[model.card.outputs.tensor].data as Float32Array;
  const k = model.card.outputs.classes.length;
  const probs = activate(logits, STEPS + 1, k, model.card.outputs.activation);
  const p = Array.from({ length: STEPS + 1 }, (_, s) => probs[s * k + classIndex] as number);
  // Trapezoid over [0, 1], relative to the unmasked probability.
  let area = 0;
  for (let s = 0; s < STEPS; s++) area += (p[s] + p[s + 1]) / 2 / STEPS;
  return area / p[0];
}

/**
 * The input pixels where a map of lh x lw, upsampled bilinearly (half-pixel centres) to h x w,
 * can have its maximum: a bilinear interpolant peaks at a node, i.e. at the pixels next to
 * (k + 0.5) * h / lh - 0.5 on each axis. However good the map, its pointing game is at most the
 * share of slices where one of these pixels lies in the dilated mask: the layer's resolution
 * bound, reported beside each layer's score.
 */
function peakPixels(lh: number, lw: number, h: number, w: number): Int32Array {
  const axis = (l: number, n: number) => {
    const px = new Set<number>();
    for (let k = 0; k < l; k++) {
      const p = Math.min(Math.max(((k + 0.5) * n) / l - 0.5, 0), n - 1);
      px.add(Math.floor(p));
      px.add(Math.ceil(p));
    }
    return [...px];
  };
  const ys = axis(lh, h);
  const xs = axis(lw, w);
  return Int32Array.from(ys.flatMap((y) => xs.map((x) => y * w + x)));
}

const rankDesc = (heat: Float32Array) => Int32Array.from(heat.keys()).sort((a, b) => heat[b] - heat[a]);

export async function runLocalizationBench(opts: { set?: string; python?: string; methods?: CamMethod[]; layers?: string[]; card?: string }): Promise<string> {
  const card = opts.card ?? defaultModelCard();
  if (!card) throw new Error('default model not found');
  // before the (minutes-long) set generation: a layer the card does not list is a usage error
  const loaded = loadModelCard(card).card;
  const cardLayers = loaded.cam.layers;
  const unknown = (opts.layers ?? []).filter((l) => !cardLayers.includes(l));
  if (unknown.length) throw new UsageError(`--layers: ${unknown.join(', ')} not among the model card's CAM layers (${cardLayers.join(', ')})`);
  // the set is ReSight's phantom lesions with their masks: a model of other classes has nothing to point at
  // a model of one of them (a lung-only fine-tune) is measured on that class's lesions alone
  const shared = SET_CLASSES.filter((c) => loaded.outputs.classes.includes(c));
  if (!shared.length) throw new UsageError(`the localization suite measures on ReSight's phantom lesions (${SET_CLASSES.join(', ')}); the model has ${loaded.outputs.classes.join(', ')}, none of them`);
  if (opts.set && !fs.existsSync(path.join(opts.set, 'meta.json'))) {
    throw new UsageError(`--set ${opts.set} holds no meta.json: make the set with /usr/bin/python3 -m training.localization_set --out <dir>, or leave --set out`);
  }
  let dir = opts.set;
  let made: string | undefined;
  if (!dir) {
    const python = opts.python ?? '/usr/bin/python3';
    const root = repoFile('training/localization_set.py');
    if (!root) return '### Localization\n\nNot run: training/localization_set.py comes with a source checkout (or pass --set DIR).';
    made = dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-locset-'));
    const p = spawnSync(python, ['-m', 'training.localization_set', '--out', dir], { cwd: path.resolve(root, '..', '..'), encoding: 'utf8' });
    if (p.status !== 0) return `### Localization\n\nNot run: the evaluation set could not be generated (${python} -m training.localization_set; needs python3-torch, python3-scipy): ${(p.stderr || '').trim().split('\n').pop()}`;
  }
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { entries: SetEntry[]; seeds?: unknown };
    const engine = new InferenceEngine({ volumes: new VolumeCache({ pool: null }) });
    const model = await engine.model(card, { force: 'cpu' });
    const explainer = new Explainer();
    const [h, w] = model.spec.size;
    const per = inputLength(model.spec);
    const methods: CamMethod[] = opts.methods ?? ['gradcam', 'gradcampp', 'hirescam', 'layercam', 'scorecam'];
    const layers = opts.layers ?? model.card.cam.layers;
    type Acc = { hits: number; energy: number; deletion: number; n: number };
    const acc = new Map<string, Acc>();
    const bound = new Map<string, { hits: number; n: number }>();
    const peaks = new Map<string, Int32Array>(); // per layer: the same for every slice
    const add = (key: string, hit: boolean, energy: number, del: number) => {
      const a = acc.get(key) ?? { hits: 0, energy: 0, deletion: 0, n: 0 };
      a.hits += hit ? 1 : 0;
      a.energy += energy;
      a.deletion += del;
      a.n++;
      acc.set(key, a);
    };
    let tp = 0;
    const perClass: Record<string, { tp: number; total: number }> = {};
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const e of meta.entries) {
      if (!shared.includes(e.class)) continue;
      const pc = (perClass[e.class] ??= { tp: 0, total: 0 });
      pc.total++;
      const huBuf = fs.readFileSync(path.join(dir, e.hu));
      const hu = new Float32Array(huBuf.buffer.slice(huBuf.byteOffset, huBuf.byteOffset + huBuf.byteLength));
      const mask = new Uint8Array(fs.readFileSync(path.join(dir, e.mask)));
      const input = new Float32Array(per);
      preprocessInto({ values: hu, rows: e.rows, columns: e.columns }, model.spec, input, 0);
      const ci = model.card.outputs.classes.indexOf(e.class);
      const out = await model.session.run({ [model.card.input.tensor]: new ort.Tensor('float32', input, [1, model.spec.channels.length, h, w]) });
      const p = activate(out[model.card.outputs.tensor].data as Float32Array, 1, model.card.outputs.classes.length, model.card.outputs.activation)[ci] as number;
      if (p < model.card.outputs.thresholds[e.class]) continue; // only true positives are explained
      tp++;
      pc.tp++;
      const m = maskAtInput(mask, e.rows, e.columns, h, w);
      const md = dilate(m, h, w, 2);
      const evaluate = async (key: string, heat: Float32Array) => {
        let best = 0;
        let sum = 0;
        let inside = 0;
        heat.forEach((v, i) => {
          if (v > heat[best]) best = i;
          sum += v;
          if (m[i]) inside += v;
        });
        add(key, md[best] === 1, sum > 0 ? inside / sum : 0, await deletionAuc(model, input, rankDesc(heat), ci));
      };
      for (const layer of layers) {
        for (const method of methods) {
          if (method === 'scorecam' && layer !== model.card.cam.defaultLayer) continue;
          const ex = await explainer.explainInput(model, input, { layer, method, class: ci });
          if (method === methods[0]) {
            const b = bound.get(layer) ?? { hits: 0, n: 0 };
            let at = peaks.get(layer);
            if (!at) peaks.set(layer, (at = peakPixels(ex.cam.height, ex.cam.width, h, w)));
            b.hits += at.some((i) => md[i] === 1) ? 1 : 0;
            b.n++;
            bound.set(layer, b);
          }
          await evaluate(`${method}@${layer}`, resizeMap(ex.cam.map, ex.cam.height, ex.cam.width, h, w));
        }
      }
      await evaluate('random (baseline)', Float32Array.from({ length: h * w }, random));
    }
    await explainer.release();
    await engine.release();
    const lines = [
      `### Localization: ${model.card.name} on ${meta.entries.length} held-out phantom slices with lesion masks, ${tp} true positives at the operating thresholds`,
      '',
      `True positives per class: ${Object.entries(perClass).map(([c, v]) => `${c} ${v.tp}/${v.total}`).join(', ')}. Heatmaps at the model's input scale (${h}x${w}).`,
      '',
      '| method @ layer | pointing game (max inside mask + 2 px) | its bound at this layer\'s resolution | energy inside mask | deletion AUC (lower is better) |',
      '|---|---:|---:|---:|---:|',
      ...[...acc].map(([k, a]) => {
        const b = bound.get(k.split('@')[1] ?? '');
        return `| ${k} | ${f2(a.hits / a.n)} | ${b ? f2(b.hits / b.n) : ''} | ${f2(a.energy / a.n)} | ${f2(a.deletion / a.n)} |`;
      }),
      '',
      "Bound: the share of these slices where the layer's map, upsampled to the input, can peak inside the dilated mask at all (a bilinear map peaks at a node of the layer's grid), so no heatmap at that layer can score more.",
      '',
      `Target: pointing game >= 0.85 for Grad-CAM at the default layer (${model.card.cam.defaultLayer}). Machine: ${machineLine()}.`,
    ];
    return lines.join('\n');
  } finally {
    if (made) fs.rmSync(made, { recursive: true, force: true });
  }
}

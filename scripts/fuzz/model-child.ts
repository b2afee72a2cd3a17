/**
 * Child process for model fuzzing (started by model-fuzz.ts through tsx): loads one card per
 * IPC message with `loadModel(card, {force: 'cpu'})` and answers what happened. ONNX Runtime is
 * native code: a corrupt model that makes it abort takes this process down, not the fuzzer.
 */
import { ResightError } from '../../src/core/errors';
import type { LoadedModel } from '../../src/core/inference/model';
import { loadModel } from '../../src/core/inference/model';
import { describeException, exceptionKind } from './dicom-case';

export interface ModelJob {
  id: number;
  cardPath: string;
}

export interface ModelCaseResult {
  status: 'ok' | 'typed' | 'finding';
  code?: string;
  message?: string;
  kind?: string;
  name?: string;
  stack?: string;
  ms: number;
}

/** A loaded model's preprocessing must be usable, or every score would be NaN or nonsense. */
export function specProblem(m: LoadedModel): string | undefined {
  const { size, fill, channels } = m.spec;
  if (!(size[0] > 0 && size[1] > 0)) return `input size ${size.join('x')}`;
  if (!Number.isFinite(fill)) return `padding fill ${fill}`;
  if (!channels.length) return 'no input channels';
  for (const [i, c] of channels.entries()) {
    if (!Number.isFinite(c.low) || !(c.width > 0) || !Number.isFinite(c.width)) return `channel ${i} window low ${c.low} width ${c.width}`;
    if (!Number.isFinite(c.mean) || !Number.isFinite(c.std) || !(c.std > 0)) return `channel ${i} normalization mean ${c.mean} std ${c.std}`;
  }
  return undefined;
}

export async function runModelCase(cardPath: string): Promise<ModelCaseResult> {
  const t0 = performance.now();
  try {
    const m = await loadModel(cardPath, { force: 'cpu', threads: 1 });
    const problem = specProblem(m);
    await m.session.release();
    if (problem) return { status: 'finding', kind: 'invariant', message: `loadModel accepted a card whose preprocessing is unusable: ${problem}`, ms: performance.now() - t0 };
    return { status: 'ok', ms: performance.now() - t0 };
  } catch (err) {
    if (err instanceof ResightError) return { status: 'typed', code: err.code, message: err.detail.slice(0, 2000), ms: performance.now() - t0 };
    const e = describeException(err);
    return { status: 'finding', kind: exceptionKind(e), name: e.name, message: e.message, stack: e.stack, ms: performance.now() - t0 };
  }
}

if (require.main === module && process.send) {
  const send = process.send.bind(process);
  process.on('message', (job: ModelJob) => {
    void runModelCase(job.cardPath).then((result) => send({ id: job.id, result }));
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}

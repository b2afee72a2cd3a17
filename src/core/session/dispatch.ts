/**
 * The one transport-agnostic entry point (ARCHITECTURE.md): validate a call against the
 * contract's zod schema, run it on the session, and answer `{ok, value}` or
 * `{ok: false, error: {code, message}}` — never a stack trace or an absolute path.
 */
import type { Method, Reply, Results } from '../../shared/api';
import { schemas } from '../../shared/api';
import { toErrorInfo } from '../errors';
import type { Session } from './session';

type Handlers = { [M in Method]: (s: Session, params: never) => Results[M] | Promise<Results[M]> };

const handlers: Handlers = {
  'studies.open': (s, p) => s.open(p),
  'studies.list': (s) => s.list(),
  'studies.close': (s, p) => s.close(p),
  'series.get': (s, p) => s.getSeries(p),
  'model.get': (s) => s.modelInfo(),
  'analysis.start': (s, p) => s.startAnalysis(p),
  'analysis.cancel': (s, p) => s.cancel(p),
  'analysis.get': (s, p) => s.getAnalysis(p),
  'explain.slice': (s, p) => s.explain(p),
  'review.set': (s, p) => s.setReview(p),
  'review.get': (s, p) => s.getReviews(p),
  'instance.tags': (s, p) => s.tags(p),
  'slice.overlays': (s, p) => s.overlays(p),
  'report.export': (s, p) => s.exportReport(p),
  'settings.get': (s) => s.getPreferences(),
  'settings.set': (s, p) => s.setPreferences(p),
  'pacs.get': (s) => s.pacsInfo(),
  'policy.get': (s) => s.policyInfo(),
};

export async function dispatch(session: Session, method: string, params: unknown): Promise<Reply<Method>> {
  if (!Object.prototype.hasOwnProperty.call(schemas, method)) return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method '${String(method).slice(0, 100)}'` } };
  const m = method as Method;
  const parsed = schemas[m].safeParse(params ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'VALIDATION', message: `${m}: ${issues}` } };
  }
  try {
    const value = await (handlers[m] as (s: Session, p: unknown) => Promise<Results[Method]>)(session, parsed.data);
    return { ok: true, value } as Reply<Method>;
  } catch (err) {
    const e = toErrorInfo(err);
    return { ok: false, error: { code: e.code, message: session.displayText(e.message) } };
  }
}

/** A model card's held-out metrics as the model card dialog shows them (pure, tested in Node). */

export interface ClassMetrics {
  rocAuc?: number;
  rocAuc95ci?: [number, number];
  sizeBins?: { label: string; lesions?: number; lesionSensitivity?: number }[];
}
export interface PointMetrics {
  id: string;
  label: string;
  perClass: Record<string, { threshold?: number; sensitivity?: number; specificity?: number }>;
}
export interface CardMetrics {
  dataset?: string;
  perClass: Record<string, ClassMetrics>;
  operatingPoints: PointMetrics[];
  training?: string;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x ? x : undefined);

/** What of the card's held-out metrics can be shown; unknown shapes are left out. */
export function cardMetrics(card: unknown): CardMetrics | null {
  if (!isObj(card) || !isObj(card.metrics)) return null;
  const m = card.metrics;
  const perClass: Record<string, ClassMetrics> = {};
  if (isObj(m.perClass)) {
    for (const [cls, v] of Object.entries(m.perClass)) {
      if (!isObj(v)) continue;
      const ci = Array.isArray(v.rocAuc95ci) && v.rocAuc95ci.length === 2 && v.rocAuc95ci.every((x) => num(x) !== undefined) ? (v.rocAuc95ci as [number, number]) : undefined;
      const bins = Array.isArray(v.sizeBins)
        ? v.sizeBins.filter(isObj).flatMap((b) => {
            const label = str(b.label);
            if (!label) return [];
            const lesions = num(b.lesions);
            const sens = num(b.lesionSensitivity);
            return [{ label, ...(lesions !== undefined ? { lesions } : {}), ...(sens !== undefined ? { lesionSensitivity: sens } : {}) }];
          })
        : undefined;
      const auc = num(v.rocAuc);
      perClass[cls] = { ...(auc !== undefined ? { rocAuc: auc } : {}), ...(ci ? { rocAuc95ci: ci } : {}), ...(bins?.length ? { sizeBins: bins } : {}) };
    }
  }
  const operatingPoints: PointMetrics[] = Array.isArray(m.operatingPoints)
    ? m.operatingPoints.filter(isObj).flatMap((p) => {
        const id = str(p.id);
        const label = str(p.label);
        if (!id || !label || !isObj(p.perClass)) return [];
        const pc: PointMetrics['perClass'] = {};
        for (const [cls, v] of Object.entries(p.perClass)) {
          if (!isObj(v)) continue;
          const [t, se, sp] = [num(v.threshold), num(v.sensitivity), num(v.specificity)];
          pc[cls] = { ...(t !== undefined ? { threshold: t } : {}), ...(se !== undefined ? { sensitivity: se } : {}), ...(sp !== undefined ? { specificity: sp } : {}) };
        }
        return [{ id, label, perClass: pc }];
      })
    : [];
  // a class that only the operating points give figures for still gets its columns
  for (const op of operatingPoints) for (const cls of Object.keys(op.perClass)) perClass[cls] ??= {};
  const dataset = str(m.dataset);
  const training = isObj(card.training) ? str(card.training.data) : undefined;
  if (!Object.keys(perClass).length && !operatingPoints.length) return null;
  return { perClass, operatingPoints, ...(dataset ? { dataset } : {}), ...(training ? { training } : {}) };
}


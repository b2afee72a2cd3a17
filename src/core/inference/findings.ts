/**
 * Study-level findings from per-slice probabilities: for each class, every run of contiguous
 * slices (volume order) whose probability reaches the class's operating threshold. A slice that
 * could not be decoded ends a run: a finding never spans a slice nobody scored. Each also has its
 * core (Finding.coreStart/coreEnd), where the score is at least half its peak.
 */
import type { Finding, SliceResult } from '../../shared/analysis';

/** Findings with their core, computed from the slices' scores where a finding lacks one (a result cached before cores existed). */
export function withCores(findings: readonly Finding[], slices: readonly SliceResult[]): Finding[] {
  return findings.map((f) => {
    if (f.coreStart !== undefined && f.coreEnd !== undefined) return f;
    const again = findingsFrom(slices.slice(f.sliceStart, f.sliceEnd + 1), [f.class], { [f.class]: f.threshold }).find((x) => x.sliceStart === f.sliceStart && x.sliceEnd === f.sliceEnd);
    return again?.coreStart !== undefined ? { ...f, coreStart: again.coreStart, coreEnd: again.coreEnd } : f;
  });
}

export function findingsFrom(slices: readonly SliceResult[], classes: readonly string[], thresholds: Readonly<Record<string, number>>): Finding[] {
  const out: Finding[] = [];
  for (const cls of classes) {
    const thr = thresholds[cls] ?? 0.5;
    let run: SliceResult[] = [];
    const flush = () => {
      if (!run.length) return;
      let key = run[0];
      for (const s of run) if ((s.probabilities?.[cls] ?? 0) > (key.probabilities?.[cls] ?? 0)) key = s;
      const start = run[0].index;
      const end = run[run.length - 1].index;
      // the core: out from the key slice while the score stays at half the peak or more
      const peak = key.probabilities?.[cls] ?? 0;
      const strong = (s: SliceResult | undefined) => s !== undefined && (s.probabilities?.[cls] ?? 0) >= Math.max(thr, peak / 2);
      let k0 = run.indexOf(key);
      let k1 = k0;
      while (strong(run[k0 - 1])) k0--;
      while (strong(run[k1 + 1])) k1++;
      out.push({
        id: `${cls}:${start}-${end}`,
        class: cls,
        score: key.probabilities?.[cls] ?? 0,
        threshold: thr,
        sliceStart: start,
        sliceEnd: end,
        keySlice: key.index,
        coreStart: (run[k0] as SliceResult).index,
        coreEnd: (run[k1] as SliceResult).index,
        keySopInstanceUid: key.sopInstanceUid,
        centroid: null,
      });
      run = [];
    };
    for (const s of slices) {
      const p = s.probabilities?.[cls];
      const contiguous = run.length === 0 || s.index === run[run.length - 1].index + 1;
      if (p !== undefined && p >= thr && contiguous) run.push(s);
      else {
        flush();
        if (p !== undefined && p >= thr) run.push(s);
      }
    }
    flush();
  }
  return out;
}

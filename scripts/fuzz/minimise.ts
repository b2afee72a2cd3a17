/**
 * Shrinking a failing input while the same failure reproduces (bounded): shortest failing
 * prefix (binary search), then deleting chunks (halving their size, ddmin-style), then zeroing
 * what is left in chunks, so that the saved fixture holds only the bytes that matter.
 */

export interface MinimiseResult {
  bytes: Uint8Array;
  tries: number;
  /** False when the original input did not fail the same way again (flaky, e.g. load-dependent). */
  reproduced: boolean;
}

export interface MinimiseOptions {
  /** Test runs at most (each is one case). */
  maxTries?: number;
  /** Wall-clock budget, ms. */
  maxMs?: number;
}

/** `reproduces(bytes)` must answer whether `bytes` still fails the same way. */
export async function minimise(input: Uint8Array, reproduces: (bytes: Uint8Array) => Promise<boolean>, opts: MinimiseOptions = {}): Promise<MinimiseResult> {
  const maxTries = opts.maxTries ?? 150;
  const deadline = Date.now() + (opts.maxMs ?? 60_000);
  let tries = 0;
  const budget = () => tries < maxTries && Date.now() < deadline;
  const test = async (b: Uint8Array) => {
    tries++;
    return reproduces(b);
  };
  if (!(await test(input))) return { bytes: input, tries, reproduced: false };
  let best = input;

  // 1. Shortest failing prefix (assumes failure is monotone in the prefix length; checked).
  let lo = 0;
  let hi = best.length;
  while (hi - lo > 1 && budget()) {
    const mid = Math.floor((lo + hi) / 2);
    if (await test(best.subarray(0, mid))) hi = mid;
    else lo = mid;
  }
  if (hi < best.length) best = best.slice(0, hi);

  // 2. Delete chunks, largest first.
  for (let chunk = Math.floor(best.length / 2); chunk >= 4 && budget(); chunk = Math.floor(chunk / 2)) {
    for (let o = best.length - chunk; o >= 0 && budget(); o -= chunk) {
      const candidate = new Uint8Array(best.length - chunk);
      candidate.set(best.subarray(0, o), 0);
      candidate.set(best.subarray(o + chunk), o);
      if (await test(candidate)) best = candidate;
    }
  }

  // 3. Zero chunks (keeps offsets; makes the fixture's meaningful bytes stand out).
  for (const chunk of [1024, 128, 16]) {
    for (let o = 0; o < best.length && budget(); o += chunk) {
      const end = Math.min(best.length, o + chunk);
      if (best.subarray(o, end).every((v) => v === 0)) continue;
      const candidate = new Uint8Array(best);
      candidate.fill(0, o, end);
      if (await test(candidate)) best = candidate;
    }
  }
  return { bytes: best, tries, reproduced: true };
}

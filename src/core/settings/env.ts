/**
 * Environment variables an installer sets (README "Environment variables"): a value that is not
 * one the variable takes is said once, on stderr, with what is used instead; before, a typo
 * (RESIGHT_ORT_THREADS=abc, RESIGHT_WORKERS=-1) fell back to a default without a word.
 */
const warned = new Set<string>();

/** Say once per variable that its value is not used, and why. */
export function warnEnv(name: string, value: string, why: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  process.stderr.write(`resight: warning: ${name}='${value.slice(0, 200)}' ${why}\n`);
}

/** A positive whole number from the environment, or undefined (unset; or not one, said once). */
export function envPositiveInt(name: string, allowZero = false): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (Number.isInteger(n) && (n > 0 || (allowZero && n === 0))) return n;
  warnEnv(name, raw, `is not a ${allowZero ? 'whole number of 0 or more' : 'positive whole number'}: the default is used`);
  return undefined;
}

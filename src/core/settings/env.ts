/**
 * Environment variables an installer sets (README "Environment variables"): a value that is not
 * one the variable takes is said once, on stderr, with what is used instead; before, a typo
 * (RESIGHT_ORT_THREADS=abc, RESIGHT_WORKERS=-1) fell back to a default without a word.
 */
import * as path from 'node:path';

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

/**
 * A path variable's value when it is an absolute path, else undefined. A relative one is not used:
 * it would be resolved against the current folder, which may be a study folder (nothing is written
 * there). XDG_DATA_HOME and XDG_CACHE_HOME are read so too, as the XDG spec says.
 */
export function absoluteEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[name];
  return v && path.isAbsolute(v) ? v : undefined;
}

/** The folder variables ReSight reads; each must be an absolute path. */
export const FOLDER_VARIABLES = ['RESIGHT_DATA_DIR', 'RESIGHT_CACHE_DIR', 'RESIGHT_AUDIT_DIR'] as const;

/** The folder variables set to something other than an absolute path (the command line refuses them, the app falls back to its defaults). */
export function relativeFolderVariables(env: NodeJS.ProcessEnv = process.env): string[] {
  return FOLDER_VARIABLES.filter((n) => env[n] && !absoluteEnv(n, env));
}

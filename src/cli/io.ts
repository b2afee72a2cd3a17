/**
 * CLI plumbing: exit codes, JSON errors, atomic writes, a TTY progress bar.
 * Exit 0 on success, 1 on input errors, 2 on usage errors; never a stack trace for bad input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResightError, toErrorInfo } from '../core/errors';
import { parseDestination } from '../core/pacs/store';
import { loadPolicy, policyRefusesDestination } from '../core/settings/policy';
import { assertTargets } from '../core/report/export';
import type { PacsDestination } from '../core/pacs/store';

export class UsageError extends Error {}

export { count } from '../shared/plural';

export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;

/** Report an error the way the contract says and return the exit code. */
export function reportError(err: unknown, json: boolean): number {
  if (err instanceof UsageError) {
    if (json) process.stderr.write(JSON.stringify({ error: { code: 'USAGE', message: err.message } }) + '\n');
    else process.stderr.write(`resight: ${err.message}\n(run 'resight --help' for usage)\n`);
    return EXIT_USAGE;
  }
  const info = toErrorInfo(err);
  if (json) process.stderr.write(JSON.stringify({ error: info }) + '\n');
  else process.stderr.write(`resight: ${info.path ? `${info.path}: ` : ''}${info.message} [${info.code}]\n`);
  if (!(err instanceof ResightError) && process.env.RESIGHT_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  // The contract has two failure codes: anything that is not a usage error is exit 1, internal
  // errors included (they still never print a stack unless RESIGHT_DEBUG is set).
  return EXIT_INPUT;
}

export { writeFileAtomic } from '../core/io/atomic';

/** A mistyped study path is the error to report first (exit 1), before options, outputs or a server. */
export function assertPathsExist(paths: readonly string[]): void {
  for (const p of paths) if (!fs.existsSync(p)) throw new ResightError('FILE_UNREADABLE', 'not found', { path: p });
}

/** `--<flag> AET@host:port [--calling-ae AET]` as a destination (undefined when not given); a bad one is a usage error naming the flag. */
export function destinationOption(flag: string, spec: string | undefined, callingAe: string | undefined): PacsDestination | undefined {
  if (callingAe !== undefined && spec === undefined) throw new UsageError(`--calling-ae goes with --${flag}`);
  if (spec === undefined) return undefined;
  refusedByPolicy(`--${flag}`, spec);
  try {
    return parseDestination(spec, policyCallingAe(callingAe));
  } catch (e) {
    throw new UsageError(`--${flag}: ${(e as Error).message}`);
  }
}

/**
 * The calling AE title to use: the site policy's, where it fixes the PACS (the app sends as that
 * one; a PACS registers it), and a different --calling-ae is a usage error; else the one given.
 */
export function policyCallingAe(given: string | undefined): string | undefined {
  const p = loadPolicy().pacs;
  if (!p) return given;
  const fixed = p.callingAeTitle ?? 'RESIGHT';
  if (given !== undefined && given !== fixed) throw new UsageError(`--calling-ae: the site policy sends as ${fixed}`);
  return fixed;
}

/** A destination the site policy (core/settings/policy.ts) does not allow: a usage error naming the policy. */
export function refusedByPolicy(what: string, spec: string): void {
  const why = policyRefusesDestination(loadPolicy(), spec);
  if (why) throw new UsageError(`${what}: ${why}`);
}

/** A one-line progress bar on stderr, only when stderr is a terminal. */
export function progressBar(label: string): { update(done: number, total: number, extra?: string): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let last = '';
  return {
    update(done, total, extra = '') {
      if (!tty) return;
      const width = 30;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(frac * width);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${extra}`;
      if (line !== last) process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
      last = line;
    },
    end() {
      if (tty && last) process.stderr.write('\n');
    },
  };
}

/**
 * Refuse outputs in the folder of the file a command reads (a study folder, or inside it), with
 * advice these commands can follow (they have no --allow-source-folder).
 */
export function besideNoStudy(targets: readonly string[], input: string): void {
  try {
    assertTargets(targets, { overwrite: true, sourceDirs: [path.dirname(input)] });
  } catch (err) {
    if (err instanceof ResightError && err.code === 'EXPORT_TARGET_FORBIDDEN') {
      throw new ResightError('EXPORT_TARGET_FORBIDDEN', `refusing to write into ${path.dirname(path.resolve(input))}, the folder of the file read (a study folder is never written to): choose an output outside it`, { path: err.path });
    }
    throw err;
  }
}

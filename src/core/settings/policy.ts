/**
 * The site policy: what a hospital's IT sets for every account on a machine, which no user
 * setting, page or command-line flag can change. A JSON file in a folder only administrators
 * write to:
 *
 *   Linux    /etc/resight/policy.json
 *   macOS    /Library/Application Support/ReSight/policy.json
 *   Windows  C:\ProgramData\ReSight\policy.json (and %ProgramData%'s, when that is another)
 *
 * `RESIGHT_POLICY_FILE` names one more (a test, a deployment tool's staging): it can only add
 * restrictions, never lift the machine's (an account can set its own environment).
 *
 *   {
 *     "preferences": { "deidentifyByDefault": true, "exportFolder": "/srv/resight/exports" },
 *     "pacs": { "destination": "PACS@10.0.0.5:104", "callingAeTitle": "RESIGHT_WS3" }   // or false
 *   }
 *
 * `preferences` are fixed at these values (Preferences shows them, locked); `pacs` is the one
 * destination exports may be sent to (settings.json's, `serve --pacs`, `analyze --send` and
 * `echo` to another are refused), or `false`: no sending at all. A policy file that cannot be
 * read or parsed turns sending off (fail closed) and says why; its valid preferences still hold.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { pacsSettingSchema, preferencesSchema, type Preferences } from '../../shared/settings';
import { absoluteEnv } from './env';

export const policySchema = z
  .object({
    preferences: preferencesSchema.optional(),
    pacs: z.union([z.literal(false), pacsSettingSchema]).optional(),
  })
  .strict();

export type PolicyPacs = false | z.infer<typeof pacsSettingSchema>;

export interface SitePolicy {
  /** Preferences fixed by the site. */
  preferences: Preferences;
  /** The one PACS allowed, false for none; undefined: the site says nothing (settings.json decides). */
  pacs?: PolicyPacs;
  /** The policy files that were read. */
  files: string[];
  /** What could not be used, and why (said to the user; sending is then off). */
  problems: string[];
}

/**
 * The machine's policy files on this platform. On Windows, C:\\ProgramData's always, and the
 * ProgramData folder the environment names when that is another: an account can set its own
 * environment, so the variable may add a policy file, never take the fixed one away.
 */
export function machinePolicyFiles(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string[] {
  if (platform === 'win32') {
    const fixed = path.win32.join('C:\\ProgramData', 'ReSight', 'policy.json');
    const named = env.ProgramData && path.win32.isAbsolute(env.ProgramData) ? path.win32.join(env.ProgramData, 'ReSight', 'policy.json') : fixed;
    return named.toLowerCase() === fixed.toLowerCase() ? [fixed] : [fixed, named];
  }
  if (platform === 'darwin') return ['/Library/Application Support/ReSight/policy.json'];
  return ['/etc/resight/policy.json'];
}

/** The policy files that apply: the machine's, and RESIGHT_POLICY_FILE's when it names an absolute path. */
export function policyFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = absoluteEnv('RESIGHT_POLICY_FILE', env);
  return [...machinePolicyFiles(process.platform, env), ...(extra ? [extra] : [])];
}

/** One policy file's content, as far as it is valid (`problem` says what is not). */
function readPolicyFile(file: string): { prefs: Preferences; pacs?: PolicyPacs; problem?: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // no policy here is the usual case; one that exists and cannot be read is a problem
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : { prefs: {}, problem: `${file} cannot be read (${code ?? 'error'})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { prefs: {}, problem: `${file} is not JSON: ${(err as Error).message}` };
  }
  const r = policySchema.safeParse(raw);
  if (r.success) return { prefs: r.data.preferences ?? {}, ...(r.data.pacs !== undefined ? { pacs: r.data.pacs } : {}) };
  // the preferences that are valid on their own still hold; the PACS is then off
  const prefs: Record<string, unknown> = {};
  const given = raw && typeof raw === 'object' ? ((raw as Record<string, unknown>).preferences as Record<string, unknown> | undefined) : undefined;
  const shape = preferencesSchema.shape as Record<string, z.ZodType>;
  for (const [k, v] of Object.entries(given && typeof given === 'object' ? given : {})) if (shape[k]?.safeParse(v).success) prefs[k] = v;
  return { prefs: prefs as Preferences, problem: `${file}: ${r.error.issues[0]?.path.join('.') || 'policy'}: ${r.error.issues[0]?.message ?? 'invalid'}` };
}

/**
 * The policy in force: the files' preferences (the machine's win where two fix the same one), and
 * the strictest PACS rule (false in any file, or two files naming different destinations, is no
 * sending; a problem with any file is no sending).
 */
export function loadPolicy(files: readonly string[] = policyFiles()): SitePolicy {
  const out: SitePolicy = { preferences: {}, files: [], problems: [] };
  const destinations: z.infer<typeof pacsSettingSchema>[] = [];
  let off = false;
  // the last file first, so the machine's (the first) overwrites what another sets
  for (const file of [...files].reverse()) {
    const p = readPolicyFile(file);
    if (!p) continue;
    out.files.unshift(file);
    Object.assign(out.preferences, p.prefs);
    if (p.problem) {
      out.problems.unshift(p.problem);
      off = true;
    }
    if (p.pacs === false) off = true;
    else if (p.pacs) destinations.push(p.pacs);
  }
  const distinct = new Set(destinations.map((d) => JSON.stringify([d.destination.trim(), d.callingAeTitle ?? null])));
  if (off || distinct.size > 1) out.pacs = false;
  else if (destinations.length) out.pacs = destinations[0];
  return out;
}

/** The keys the policy fixes, in the schema's order. */
export function lockedPreferences(policy: SitePolicy): (keyof Preferences)[] {
  return (Object.keys(preferencesSchema.shape) as (keyof Preferences)[]).filter((k) => policy.preferences[k] !== undefined);
}

/** Why sending to `destination` is not allowed by the policy, or null when it is. */
export function policyRefusesDestination(policy: SitePolicy, destination: string): string | null {
  if (policy.pacs === undefined) return null;
  const where = policy.files.join(', ');
  if (policy.pacs === false) return `sending to a PACS is turned off by the site policy (${where})${policy.problems.length ? `: ${policy.problems.join('; ')}` : ''}`;
  return policy.pacs.destination.trim() === destination.trim() ? null : `the site policy (${where}) allows sending to ${policy.pacs.destination} only`;
}

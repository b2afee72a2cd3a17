import { parseArgs } from 'node:util';
import { describeDestination, echo, parseDestination } from '../../core/pacs/store';
import { policyCallingAe, refusedByPolicy, UsageError } from '../io';

export const ECHO_HELP = `resight echo <AET@host:port> [--calling-ae AET] [--json]
  DICOM C-ECHO ("verify"): checks that a PACS answers and accepts ReSight's AE title (default
  RESIGHT) before exports are sent to it with analyze --send. Prints the round trip.`;

export async function runEcho(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'calling-ae': { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('echo needs one destination, AET@host:port');
  // a site that allows one PACS, or none, allows no other network connection either
  refusedByPolicy('echo', positionals[0] as string);
  let dest;
  try {
    dest = parseDestination(positionals[0] as string, policyCallingAe(values['calling-ae']));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const ms = await echo(dest);
  const where = describeDestination(dest);
  process.stdout.write(values.json ? `${JSON.stringify({ destination: where, callingAeTitle: dest.callingAeTitle, ms: Math.round(ms * 10) / 10 })}\n` : `${where} answered C-ECHO in ${ms.toFixed(0)} ms (calling AE ${dest.callingAeTitle})\n`);
  return 0;
}

#!/usr/bin/env node
/**
 * `resight` command line. The contract (commands, flags, JSON shapes, exit codes) is in
 * ARCHITECTURE.md and is what outside checks call: keep it stable.
 */
import { DECODE_HELP, runDecode } from './commands/decode';
import { INFO_HELP, runInfo } from './commands/info';
import { BENCH_HELP, runBench } from './commands/bench';
import { ANALYZE_HELP, runAnalyze } from './commands/analyze';
import { EXPLAIN_HELP, runExplain } from './commands/explain';
import { runServe, SERVE_HELP } from './commands/serve';
import { ECHO_HELP, runEcho } from './commands/echo';
import { AUDIT_HELP, runAudit } from './commands/audit';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT_OK, EXIT_USAGE, reportError, UsageError } from './io';
import { relativeFolderVariables } from '../core/settings/env';

/**
 * The package's version (app/package.json, the package `resight` ships as): found from the built
 * command (app/dist/cli) and from the sources (src/cli) alike.
 */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const p of [path.join(dir, 'package.json'), path.join(dir, 'app', 'package.json')]) {
      try {
        const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'resight' && pkg.version) return pkg.version;
      } catch {
        // not there: look further up
      }
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

const HELP = `ReSight — DICOM viewer with an AI second reader (not for clinical use)

Usage:
${[INFO_HELP, DECODE_HELP, ANALYZE_HELP, EXPLAIN_HELP, SERVE_HELP, BENCH_HELP, ECHO_HELP, AUDIT_HELP].map((h) => '  ' + h.replace(/\n/g, '\n  ')).join('\n\n')}

  resight --version | -V
    Print the version.

Exit codes: 0 success, 1 input error (JSON on stderr with --json), 2 usage error.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  info: { run: runInfo, help: INFO_HELP },
  decode: { run: runDecode, help: DECODE_HELP },
  bench: { run: runBench, help: BENCH_HELP },
  analyze: { run: runAnalyze, help: ANALYZE_HELP },
  explain: { run: runExplain, help: EXPLAIN_HELP },
  serve: { run: runServe, help: SERVE_HELP },
  echo: { run: runEcho, help: ECHO_HELP },
  audit: { run: runAudit, help: AUDIT_HELP },
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const json = rest.includes('--json') || argv.includes('--json');
  // a relative folder would follow the current folder, a study folder perhaps: refused, not guessed
  const relative = relativeFolderVariables();
  if (relative.length && cmd && COMMANDS[cmd]) {
    return reportError(new UsageError(`${relative.join(', ')} must be an absolute path (a relative folder would be resolved against the current folder, which may be a study folder)`), json);
  }
  if (!cmd) {
    // nothing asked: a usage error, said where errors go
    process.stderr.write(HELP + '\n');
    return EXIT_USAGE;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const topic = cmd === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    process.stdout.write((topic ? topic.help : HELP) + '\n');
    return EXIT_OK;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  try {
    if (!command) {
      throw new UsageError(`unknown command '${cmd}'`);
    }
    // `resight info --help`: that command's usage, before its own option parsing refuses the flag
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(command.help + '\n');
      return EXIT_OK;
    }
    return await command.run(rest);
  } catch (err) {
    // parseArgs throws TypeErrors with codes for unknown/invalid options: those are usage errors.
    const code = (err as { code?: string })?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return reportError(new UsageError((err as Error).message), json);
    return reportError(err, json);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = reportError(err, false);
    },
  );
}

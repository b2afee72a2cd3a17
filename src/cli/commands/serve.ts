import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startBridge } from '../../bridge/server';
import { defaultDataDir } from '../../core/inference/cache';
import { assertPathsExist, destinationOption, UsageError } from '../io';
import { ResightError } from '../../core/errors';
import { loadPolicy } from '../../core/settings/policy';
import { modelCardIn } from '../../core/settings/file';

export const SERVE_HELP = `resight serve [path...] [--port P] [--model <card.json>] [--pacs AET@host:port [--calling-ae AET]]
  The viewer in a browser: the contract over a WebSocket and slices over HTTP, on 127.0.0.1
  only, with a per-launch token. The given files/folders are opened at start and are what the
  viewer may read. --pacs: the PACS the viewer's exports may be sent to (else settings.json's
  "pacs"). Prints one line: ReSight listening on http://127.0.0.1:<port>/?token=<token>`;

export async function runServe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { port: { type: 'string' }, model: { type: 'string' }, pacs: { type: 'string' }, 'calling-ae': { type: 'string' } } });
  destinationOption('pacs', values.pacs, values['calling-ae']);
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new UsageError(`--port must be a number, got '${values.port}'`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  // The built viewer, when this checkout has one (app/dist/renderer).
  const staticDir = [path.resolve(__dirname, '..', '..', 'renderer')].find((d) => fs.existsSync(path.join(d, 'index.html')));
  // review decisions persist in the app data folder (RESIGHT_DATA_DIR overrides), never in the study
  // a mistyped path ends the command (exit 1) before a server runs that nobody will be told of
  assertPathsExist(positionals);
  // what the site policy fixes holds here too (the page shows it locked): the export folder, the
  // model folder, the provider and threads; serve keeps its defaults for the rest
  const fixed = loadPolicy().preferences;
  if (values.model && fixed.modelFolder) throw new UsageError(`--model: the site policy fixes the model folder (${fixed.modelFolder})`);
  let policyCard: string | undefined;
  try {
    policyCard = modelCardIn(fixed.modelFolder);
  } catch {
    // an unreadable folder holds no card either (said below)
  }
  if (fixed.modelFolder && !policyCard) throw new ResightError('MODEL_INVALID', `the site policy's model folder ${fixed.modelFolder} holds no .card.json`);
  const bridge = await startBridge({
    port,
    grant: positionals,
    staticDir,
    dataDir: defaultDataDir(),
    ...(values.model ? { modelCard: path.resolve(values.model) } : policyCard ? { modelCard: policyCard } : {}),
    ...(values.pacs ? { pacs: { destination: values.pacs, callingAeTitle: values['calling-ae'] } } : {}),
    ...(fixed.exportFolder ? { exportDir: fixed.exportFolder } : {}),
    ...(fixed.provider ? { provider: fixed.provider } : {}),
    ...(fixed.threads ? { threads: fixed.threads } : {}),
  });
  try {
    if (positionals.length) await bridge.session.open({ paths: positionals });
  } catch (err) {
    await bridge.close();
    throw err;
  }
  process.stdout.write(`ReSight listening on ${bridge.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await bridge.close();
  return 0;
}


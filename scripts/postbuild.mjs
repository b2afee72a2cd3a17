// After tsc: make the CLI entry executable (tsc writes 0644, and npm links node_modules/.bin/resight
// at install time, before the file exists, so nothing else sets the bit: `npx resight` would fail).
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(root, 'app');
const { bin } = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
for (const rel of Object.values(bin ?? {})) {
  const file = join(app, rel);
  if (existsSync(file)) chmodSync(file, 0o755);
}

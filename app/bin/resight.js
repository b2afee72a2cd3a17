#!/usr/bin/env node
'use strict';
// The `resight` bin. It is committed (not built) so that it exists when `npm ci` links
// node_modules/.bin/resight; it loads the compiled CLI from ../dist.
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
try {
  cli = require(entry);
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(entry)) {
    process.stderr.write('resight: the CLI is not built yet: run `npm run build` (or `bash scripts/setup.sh`)\n');
    process.exit(2);
  }
  throw err;
}
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`resight: ${err && err.message ? err.message : String(err)} [INTERNAL]\n`);
    process.exitCode = 1;
  },
);

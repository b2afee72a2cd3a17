/**
 * Proves that the local ESLint rule `local/layering` (scripts/eslint/layering.mjs), as wired in
 * eslint.config.mjs, enforces ARCHITECTURE.md's layers. Code is linted as virtual files under
 * src/<layer>/ through ESLint's public API with the repository's real config, so a broken rule,
 * a rule switched off in the config, or a config that no longer reaches src/ all fail here.
 *
 * The expected layer matrix is written out below from ARCHITECTURE.md rather than imported from
 * the rule, so the test is not a tautology.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import type { Linter } from 'eslint';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const RULE = 'local/layering';

const eslint = new ESLint({ cwd: REPO_ROOT, overrideConfigFile: path.join(REPO_ROOT, 'eslint.config.mjs') });

type MessageId = 'layer' | 'typesOnly' | 'pkg' | 'builtin' | 'electronMember' | 'unknownLayer';

/** Lints `code` as if it were src/<file>; returns the layering messages (and fails on parse errors). */
async function layering(file: string, code: string): Promise<Linter.LintMessage[]> {
  const filePath = path.join(REPO_ROOT, 'src', file);
  const results = await eslint.lintText(code, { filePath });
  assert.equal(results.length, 1, `one result for ${file}`);
  const { messages } = results[0];
  const fatal = messages.filter((m) => m.fatal || m.ruleId === null);
  // A parse error or an "ignored file" warning would make every "no error" case pass vacuously.
  assert.deepEqual(fatal, [], `src/${file} must parse and be linted:\n${code}`);
  return messages.filter((m) => m.ruleId === RULE);
}

const show = (ms: Linter.LintMessage[]): string => ms.map((m) => `  ${m.line}:${m.column} ${m.messageId}: ${m.message}`).join('\n') || '  (none)';

async function expectError(file: string, code: string, messageId: MessageId, count = 1): Promise<void> {
  const ms = await layering(file, code);
  assert.equal(ms.length, count, `expected ${count} x ${messageId} in src/${file}:\n${code}\ngot:\n${show(ms)}`);
  for (const m of ms) {
    assert.equal(m.messageId, messageId, `src/${file}:\n${code}\ngot:\n${show(ms)}`);
    assert.equal(m.severity, 2, 'layering violations are errors, not warnings');
  }
}

async function expectOk(file: string, code: string): Promise<void> {
  const ms = await layering(file, code);
  assert.deepEqual(ms, [], `expected no layering error in src/${file}:\n${code}\ngot:\n${show(ms)}`);
}

// ARCHITECTURE.md "Layers": shared <- core <- (main, bridge, cli); shared <- renderer;
// preload imports only *types* from shared (checked separately below).
// cli may also use bridge: `resight serve` starts the browser bridge.
const LAYERS = ['shared', 'core', 'bridge', 'cli', 'main', 'preload', 'renderer'] as const;
type Layer = (typeof LAYERS)[number];
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  shared: ['shared'],
  core: ['shared', 'core'],
  bridge: ['shared', 'core', 'bridge'],
  cli: ['shared', 'core', 'bridge', 'cli'],
  main: ['shared', 'core', 'main'],
  preload: ['preload'],
  renderer: ['shared', 'renderer'],
};
const NODE_LAYERS: readonly Layer[] = ['core', 'bridge', 'cli', 'main'];
const ELECTRON_LAYERS: readonly Layer[] = ['main', 'preload'];

describe('layering rule: wiring', () => {
  it('is switched on as an error for every layer in eslint.config.mjs', async () => {
    for (const layer of LAYERS) {
      const config = (await eslint.calculateConfigForFile(path.join(REPO_ROOT, 'src', layer, 'x.ts'))) as Linter.Config;
      const setting = config.rules?.[RULE];
      const severity = Array.isArray(setting) ? setting[0] : setting;
      assert.ok(severity === 2 || severity === 'error', `${RULE} is ${JSON.stringify(setting)} for src/${layer}`);
    }
  });
});

describe('layering rule: core', () => {
  it("rejects 'electron' (plain Node throws on it) and its subpaths", async () => {
    await expectError('core/dicom/x.ts', "import { app } from 'electron';\nexport const a = app;", 'pkg');
    await expectError('core/x.ts', "import { ipcMain } from 'electron/main';\nexport const a = ipcMain;", 'pkg');
  });
  it("rejects 'react' and 'react-dom'", async () => {
    await expectError('core/imaging/x.ts', "import React from 'react';\nexport const r = React;", 'pkg');
    await expectError('core/x.ts', "import { createRoot } from 'react-dom/client';\nexport const c = createRoot;", 'pkg');
    await expectError('core/x.ts', "import { jsx } from 'react/jsx-runtime';\nexport const j = jsx;", 'pkg');
  });
  it('rejects type-only imports from forbidden packages and layers too', async () => {
    await expectError('core/x.ts', "import type { BrowserWindow } from 'electron';\nexport type W = BrowserWindow;", 'pkg');
    await expectError('core/x.ts', "import type { FC } from 'react';\nexport type C = FC;", 'pkg');
    await expectError('core/x.ts', "import type { Props } from '../renderer/viewport';\nexport type P = Props;", 'layer');
  });
  it('accepts shared (values and types), node built-ins and its own modules', async () => {
    await expectOk(
      'core/dicom/x.ts',
      [
        "import type { ScanResult } from '../../shared/dicom';",
        "import { ResightError } from '../../shared/errors';",
        "import { readFileSync } from 'node:fs';",
        "import * as path from 'path';",
        "import dicomParser from 'dicom-parser';",
        "import { decodeFrame } from './decode';",
        "import { voi } from '../imaging/voi';",
        'export const all = [ResightError, readFileSync, path, dicomParser, decodeFrame, voi];',
        'export type S = ScanResult;',
      ].join('\n'),
    );
  });
});

describe('layering rule: renderer', () => {
  for (const spec of ['node:fs', 'fs', 'path', 'fs/promises', 'node:test', 'child_process']) {
    it(`rejects the Node built-in '${spec}'`, async () => {
      await expectError('renderer/x.ts', `import * as m from '${spec}';\nexport const x = m;`, 'builtin');
    });
  }
  it('rejects core, however deep the importing file sits, values and types alike', async () => {
    await expectError('renderer/x.ts', "import { scanPaths } from '../core/dicom/scan';\nexport const s = scanPaths;", 'layer');
    await expectError('renderer/viewport/gl/x.ts', "import { Volume } from '../../../core/imaging/volume';\nexport const v = Volume;", 'layer');
    await expectError('renderer/x.ts', "import type { Volume } from '../core/imaging/volume';\nexport type V = Volume;", 'layer');
  });
  it('rejects electron and onnxruntime', async () => {
    await expectError('renderer/x.ts', "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;", 'pkg');
    await expectError('renderer/x.ts', "import * as ort from 'onnxruntime-node';\nexport const o = ort;", 'pkg');
  });
  it('rejects `/// <reference types="node" />`', async () => {
    await expectError('renderer/x.ts', '/// <reference types="node" />\nexport const x = 1;', 'builtin');
  });
  it('accepts react, shared and its own modules (.tsx included)', async () => {
    await expectOk(
      'renderer/App.tsx',
      [
        "import { useState } from 'react';",
        "import { createRoot } from 'react-dom/client';",
        "import type { Api } from '../shared/api';",
        "import { Viewport } from './viewport/Viewport';",
        'export type A = Api;',
        'export function App() { const [n] = useState(0); return <Viewport n={n} />; }',
        'export const c = createRoot;',
      ].join('\n'),
    );
  });
});

describe('layering rule: preload', () => {
  it('accepts contextBridge/ipcRenderer/webUtils from electron and types from shared', async () => {
    await expectOk(
      'preload/index.ts',
      [
        "import { contextBridge, ipcRenderer, webUtils } from 'electron';",
        "import type { IpcRendererEvent } from 'electron';",
        "import type { Api, ApiEvent } from '../shared/api';",
        "import { type Contract } from '../shared/contract';",
        "export type { Api } from '../shared/api';",
        "import { channel } from './channel';",
        'export type T = [IpcRendererEvent, ApiEvent, Contract];',
        'export const all = [contextBridge, ipcRenderer, webUtils, channel];',
      ].join('\n'),
    );
  });
  it('rejects value imports from shared (it must stay one small sandboxed bundle)', async () => {
    await expectError('preload/index.ts', "import { api } from '../shared/api';\nexport const a = api;", 'typesOnly');
    await expectError('preload/index.ts', "import { type Api, calls } from '../shared/api';\nexport const c = calls;\nexport type A = Api;", 'typesOnly');
    await expectError('preload/index.ts', "export { calls } from '../shared/api';", 'typesOnly');
    await expectError('preload/index.ts', "export * from '../shared/api';", 'typesOnly');
    await expectError('preload/index.ts', "import '../shared/api';", 'typesOnly');
  });
  it('rejects every other package, built-in and layer', async () => {
    await expectError('preload/index.ts', "import { z } from 'zod';\nexport const s = z;", 'pkg');
    await expectError('preload/index.ts', "import React from 'react';\nexport const r = React;", 'pkg');
    await expectError('preload/index.ts', "import * as fs from 'node:fs';\nexport const f = fs;", 'builtin');
    await expectError('preload/index.ts', "import * as path from 'path';\nexport const p = path;", 'builtin');
    await expectError('preload/index.ts', "import { scanPaths } from '../core/dicom/scan';\nexport const s = scanPaths;", 'layer');
    await expectError('preload/index.ts', "import type { Volume } from '../core/imaging/volume';\nexport type V = Volume;", 'layer');
    await expectError('preload/index.ts', "import { App } from '../renderer/App';\nexport const a = App;", 'layer');
    await expectError('preload/index.ts', "import { createWindow } from '../main/window';\nexport const w = createWindow;", 'layer');
  });
  it('rejects electron members beyond contextBridge/ipcRenderer/webUtils', async () => {
    await expectError('preload/index.ts', "import { contextBridge, shell } from 'electron';\nexport const s = [contextBridge, shell];", 'electronMember');
    await expectError('preload/index.ts', "import * as electron from 'electron';\nexport const e = electron;", 'electronMember');
    await expectError('preload/index.ts', "import electron from 'electron';\nexport const e = electron;", 'electronMember');
  });
});

describe('layering rule: shared', () => {
  for (const spec of ['node:fs', 'fs', 'path', 'node:path', 'node:crypto', 'worker_threads']) {
    it(`rejects the Node built-in '${spec}'`, async () => {
      await expectError('shared/x.ts', `import * as m from '${spec}';\nexport const x = m;`, 'builtin');
    });
  }
  it('rejects core (values and types), electron, react, onnxruntime and dicom-parser', async () => {
    await expectError('shared/x.ts', "import { ResightError } from '../core/errors';\nexport const e = ResightError;", 'layer');
    await expectError('shared/x.ts', "import type { Volume } from '../core/imaging/volume';\nexport type V = Volume;", 'layer');
    await expectError('shared/x.ts', "type V = import('../core/imaging/volume').Volume;\nexport type W = V;", 'layer');
    await expectError('shared/x.ts', "import { app } from 'electron';\nexport const a = app;", 'pkg');
    await expectError('shared/x.ts', "import type { FC } from 'react';\nexport type C = FC;", 'pkg');
    await expectError('shared/x.ts', "import * as ort from 'onnxruntime-node';\nexport const o = ort;", 'pkg');
    await expectError('shared/x.ts', "import dicomParser from 'dicom-parser';\nexport const d = dicomParser;", 'pkg');
  });
  it('accepts zod and its own modules', async () => {
    await expectOk('shared/api.ts', "import { z } from 'zod';\nimport type { ScanResult } from './dicom';\nexport const s = z.string();\nexport type S = ScanResult;");
  });
});

describe('layering rule: main, cli, bridge', () => {
  it('main may import core, shared, node built-ins and electron', async () => {
    await expectOk(
      'main/index.ts',
      [
        "import { app, BrowserWindow, ipcMain } from 'electron';",
        "import { scanPaths } from '../core/dicom/scan';",
        "import type { Api } from '../shared/api';",
        "import * as path from 'node:path';",
        'export type A = Api;',
        'export const all = [app, BrowserWindow, ipcMain, scanPaths, path];',
      ].join('\n'),
    );
  });
  it('main may not import renderer, bridge or react', async () => {
    await expectError('main/index.ts', "import { App } from '../renderer/App';\nexport const a = App;", 'layer');
    await expectError('main/index.ts', "import { serve } from '../bridge/server';\nexport const s = serve;", 'layer');
    await expectError('main/index.ts', "import React from 'react';\nexport const r = React;", 'pkg');
  });
  it('cli may import core (and bridge, for `serve`), not electron or main', async () => {
    await expectOk(
      'cli/commands/info.ts',
      "import { scanPaths } from '../../core/dicom/scan';\nimport { serve } from '../../bridge/server';\nimport * as fs from 'node:fs';\nexport const all = [scanPaths, serve, fs];",
    );
    await expectError('cli/main.ts', "import { app } from 'electron';\nexport const a = app;", 'pkg');
    await expectError('cli/main.ts', "import { createWindow } from '../main/window';\nexport const w = createWindow;", 'layer');
  });
  it('bridge may import core, not electron or renderer', async () => {
    await expectOk('bridge/server.ts', "import { scanPaths } from '../core/dicom/scan';\nimport * as http from 'node:http';\nexport const all = [scanPaths, http];");
    await expectError('bridge/server.ts', "import { app } from 'electron';\nexport const a = app;", 'pkg');
    await expectError('bridge/server.ts', "import { App } from '../renderer/App';\nexport const a = App;", 'layer');
  });
});

describe('layering rule: every way of naming a module', () => {
  it('catches require()', async () => {
    await expectError('core/x.ts', "const e = require('electron');\nexport const x = e;", 'pkg');
    await expectError('core/x.ts', 'const e = require(`electron`);\nexport const x = e;', 'pkg');
    await expectError('renderer/x.ts', "const fs = require('fs');\nexport const x = fs;", 'builtin');
    await expectError('renderer/x.ts', "const s = require('../core/dicom/scan');\nexport const x = s;", 'layer');
  });
  it('catches dynamic import()', async () => {
    await expectError('core/x.ts', "export async function f() { return import('react'); }", 'pkg');
    await expectError('core/x.ts', 'export async function f() { return import(`electron`); }', 'pkg');
    await expectError('renderer/x.ts', "export async function f() { return import('node:path'); }", 'builtin');
    await expectError('renderer/x.ts', "export async function f() { return import('../core/dicom/scan'); }", 'layer');
  });
  it('catches `import x = require()`, re-exports and import() type queries', async () => {
    await expectError('renderer/x.ts', "import fs = require('fs');\nexport const x = fs;", 'builtin');
    await expectError('renderer/x.ts', "export * from '../core/dicom/scan';", 'layer');
    await expectError('renderer/x.ts', "export { scanPaths } from '../core/dicom/scan';", 'layer');
    await expectError('renderer/x.ts', "export type { Volume } from '../core/imaging/volume';", 'layer');
    await expectError('renderer/x.ts', "export type V = import('../core/imaging/volume').Volume;", 'layer');
  });
  it('reports each offending import once, on its own line', async () => {
    const ms = await layering('core/x.ts', "import { join } from 'node:path';\nimport { app } from 'electron';\nimport React from 'react';\nexport const all = [join, app, React];");
    assert.deepEqual(
      ms.map((m) => [m.line, m.messageId]),
      [
        [2, 'pkg'],
        [3, 'pkg'],
      ],
    );
  });
  it('rejects a src/ folder that is not a layer of ARCHITECTURE.md', async () => {
    await expectError('utils/x.ts', 'export const x = 1;', 'unknownLayer');
  });
});

describe('layering rule: the full layer matrix (ARCHITECTURE.md)', () => {
  for (const from of LAYERS) {
    it(`${from}: relative imports, node built-ins, electron`, async () => {
      for (const to of LAYERS) {
        const code = `import type { T } from '../${to}/t';\nexport type U = T;`;
        if (MAY_IMPORT[from].includes(to)) await expectOk(`${from}/x.ts`, code);
        else if (from === 'preload' && to === 'shared') await expectOk(`${from}/x.ts`, code); // types only
        else await expectError(`${from}/x.ts`, code, 'layer');
        const value = `import { v } from '../${to}/v';\nexport const w = v;`;
        if (MAY_IMPORT[from].includes(to)) await expectOk(`${from}/x.ts`, value);
        else await expectError(`${from}/x.ts`, value, from === 'preload' && to === 'shared' ? 'typesOnly' : 'layer');
      }
      const builtin = "import { readFile } from 'node:fs/promises';\nexport const r = readFile;";
      if (NODE_LAYERS.includes(from)) await expectOk(`${from}/x.ts`, builtin);
      else await expectError(`${from}/x.ts`, builtin, 'builtin');
      const electron = "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;";
      if (ELECTRON_LAYERS.includes(from)) await expectOk(`${from}/x.ts`, electron);
      else await expectError(`${from}/x.ts`, electron, 'pkg');
    });
  }
});

describe('layering rule: the real tree', () => {
  it('src/ lints clean of layering errors', async () => {
    const real = new ESLint({ cwd: REPO_ROOT });
    const results = await real.lintFiles(['src']);
    const files = results.map((r) => path.relative(REPO_ROOT, r.filePath));
    assert.ok(files.some((f) => f.startsWith(path.join('src', 'core', 'dicom'))), `src/core/dicom was linted: ${files.join(', ')}`);
    const problems = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === RULE || m.fatal)
        .map((m) => `${path.relative(REPO_ROOT, r.filePath)}:${m.line}:${m.column} ${m.ruleId ?? 'fatal'}: ${m.message}`),
    );
    assert.deepEqual(problems, []);
  });
});

describe('network rule: outbound connections only from src/core/pacs', () => {
  const restricted = async (file: string, code: string) =>
    (await eslint.lintText(code, { filePath: path.join(REPO_ROOT, 'src', file) }))[0].messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
  for (const mod of ['node:net', 'node:tls', 'node:https', 'dcmjs-dimse']) {
    it(`${mod}: refused in core, cli, bridge and main; allowed in core/pacs`, async () => {
      const code = `import * as m from '${mod}';\nexport const x = m;`;
      for (const where of ['core/inference/x.ts', 'cli/x.ts', 'bridge/x.ts', 'main/x.ts']) assert.equal((await restricted(where, code)).length, 1, `${mod} in src/${where}`);
      assert.deepEqual(await restricted('core/pacs/x.ts', code), []);
    });
  }
  it('a type import (the bridge\'s AddressInfo) is not a connection', async () => {
    assert.deepEqual(await restricted('bridge/x.ts', "import type { AddressInfo } from 'node:net';\nexport type A = AddressInfo;"), []);
  });
});

// Local ESLint rule enforcing ReSight's layers (ARCHITECTURE.md "Layers"), in the spirit of
// VS Code's .eslint-plugin-local/code-layering.ts: each top-level folder of src/ is a runtime
// environment, and may import only from the layers listed for it. Relative imports are resolved
// against the importing file, so `../../renderer/x` is caught no matter how deep it sits.
//
// Every way of naming a module is checked: import/export ... from, `import type`, `export type`,
// import(), require(), `import x = require()`, `import('x').T` type queries and
// `/// <reference types|path>` directives. Type-only imports count too: they couple layers just
// as much (a renderer that imports a core type breaks when core changes). The one exception is
// the one ARCHITECTURE.md names: preload may import *types* (only types) from shared, because
// it is bundled into a single sandboxed file and must not pull shared's runtime (zod) in.
import path from 'node:path';
import { builtinModules, isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';

/** layer -> the src/ layers it may import from (values and types) */
export const ALLOWED = {
  shared: ['shared'],
  core: ['shared', 'core'],
  bridge: ['shared', 'core', 'bridge'],
  // cli includes bridge: `resight serve` starts the browser bridge.
  cli: ['shared', 'core', 'bridge', 'cli'],
  main: ['shared', 'core', 'main'],
  preload: ['preload'],
  renderer: ['shared', 'renderer'],
};

/** layer -> further layers it may import *types* from (`import type`, all-`type` specifiers) */
export const TYPES_ONLY = {
  preload: ['shared'],
};

const ELECTRON = /^electron(\/|$)/;
const REACT = /^react(-dom)?(\/|$)/;
const ORT = /^onnxruntime/;

/** packages a layer may not import, by layer (electron only in main/preload; no UI libs in core). */
const FORBIDDEN_PACKAGES = {
  shared: [ELECTRON, REACT, ORT, /^dicom-parser$/],
  core: [ELECTRON, REACT],
  bridge: [ELECTRON, REACT],
  cli: [ELECTRON, REACT],
  main: [REACT],
  // preload: nothing but electron's renderer-side module (it is bundled and sandboxed).
  preload: [/^(?!electron(\/renderer|\/common)?$)[^./]/],
  renderer: [ELECTRON, ORT],
};

/** the only electron values preload may import (ARCHITECTURE.md); types are free */
const PRELOAD_ELECTRON_VALUES = new Set(['contextBridge', 'ipcRenderer', 'webUtils']);

/** layers that run without Node: no node built-ins there */
const NO_NODE = new Set(['shared', 'renderer', 'preload']);

function isNodeBuiltin(spec) {
  // node:-only modules (node:test, node:sqlite) are not in builtinModules; `fs/promises` style
  // subpaths are, but check the first segment as well for any future ones.
  return spec.startsWith('node:') || isBuiltin(spec) || builtinModules.includes(spec.split('/')[0]);
}

// src/ is found next to this rule (scripts/eslint/../../src), not from ESLint's cwd, so the rule
// works whatever directory eslint is started from; the cwd-based root is kept as a fallback.
const RULE_SRC_ROOT = fileURLToPath(new URL('../../src', import.meta.url));

function relToRoot(file, root) {
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel;
}

function layerIn(file, root) {
  const rel = relToRoot(file, root);
  if (!rel) return undefined;
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : undefined; // files directly in src/ belong to no layer
}

/** the literal string of a module specifier node (string literal or `template` without ${}) */
function staticString(node) {
  if (!node) return undefined;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
  return undefined;
}

const allTypeSpecifiers = (specifiers) =>
  specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type');

export default {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the src/ layering of ARCHITECTURE.md' },
    schema: [],
    messages: {
      layer: "Layer '{{from}}' may not import from layer '{{to}}' ({{spec}}). Allowed: {{allowed}}.",
      typesOnly: "Layer '{{from}}' may import only types from layer '{{to}}' ({{spec}}); use `import type`.",
      pkg: "Layer '{{from}}' may not import '{{spec}}'.",
      builtin: "Layer '{{from}}' runs without Node.js and may not import the built-in '{{spec}}'.",
      electronMember:
        "Preload may import only contextBridge, ipcRenderer and webUtils from electron (not '{{name}}').",
      unknownLayer: "'src/{{from}}' is not a layer of ARCHITECTURE.md; add it to scripts/eslint/layering.mjs.",
    },
  },
  create(context) {
    const file = path.resolve(context.cwd ?? process.cwd(), context.filename ?? context.getFilename());
    const roots = [RULE_SRC_ROOT, path.join(context.cwd ?? process.cwd(), 'src')];
    const srcRoot = roots.find((r) => layerIn(file, r) !== undefined);
    if (!srcRoot) return {};
    const from = layerIn(file, srcRoot);
    if (!(from in ALLOWED)) {
      return {
        Program: (node) => context.report({ node, messageId: 'unknownLayer', data: { from } }),
      };
    }

    /** @param typeOnly true when the import is erased at compile time */
    function check(node, spec, typeOnly, loc) {
      if (typeof spec !== 'string' || spec === '') return;
      const where = loc ? { loc } : { node };
      if (spec.startsWith('.') || path.isAbsolute(spec)) {
        const to = layerIn(path.resolve(path.dirname(file), spec), srcRoot);
        if (!to || ALLOWED[from].includes(to)) return;
        if (TYPES_ONLY[from]?.includes(to)) {
          if (!typeOnly) context.report({ ...where, messageId: 'typesOnly', data: { from, to, spec } });
          return;
        }
        context.report({ ...where, messageId: 'layer', data: { from, to, spec, allowed: ALLOWED[from].join(', ') } });
        return;
      }
      if (isNodeBuiltin(spec)) {
        if (NO_NODE.has(from)) context.report({ ...where, messageId: 'builtin', data: { from, spec } });
        return;
      }
      if ((FORBIDDEN_PACKAGES[from] ?? []).some((re) => re.test(spec))) {
        context.report({ ...where, messageId: 'pkg', data: { from, spec } });
      }
    }

    /** preload: `import { contextBridge, ipcRenderer } from 'electron'` and nothing wider */
    function checkPreloadElectron(node) {
      if (from !== 'preload' || !ELECTRON.test(node.source.value) || node.importKind === 'type') return;
      for (const s of node.specifiers) {
        if (s.type === 'ImportSpecifier') {
          const name = s.imported.type === 'Identifier' ? s.imported.name : s.imported.value;
          if (s.importKind !== 'type' && !PRELOAD_ELECTRON_VALUES.has(name)) {
            context.report({ node: s, messageId: 'electronMember', data: { name } });
          }
        } else {
          // default / namespace import: the whole module, i.e. every member
          context.report({ node: s, messageId: 'electronMember', data: { name: s.local.name } });
        }
      }
    }

    return {
      Program() {
        // `/// <reference types="node" />` brings Node into a layer as surely as an import does.
        for (const c of context.sourceCode.getAllComments()) {
          if (c.type !== 'Line') continue;
          const m = /^\/\s*<reference\s+(types|path)\s*=\s*["']([^"']+)["']/.exec(c.value);
          if (!m) continue;
          const spec = m[1] === 'types' && (m[2] === 'node' || m[2].startsWith('node/')) ? 'node:*' : m[2];
          check(c, m[1] === 'path' && !spec.startsWith('.') ? `./${spec}` : spec, true, c.loc);
        }
      },
      ImportDeclaration: (n) => {
        check(n, n.source.value, n.importKind === 'type' || allTypeSpecifiers(n.specifiers));
        checkPreloadElectron(n);
      },
      ExportNamedDeclaration: (n) =>
        n.source && check(n, n.source.value, n.exportKind === 'type' || allTypeSpecifiers(n.specifiers)),
      ExportAllDeclaration: (n) => check(n, n.source.value, n.exportKind === 'type'),
      ImportExpression: (n) => check(n, staticString(n.source), false),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require') {
          check(n, staticString(n.arguments[0]), false);
        }
      },
      TSImportEqualsDeclaration: (n) =>
        n.moduleReference.type === 'TSExternalModuleReference' &&
        check(n, staticString(n.moduleReference.expression), n.importKind === 'type'),
      // `type T = import('../core/x').T`: typescript-eslint 8 calls the literal `source`
      // (older versions: `argument.literal`).
      TSImportType: (n) => check(n, staticString(n.source ?? n.argument?.literal), true),
    };
  },
};

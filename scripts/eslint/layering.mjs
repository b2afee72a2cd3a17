// Local ESLint rule enforcing ReSight's layers (ARCHITECTURE.md "Layers"), in the spirit of
// VS Code's .eslint-plugin-local/code-layering.ts: each top-level folder of src/ is a runtime
// environment, and may import only from the layers listed for it. Relative imports are resolved
// against the importing file, so `../../renderer/x` is caught no matter how deep it sits.
import path from 'node:path';
import { builtinModules } from 'node:module';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** layer -> the src/ layers it may import from */
export const ALLOWED = {
  shared: ['shared'],
  core: ['shared', 'core'],
  bridge: ['shared', 'core', 'bridge'],
  cli: ['shared', 'core', 'bridge', 'cli'],
  main: ['shared', 'core', 'main'],
  preload: ['shared', 'preload'],
  renderer: ['shared', 'renderer'],
};

/** packages a layer may not import, by layer (electron only in main/preload; no UI libs in core). */
const FORBIDDEN_PACKAGES = {
  shared: [/^electron$/, /^react(-dom)?(\/|$)/, /^onnxruntime/, /^dicom-parser$/],
  core: [/^electron$/, /^react(-dom)?(\/|$)/],
  bridge: [/^electron$/, /^react(-dom)?(\/|$)/],
  cli: [/^electron$/, /^react(-dom)?(\/|$)/],
  main: [/^react(-dom)?(\/|$)/],
  preload: [/^react(-dom)?(\/|$)/, /^(?!electron$)[^./]/],
  renderer: [/^electron$/, /^onnxruntime/],
};

/** layers that run without Node: no node built-ins there */
const NO_NODE = new Set(['shared', 'renderer', 'preload']);

function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep)[0];
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the src/ layering of ARCHITECTURE.md' },
    schema: [],
    messages: {
      layer: "Layer '{{from}}' may not import from layer '{{to}}' ({{spec}}). Allowed: {{allowed}}.",
      pkg: "Layer '{{from}}' may not import '{{spec}}'.",
      builtin: "Layer '{{from}}' runs without Node.js and may not import the built-in '{{spec}}'.",
    },
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const srcRoot = path.join(context.cwd ?? process.cwd(), 'src');
    const from = layerOf(file, srcRoot);
    if (!from || !(from in ALLOWED)) return {};
    function check(node, spec) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const to = layerOf(path.resolve(path.dirname(file), spec), srcRoot);
        if (to && !ALLOWED[from].includes(to)) {
          context.report({ node, messageId: 'layer', data: { from, to, spec, allowed: ALLOWED[from].join(', ') } });
        }
        return;
      }
      if (NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(spec.split('/')[0])) {
        if (NO_NODE.has(from)) context.report({ node, messageId: 'builtin', data: { from, spec } });
        return;
      }
      if ((FORBIDDEN_PACKAGES[from] ?? []).some((re) => re.test(spec))) {
        context.report({ node, messageId: 'pkg', data: { from, spec } });
      }
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal') {
          check(n, n.arguments[0].value);
        }
      },
      TSImportEqualsDeclaration: (n) =>
        n.moduleReference.type === 'TSExternalModuleReference' && check(n, n.moduleReference.expression.value),
    };
  },
};

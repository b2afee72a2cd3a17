// ESLint flat config. The layering rule (scripts/eslint/layering.mjs) is the judge of
// ARCHITECTURE.md's layers; CI runs `npm run lint` as part of `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import layering from './scripts/eslint/layering.mjs';

export default tseslint.config(
  { ignores: ['node_modules/**', 'app/dist/**', 'app/node_modules/**', 'build/**', 'training/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { local: { rules: { layering } } },
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'local/layering': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='fetch']", message: 'No network calls: patient data stays on this machine.' }],
    },
  },
  {
    // Outbound connections: only src/core/pacs (C-STORE / C-ECHO to the destination the user
    // names) may open them; the bridge listens on loopback (node:http, type imports of node:net)
    files: ['src/**'],
    ignores: ['src/core/pacs/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['dcmjs-dimse', 'net', 'node:net', 'tls', 'node:tls', 'https', 'node:https', 'dgram', 'node:dgram'].map((name) => ({
            name,
            message: 'No network connections outside src/core/pacs: patient data leaves only for a destination the user names.',
            allowTypeImports: true,
          })),
        },
      ],
    },
  },
  {
    files: ['src/renderer/**', 'src/shared/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

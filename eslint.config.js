// Lint enforces the architecture's boundaries (see docs/architecture.md):
// - main/core imports only main/core and shared, never electron; no Date.now / Math.random there
// - renderer imports only shared (and npm packages), never electron or node built-ins
// - only main/electron (and preload) import electron
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { boundariesPlugin } from './tools/eslint/boundaries.js';

const electronBan = {
  name: 'electron',
  message: 'Only main/electron and preload may import electron.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'test-output/**',
      'coverage/**',
      'resources/**',
      'bin/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { paths: [electronBan] }],
    },
  },
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { vantage: boundariesPlugin },
    rules: { 'vantage/layers': 'error' },
  },
  {
    files: ['main/core/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Inject a Clock: no Date.now() in main/core.' },
        {
          object: 'Math',
          property: 'random',
          message: 'Inject a seeded RandomSource: no Math.random() in main/core.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Inject a Clock: no new Date() in main/core.',
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // Panels load engine data in effects and reset derived state there; that is intended.
      'react-hooks/set-state-in-effect': 'off',
    },
  },
  {
    files: ['main/electron/**/*.ts', 'preload/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-syntax': 'off' },
  },
);

import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/', 'build/', 'node_modules/', 'packages/contracts/generated/', 'reports/'] },
  // Everything runs in Node but the live page's script, which runs in the browser.
  { ignores: ['services/live-view/page/**'], languageOptions: { globals: globals.node } },
  { files: ['services/live-view/page/**'], languageOptions: { globals: globals.browser } },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);

// Lint step (issue 8): the class of bug where a promise nobody handles takes the whole process
// down — one modem's firmware bug killing every modem — must not come back. The promise rules
// need types, hence projectService (tsconfig.json includes src, test and benchmarks).
//
// Chosen set: ESLint's and typescript-eslint's syntactic recommended rules, plus the type-aware
// rules about promises. The full `recommendedTypeChecked` set was tried: ~360 findings, most of
// them `!` on array indexing (no-unnecessary-type-assertion, which would also flag every vendor
// cast that typed decoding makes redundant) and `any` from JSON in tests — noise, not bugs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'benchmarks/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Every promise handled: no fire-and-forget, no async callback where nobody awaits it.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // A `let` read by a closure before its one assignment (a timer cleared by an early stop,
      // two streams that point at each other) cannot become a `const` without a TDZ error.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // An AT emulator matches control bytes (NUL, Ctrl+Z, ESC) on purpose.
      'no-control-regex': 'off',
      // `_name` marks a parameter or binding that is there for its position or to drop a key.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Tests read JSON from the control API; typing every response shape buys nothing there.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

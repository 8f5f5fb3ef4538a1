// ESLint for the TypeScript of the stack, the handlers, the CLI, the local mode, the benchmarks and the tests:
// typescript-eslint's type-checked rules (types from tsconfig.json); formatting is Prettier's (.prettierrc.json).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', '.local/', '.bench/', '.tools/', '.venv/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Control characters are matched on purpose: terminal-safe output, dataset and key validation.
      'no-control-regex': 'off',
      // `_`-prefixed names are the deliberately unused (callbacks' positional parameters, destructured leftovers).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests walk synthesized CloudFormation templates, ASL documents and mocks' recorded calls, all `any` by their
    // libraries' types; typing each lookup would add casts, not checks. Production code keeps these rules.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Test doubles implement async interfaces with async functions that answer at once.
      '@typescript-eslint/require-await': 'off',
    },
  },
  prettier,
);

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Each file transpiled on its own (isolatedModules in tsconfig.json): `tsc --noEmit` is the type check.
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Infrastructure synth and the end-to-end runs against the local mode take seconds, not milliseconds.
  testTimeout: 120000,
};

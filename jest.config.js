/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  // Infrastructure synth and the end-to-end runs against the local mode take seconds, not milliseconds.
  testTimeout: 120000,
};

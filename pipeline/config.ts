/**
 * The pipeline's settings live in the contracts layer (contracts/config.ts), which the stack, the handlers, the CLI
 * and the local mode import; this module hands them on to `cli/ops/cost.ts`, the last module importing them from here.
 */
export * from '../contracts/config';

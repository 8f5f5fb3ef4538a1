/**
 * The pipeline's settings live in the contracts layer (contracts/config.ts), which the stack, the handlers, the CLI
 * and the local mode import; this module hands them on to the modules that still import them from here.
 */
export * from '../contracts/config';

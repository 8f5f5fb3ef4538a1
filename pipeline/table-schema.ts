/**
 * The state table's layout lives in the contracts layer (contracts/table-schema.ts); this module hands it on to
 * the modules that still import it from here.
 */
export * from '../contracts/table-schema';

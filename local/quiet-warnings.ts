/**
 * Drops the AWS SDK's notice that future versions will need Node 22 from the local mode's console output; it is
 * about the SDK's support policy, not about this run. Imported first, before any SDK client loads.
 */
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = warning instanceof Error ? `${warning.name}: ${warning.message}` : String(warning);
  if (text.startsWith('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

export {};

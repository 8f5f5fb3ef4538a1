/**
 * The Lambdas' settings. Their variables, the reader and the writer live in one module,
 * contracts/lambda-environment.ts, which the handlers, the stack and the local mode import; this one hands the
 * reader on to the modules that import it from here.
 */
export { loadSettings, type HandlerSettings } from '../../contracts/lambda-environment';

#!/usr/bin/env node
// Launcher of the `pipeline` command: runs the TypeScript CLI through tsx, so no build step is needed. It composes
// the operator CLI (cli/) with the local mode's `local start/stop` (local/cli-commands.ts): the CLI never imports
// the local mode, which imports the CLI.
'use strict';
// Run outside make on a Node older than 22, the SDK would warn on every command that its releases after January 2027
// need Node 22; make and the Lambdas run on 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');

/** `pipeline local ...` from the local mode, or a command that says it is not in this checkout. */
function localCommands() {
  try {
    return require('../local/cli-commands.ts').registerLocalCommands;
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !/local[\\/]cli-commands/.test(err.message)) throw err;
    return (program) =>
      program
        .command('local')
        .description('start or stop the local mode (not available: local/cli-commands.ts is missing from this checkout)')
        .allowUnknownOption()
        .argument('[args...]')
        .action(() => {
          throw new Error('the local mode commands are not in this checkout (local/cli-commands.ts is missing)');
        });
  }
}

require('../cli/main.ts')
  .runCli(process.argv, { extraCommands: [localCommands()] })
  .then((code) => {
    process.exitCode = code;
  });

#!/usr/bin/env node
// Launcher of the `pipeline` command: runs the TypeScript CLI through tsx, so no build step is needed.
'use strict';
// The SDK warns on every run that releases after January 2027 need Node 22; this project runs on Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts')
  .runCli(process.argv)
  .then((code) => {
    process.exitCode = code;
  });

// Makes dist/harn-agents.cjs.v8cache (see bin/harn-agents.js): compiles the bundle exactly as the CLI does,
// runs the calls whose start-up matters most (quiet reads, and a write) in an empty scratch workspace, so the functions they use
// are compiled, and saves V8's code cache of the script. Run by scripts/build.mjs in a fresh process, with
// the workspace as its working directory.
'use strict';
const fs = require('node:fs');
const { compile, run, CACHE } = require('../bin/harn-agents.js');

const CALLS = [
  ['holder', 'src/a.ts'],
  ['status', '--json'],
  ['check', 'src/a.ts'],
  ['lock', 'src/a.ts', '--agent', '1'],
  ['lock', 'src/a.ts', '--agent', '1'],
];

const script = compile();
let next = 0;
// Each call runs once the previous one has finished (the event loop emptied); the cache is saved at exit.
const step = () => {
  if (next === CALLS.length) return;
  process.argv = [process.argv[0], 'harn-agents', ...CALLS[next++]];
  run(script);
  setImmediate(() => {}); // so 'beforeExit' comes again even if the call scheduled nothing
};
process.on('beforeExit', step);
process.on('exit', () => {
  if (next !== CALLS.length) return;
  fs.writeFileSync(CACHE, script.createCachedData());
  process.exitCode = 0;
});
step();

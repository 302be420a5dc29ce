// Makes dist/harn-agents.cjs.v8cache (see bin/harn-agents.js): compiles the bundle exactly as the CLI does,
// runs the calls whose start-up matters most (quiet reads, and a write) in an empty scratch workspace, so the functions they use
// are compiled, and saves V8's code cache of the script; and the same for the parts those calls load on demand
// (dist/lazy/<name>.cjs.v8cache): the status table, and the PostgreSQL client, through a call to a server
// that is not there (a refused connection on port 1: no server is needed to build). Run by scripts/build.mjs in a fresh process, with
// the workspace as its working directory.
'use strict';
const fs = require('node:fs');
const { compile, run, CACHE, lazy } = require('../bin/harn-agents.js');

const CALLS = [
  ['holder', 'src/a.ts'],
  ['status', '--json'],
  ['check', 'src/a.ts'],
  ['lock', 'src/a.ts', '--agent', '1'],
  ['lock', 'src/a.ts', '--agent', '1'],
  ['status', '--table'],
  ['--store', 'postgres://harn-build@127.0.0.1:1/none', '--namespace', 'build', 'lock', 'src/a.ts', '--agent', '1'],
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
  for (const [file, entry] of lazy) fs.writeFileSync(`${file}.v8cache`, entry.script.createCachedData());
  process.exitCode = 0;
});
step();

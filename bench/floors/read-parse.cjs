// Floor: start node, read the state file and JSON.parse it — what any call on that file must do at least.
// CommonJS, like the CLI's entry, so neither pays for Node's ESM loader. Usage: node read-parse.cjs FILE
'use strict';
JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));

// Preloaded (node --require) by tests that must see which of the build's files a call reads: each file read
// through fs.readFileSync under dist/ is said on stderr ("read: <path>") at exit.
'use strict';
const fs = require('node:fs');
const read = [];
const original = fs.readFileSync;
fs.readFileSync = function (file, ...rest) {
  if (typeof file === 'string' && file.includes('/dist/')) read.push(file);
  return original.call(this, file, ...rest);
};
process.on('exit', () => process.stderr.write(read.map((f) => `read: ${f}\n`).join('')));

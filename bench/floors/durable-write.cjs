// Floor: the durable work of one write in plain Node — start, read and parse the state file (if any), write
// the state to a temporary file, fsync it, rename it over its target, fsync the directory. It writes beside
// the state (FILE.floor), never the state itself. Usage: node durable-write.cjs FILE
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const file = process.argv[2];
let state = { next_id: 1, agents: [] };
try {
  state = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
const target = `${file}.floor`;
const temp = `${target}.${process.pid}.tmp`;
const fd = fs.openSync(temp, 'w', 0o644);
try {
  fs.writeSync(fd, `${JSON.stringify(state)}\n`);
  fs.fsyncSync(fd);
} finally {
  fs.closeSync(fd);
}
fs.renameSync(temp, target);
const dir = fs.openSync(path.dirname(file), 'r');
try {
  fs.fsyncSync(dir);
} finally {
  fs.closeSync(dir);
}

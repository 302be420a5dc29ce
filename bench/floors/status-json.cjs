// Not a floor of every call: the least `status --json` could do in plain Node — start, read and parse the
// state file, one object per live lock, the document pretty-printed (JSON.stringify with 2 spaces, as
// --json prints it) and written to stdout. No validation, reaping, sorting or escaping. It shows what the
// output alone costs beside read + parse (docs/performance.md). Usage: node status-json.cjs FILE
'use strict';
const fs = require('node:fs');
const state = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const now = Date.now();
const agents = [];
for (const a of state.agents ?? []) {
  const locks = [];
  for (const path in a.locked_paths) {
    const expiry = a.locked_paths[path];
    if (expiry > now) locks.push({ path, expires_ms: expiry, reason: null });
  }
  agents.push({ id: a.id, name: a.name, state: a.state, last_seen_ms: a.last_seen_ms, edit_count: a.edit_count, timeout_ms: 45000, own_timeout: false, worktree: null, branch: null, locks });
}
const result = { now_ms: now, clock_behind_ms: 0, clock: {}, workspace: process.cwd(), settings: [], agents, hidden: 0 };
fs.writeSync(1, `${JSON.stringify(result, null, 2)}\n`);

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

// Issue 21: breaking someone's locks is always on purpose and audited. `unregister ID` and `register --id ID`
// of another agent that holds live locks need --force and --reason, and are logged as release --force is.
// The refusals, the forced drops and their events are in test/unit/audited-drops.test.ts (in-process); here,
// what only real processes show: the agent's own process tree.

describe("dropping another agent's record, locks and all", () => {
  it("the agent's own process tree (with-lock's command) may unregister it", () => {
    const ws = tempDir();
    // with-lock's transient agent is agent 1 here, and records with-lock's process.
    const run = spawnSync(process.execPath, [BIN, 'with-lock', 'a.ts', '--', 'sh', '-c', `"${process.execPath}" "${BIN}" unregister 1`], {
      cwd: ws,
      encoding: 'utf8',
      env: cleanEnv(),
    });
    expect(run.stderr).not.toMatch(/would break/);
    expect(run.stdout).toBe('unregistered agent 1 (with-lock: sh)\n');
    expect(run.status).toBe(0);
    // From another process tree the same call is refused.
    expect(cli(['lock', 'b.ts', '--agent', '5'], { cwd: ws }).code).toBe(0);
    expect(cli(['unregister', '5'], { cwd: ws }).code).toBe(2);
  });
});

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/api/index.js';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

// Issue 21: breaking someone's locks is always on purpose and audited. `unregister ID` and `register --id ID`
// of another agent that holds live locks need --force and --reason, and are logged as release --force is.

const events = (ws: string) => JSON.parse(cli(['--json', 'log'], { cwd: ws }).stdout).events as Array<Record<string, unknown>>;

/** A workspace where agent 1 (owner) holds a.ts with a reason. */
function held(): string {
  const ws = tempDir();
  expect(cli(['register', 'owner'], { cwd: ws }).stdout).toBe('1\n');
  expect(cli(['lock', 'a.ts', '--agent', '1', '--ttl', '1h', '--reason', 'refactor'], { cwd: ws }).code).toBe(0);
  return ws;
}

describe("dropping another agent's record, locks and all", () => {
  for (const [what, args] of [
    ['unregister 1', ['unregister', '1']],
    ['register x --id 1', ['register', 'x', '--id', '1']],
  ] as const) {
    it(`${what} of an agent holding a lock: refused without --force and --reason, nothing changed; forced, logged as a force-release`, () => {
      const ws = held();
      const refused = cli([...args], { cwd: ws, env: { HARN_AGENT_ID: '2' } });
      expect(refused.code).toBe(2);
      const how = args[0] === 'unregister' ? 'unregister' : 'register --id';
      expect(refused.stderr).toBe(
        `harn-agents: agent 1 (owner) holds a lock (a.ts), which ${how} would break; if you are agent 1, run as it (HARN_AGENT_ID=1); to break them on purpose, add --force --reason TEXT (recorded in the event log)\n`,
      );
      expect(cli([...args, '--force'], { cwd: ws }).code).toBe(2); // no reason
      expect(cli(['holder', 'a.ts'], { cwd: ws }).code).toBe(0);
      expect(events(ws)).toEqual([]);

      const forced = cli([...args, '--force', '--reason', 'owner is stuck'], { cwd: ws, env: { HARN_AGENT_ID: '2' } });
      expect(forced.code, forced.stderr).toBe(0);
      expect(cli(['holder', 'a.ts'], { cwd: ws }).code).toBe(1);
      expect(events(ws)).toMatchObject([
        { type: 'force-release', by: 2, reason: 'owner is stuck', via: how, broken: [{ path: 'a.ts', holder: { id: 1, name: 'owner' }, lock_reason: 'refactor' }] },
      ]);
    });
  }

  it('the agent itself (HARN_AGENT_ID or --agent), an agent holding nothing, and the library need nothing', async () => {
    const ws = held();
    expect(cli(['unregister', '1'], { cwd: ws, env: { HARN_AGENT_ID: '1' } }).code).toBe(0);
    const again = held();
    expect(cli(['unregister', '1', '--agent', '1'], { cwd: again }).code).toBe(0);
    expect(cli(['register', 'idle'], { cwd: again }).code).toBe(0);
    expect(cli(['unregister', '2'], { cwd: again }).code).toBe(0);
    const lib = held();
    await openRegistry({ cwd: lib }).unregister(1);
    expect(cli(['holder', 'a.ts'], { cwd: lib }).code).toBe(1);
    expect(events(ws)).toEqual([]);
  });

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

import { describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/api/index.js';
import { inProcessCli } from '../helpers/in-process.js';

// Issue 21: breaking someone's locks is always on purpose and audited. `unregister ID` and `register --id ID`
// of another agent that holds live locks need --force and --reason, and are logged as release --force is.
// In-process (runCli, as the bin runs it): what the agent's own process tree may do is in
// test/e2e/audited-drops.test.ts, which needs real processes.

/** A workspace where agent 1 (owner) holds a.ts with a reason. */
async function held() {
  const cli = inProcessCli();
  expect((await cli.run(['register', 'owner'])).stdout).toBe('1\n');
  expect((await cli.run(['lock', 'a.ts', '--agent', '1', '--ttl', '1h', '--reason', 'refactor'])).code).toBe(0);
  const events = async () => (await cli.json(['log'])).data.events as Array<Record<string, unknown>>;
  return { ...cli, events };
}

describe("dropping another agent's record, locks and all", () => {
  for (const [what, args] of [
    ['unregister 1', ['unregister', '1']],
    ['register x --id 1', ['register', 'x', '--id', '1']],
  ] as const) {
    it(`${what} of an agent holding a lock: refused without --force and --reason, nothing changed; forced, logged as a force-release`, async () => {
      const { run, events } = await held();
      const refused = await run([...args], { HARN_AGENT_ID: '2' });
      expect(refused.code).toBe(2);
      const how = args[0] === 'unregister' ? 'unregister' : 'register --id';
      expect(refused.stderr).toBe(
        `harn-agents: agent 1 (owner) holds a lock (a.ts), which ${how} would break; if you are agent 1, run as it (HARN_AGENT_ID=1); to break them on purpose, add --force --reason TEXT (recorded in the event log)\n`,
      );
      expect((await run([...args, '--force'])).code).toBe(2); // no reason
      expect((await run(['holder', 'a.ts'])).code).toBe(0);
      expect(await events()).toEqual([]);

      const forced = await run([...args, '--force', '--reason', 'owner is stuck'], { HARN_AGENT_ID: '2' });
      expect(forced.code, forced.stderr).toBe(0);
      expect((await run(['holder', 'a.ts'])).code).toBe(1);
      expect(await events()).toMatchObject([
        { type: 'force-release', by: 2, reason: 'owner is stuck', via: how, broken: [{ path: 'a.ts', holder: { id: 1, name: 'owner' }, lock_reason: 'refactor' }] },
      ]);
    });
  }

  it('the agent itself (HARN_AGENT_ID or --agent), an agent holding nothing, and the library need nothing', async () => {
    const first = await held();
    expect((await first.run(['unregister', '1'], { HARN_AGENT_ID: '1' })).code).toBe(0);
    const again = await held();
    expect((await again.run(['unregister', '1', '--agent', '1'])).code).toBe(0);
    expect((await again.run(['register', 'idle'])).code).toBe(0);
    expect((await again.run(['unregister', '2'])).code).toBe(0);
    const lib = await held();
    await openRegistry({ cwd: lib.ws }).unregister(1);
    expect((await lib.run(['holder', 'a.ts'])).code).toBe(1);
    expect(await first.events()).toEqual([]);
  });
});

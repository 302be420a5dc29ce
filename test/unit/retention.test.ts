import { describe, expect, it } from 'vitest';
import { readState, tempDir, writeState } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// History retention through the CLI, in-process (runCli) on an injected clock held still.

const DAY = 86_400_000;

/** A state with an agent that crashed 30 days ago (holding nothing) and one seen now; and the CLI over it. */
function workspace() {
  const ws = tempDir();
  const clock = testClock();
  const now = clock.now;
  writeState(
    ws,
    `{"next_id":8,"agents":[{"id":3,"name":"old-ci-job","state":"crashed","last_seen_ms":${now - 30 * DAY},"edit_count":0,"locked_paths":{}},` +
      `{"id":7,"name":"live","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{}}]}\n`,
  );
  return inProcessCli({ ws, clock });
}

describe('history retention (CLI)', () => {
  it('a write removes agents crashed longer ago than 7 days; next_id stays', async () => {
    const { ws, run, json } = workspace();
    expect(await run(['heartbeat', '7'])).toEqual({ code: 0, stdout: 'agent 7 (live) is active\n', stderr: '' });
    const state = readState(ws);
    expect(state.agents.map((a) => a.id)).toEqual([7]);
    expect(state.next_id).toBe(8);
    expect(await json(['register', 'next'])).toMatchObject({ code: 0, stderr: '', data: { id: 8, name: 'next' } });
  });

  it('a read leaves them (and the file) alone', async () => {
    const { ws, run } = workspace();
    const before = readState(ws);
    expect(await run(['holder', 'src/a.ts'])).toEqual({ code: 1, stdout: 'src/a.ts: free\n', stderr: '' });
    expect(readState(ws)).toEqual(before);
  });

  it('the workspace setting decides: retention 0 ("never") and a longer one keep them', async () => {
    for (const value of ['0', '60d']) {
      const { ws, run } = workspace();
      expect((await run(['config', 'set', 'retention', value])).code).toBe(0);
      expect((await run(['heartbeat', '7'])).code).toBe(0);
      expect(readState(ws).agents.map((a) => a.id)).toEqual([3, 7]);
    }
  });

  it('a shorter retention set for the workspace removes them on the write that sets it', async () => {
    const { ws, run } = workspace();
    expect((await run(['config', 'set', 'retention', '1d'])).code).toBe(0);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([7]);
  });

  it('config shows retention 0 as "never"; a bad retention is a usage error and writes nothing', async () => {
    const { ws, run } = workspace();
    expect((await run(['config', 'set', 'retention', '0'])).code).toBe(0);
    expect((await run(['config'])).stdout).toMatch(/^retention\s+never\s/m);
    const before = readState(ws);
    expect(await run(['config', 'set', 'retention', 'soon'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "harn-agents: config set retention: 'soon' is not a duration (use e.g. 1500ms, 30s, 5m, 1h, or a number of ms)\n",
    });
    expect(readState(ws)).toEqual(before);
  });

  it('prune without --older-than follows the workspace retention', async () => {
    const { run, json } = workspace();
    expect((await run(['config', 'set', 'retention', '0'])).code).toBe(0);
    // retention 0 is "never" for writes; an explicit prune then uses 7 days.
    const pruned = (await json(['prune'])).data as { removed: { id: number }[]; older_than_ms: number };
    expect(pruned.removed.map((a) => a.id)).toEqual([3]);
    expect(pruned.older_than_ms).toBe(7 * DAY);
  });

  it('the boundary is exact: crashed as long ago as the retention is kept, a millisecond more is removed', async () => {
    const { ws, clock, run } = workspace();
    expect((await run(['config', 'set', 'retention', '30d'])).code).toBe(0);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([3, 7]);
    clock.now += 1;
    expect((await run(['heartbeat', '7'])).code).toBe(0);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([7]);
  });
});

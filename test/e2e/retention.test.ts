import { describe, expect, it } from 'vitest';
import { cli, readState, tempDir, writeState } from '../helpers/cli.js';

const DAY = 86_400_000;

/** A state with an agent that crashed 30 days ago (holding nothing) and one seen now. */
function workspace(): string {
  const ws = tempDir();
  const now = Date.now();
  writeState(
    ws,
    `{"next_id":8,"agents":[{"id":3,"name":"old-ci-job","state":"crashed","last_seen_ms":${now - 30 * DAY},"edit_count":0,"locked_paths":{}},` +
      `{"id":7,"name":"live","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{}}]}\n`,
  );
  return ws;
}

describe('history retention (CLI)', () => {
  it('a write removes agents crashed longer ago than 7 days; next_id stays', () => {
    const ws = workspace();
    expect(cli(['heartbeat', '7'], { cwd: ws }).code).toBe(0);
    const state = readState(ws);
    expect(state.agents.map((a) => a.id)).toEqual([7]);
    expect(state.next_id).toBe(8);
    expect(cli(['--json', 'register', 'next'], { cwd: ws }).stdout).toContain('"id": 8');
  });

  it('a read leaves them (and the file) alone', () => {
    const ws = workspace();
    const before = readState(ws);
    expect(cli(['holder', 'src/a.ts'], { cwd: ws }).code).toBe(1);
    expect(readState(ws)).toEqual(before);
  });

  it('the workspace setting decides: retention 0 ("never") and a longer one keep them', () => {
    for (const value of ['0', '60d']) {
      const ws = workspace();
      expect(cli(['config', 'set', 'retention', value], { cwd: ws }).code).toBe(0);
      expect(cli(['heartbeat', '7'], { cwd: ws }).code).toBe(0);
      expect(readState(ws).agents.map((a) => a.id)).toEqual([3, 7]);
    }
  });

  it('a shorter retention set for the workspace removes them on the write that sets it', () => {
    const ws = workspace();
    expect(cli(['config', 'set', 'retention', '1d'], { cwd: ws }).code).toBe(0);
    expect(readState(ws).agents.map((a) => a.id)).toEqual([7]);
  });

  it('config shows retention 0 as "never"; a bad retention is a usage error and writes nothing', () => {
    const ws = workspace();
    expect(cli(['config', 'set', 'retention', '0'], { cwd: ws }).code).toBe(0);
    expect(cli(['config'], { cwd: ws }).stdout).toMatch(/^retention\s+never\s/m);
    const before = readState(ws);
    const result = cli(['config', 'set', 'retention', 'soon'], { cwd: ws });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^harn-agents: config set retention: 'soon' is not a duration/);
    expect(readState(ws)).toEqual(before);
  });

  it('prune without --older-than follows the workspace retention', () => {
    const ws = workspace();
    expect(cli(['config', 'set', 'retention', '0'], { cwd: ws }).code).toBe(0);
    // retention 0 is "never" for writes; an explicit prune then uses 7 days.
    const pruned = JSON.parse(cli(['--json', 'prune'], { cwd: ws }).stdout) as { removed: { id: number }[]; older_than_ms: number };
    expect(pruned.removed.map((a) => a.id)).toEqual([3]);
    expect(pruned.older_than_ms).toBe(7 * DAY);
  });
});

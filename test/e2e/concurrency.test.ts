import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliAsync, readState, statePath, tempDir } from '../helpers/cli.js';

const HOLDER = path.resolve(import.meta.dirname, '../helpers/hold-state-lock.mjs');

/** Start a process that takes the state lock; resolves once it holds it. */
function holdStateLock(ws: string): Promise<ReturnType<typeof spawn>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOLDER, ws], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout?.once('data', () => resolve(child));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
}

describe('many processes at once', () => {
  it('8 processes each registering 10 agents leave 80 distinct ids', async () => {
    const ws = tempDir();
    fs.mkdirSync(path.join(ws, '.harn'));
    const worker = async (w: number): Promise<number[]> => {
      const ids: number[] = [];
      for (let i = 0; i < 10; i++) {
        const result = await cliAsync(['register', `w${w}-${i}`], { cwd: ws });
        expect(result.code, result.stderr).toBe(0);
        ids.push(Number(result.stdout));
      }
      return ids;
    };
    const printed = (await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)))).flat();
    const state = readState(ws);
    expect(new Set(printed).size).toBe(80);
    expect(state.agents).toHaveLength(80);
    expect(new Set(state.agents.map((a) => a.id))).toEqual(new Set(printed));
    expect(state.next_id).toBeGreaterThan(Math.max(...printed));
  });

  it('processes racing for one path: exactly one wins', async () => {
    const ws = tempDir();
    fs.mkdirSync(path.join(ws, '.harn'));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => cliAsync(['--json', 'lock', 'hot.ts', '--agent', String(i + 1), '--ttl', '1h'], { cwd: ws })),
    );
    expect(results.filter((r) => r.code === 0)).toHaveLength(1);
    expect(results.filter((r) => r.code === 1)).toHaveLength(5);
    const winner = results.find((r) => r.code === 0);
    const holderId = JSON.parse(winner?.stdout ?? '{}').agent;
    expect(JSON.parse(cli(['--json', 'holder', 'hot.ts'], { cwd: ws }).stdout)[0].holders[0].agent.id).toBe(holderId);
  });
});

// Both wait out the 5 s stale period on a process of their own: side by side, not one after the other.
describe.concurrent('the OS-level state lock', () => {
  it('a lock left by a process killed with -9 is taken over within the stale period', async () => {
    const ws = tempDir();
    const holder = await holdStateLock(ws);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(fs.existsSync(`${statePath(ws)}.lock`)).toBe(true);
    const started = Date.now();
    const result = await cliAsync(['register', 'after-crash'], { cwd: ws });
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(9_000);
    expect(readState(ws).agents.map((a) => a.name)).toEqual(['after-crash']);
  });

  it('a live holder is never broken: the CLI gives up with exit 4 and changes nothing', async () => {
    const ws = tempDir();
    const holder = await holdStateLock(ws);
    try {
      // Longer than the 5 s stale period: the holder keeps its lock fresh, so it must not be taken over.
      const result = await cliAsync(['register', 'x'], { cwd: ws, env: { HARN_STATE_LOCK_WAIT: "6500ms" } });
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/^harn-agents: could not take the lock on .*agents\.json within 6s/);
      expect(fs.existsSync(statePath(ws))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

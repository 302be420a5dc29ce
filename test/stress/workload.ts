import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { decodeSnapshot } from '../../src/store/codec.js';
import { BIN, cliAsync, statePath } from '../helpers/cli.js';

/**
 * The contention and crash workloads behind `npm test` (short) and `npm run stress` (long): real CLI
 * processes against one real workspace, and a check of everything they were told against the file.
 */

export interface LockInterval {
  readonly path: string;
  readonly agent: number;
  readonly start: number;
  end: number;
}

export interface ContentionReport {
  readonly processes: number;
  readonly commands: number;
  readonly seconds: number;
  readonly commandsPerSecond: number;
  readonly lostUpdates: string[];
  readonly overlaps: string[];
  readonly errors: string[];
  readonly longestStateLockWaitMs: number;
  readonly grantedLocks: number;
}

const TTL_MS = 2_000;

/** Parse `HARN_DEBUG` timing lines: the state lock waits of one invocation. */
function stateLockWaits(stderr: string): number[] {
  return [...stderr.matchAll(/state lock wait ([\d.]+)ms/g)].map((m) => Number(m[1]));
}

/** N processes each running K commands (register, heartbeat, lock, release, holder, note-edit) at once. */
export async function runContention(workspace: string, processes: number, commandsPerProcess: number): Promise<ContentionReport> {
  const registered: number[] = [];
  const edits = new Map<number, number>();
  const intervals: LockInterval[] = [];
  const errors: string[] = [];
  let longestWait = 0;
  let commands = 0;
  const paths = ['src/a.ts', 'src/b.ts', 'src/c.ts', 'README.md'];

  const run = async (args: string[]) => {
    commands++;
    const result = await cliAsync(['--json', ...args], { cwd: workspace, env: { HARN_DEBUG: '1' } });
    longestWait = Math.max(longestWait, ...stateLockWaits(result.stderr));
    return result;
  };

  const worker = async (w: number) => {
    const first = await run(['register', `worker-${w}`]);
    if (first.code !== 0) {
      errors.push(`register worker-${w}: exit ${first.code} ${first.stderr.trim()}`);
      return;
    }
    const me = JSON.parse(first.stdout).id as number;
    registered.push(me);
    const held = new Map<string, LockInterval>();
    for (let i = 1; i < commandsPerProcess; i++) {
      const roll = Math.random();
      const path = paths[Math.floor(Math.random() * paths.length)] as string;
      if (roll < 0.1) {
        const r = await run(['register', `worker-${w}-extra-${i}`]);
        if (r.code === 0) registered.push(JSON.parse(r.stdout).id);
        else errors.push(`register: exit ${r.code} ${r.stderr.trim()}`);
      } else if (roll < 0.25) {
        const r = await run(['heartbeat', String(me)]);
        if (r.code !== 0) errors.push(`heartbeat: exit ${r.code} ${r.stderr.trim()}`);
      } else if (roll < 0.5) {
        const r = await run(['lock', path, '--agent', String(me), '--ttl', `${TTL_MS}ms`]);
        if (r.code === 0) {
          const expires = JSON.parse(r.stdout).locks[0].expires_ms as number;
          const current = held.get(path);
          if (current && current.end > expires - TTL_MS) {
            // A renewal while still held: the same holding, now lasting longer.
            current.end = expires;
          } else {
            const interval = { path, agent: me, start: expires - TTL_MS, end: expires };
            intervals.push(interval);
            held.set(path, interval);
          }
        } else if (r.code !== 1) errors.push(`lock: exit ${r.code} ${r.stderr.trim()}`);
      } else if (roll < 0.7) {
        const target = [...held.keys()][0] ?? path;
        const r = await run(['release', target, '--agent', String(me)]);
        if (r.code === 0) {
          const interval = held.get(target);
          if (interval) interval.end = Math.min(interval.end, JSON.parse(r.stdout).now_ms as number);
          held.delete(target);
        } else errors.push(`release: exit ${r.code} ${r.stderr.trim()}`);
      } else if (roll < 0.85) {
        const r = await run(['holder', path]);
        if (r.code !== 0 && r.code !== 1) errors.push(`holder: exit ${r.code} ${r.stderr.trim()}`);
      } else {
        const r = await run(['note-edit', String(me)]);
        if (r.code === 0) edits.set(me, (edits.get(me) ?? 0) + 1);
        else errors.push(`note-edit: exit ${r.code} ${r.stderr.trim()}`);
      }
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: processes }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;

  const snapshot = decodeSnapshot(fs.readFileSync(statePath(workspace), 'utf8'));
  const inFile = new Map(snapshot.agents.map((a) => [a.id, a]));
  const lostUpdates: string[] = [];
  if (new Set(registered).size !== registered.length) lostUpdates.push('an id was handed out twice');
  for (const id of registered) if (!inFile.has(id)) lostUpdates.push(`registered agent ${id} is missing`);
  const maxId = Math.max(0, ...snapshot.agents.map((a) => a.id));
  if (snapshot.nextId <= maxId) lostUpdates.push(`next_id ${snapshot.nextId} is not above ${maxId}`);
  for (const [id, count] of edits) {
    const got = inFile.get(id)?.editCount;
    if (got !== count) lostUpdates.push(`agent ${id}: ${count} note-edits acknowledged, ${got} in the file`);
  }

  return {
    processes,
    commands,
    seconds,
    commandsPerSecond: commands / seconds,
    lostUpdates,
    overlaps: findOverlaps(intervals),
    errors,
    longestStateLockWaitMs: longestWait,
    grantedLocks: intervals.length,
  };
}

/** Pairs of lock intervals on one path, held by different agents, that overlap in time. */
export function findOverlaps(intervals: readonly LockInterval[]): string[] {
  const overlaps: string[] = [];
  const byPath = new Map<string, LockInterval[]>();
  for (const i of intervals) byPath.set(i.path, [...(byPath.get(i.path) ?? []), i]);
  for (const [path, list] of byPath) {
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const x = list[a] as LockInterval;
        const y = list[b] as LockInterval;
        if (x.agent !== y.agent && x.start < y.end && y.start < x.end) {
          overlaps.push(`${path}: agent ${x.agent} [${x.start}, ${x.end}) and agent ${y.agent} [${y.start}, ${y.end})`);
        }
      }
    }
  }
  return overlaps;
}

export interface CrashReport {
  readonly trials: number;
  readonly killedWhileLocked: number;
  readonly acknowledged: number;
  readonly problems: string[];
  readonly longestRecoveryMs: number;
}

/**
 * Kill -9 a CLI process (note-edit of one agent) at a random moment, `trials` times. After each kill the
 * next invocation must succeed, the file must parse, and it must hold every acknowledged edit.
 */
export async function runCrashTrials(workspace: string, trials: number): Promise<CrashReport> {
  const problems: string[] = [];
  const first = await cliAsync(['register', 'victim'], { cwd: workspace });
  const id = first.stdout.trim();
  let acknowledged = 0;
  let attempted = 0;
  let killedWhileLocked = 0;
  let longestRecovery = 0;
  for (let t = 0; t < trials; t++) {
    attempted++;
    const child = spawn(process.execPath, [BIN, 'note-edit', id], {
      cwd: workspace,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 120));
    child.kill('SIGKILL');
    const code = await exited;
    if (code === 0) acknowledged++;
    if (fs.existsSync(`${statePath(workspace)}.lock`)) killedWhileLocked++;
    // The next call is a write: it has to take over a lock the killed process may have left.
    const started = performance.now();
    attempted++;
    const next = await cliAsync(['--json', 'note-edit', id], { cwd: workspace });
    longestRecovery = Math.max(longestRecovery, performance.now() - started);
    if (next.code !== 0) {
      problems.push(`trial ${t}: the next call exited ${next.code}: ${next.stderr.trim()}`);
      continue;
    }
    acknowledged++;
    let edits = -1;
    try {
      edits = decodeSnapshot(fs.readFileSync(statePath(workspace), 'utf8')).agents.find((a) => String(a.id) === id)?.editCount ?? -1;
    } catch (error) {
      problems.push(`trial ${t}: the state file does not parse: ${(error as Error).message}`);
      continue;
    }
    if (edits < acknowledged || edits > attempted) {
      problems.push(`trial ${t}: ${edits} edits in the file, ${acknowledged} acknowledged, ${attempted} attempted`);
    }
  }
  return { trials, killedWhileLocked, acknowledged, problems, longestRecoveryMs: longestRecovery };
}

/** Agents racing `lock --wait` on one path, each holding it briefly then releasing: the grant intervals. */
export async function runHandoff(workspace: string, agents: number): Promise<{ intervals: LockInterval[]; failures: string[] }> {
  const intervals: LockInterval[] = [];
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: agents }, async (_, i) => {
      const agent = i + 1;
      const got = await cliAsync(['--json', 'lock', 'hot.ts', '--agent', String(agent), '--ttl', '30s', '--wait', '60s'], { cwd: workspace });
      if (got.code !== 0) {
        failures.push(`agent ${agent}: lock exit ${got.code} ${got.stderr.trim()}`);
        return;
      }
      const start = (JSON.parse(got.stdout).locks[0].expires_ms as number) - 30_000;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const released = await cliAsync(['--json', 'release', 'hot.ts', '--agent', String(agent)], { cwd: workspace });
      if (released.code !== 0) failures.push(`agent ${agent}: release exit ${released.code}`);
      intervals.push({ path: 'hot.ts', agent, start, end: JSON.parse(released.stdout).now_ms as number });
    }),
  );
  return { intervals, failures };
}

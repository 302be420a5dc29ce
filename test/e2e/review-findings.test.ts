import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir, type CliResult } from '../helpers/cli.js';

// Findings of an adversarial review of the file store's safety layer and with-lock (issues 10 and 11).
// Each test fails on the code it was written against; see the review report for the why and the fix.

const isRoot = process.getuid?.() === 0;
const NOBODY = 65_534;
const made: string[] = [];
const leftRunning: number[] = [];
let appBin = BIN;

beforeAll(() => {
  if (!isRoot) return;
  // A world-readable copy of the build, so the CLI can run as nobody (as unwritable.test.ts does).
  const app = scratch('harn-review-app-');
  fs.cpSync(path.join(path.dirname(path.dirname(BIN)), 'dist'), path.join(app, 'dist'), { recursive: true });
  fs.mkdirSync(path.join(app, 'bin'));
  fs.copyFileSync(BIN, path.join(app, 'bin', 'harn-agents.js'));
  spawnSync('chmod', ['-R', 'a+rX', app]);
  appBin = path.join(app, 'bin', 'harn-agents.js');
});

afterAll(() => {
  for (const pid of leftRunning) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of made) {
    spawnSync('chmod', ['-R', 'u+rwX', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function scratch(prefix?: string): string {
  const dir = tempDir(prefix);
  made.push(dir);
  return dir;
}

function git(cwd: string, ...args: string[]): void {
  const result = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
}

/** Run the CLI (as nobody when asked) with a hard time limit, so a hang fails the test, not the suite. */
function run(args: string[], cwd: string, asNobody = false, env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, [asNobody ? appBin : BIN, ...args], {
    cwd,
    env: cleanEnv(env),
    input: '',
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
    ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Start the CLI without waiting for it; resolves when it ends. */
function start(args: string[], cwd: string, asNobody = false): Promise<CliResult> {
  const options: SpawnOptions = { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [asNobody ? appBin : BIN, ...args], options);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait (bounded) for a file a command writes once it runs; returns its trimmed content. */
async function waitForFile(file: string, limitMs = 20_000): Promise<string> {
  for (const began = Date.now(); Date.now() - began < limitMs; await pause(50)) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
    if (text) return text;
  }
  throw new Error(`${file} never appeared`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill 0; it has ended all the same.
  const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
}

/** Whether `pid` ends within a bounded time (SIGKILL is delivered at once; this only absorbs scheduling). */
async function endsSoon(pid: number, limitMs = 5_000): Promise<boolean> {
  for (const began = Date.now(); Date.now() - began < limitMs; await pause(50)) if (!alive(pid)) return true;
  return false;
}

describe('discovery: a planted .git', () => {
  it.runIf(isRoot)("a .git and a .harn/ planted by another user in a shared sticky directory do not make it the workspace", () => {
    const shared = scratch('harn-shared-');
    fs.chmodSync(shared, 0o1777);
    // Another user plants both: an empty file named .git is enough to pass for a repository's top-level.
    fs.mkdirSync(path.join(shared, '.harn'));
    fs.writeFileSync(path.join(shared, '.git'), '');
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path.join(shared, '.harn'), path.join(shared, '.git')]);
    const mine = path.join(shared, 'mine');
    fs.mkdirSync(mine);

    const result = run(['register', 'me'], mine);
    expect(result.code, result.stderr).toBe(0);
    expect(fs.existsSync(path.join(mine, '.harn', 'agents.json'))).toBe(true);
  });

  it('a .git planted alone in a shared sticky directory does not move the workspace (and its registry) there', () => {
    const shared = scratch('harn-shared-');
    fs.chmodSync(shared, 0o1777);
    fs.writeFileSync(path.join(shared, '.git'), '');
    if (isRoot) fs.chownSync(path.join(shared, '.git'), NOBODY, NOBODY);
    const mine = path.join(shared, 'mine');
    fs.mkdirSync(mine);

    expect(run(['register', 'me'], mine).code).toBe(0);
    expect(fs.existsSync(path.join(shared, '.harn'))).toBe(false);
    expect(fs.existsSync(path.join(mine, '.harn', 'agents.json'))).toBe(true);
  });
});

describe('the state lock directory', () => {
  it('a committed, non-empty agents.json.lock/ is exit 3 naming it, not a 10 s wait and "another process holds" (exit 4) on every write', () => {
    const origin = scratch('harn-origin-');
    git(origin, 'init', '-q');
    fs.mkdirSync(path.join(origin, '.harn', 'agents.json.lock'), { recursive: true });
    fs.writeFileSync(path.join(origin, '.harn', 'agents.json.lock', 'keep'), '');
    git(origin, 'add', '-A');
    git(origin, 'commit', '-qm', 'hostile');
    const clone = path.join(scratch('harn-clone-'), 'c');
    git(path.dirname(clone), 'clone', '-q', origin, clone);

    const result = run(['register', 'me'], clone);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/agents\.json\.lock/);
    expect(result.stderr).not.toMatch(/another process holds/);
    // Refused on sight, not after waiting out the 5 s stale period: with a 1 ms wait the answer is the same.
    const quick = run(['register', 'me'], clone, false, { HARN_STATE_LOCK_WAIT: '1ms' });
    expect(quick.code, quick.stderr).toBe(3);
    expect(quick.stderr).toMatch(/agents\.json\.lock is not empty/);
  });
});

describe('with-lock', () => {
  it('stops the whole command when its locks are lost, not only the direct child (sh -c, npm run, ...)', async () => {
    const ws = scratch();
    const gcFile = path.join(ws, 'gc.pid');
    const holding = start(['with-lock', 'x', '--ttl', '10s', '--kill-after', '1s', '--', 'sh', '-c', `sleep 300 >/dev/null 2>&1 & echo $! > ${gcFile}; wait`], ws);
    const grandchild = Number(await waitForFile(gcFile));
    leftRunning.push(grandchild);

    expect(run(['release', '--force', 'x', '--reason', 'review'], ws).code).toBe(0);
    const result = await holding;
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/lost its lock on x/);
    // The critical section must be over once with-lock has said so and exited.
    expect(await endsSoon(grandchild)).toBe(true);
  });

  it.runIf(isRoot)('a renewal that fails with a system error (not a HarnError) is no stack trace, no exit 1, and the command is stopped', async () => {
    const ws = scratch();
    fs.chownSync(ws, NOBODY, NOBODY);
    const pidFile = path.join(ws, 'child.pid');
    const holding = start(['with-lock', 'x', '--ttl', '1500ms', '--kill-after', '1s', '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 300 >/dev/null 2>&1`], ws, true);
    const child = Number(await waitForFile(pidFile));
    leftRunning.push(child);
    // The store becomes unreachable while the command runs: .harn/ loses its search permission.
    fs.chmodSync(path.join(ws, '.harn'), 0o600);

    const result = await holding;
    fs.chmodSync(path.join(ws, '.harn'), 0o755);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toMatch(/^node:/m);
    expect([3, 4, 5]).toContain(result.code);
    expect(await endsSoon(child)).toBe(true);
  });
});

describe('hostile regular files', () => {
  it('a huge (sparse) state file is refused as too large, not read whole into memory', () => {
    const ws = scratch();
    fs.mkdirSync(path.join(ws, '.harn'));
    // 256 MiB of zeros: a few hundred KiB in a git pack, read whole (and decoded) by every call today.
    const state = path.join(ws, '.harn', 'agents.json');
    fs.writeFileSync(state, '');
    fs.truncateSync(state, 256 * 1024 * 1024);
    const result = run(['status'], ws);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/too (large|big)|larger than/i);
  });

  it.runIf(isRoot)('an event log hard-linked to a file outside .harn/ is not appended to', () => {
    const ws = scratch();
    const outsideDir = scratch('harn-outside-');
    const outside = path.join(outsideDir, 'bashrc');
    fs.writeFileSync(outside, 'echo hello\n');
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, ws, outsideDir]);
    expect(run(['register', 'me'], ws, true).code).toBe(0);
    // Someone who can write into .harn/ (a group-writable team workspace) links the log to the user's file;
    // O_NOFOLLOW does not see a hard link, and the owner check passes: it is the user's own file.
    fs.linkSync(outside, path.join(ws, '.harn', 'events.jsonl'));
    const before = fs.readFileSync(outside);

    const result = run(['with-lock', 'c.ts', '--', 'true'], ws, true);
    expect([0, 3]).toContain(result.code);
    expect(fs.readFileSync(outside).equals(before)).toBe(true);
  });
});

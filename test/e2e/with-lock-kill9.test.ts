import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';
import { WATCHER } from '../../src/commands/with-lock.js';

// Issue 21: with-lock killed with -9 (which no handler sees) does not leave its command running unguarded
// while its lock lapses and another agent takes the path: the command is stopped, as a lost lock stops it.

/** Running: it exists and is not a zombie (an ended process its new parent, init, has not reaped yet). */
const alive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Wait for something to happen (not for an amount of time); a generous limit only ends a failing test. */
async function until(done: () => boolean, limitMs = 90_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

async function killedWithLock(script: string, extra: string[] = []) {
  const ws = tempDir();
  const pidFile = path.join(ws, 'command.pid');
  const withLock = spawn(process.execPath, [BIN, 'with-lock', 'a.ts', '--ttl', '10m', ...extra, '--', 'sh', '-c', `echo $$ > "${pidFile}"; ${script}`], {
    cwd: ws,
    env: cleanEnv(),
    stdio: 'ignore',
  });
  expect(await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').endsWith('\n'))).toBe(true);
  const command = Number(fs.readFileSync(pidFile, 'utf8'));
  expect(alive(command)).toBe(true);
  withLock.kill('SIGKILL');
  await new Promise((resolve) => withLock.on('exit', resolve));
  return { ws, command };
}

describe('with-lock killed with -9', () => {
  it('its command is stopped (SIGTERM), not left running while the lock lapses', async () => {
    const { ws, command } = await killedWithLock('exec sleep 600');
    expect(await until(() => !alive(command))).toBe(true);
    // Nothing released the lock: it stays until its TTL (or its agent's timeout), never taken in silence.
    expect(JSON.parse(cli(['--json', 'holder', 'a.ts'], { cwd: ws }).stdout)).toMatchObject([{ path: 'a.ts', holders: [{ agent: { name: 'with-lock: sh' } }] }]);
  }, 240_000);

  it('a command that ignores SIGTERM gets SIGKILL after --kill-after', async () => {
    const { command } = await killedWithLock("trap '' TERM; while :; do sleep 0.1; done", ['--kill-after', '1s']);
    expect(await until(() => !alive(command))).toBe(true);
  }, 240_000);

  it('a command that finishes normally is not signalled afterwards, and its exit code stands', () => {
    const ws = tempDir();
    const result = cli(['with-lock', 'a.ts', '--', 'sh', '-c', 'exit 4'], { cwd: ws });
    expect(result).toMatchObject({ code: 4, stderr: '' });
  });

  it('killed in the instant before it told its watcher the command: the watcher finds the command by its token', async () => {
    // The watcher as with-lock starts it; the command started with the token; with-lock "dies" (the pipe
    // closes) without having written the command's process group.
    const token = `test-${process.pid}-${Date.now()}`;
    const watcher = spawn('sh', ['-c', WATCHER, 'harn-agents-watch', '10', token], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    const command = spawn('sh', ['-c', "trap '' TERM; while :; do sleep 0.1; done"], { env: { ...cleanEnv(), HARN_WITH_LOCK_WATCH: token }, stdio: 'ignore', detached: true });
    const pid = command.pid as number;
    expect(await until(() => fs.existsSync(`/proc/${pid}/environ`) && fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(token))).toBe(true);
    watcher.stdin?.end();
    const stopped = await until(() => !alive(pid));
    if (!stopped) process.kill(-pid, 'SIGKILL');
    expect(stopped).toBe(true);
  }, 240_000);
});


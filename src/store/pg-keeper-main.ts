import fs from 'node:fs';
import { runKeeper } from './pg-keeper.js';

/**
 * The session keeper's process (dist/lazy/pg-keeper-main.cjs), started by a CLI call (pg-keeper-client.ts)
 * with its socket in its environment and the store's URL on its standard input (never where other users
 * could read it). It prints nothing: its output goes nowhere. Any failure ends it, and calls connect directly
 * until another is started.
 */
process.on('uncaughtException', () => process.exit(1));
process.on('unhandledRejection', () => process.exit(1));
closeInherited();
const socket = process.env.HARN_PG_KEEPER_SOCKET;
const waitMs = Number(process.env.HARN_PG_KEEPER_WAIT_MS);
const idleMs = Number(process.env.HARN_PG_KEEPER_IDLE_MS || 30_000);
void readUrl().then((url) => {
  if (!socket || !url || !Number.isFinite(waitMs) || !Number.isFinite(idleMs) || idleMs <= 0) process.exit(2);
  process.title = 'harn-agents-pg-keeper';
  runKeeper({ socket, url, waitMs, idleMs, maxSessions: 16, replace: process.env.HARN_PG_KEEPER_REPLACE === '1' }).catch(() => process.exit(1));
});

/** The URL, on standard input; none if the starting call is gone or stopped before it wrote it (10 s). */
function readUrl(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(''), 10_000);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 1_000_000) resolve('');
    });
    process.stdin.on('end', () => {
      clearTimeout(timer);
      process.stdin.destroy();
      resolve(text.trim());
    });
    process.stdin.on('error', () => resolve(''));
  });
}

/**
 * Close the descriptors the starting call's own parent left open to it (`cmd 20>&1 | cat`): held by a
 * keeper that lives on, a pipe's reader would wait for the keeper to end. Node opens its own with
 * O_CLOEXEC, so those without it (fd 3 and up) are inherited ones.
 */
function closeInherited(): void {
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return; // Not Linux: nothing to look at.
  }
  for (const name of fds) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      const flags = /flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (Number.parseInt(flags, 8) & 0o2000000) === 0) fs.closeSync(fd);
    } catch {
      // Closed meanwhile (the directory's own descriptor).
    }
  }
}

import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { DirectSessions } from './pg-direct.js';
import { HELLO_WAIT_MS, LineReader } from './pg-keeper-client.js';
import type { Session } from './pg-session.js';

/**
 * The session keeper: a small process that keeps PostgreSQL sessions open between CLI calls, so a call pays
 * for neither loading the pg client nor the server starting a session (a process there: 10-15 ms on some
 * machines, more than the rest of the call). Started by the first call that finds none (pg-store.ts); it
 * serves one configuration (see pg-keeper-socket.ts) and ends after `idleMs` without a call.
 *
 * One call's connection is one session, lent whole for the call's life: statements run on it in order,
 * exactly as on a connection of the call's own. When the call's connection ends, the session goes back to
 * the pool only if it is idle (no statement running, no transaction open); otherwise it is ended, and the
 * server rolls back what it held, as it would for a call's own connection that broke. A session that failed
 * is never lent again.
 */
export interface KeeperOptions {
  readonly socket: string;
  readonly url: string;
  readonly waitMs: number;
  /** How long it stays without a call before it ends. */
  readonly idleMs: number;
  /** Sessions open at most; a call beyond them connects directly. */
  readonly maxSessions: number;
  /** Take the socket's name over from a keeper that does not answer (a call found it stopped or hung). */
  readonly replace: boolean;
}

/** How long a session stays open without a call: short, so a `DROP DATABASE` soon after finds none. */
const SESSION_IDLE_MS = 5_000;
/** How often a keeper checks that its socket's name is still its own (another may have taken it over). */
const OWN_CHECK_MS = 2_000;

export async function runKeeper(options: KeeperOptions): Promise<void> {
  const sessions = new DirectSessions(options.url, options.waitMs, { max: options.maxSessions, idleMs: Math.min(options.idleMs, SESSION_IDLE_MS) });
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  let ownCheck: NodeJS.Timeout | undefined;
  /**
   * Its socket: the inode it listens on. While it listens no other file can have that inode, so the name is
   * its own exactly when the name has it (a touch, which changes the time, changes nothing).
   */
  let inode: { dev: bigint; ino: bigint } | undefined;
  const ours = (): boolean => {
    try {
      const stat = fs.lstatSync(options.socket, { bigint: true });
      return inode !== undefined && stat.ino === inode.ino && stat.dev === inode.dev;
    } catch {
      return false;
    }
  };
  let ending: Promise<void> | undefined;
  /** End, once: the sessions closed (a lent one with them), then the process. */
  const end = (): void => {
    clearInterval(ownCheck);
    ending ??= sessions.end().finally(() => process.exit(0));
  };
  const shutdown = () => {
    // Its socket's name goes with it only if it is still its own: one that took it over keeps it.
    if (ours()) {
      try {
        fs.unlinkSync(options.socket);
      } catch {
        // Gone already.
      }
    }
    end();
  };

  const server = net.createServer((conn) => {
    open++;
    clearTimeout(idle);
    serve(conn, sessions, options).finally(() => {
      if (--open === 0) idle = setTimeout(shutdown, options.idleMs);
    });
  });
  inode = await takeOver(server, options);
  // The start's mark goes either way: this keeper serves now, or another does.
  removeMark(`${options.socket}.starting`);
  if (!inode || !ours()) return end();
  idle = setTimeout(shutdown, options.idleMs);
  // A keeper whose name another took over (two started at once) is reached by no new call: once the calls
  // it serves are done, it ends.
  ownCheck = setInterval(() => {
    if (!ours()) {
      clearInterval(ownCheck);
      const whenDone = () => (open === 0 ? end() : setTimeout(whenDone, OWN_CHECK_MS));
      whenDone();
    }
  }, OWN_CHECK_MS);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** Remove the mark a starting call left (see startKeeper), if it is one. */
function removeMark(mark: string): void {
  try {
    if (fs.lstatSync(mark).isFile()) fs.unlinkSync(mark);
  } catch {
    // Not there.
  }
}

/**
 * Listen at a name of its own (`<socket>.<pid>`), then rename it to the socket's, atomically: unless a keeper
 * there answers (or, without `replace`, is there at all and accepts), or something that is not a socket has
 * the name (left alone). The inode it listens on; none when this keeper is not needed.
 */
async function takeOver(server: net.Server, options: KeeperOptions): Promise<{ dev: bigint; ino: bigint } | undefined> {
  const own = `${options.socket}.${process.pid}`;
  try {
    if (fs.lstatSync(own).isSocket()) fs.unlinkSync(own);
  } catch {
    // None left from a process with this pid.
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(own, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(options.socket);
  } catch {
    existing = undefined;
  }
  const state = existing === undefined ? 'none' : !existing.isSocket() ? 'not a socket' : await probe(options.socket);
  if (state === 'alive' || state === 'not a socket' || (state === 'silent' && !options.replace)) {
    server.close(); // removes `own`
    return undefined;
  }
  const { dev, ino } = fs.lstatSync(own, { bigint: true });
  fs.renameSync(own, options.socket);
  return { dev, ino };
}

/** Whether a keeper listens at `socket` and answers (alive), accepts but says nothing within 1 s (silent), or is gone. */
function probe(socket: string): Promise<'alive' | 'silent' | 'gone'> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socket);
    const timer = setTimeout(() => settle('silent'), HELLO_WAIT_MS);
    const settle = (state: 'alive' | 'silent' | 'gone') => {
      clearTimeout(timer);
      conn.destroy();
      resolve(state);
    };
    conn.once('connect', () => conn.write('{"ping":1}\n'));
    conn.once('data', () => settle('alive'));
    conn.once('error', () => settle('gone'));
  });
}

/** One call: a hello, then its statements, on one session lent for the connection's life. */
async function serve(conn: net.Socket, sessions: DirectSessions, options: KeeperOptions): Promise<void> {
  const lines = new LineReader(conn);
  let session: (Session & { readonly client: pg.PoolClient }) | undefined;
  let running = false;
  let broken = false;
  const send = (value: unknown) => {
    if (!conn.destroyed) conn.write(`${JSON.stringify(value)}\n`);
  };
  try {
    const hello = JSON.parse(await lines.next()) as { hello?: unknown; ping?: unknown };
    if (hello?.ping === 1) {
      send({ ack: 1 });
      return;
    }
    if (hello?.hello !== 1) return;
    // At once: the call knows this keeper is alive, however long a session takes to open.
    send({ ack: 1 });
    const { total, idle } = sessions.counts();
    if (total >= options.maxSessions && idle === 0) {
      send({ ok: false, reason: `all ${options.maxSessions} sessions are lent` });
      return;
    }
    try {
      session = await sessions.acquire();
    } catch (error) {
      send({ ok: false, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    send({ ok: true, pid: process.pid });
    for (;;) {
      const request = JSON.parse(await lines.next()) as { text?: unknown; values?: unknown; name?: unknown };
      if (typeof request?.text !== 'string') return;
      if (broken) {
        send({ error: { lost: true, message: 'the session was lost earlier' } });
        continue;
      }
      running = true;
      try {
        const values = Array.isArray(request.values) ? request.values : undefined;
        const answer: unknown = await session.query(request.text, values, typeof request.name === 'string' ? request.name : undefined);
        // Several statements in one text (`BEGIN; SELECT ...`) answer with one result each: the last is the answer.
        const result = (Array.isArray(answer) ? answer[answer.length - 1] : answer) as { rows?: unknown[]; rowCount?: number | null } | undefined;
        send({ rows: result?.rows ?? [], rowCount: result?.rowCount ?? null });
      } catch (error) {
        if (!sessions.isServerAnswer(error)) {
          broken = true;
          send({ error: { lost: true, message: error instanceof Error ? error.message : String(error) } });
        } else {
          const e = error as pg.DatabaseError;
          send({ error: { lost: false, message: e.message, code: e.code, severity: e.severity, detail: e.detail, hint: e.hint } });
        }
      } finally {
        running = false;
      }
    }
  } catch {
    // The call ended its connection (or sent what is not our protocol): its session is given back below.
  } finally {
    conn.destroy();
    // A statement still running, or a transaction left open, ends with the session: the server rolls back.
    session?.release(broken || running || session.client.getTransactionStatus() !== 'I');
  }
}

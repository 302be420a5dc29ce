import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { DirectSessions } from './pg-direct.js';
import { LineReader } from './pg-keeper-client.js';
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
}

export async function runKeeper(options: KeeperOptions): Promise<void> {
  const sessions = new DirectSessions(options.url, options.waitMs, { max: options.maxSessions, idleMs: Math.min(options.idleMs, 10_000) });
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  /** Its socket's identity: a keeper that replaced it may get the same inode number (tmpfs reuses them), not the same ctime. */
  let identity = '';
  const identify = (): string => {
    const stat = fs.statSync(options.socket, { bigint: true });
    return `${stat.ino}:${stat.ctimeNs}`;
  };

  const server = net.createServer((conn) => {
    open++;
    clearTimeout(idle);
    serve(conn, sessions, options).finally(() => {
      if (--open === 0) idle = setTimeout(shutdown, options.idleMs);
    });
  });

  const shutdown = () => {
    // Closing the server removes the socket's path (libuv does): only if it is still its own. A keeper that
    // replaced this one (it had stopped answering) keeps its socket; this one just ends.
    let ours = false;
    try {
      ours = identify() === identity;
    } catch {
      // Gone already.
    }
    if (ours) server.close();
    void sessions.end().finally(() => process.exit(0));
  };

  await listen(server, options.socket);
  identity = identify();
  idle = setTimeout(shutdown, options.idleMs);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** Listen at `socket`; a socket left by a keeper that died is replaced, one that answers is left to it. */
async function listen(server: net.Server, socket: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socket, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 1) throw error;
      const alive = await new Promise<boolean>((resolve) => {
        const probe = net.createConnection(socket);
        probe.once('connect', () => {
          probe.destroy();
          resolve(true);
        });
        probe.once('error', () => resolve(false));
      });
      if (alive) throw new Error('another keeper serves this socket');
      if (!fs.lstatSync(socket).isSocket()) throw new Error(`${socket} is not a socket`);
      fs.unlinkSync(socket);
    }
  }
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
    const hello = JSON.parse(await lines.next()) as { hello?: unknown };
    if (hello?.hello !== 1) return;
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

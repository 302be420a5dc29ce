import fs from 'node:fs';
import net from 'node:net';
import { ConnectionLost, ServerAnswer, type Session, type SessionResult } from './pg-session.js';

/**
 * A CLI call's side of the session keeper (pg-keeper.ts): one connection to its socket is one server session
 * lent for the call's life. Newline-delimited JSON both ways: `{"hello":1}` answered `{"ok":true,"pid":N}`
 * once a session is ready (or `{"ok":false,"reason":...}`: the call then connects directly); then one
 * statement at a time, `{"text","values","name"}`, answered `{"rows","rowCount"}` or `{"error":{...}}`.
 */

/** Why no keeper served this call, and whether a new one should be started in its place. */
export interface NoKeeper {
  readonly unavailable: string;
  /** The socket answered nothing (a keeper stopped or hung): a new keeper takes its place. */
  readonly replace: boolean;
  /** No keeper at all (or one that died): one should be started. */
  readonly start: boolean;
}

/** The most a keeper may take to lend a session before the call gives up on it and connects directly. */
export const HELLO_WAIT_MS = 1_000;
/** A line longer than this (in bytes) is not an answer of ours: the connection is dropped. */
const MAX_LINE = 256 * 1024 * 1024;

/** A session from the keeper listening at `socket`, or why there is none. */
export async function keeperSession(socket: string, requestWaitMs: number): Promise<{ session: Session; pid: number } | NoKeeper> {
  const conn = net.createConnection(socket);
  const lines = new LineReader(conn);
  let timer: NodeJS.Timeout | undefined;
  const hello = await Promise.race([
    (async () => {
      await new Promise<void>((resolve, reject) => {
        conn.once('connect', resolve);
        conn.once('error', reject);
      });
      conn.write('{"hello":1}\n');
      return lines.next();
    })().catch((error: NodeJS.ErrnoException) => error),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), HELLO_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (hello === 'timeout') {
    conn.destroy();
    return { unavailable: `the session keeper did not answer within ${HELLO_WAIT_MS} ms`, replace: true, start: true };
  }
  if (hello instanceof Error) {
    conn.destroy();
    const code = (hello as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { unavailable: 'no session keeper is running', replace: false, start: true };
    if (code === 'ECONNREFUSED') return { unavailable: 'the session keeper is gone (its socket is left)', replace: true, start: true };
    return { unavailable: `cannot reach the session keeper: ${hello.message}`, replace: false, start: false };
  }
  const answer = parse(hello);
  if (answer?.ok !== true || typeof answer.pid !== 'number') {
    conn.destroy();
    const reason = typeof answer?.reason === 'string' ? answer.reason : 'an answer that is not its protocol';
    return { unavailable: `the session keeper lent no session (${reason.slice(0, 200)})`, replace: false, start: false };
  }
  return { session: new KeeperSession(conn, lines, requestWaitMs), pid: answer.pid };
}

class KeeperSession implements Session {
  private broken = false;

  constructor(
    private readonly conn: net.Socket,
    private readonly lines: LineReader,
    private readonly waitMs: number,
  ) {}

  async query<T extends Record<string, unknown>>(text: string, values?: readonly unknown[], name?: string): Promise<SessionResult<T>> {
    if (this.broken) throw new ConnectionLost(new Error('the session keeper connection was lost earlier'));
    this.conn.write(`${JSON.stringify({ text, values: values ?? null, name: name ?? null })}\n`);
    let timer: NodeJS.Timeout | undefined;
    let line: string;
    try {
      line = await Promise.race([
        this.lines.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from the session keeper within ${this.waitMs} ms`)), this.waitMs);
        }),
      ]);
    } catch (error) {
      this.broken = true;
      this.conn.destroy();
      throw new ConnectionLost(error);
    } finally {
      clearTimeout(timer);
    }
    const answer = parse(line);
    if (answer && Array.isArray(answer.rows)) return { rows: answer.rows as T[], rowCount: typeof answer.rowCount === 'number' ? answer.rowCount : null };
    const error = answer?.error;
    if (error && typeof error === 'object') {
      const e = error as Record<string, unknown>;
      const message = typeof e.message === 'string' ? e.message : 'unknown error';
      if (e.lost === true) {
        this.broken = true;
        throw new ConnectionLost(new Error(message));
      }
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      throw new ServerAnswer(message, str(e.code), str(e.severity), str(e.detail), str(e.hint));
    }
    this.broken = true;
    this.conn.destroy();
    throw new ConnectionLost(new Error('the session keeper answered outside its protocol'));
  }

  release(): void {
    // Closing the connection gives the session back (the keeper ends it instead if a transaction is open or
    // a statement runs). Every answer was read: nothing is left to flush, and a call need not wait for a
    // closing handshake before it exits.
    this.conn.destroy();
  }
}

/** Lines from a socket, one at a time; an error or the end rejects what is awaited. */
export class LineReader {
  private buffer = '';
  private readonly ready: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  private ended: Error | undefined;

  constructor(stream: net.Socket) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf('\n')) >= 0) {
        this.ready.push(this.buffer.slice(0, at));
        this.buffer = this.buffer.slice(at + 1);
      }
      if (this.buffer.length > MAX_LINE) {
        stream.destroy();
        this.fail(new Error('a line too long'));
        return;
      }
      this.flush();
    });
    stream.on('error', (error) => this.fail(error));
    stream.on('close', () => this.fail(new Error('the connection was closed')));
  }

  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.flush();
    });
  }

  private flush(): void {
    if (!this.waiting) return;
    const line = this.ready.shift();
    if (line !== undefined) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve(line);
    } else if (this.ended) {
      const w = this.waiting;
      this.waiting = undefined;
      w.reject(this.ended);
    }
  }

  private fail(error: Error): void {
    this.ended ??= error;
    this.flush();
  }
}

function parse(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Start a keeper for `socket` (its own process, detached, no terminal, no inherited output), told the URL
 * through its environment (never its arguments: those are visible to every user). A keeper that stopped
 * answering, or died leaving its socket, is replaced: its socket is removed first, if it is one.
 */
export async function startKeeper(entry: string, socket: string, url: string, waitMs: number, replace: boolean, env: Readonly<Record<string, string | undefined>>): Promise<number | undefined> {
  if (replace) {
    try {
      if (fs.lstatSync(socket).isSocket()) fs.unlinkSync(socket);
    } catch {
      // Gone already, or not ours to remove: the new keeper finds out for itself.
    }
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [entry], {
    detached: true,
    stdio: 'ignore',
    env: { ...env, HARN_PG_KEEPER_SOCKET: socket, HARN_PG_KEEPER_URL: url, HARN_PG_KEEPER_WAIT_MS: String(waitMs) },
  });
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}

import fs from 'node:fs';
import net from 'node:net';
import { ConnectionLost, ServerAnswer, type Session, type SessionResult } from './pg-session.js';

/**
 * A CLI call's side of the session keeper (pg-keeper.ts): one connection to its socket is one server session
 * lent for the call's life. Newline-delimited JSON both ways: `{"hello":1}` is answered at once `{"ack":1}`
 * (the keeper is alive), then `{"ok":true,"pid":N}` once a session is ready (or `{"ok":false,"reason":...}`:
 * the call then connects directly); then one statement at a time, `{"text","values","name"}`, answered
 * `{"rows","rowCount"}` or `{"error":{...}}`. `{"ping":1}` is answered `{"ack":1}` alone (a keeper asking
 * whether another is alive).
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
export async function keeperSession(socket: string, waitMs: number, connectWaitMs: number): Promise<{ session: Session; pid: number } | NoKeeper> {
  const conn = net.createConnection(socket);
  const lines = new LineReader(conn);
  const connected = new Promise<void>((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', reject);
  });
  const failed = (error: unknown): NoKeeper => {
    conn.destroy();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { unavailable: 'no session keeper is running', replace: false, start: true };
    if (code === 'ECONNREFUSED') return { unavailable: 'the session keeper is gone (its socket is left)', replace: true, start: true };
    return { unavailable: `cannot reach the session keeper: ${error instanceof Error ? error.message : String(error)}`, replace: false, start: false };
  };
  // Alive: it acknowledges at once. Silent for a second (stopped, hung): it is replaced.
  const ack = await within(
    HELLO_WAIT_MS,
    connected.then(() => {
      conn.write('{"hello":1}\n');
      return lines.next();
    }),
  ).catch((error: unknown) => error);
  if (ack === TIMED_OUT) {
    conn.destroy();
    return { unavailable: `the session keeper did not answer within ${HELLO_WAIT_MS} ms`, replace: true, start: true };
  }
  if (typeof ack !== 'string') return failed(ack);
  if (parse(ack)?.ack !== 1) {
    conn.destroy();
    return { unavailable: 'the session keeper answered outside its protocol', replace: false, start: false };
  }
  // Then the session: the keeper may have to open one, which its own connection timeout bounds.
  const readyMs = connectWaitMs + 1_000;
  const ready = await within(readyMs, lines.next()).catch((error: unknown) => error);
  if (ready instanceof Error) {
    // It went away after answering (killed, or it crashed): the next call's start replaces it.
    conn.destroy();
    return { unavailable: 'the session keeper went away before lending a session', replace: true, start: true };
  }
  const answer = typeof ready === 'string' ? parse(ready) : null;
  if (answer?.ok !== true || typeof answer.pid !== 'number') {
    conn.destroy();
    const reason = ready === TIMED_OUT ? `none within ${readyMs} ms` : typeof answer?.reason === 'string' ? answer.reason : 'an answer outside its protocol';
    return { unavailable: `the session keeper lent no session (${reason.slice(0, 200)})`, replace: false, start: false };
  }
  return { session: new KeeperSession(conn, lines, waitMs), pid: answer.pid };
}

const TIMED_OUT = Symbol('timed out');

/** `promise`, or TIMED_OUT after `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
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
    const line = await within(this.waitMs, this.lines.next()).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (typeof line !== 'string') {
      this.broken = true;
      this.conn.destroy();
      throw new ConnectionLost(line === TIMED_OUT ? new Error(`no answer from the session keeper within ${this.waitMs} ms`) : line);
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
  /** The line being received, in pieces: joined once, when it ends (a 40 MB answer comes in 64 KB chunks). */
  private parts: string[] = [];
  private size = 0;
  private readonly ready: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  private ended: Error | undefined;

  constructor(stream: net.Socket) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      let start = 0;
      for (let at = chunk.indexOf('\n'); at >= 0; at = chunk.indexOf('\n', start)) {
        this.parts.push(chunk.slice(start, at));
        this.ready.push(this.parts.join(''));
        this.parts = [];
        this.size = 0;
        start = at + 1;
      }
      if (start < chunk.length) {
        this.parts.push(chunk.slice(start));
        this.size += chunk.length - start;
      }
      if (this.size > MAX_LINE) {
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

/** How long a keeper being started keeps others from starting one for the same socket. */
const STARTING_MS = 10_000;

/**
 * Whether a start's mark no longer stands: its call is gone, or it is older than STARTING_MS, or dated in
 * the future (a clock set back). Not a file: it stands (nothing here removes what it did not make).
 */
function staleMark(mark: string): boolean {
  try {
    const stat = fs.lstatSync(mark);
    if (!stat.isFile()) return false;
    const age = Date.now() - stat.mtimeMs;
    if (age < 0 || age > STARTING_MS) return true;
    const pid = Number(fs.readFileSync(mark, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return age > 1_000; // being written, or not ours to read
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: its call is gone. (EPERM: a process of another user has that pid now: its call is gone too.)
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ESRCH' || code === 'EPERM';
  }
}

/**
 * Start a keeper for `socket` (its own process, detached, in /, no terminal, no inherited output), given the
 * URL on its standard input (never its arguments or environment, which others may read). One that stopped
 * answering is replaced (`replace`): the new one takes the socket's name over once it listens. Nothing is
 * started while another call is starting one (`<socket>.starting`, at most 10 s old), or when something
 * that is not a socket has the socket's name (it is left alone, and the calls connect directly). The pid,
 * or why none was started.
 */
export async function startKeeper(entry: string, socket: string, url: string, waitMs: number, replace: boolean, env: Readonly<Record<string, string | undefined>>): Promise<number | string> {
  try {
    if (!fs.lstatSync(socket).isSocket()) return `${socket} is not a socket; it is left alone`;
  } catch {
    // No socket: start one.
  }
  const starting = `${socket}.starting`;
  for (let attempt = 1; ; attempt++) {
    try {
      const fd = fs.openSync(starting, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1) return `cannot mark the start (${(error as Error).message})`;
      if (!staleMark(starting)) return 'another call is starting one';
      try {
        fs.unlinkSync(starting);
      } catch {
        // Gone meanwhile: try again.
      }
    }
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [entry], {
    cwd: '/',
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...env, HARN_PG_KEEPER_SOCKET: socket, HARN_PG_KEEPER_WAIT_MS: String(waitMs), HARN_PG_KEEPER_REPLACE: replace ? '1' : '0' },
  });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(`${url}\n`);
  child.unref();
  if (child.pid === undefined) return 'the process did not start';
  // The mark now names the keeper: it stands while the keeper starts, and not once it is gone.
  try {
    fs.writeFileSync(starting, String(child.pid));
  } catch {
    // Removed meanwhile (the keeper already listens).
  }
  return child.pid;
}

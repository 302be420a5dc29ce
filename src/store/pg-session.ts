/**
 * One PostgreSQL session as the store uses it: statements in order, then released. Two kinds exist: a
 * connection of this process's own (pg-direct.ts, the pg client) and one lent by the session keeper
 * (pg-keeper.ts), which a CLI call reaches over a Unix socket without loading the pg client or starting a
 * server session. Both report a failure the same way: the server's answer as an error carrying its SQLSTATE
 * (`code`), anything else (no answer: the connection broke, or the client gave up waiting) as ConnectionLost.
 */

/** A statement's rows, as the pg client parses them. */
export interface SessionResult<T> {
  readonly rows: T[];
  readonly rowCount: number | null;
}

export interface Session {
  /** Run one statement; `name` prepares it once per session under that name (its text's hash). */
  query<T extends Record<string, unknown>>(text: string, values?: readonly unknown[], name?: string): Promise<SessionResult<T>>;
  /** Give the session back; `broken` ends it (a failed session is never reused). */
  release(broken: boolean): void;
}

/** A statement that got no answer from the server: the connection broke, or the client gave up waiting. */
export class ConnectionLost extends Error {
  constructor(override readonly cause: unknown) {
    super('connection lost');
  }
}

/** The server's answer to a statement, as the keeper relays it (the fields the store reads of pg's own error). */
export class ServerAnswer extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly severity?: string,
    readonly detail?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * The settings every session of a store starts with, sent in the startup packet so they bind every
 * statement at no cost; a keeper's sessions start with the same (the keeper is chosen by them).
 */
export function sessionSettings(waitMs: number) {
  return {
    // How long opening a session may take (the pg client's own setting, not sent to the server).
    connectionTimeoutMillis: Math.max(waitMs, 1_000),
    // lock_timeout 0 would mean "wait forever": the smallest wait is 1 ms.
    lock_timeout: Math.max(waitMs, 1),
    // Half a second longer, so a statement waiting for a lock is reported as that (lock_timeout fires first).
    statement_timeout: Math.max(waitMs, 500) + 500,
    // A client of ours stopped inside a transaction (SIGSTOP, a paused VM) loses it and its row lock.
    idle_in_transaction_session_timeout: Math.max(waitMs, 5_000),
    // The server's timeouts cannot fire if the server or the network is gone: the client gives up too.
    query_timeout: Math.max(waitMs, 500) + 5_000,
  };
}

/** The session's name in pg_stat_activity, unless the URL (`?application_name=`) or PGAPPNAME names it. */
export const APPLICATION_NAME = 'harn-agents';

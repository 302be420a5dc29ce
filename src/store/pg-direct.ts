import pg from 'pg';
import { APPLICATION_NAME, sessionSettings, type Session } from './pg-session.js';

/**
 * Sessions of this process's own, through the pg client (loaded only when a call needs one: a CLI call that
 * the session keeper serves never loads it). One connection at a time, released when idle so a CLI process
 * can exit as soon as it is done.
 */
export class DirectSessions {
  private readonly pool: pg.Pool;

  constructor(url: string, waitMs: number, options: { max?: number; idleMs?: number } = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 1,
      idleTimeoutMillis: options.idleMs ?? 1_000,
      allowExitOnIdle: true,
      fallback_application_name: APPLICATION_NAME,
      ...sessionSettings(waitMs),
      keepAlive: true,
    });
    // An error on an idle client (the pool's) or a checked-out one (between two statements, when the server
    // ends the session) is emitted as an event: unheard, it would crash the process. The statement that
    // follows fails with the connection error, which is reported then.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** How many sessions are open, and how many of them wait idle (the keeper's capacity check). */
  counts(): { total: number; idle: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount };
  }

  /**
   * A session; a failure to connect is thrown as pg reports it (the caller words it). Its statements' failures
   * are pg's own errors: isServerAnswer tells the server's answers from the rest (no answer came). This
   * module is a bundle of its own in the CLI (dist/lazy/pg-direct.cjs), so its callers classify errors by
   * asking it, never by their own classes.
   */
  async acquire(): Promise<Session & { readonly client: pg.PoolClient }> {
    const client = await this.pool.connect();
    return {
      client,
      async query(text, values, name) {
        // A named statement is prepared once per connection, so a long-lived client (or the keeper's
        // session) parses and plans each of the few shapes once.
        if (values === undefined) return client.query(text);
        return client.query({ name, text, values: [...values] });
      },
      release(broken) {
        client.release(broken);
      },
    };
  }

  /** Whether `error` is the server's answer to a statement (it got it and said no). */
  isServerAnswer(error: unknown): boolean {
    return error instanceof pg.DatabaseError;
  }

  async end(): Promise<void> {
    // Ending a pool whose connection is already broken rejects; there is nothing left to let go of then.
    await this.pool.end().catch(() => undefined);
  }
}

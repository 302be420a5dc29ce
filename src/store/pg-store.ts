import pg from 'pg';
import { HarnError, stateError, stateLockError } from '../core/errors.js';
import type { HarnEvent } from '../core/events.js';
import type { RegistryConfig } from '../core/registry.js';
import { encodeSnapshot } from './codec.js';
import { redactUrl } from './redact-url.js';
import { applyTransaction, type Store, type Transaction, type TransactionMode } from './transaction.js';

/**
 * The PostgreSQL store: the same transaction shape as the file store, for agents on several machines.
 * One database transaction per operation locks the workspace's row (`SELECT ... FOR UPDATE`), loads the
 * snapshot (the seed's layout, as text), reaps with the database server's clock, applies one command, writes
 * it back if it changed, and commits. Many workspaces share one database, one row per namespace. Loaded only
 * for a postgres:// store.
 */

export const SCHEMA_VERSION = 1;
const LOCK_TIMEOUT_MS = 10_000;

export interface PgStoreOptions {
  readonly url: string;
  readonly namespace: string;
  readonly config: RegistryConfig;
}

function pgMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return pgMessage(error.errors[0]);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

export class PgStore implements Store {
  readonly location: string;
  private readonly pool: pg.Pool;
  private schemaReady: Promise<void> | undefined;

  constructor(private readonly options: PgStoreOptions) {
    this.location = `${redactUrl(options.url)} (namespace ${options.namespace})`;
    // One connection, released when idle so a CLI process can exit as soon as it is done.
    this.pool = new pg.Pool({ connectionString: options.url, max: 1, idleTimeoutMillis: 1_000, allowExitOnIdle: true, connectionTimeoutMillis: 5_000 });
    this.pool.on('error', () => undefined); // an idle client's error surfaces on the next query instead
  }

  async transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R): Promise<R> {
    if (mode === 'read') {
      const attempt = await this.run(false, fn);
      if (!attempt.changed) return attempt.result;
    }
    return (await this.run(true, fn)).result;
  }

  async readEvents(): Promise<{ events: HarnEvent[]; skipped: number }> {
    const rows = await this.query((client) =>
      client.query<{ event: HarnEvent }>('SELECT event FROM harn_events WHERE namespace = $1 ORDER BY id', [this.options.namespace]),
    );
    return { events: rows.rows.map((r) => r.event), skipped: 0 };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  /** One database transaction: lock (for writes) and load the row, apply, save what changed, commit. */
  private async run<R>(write: boolean, fn: (tx: Transaction) => R): Promise<{ result: R; changed: boolean }> {
    return this.query(async (client) => {
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms'`);
        if (write) {
          await client.query('INSERT INTO harn_registries (namespace, snapshot) VALUES ($1, NULL) ON CONFLICT (namespace) DO NOTHING', [this.options.namespace]);
        }
        const row = await client.query<{ snapshot: string | null }>(
          `SELECT snapshot FROM harn_registries WHERE namespace = $1${write ? ' FOR UPDATE' : ''}`,
          [this.options.namespace],
        );
        // "Now" is the database server's clock, read after the row lock: one clock for every machine.
        const clock = await client.query<{ now_ms: string }>('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now_ms');
        const applied = applyTransaction(row.rows[0]?.snapshot ?? null, this.options.config, Number(clock.rows[0]?.now_ms), this.location, fn);
        if (applied.registry.changed && write) {
          await client.query('UPDATE harn_registries SET snapshot = $2, updated_at = clock_timestamp() WHERE namespace = $1', [
            this.options.namespace,
            encodeSnapshot(applied.registry.snapshot()),
          ]);
          for (const event of applied.events) {
            await client.query('INSERT INTO harn_events (namespace, ts, event) VALUES ($1, $2, $3)', [this.options.namespace, event.ts, JSON.stringify(event)]);
          }
          await client.query('COMMIT');
        } else {
          await client.query('ROLLBACK');
        }
        return { result: applied.result, changed: applied.registry.changed };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** Run with a connection and the schema in place; map connection and lock failures to the CLI's codes. */
  private async query<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw stateError(`cannot connect to the PostgreSQL store ${redactUrl(this.options.url)}: ${pgMessage(error)}`);
    }
    try {
      this.schemaReady ??= this.ensureSchema(client);
      await this.schemaReady;
      return await work(client);
    } catch (error) {
      if (error instanceof HarnError || (error instanceof Error && error.name === 'HarnError')) throw error;
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
      if (code === '55P03') throw stateLockError(`could not lock namespace ${this.options.namespace} in ${redactUrl(this.options.url)} within ${LOCK_TIMEOUT_MS / 1000}s`);
      throw stateError(`PostgreSQL store ${redactUrl(this.options.url)}: ${pgMessage(error)}; nothing was changed`);
    } finally {
      client.release();
    }
  }

  /** Create the tables on first use (under an advisory lock, so concurrent first calls do not race). */
  private async ensureSchema(client: pg.PoolClient): Promise<void> {
    await client.query('BEGIN');
    try {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('harn-agents schema'))");
      await client.query('CREATE TABLE IF NOT EXISTS harn_schema (version integer NOT NULL)');
      await client.query(
        'CREATE TABLE IF NOT EXISTS harn_registries (namespace text PRIMARY KEY, snapshot text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())',
      );
      await client.query(
        'CREATE TABLE IF NOT EXISTS harn_events (id bigserial PRIMARY KEY, namespace text NOT NULL, ts bigint NOT NULL, event jsonb NOT NULL)',
      );
      await client.query('CREATE INDEX IF NOT EXISTS harn_events_namespace ON harn_events (namespace, id)');
      const version = await client.query<{ version: number }>('SELECT version FROM harn_schema');
      if (version.rows.length === 0) await client.query('INSERT INTO harn_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
      else if ((version.rows[0]?.version ?? 0) > SCHEMA_VERSION) {
        throw stateError(`the PostgreSQL store's schema is version ${version.rows[0]?.version}, newer than this harn-agents understands (${SCHEMA_VERSION})`);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      this.schemaReady = undefined;
      throw error;
    }
  }
}

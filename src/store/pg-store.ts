import { textHash64 } from '../core/sha256.js';
import path from 'node:path';
import { formatSpan } from '../core/durations.js';
import { ExitCode, HarnError, isHarnError, stateError, stateLockError } from '../core/errors.js';
import type { HarnEvent } from '../core/events.js';
import { AgentRegistry } from '../core/registry.js';
import { decodeSnapshot, SnapshotFormatError } from './codec.js';
import { insertWhole, loadSlice, loadWhole, ROWS_DDL, ROWS_SCHEMA_VERSION, RowsRetry, type Sql, sliceLocksStatement, TOMBSTONE, wholeLocksStatement, writeBack, type Loaded } from './pg-rows.js';
import { NATIVE_DDL, NATIVE_FUNCTION, NATIVE_PRESENT_SQL, nativeEligible, nativeMatches, runNative } from './pg-native.js';
import type { DirectSessions } from './pg-direct.js';
import { keeperSession, startKeeper } from './pg-keeper-client.js';
import { keeperPlace, privateDirProblem, type KeeperPlace } from './pg-keeper-socket.js';
import { ConnectionLost, sessionSettings, type Session } from './pg-session.js';
import { redactUrl, scrubSecrets } from './redact-url.js';
import {
  applyToRegistry,
  transactOptimistically,
  type Applied,
  type Store,
  type StoreOptions,
  type Transaction,
  type TransactionMode,
  type TransactionScope,
  type NativeOp,
  type SessionKeeperChoice,
} from './transaction.js';

/**
 * The PostgreSQL store: the same transactions as the file store, for agents on several machines, over rows
 * (src/store/pg-rows.ts: namespaces, agents, locks). An operation that names its scope (the agents and paths
 * it touches: lock, release, holder, check, heartbeat, register...) loads only that slice into an
 * AgentRegistry, so the pure registry (core/registry.ts) stays the one statement of the rules, and writes back
 * only the rows that changed; operations on unrelated paths take no common lock (advisory locks per path and
 * agent, the namespace's shared), and their cost does not grow with the namespace. An operation without a
 * scope (status, export, import, prune, reap) loads the whole namespace and, to write, takes the namespace's
 * lock exclusively. "Now" is the database server's clock. Many workspaces share one database, keyed by
 * namespace. Loaded only for a postgres:// store.
 *
 * Faults: every statement runs under the session's `lock_timeout` (the state-lock wait) and
 * `statement_timeout` (half a second more), so a stalled client elsewhere means exit 4 within that wait; a
 * lost connection is exit 3 with one line (saying so when it was lost during COMMIT, whose outcome is then
 * unknown); the client's 'error' events are always listened to, so they cannot crash the process.
 */

/** Starts the one line a missing privilege is reported with (and tells a read-only query apart). */
const PRIVILEGE_MARK = 'the PostgreSQL role lacks a privilege';
/** The tables a writer changes, and the sequences behind their defaults. */
const WRITTEN_TABLES = ['harn_registries', 'harn_events', 'harn_namespaces', 'harn_agents', 'harn_locks'] as const;
const SEQUENCES = ['harn_order', 'harn_events_id_seq'] as const;

/** The one-row layout (harn_registries.snapshot) that schema 2 migrates from, a namespace at a time. */
const LEGACY_SCHEMA_VERSION = 1;
/** Runs of one transaction that lost a race (RowsRetry, deadlock, serialization failure) before giving up. */
const MAX_RUNS = 20;
const DEFAULT_WAIT_MS = 10_000;

/** The session keeper's process, beside this bundle (dist/lazy/); none where this is not the CLI's bundle. */
const KEEPER_ENTRY = typeof __dirname === 'string' ? path.join(__dirname, 'pg-keeper-main.cjs') : undefined;

/** The store's options: `clock` is not used (the database server's clock is), the rest as every store. */
export interface PgStoreOptions extends Omit<StoreOptions, 'clock'> {
  readonly url: string;
  readonly namespace: string;
  /** The key earlier versions gave this namespace (the raw git remote URL); its registry moves on first use. */
  readonly legacyNamespace?: string;
  /**
   * A CLI call's: borrow a session from the session keeper (pg-keeper.ts), starting one if none runs, with
   * this environment (the one the call's own pg client would read). The library and the MCP server, which
   * live long and keep their own connection, do not.
   */
  readonly keeper?: SessionKeeperChoice;
}

/** Where a failure happened: a COMMIT that fails without a server answer may or may not have committed. */
type Phase = 'work' | 'commit';

const errorCode = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : '';

/** SQLSTATEs that mean the session is gone: connection exceptions, admin/crash shutdown, idle timeouts. */
const isConnectionCode = (code: string): boolean => code.startsWith('08') || code.startsWith('57P') || code === '25P03';

/** Timeouts: lock_timeout (55P03) and statement_timeout (57014 "canceling statement due to statement timeout"). */
const isTimeout = (error: unknown): boolean =>
  errorCode(error) === '55P03' || (errorCode(error) === '57014' && error instanceof Error && /timeout/i.test(error.message));

export class PgStore implements Store {
  private shown: string | undefined;
  private readonly waitMs: number;
  /** This process's own sessions (the pg client), loaded on first need. */
  private direct: Promise<DirectSessions> | undefined;
  /** Where this call's keeper listens (null: none is used, and why was said once). */
  private keeper: (KeeperPlace & SessionKeeperChoice) | null | undefined;
  private prepared: Promise<void> | undefined;
  /** Whether the server runs operations natively (pg-native.ts): unknown until tried, off when it cannot. */
  private native: 'unknown' | 'on' | 'off' = 'unknown';
  /** Whether the rows are known to be of this version's layout, the namespace's among them (prepared, or read so). */
  private ready = false;

  constructor(private readonly options: PgStoreOptions) {
    this.waitMs = Math.max(0, options.stateLockWaitMs ?? DEFAULT_WAIT_MS);
  }

  /** Where the registry is, for messages (worked out when one needs it: hiding a password is not free). */
  get location(): string {
    this.shown ??= `${redactUrl(this.options.url)} (namespace ${this.options.namespace})`;
    return this.shown;
  }

  async transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R, scope?: TransactionScope): Promise<R> {
    const op = scope?.native;
    if (op && this.native !== 'off' && nativeEligible(op)) {
      const done = await this.runNatively(op, fn);
      if (done) return done.result;
    }
    return this.transactRows(mode, fn, scope);
  }

  /**
   * Run `op` in one statement on the server (pg-native.ts). Its first call on a connection comes before the
   * schema check (the function checks the layout itself): a CLI call is then one round trip. Null when the
   * server declined it (nothing changed) or cannot run it: the caller runs the transaction the usual way.
   */
  private async runNatively<R>(op: NativeOp, fn: (tx: Transaction) => R): Promise<{ result: R; matches: boolean } | null> {
    const answer = await this.withClient<{ result: R; matches: boolean } | null>(
      async (sql) => {
        let done: Awaited<ReturnType<typeof runNative>> = null;
        for (let attempt = 1; ; attempt++) {
          try {
            done = await runNative(sql, this.options.namespace, this.options.config, op);
            break;
          } catch (error) {
            // 42883: no such function (a database not prepared by this version yet, or one it was dropped from).
            if (errorCode(error) === '42883' && attempt === 1) {
              const preparedBefore = this.prepared !== undefined;
              await this.prepare(sql);
              // A store prepared earlier did not install it now: the function went away since (it is asked for
              // once more). One that cannot install it goes the usual way.
              if (preparedBefore && this.native !== 'off') await this.installNative(sql);
              if (!this.nativeOn()) return null;
              continue;
            }
            // 42501: a role that may not run it (or read what it reads): the usual way says what is missing.
            if (errorCode(error) === '42501') {
              this.native = 'off';
              return null;
            }
            // A deadlock or serialization failure rolled it back: the usual way runs it again as it does its own.
            if (isRace(error)) return null;
            // A single statement is its own transaction: cut off, it may or may not have committed.
            throw error instanceof ConnectionLost ? new CommitUnknown(error) : error;
          }
        }
        this.native = 'on';
        this.options.trace?.(`${op.op} natively: ${done ? 'done' : 'declined'}`);
        if (!done) return null;
        const applied = apply(done.loaded, fn);
        return { result: applied.result, matches: applied.events.length === 0 && nativeMatches(applied.registry, op, done) };
      },
      { prepare: false },
    );
    if (answer && !answer.matches) {
      // Committed already: the state is the server's, and the answer may not describe it. Exit 6, said so.
      throw new Error(`the PostgreSQL server's ${op.op} (${NATIVE_FUNCTION}) changed its rows otherwise than the registry would have; this is a bug in harn-agents: run 'harn-agents status' to see the state`);
    }
    return answer;
  }

  /** Read afresh (prepare may have changed it): whether the server runs operations natively. */
  private nativeOn(): boolean {
    return this.native === 'on';
  }

  private transactRows<R>(mode: TransactionMode, fn: (tx: Transaction) => R, scope?: TransactionScope): Promise<R> {
    // A scoped write takes only the locks of its own agents and paths, which no unrelated call waits for:
    // trying it first without them (the optimistic policy's point) would only cost a second load.
    const effective = scope && mode === 'maybe-update' ? 'update' : mode;
    // A query whose reap would change something is run again to save it; a role that may only read
    // (SELECT alone) cannot, and gets the answer it read, reaped but not saved.
    let read: { result: unknown } | undefined;
    return transactOptimistically(
      effective,
      fn,
      async <T>(locked: boolean, f: (tx: Transaction) => T) => {
        if (!locked || effective !== 'query') {
          const first = await this.runAgain(() => this.run(locked, f, scope));
          read = first;
          return first;
        }
        try {
          return await this.runAgain(() => this.run(locked, f, scope));
        } catch (error) {
          if (read && error instanceof HarnError && error.message.includes(PRIVILEGE_MARK)) return { result: read.result as T, changed: false };
          throw error;
        }
      },
      this.options.trace,
    );
  }

  async readEvents(): Promise<{ events: HarnEvent[]; skipped: number }> {
    const rows = await this.withClient((sql) =>
      sql<{ event: HarnEvent }>('SELECT event FROM harn_events WHERE namespace = $1 ORDER BY id', [this.options.namespace]),
    );
    return { events: rows.rows.map((r) => r.event), skipped: 0 };
  }

  async close(): Promise<void> {
    if (this.direct) await (await this.direct).end();
  }

  /** Run a transaction again when it lost a race that a fresh run settles (nothing was saved). */
  private async runAgain<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof RaceLost) || attempt >= MAX_RUNS) throw error instanceof RaceLost ? this.fault(error.cause) : error;
        this.options.trace?.(`retrying: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`);
      }
    }
  }

  /**
   * One database transaction. Reading: one statement (one snapshot), no lock. Writing: BEGIN with the
   * advisory locks, load, apply, write back what changed in one statement, COMMIT.
   */
  private async run<R>(write: boolean, fn: (tx: Transaction) => R, scope: TransactionScope | undefined): Promise<{ result: R; changed: boolean }> {
    // A read is one statement, the schema check included: it says whether the rows are current, and only
    // when they are not (or the tables are missing) does the store prepare them and read again.
    const readFirst = !write && !this.ready;
    return this.withClient(async (sql) => {
      const ns = this.options.namespace;
      const slice = scope && { agents: scope.agents ?? [], paths: scope.paths ?? [], lockNextId: scope.newId === true };
      const load = (): Promise<Loaded> => (slice ? loadSlice(sql, ns, this.options.config, slice, write) : loadWhole(sql, ns, this.options.config));
      if (!write) {
        let loaded: Loaded | null = null;
        try {
          loaded = await load();
        } catch (error) {
          // 42P01: no such table (a new database); 42703: no such column (an older layout).
          if (!readFirst || (errorCode(error) !== '42P01' && errorCode(error) !== '42703')) throw error;
        }
        if (readFirst && !loaded?.current) {
          await this.prepare(sql);
          loaded = await load();
        }
        this.ready = true;
        const applied = apply(loaded as Loaded, fn);
        return { result: applied.result, changed: applied.registry.changed };
      }
      await sql(slice ? sliceLocksStatement(ns, slice.agents, slice.paths) : wholeLocksStatement(ns));
      let phase: Phase = 'work';
      try {
        const loaded = await load();
        const applied = apply(loaded, fn);
        if (applied.registry.changed) {
          await writeBack(sql, ns, loaded, applied.events);
          phase = 'commit';
          await sql('COMMIT');
        } else {
          await sql('ROLLBACK');
        }
        return { result: applied.result, changed: applied.registry.changed };
      } catch (error) {
        // After a lost connection there is nothing to roll back (the server does it) and no one to ask.
        // A ROLLBACK that fails too changes nothing (the server rolls back when the session ends): the first
        // error is the one reported.
        if (phase === 'work' && !(error instanceof ConnectionLost)) await sql('ROLLBACK').catch(() => undefined);
        if (phase === 'work' && isRace(error)) throw new RaceLost(error);
        throw phase === 'commit' && !isHarnError(error) ? new CommitUnknown(error) : error;
      }
    }, { prepare: !readFirst });
  }

  /** Run with a connection and the schema in place; every failure becomes one line and exit 3 or 4. */
  private async withClient<T>(work: (sql: Sql) => Promise<T>, options: { prepare: boolean } = { prepare: true }): Promise<T> {
    // The session is asked for first and awaited by the first statement: the work builds that statement
    // while the connection is being made.
    const pending = this.session();
    pending.catch(() => undefined);
    let healthy = true;
    const trace = this.options.trace;
    const sql: Sql = async (text, values) => {
      const session = await pending;
      // HARN_DEBUG: one line a statement (a round trip), so what a call costs the server is there to see.
      trace?.(`statement: ${text.replace(/\s+/g, ' ').slice(0, 60)}`);
      // A statement with parameters is prepared once per session (named by its text's hash), so a
      // long-lived client parses and plans each of the few shapes once.
      return session.query(text, values, values === undefined ? undefined : statementName(text));
    };
    try {
      if (options.prepare) await this.prepare(sql);
      return await work(sql);
    } catch (error) {
      if (isHarnError(error) || error instanceof RaceLost) throw error;
      healthy = false;
      throw this.fault(error);
    } finally {
      // A session that failed is dropped rather than reused (the MCP server keeps its pool).
      await pending.then(
        (session) => session.release(!healthy),
        () => undefined,
      );
    }
  }

  /**
   * A session: the keeper's when this is a CLI call and one answers, else one of this process's own (and,
   * when none answered, a keeper is started for the calls that follow).
   */
  private async session(): Promise<Session> {
    let start: { replace: boolean } | undefined;
    const place = this.keeperPlace();
    if (place) {
      const settings = sessionSettings(this.waitMs);
      const got = await keeperSession(place.socket, settings.query_timeout, settings.connectionTimeoutMillis);
      if ('session' in got) {
        this.options.trace?.(`session keeper: a session lent by process ${got.pid}`);
        return got.session;
      }
      this.options.trace?.(`session keeper: ${got.unavailable}; connecting directly`);
      // The rest of this call connects directly too.
      this.keeper = null;
      if (got.start) start = { replace: got.replace };
    }
    this.direct ??= import('./pg-direct.js').then(({ DirectSessions }) => new DirectSessions(this.options.url, this.waitMs));
    const direct = await this.direct;
    let own: Session;
    try {
      own = await direct.acquire();
    } catch (error) {
      throw stateError(`cannot connect to the PostgreSQL store ${redactUrl(this.options.url)}: ${this.describe(error)}`);
    }
    const session: Session = {
      async query(text, values, name) {
        try {
          return await own.query(text, values, name);
        } catch (error) {
          // The server's answer is kept as pg gave it; anything else means no answer came.
          throw direct.isServerAnswer(error) ? error : new ConnectionLost(error);
        }
      },
      release: (broken) => own.release(broken),
    };
    if (place && start && KEEPER_ENTRY) {
      // Only once this call reached the server itself: a keeper for a server that is not there would only fail.
      const started = await startKeeper(KEEPER_ENTRY, place.socket, this.options.url, this.waitMs, start.replace, place.env).catch(
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      this.options.trace?.(typeof started === 'number' ? `session keeper: started process ${started} (${place.socket})` : `session keeper: none started: ${started}`);
    }
    return session;
  }

  /** Where this call's keeper listens, worked out once; null when there is none to use (said under HARN_DEBUG). */
  private keeperPlace(): (KeeperPlace & SessionKeeperChoice) | null {
    if (this.keeper !== undefined) return this.keeper;
    this.keeper = null;
    if (!this.options.keeper || !KEEPER_ENTRY) return null;
    const place = keeperPlace(this.options.url, this.waitMs, KEEPER_ENTRY, this.options.keeper.env);
    const problem = 'unusable' in place ? place.unusable : privateDirProblem(place.dir, true);
    if (problem !== null || 'unusable' in place) {
      this.options.trace?.(`session keeper: not used: ${problem}`);
      return null;
    }
    this.keeper = { ...place, env: this.options.keeper.env };
    return this.keeper;
  }

  /** The one line a failure is reported with. */
  private fault(error: unknown): HarnError {
    const where = `the PostgreSQL store ${redactUrl(this.options.url)} (namespace ${this.options.namespace})`;
    if (error instanceof CommitUnknown) {
      const cause = error.cause instanceof ConnectionLost ? error.cause.cause : error.cause;
      // The server answered the COMMIT with an ordinary error: it rolled back.
      if (!(error.cause instanceof ConnectionLost) && !isConnectionCode(errorCode(cause))) {
        return stateError(`${where} refused the commit: ${this.describe(cause)}; nothing was changed`);
      }
      return stateError(
        `lost the connection to ${where} during COMMIT (${this.describe(cause)}): the change may or may not have been saved; run 'harn-agents status' to see`,
      );
    }
    if (isTimeout(error)) {
      const wait = `${formatSpan(this.waitMs)} (HARN_STATE_LOCK_WAIT)`;
      return stateLockError(
        errorCode(error) === '55P03'
          ? `timed out after ${wait} waiting for a lock in ${where}: another client holds it; nothing was changed`
          : `a statement ran longer than ${wait} in ${where} and was cancelled; nothing was changed`,
      );
    }
    if (error instanceof ConnectionLost || isConnectionCode(errorCode(error))) {
      return stateError(`lost the connection to ${where}: ${this.describe(error instanceof ConnectionLost ? error.cause : error)}; nothing was changed`);
    }
    if (errorCode(error) === '42501') {
      // insufficient_privilege: the server's message names the table; say whose role and what it needs.
      const message = error instanceof Error ? error.message : String(error);
      return new HarnError(
        ExitCode.state,
        `${PRIVILEGE_MARK} in ${where}: ${scrubSecrets(message, this.options.url)} (role ${this.role()}); reads need SELECT on the harn_* tables, writes also INSERT, UPDATE and DELETE and USAGE on their sequences; nothing was changed`,
      );
    }
    return stateError(`${where}: ${this.describe(error)}; nothing was changed`);
  }

  /** The role this store connects as (the URL's user, else the login name libpq would use). */
  private role(): string {
    try {
      const user = decodeURIComponent(new URL(this.options.url).username);
      if (user) return user;
    } catch {
      // A libpq key=value string: the server's message is all there is to go by.
    }
    return process.env.PGUSER ?? process.env.USER ?? 'unknown';
  }

  /**
   * The privileges a writer needs that this role lacks (doctor): one entry per table or sequence, such as
   * "INSERT, UPDATE, DELETE on harn_locks". Empty when it has them all. The role's own name comes with it.
   */
  async missingPrivileges(): Promise<{ role: string; missing: string[] }> {
    return this.withClient(async (sql) => {
      const r = await sql<{ role: string; object: string; privilege: string }>(
        `SELECT current_user AS role, t AS object, p AS privilege
           FROM unnest($1::text[]) AS t, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p
          WHERE NOT has_table_privilege(t, p)
         UNION ALL
         SELECT current_user, s, 'USAGE' FROM unnest($2::text[]) AS s WHERE NOT has_sequence_privilege(s, 'USAGE')
         UNION ALL SELECT current_user, '', '' ORDER BY 2, 3`,
        [[...WRITTEN_TABLES], [...SEQUENCES]],
      );
      const role = r.rows[0]?.role ?? this.role();
      const byObject = new Map<string, string[]>();
      for (const row of r.rows) if (row.object) byObject.set(row.object, [...(byObject.get(row.object) ?? []), row.privilege]);
      return { role, missing: [...byObject].map(([object, privileges]) => `${privileges.join(', ')} on ${object}`) };
    });
  }

  /** A client or server error as one line, with its SQLSTATE and without any password. */
  private describe(error: unknown): string {
    if (error instanceof AggregateError && error.errors.length) return this.describe(error.errors[0]);
    const code = errorCode(error);
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
    return scrubSecrets(code && !message.includes(code) ? `${code}: ${message}` : message, this.options.url);
  }

  /**
   * Once per store: the schema (created if missing), a registry under a legacy key moved to its key, and the
   * namespace's one-row snapshot (schema 1) moved into rows.
   */
  private prepare(sql: Sql): Promise<void> {
    this.prepared ??= this.ensureSchema(sql)
      .then(async (known) => {
        if (!known) {
          await this.adoptLegacyNamespace(sql);
          await this.migrateNamespace(sql);
        }
        this.ready = true;
      })
      .catch((error: unknown) => {
        this.prepared = undefined;
        throw error;
      });
    return this.prepared;
  }

  /** A cheap read of the version and of the namespace's row; DDL only when the tables are missing. */
  private async ensureSchema(sql: Sql): Promise<boolean> {
    let version: number | null = null;
    let known = false;
    let missingColumn = false;
    let nativePresent = false;
    try {
      // `meta` came after the first schema-2 tables: a database without it gets the (idempotent) DDL again.
      const rows = await sql<{ version: number | null; known: boolean; meta: boolean; native: boolean; can_create: boolean }>(
        `SELECT (SELECT max(version) FROM harn_layout) AS version, EXISTS (SELECT 1 FROM harn_namespaces WHERE namespace = $1) AS known,
           EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('harn_agents') AND attname = 'meta' AND NOT attisdropped) AS meta,
           (${NATIVE_PRESENT_SQL}) AS native, has_schema_privilege(current_schema(), 'CREATE') AS can_create`,
        [this.options.namespace],
      );
      version = rows.rows[0]?.version ?? null;
      known = rows.rows[0]?.known === true;
      missingColumn = rows.rows[0]?.meta === false;
      nativePresent = rows.rows[0]?.native === true;
      // A role that may not create the function is not made to try (each try queues on the schema's lock).
      if (!nativePresent && rows.rows[0]?.can_create === false) this.native = 'off';
    } catch (error) {
      if (errorCode(error) !== '42P01') throw error; // 42P01: no such table, a new database (or one of schema 1)
    }
    // A database of an older schema (2: no lock modes) gets the (idempotent) DDL and the new version.
    if (version === null || ((missingColumn || version < ROWS_SCHEMA_VERSION) && version <= ROWS_SCHEMA_VERSION)) await this.createSchema(sql);
    else if (version > ROWS_SCHEMA_VERSION) {
      throw stateError(`the PostgreSQL store's schema is version ${version}, newer than this harn-agents understands (${ROWS_SCHEMA_VERSION})`);
    }
    if (!nativePresent && this.native !== 'off') await this.installNative(sql);
    else if (nativePresent && this.native === 'unknown') this.native = 'on';
    return known;
  }

  /**
   * Install the function that runs operations natively (pg-native.ts), under the schema's advisory lock. A
   * role that may not create functions runs every operation the usual way (a few more round trips), as does
   * every client while no one has installed it.
   */
  private async installNative(sql: Sql): Promise<void> {
    await sql('BEGIN');
    try {
      await sql("SELECT pg_advisory_xact_lock(hashtext('harn-agents schema'))");
      const present = await sql<{ present: boolean }>(NATIVE_PRESENT_SQL);
      if (present.rows[0]?.present !== true) await sql(NATIVE_DDL);
      await sql('COMMIT');
      this.native = 'on';
    } catch (error) {
      await sql('ROLLBACK').catch(() => undefined);
      // 42501: no CREATE on the schema. Anything else is a failure like any other.
      if (errorCode(error) !== '42501') throw error;
      this.native = 'off';
    }
  }

  /**
   * Create the tables (under an advisory lock, so concurrent first calls do not race). The tables of schema 1
   * stay: `harn_schema` keeps saying 1 so clients of schema 1 keep working on namespaces not moved yet, and a
   * moved namespace's snapshot becomes a tombstone they refuse.
   */
  private async createSchema(sql: Sql): Promise<void> {
    await sql('BEGIN');
    try {
      await sql("SELECT pg_advisory_xact_lock(hashtext('harn-agents schema'))");
      for (const statement of ROWS_DDL) await sql(statement);
      const legacy = await sql<{ version: number }>('SELECT version FROM harn_schema');
      if (legacy.rows.length === 0) await sql('INSERT INTO harn_schema (version) VALUES ($1)', [LEGACY_SCHEMA_VERSION]);
      const version = await sql<{ version: number }>('SELECT version FROM harn_layout');
      if (version.rows.length === 0) await sql('INSERT INTO harn_layout (version) VALUES ($1)', [ROWS_SCHEMA_VERSION]);
      // Schema 2 to 3: the columns above were added with values that keep every row's meaning.
      else await sql('UPDATE harn_layout SET version = $1 WHERE version < $1', [ROWS_SCHEMA_VERSION]);
      await sql('COMMIT');
    } catch (error) {
      // The first error is the one reported; a failed ROLLBACK leaves the server to roll back at session end.
      await sql('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Move the namespace's schema-1 snapshot into rows, once, in one transaction under the namespace's exclusive
   * lock (no operation runs meanwhile), and leave a tombstone in its place. A namespace without a snapshot gets
   * its row and the tombstone too, so a schema-1 client never starts a second registry beside the rows. A
   * snapshot this version cannot read is left byte for byte (exit 3; doctor says how to set it aside).
   */
  private async migrateNamespace(sql: Sql): Promise<void> {
    const ns = this.options.namespace;
    await sql(wholeLocksStatement(ns));
    try {
      const known = await sql('SELECT 1 FROM harn_namespaces WHERE namespace = $1', [ns]);
      if (!known.rowCount) {
        const legacy = await sql<{ snapshot: string | null }>('SELECT snapshot FROM harn_registries WHERE namespace = $1 FOR UPDATE', [ns]);
        const text = legacy.rows[0]?.snapshot ?? null;
        let registry: AgentRegistry;
        try {
          registry = text === null || text === TOMBSTONE ? new AgentRegistry(this.options.config) : AgentRegistry.fromSnapshot(this.options.config, decodeSnapshot(text));
        } catch (error) {
          if (error instanceof SnapshotFormatError) throw stateError(`state ${this.location} is invalid: ${error.message}; it was left untouched`);
          throw error;
        }
        await insertWhole(sql, ns, registry);
        await sql(
          'INSERT INTO harn_registries (namespace, snapshot) VALUES ($1, $2) ON CONFLICT (namespace) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = clock_timestamp()',
          [ns, TOMBSTONE],
        );
      }
    } catch (error) {
      if (!(error instanceof ConnectionLost)) await sql('ROLLBACK').catch(() => undefined);
      throw error;
    }
    try {
      await sql('COMMIT');
    } catch (error) {
      throw new CommitUnknown(error);
    }
  }

  /**
   * Earlier versions keyed a namespace by the raw git remote URL (credentials included). If this namespace has
   * no row and one exists under that key, rename it and its events, in one transaction: nothing is lost and
   * the credentials leave the database. A client that moved it first, or a row created meanwhile, wins.
   */
  private async adoptLegacyNamespace(sql: Sql): Promise<void> {
    const legacy = this.options.legacyNamespace;
    const ns = this.options.namespace;
    if (!legacy || legacy === ns || !isRemoteUrl(legacy)) return;
    const rows = await sql<{ namespace: string }>('SELECT namespace FROM harn_registries WHERE namespace = $1 OR namespace = $2', [ns, legacy]);
    const present = new Set(rows.rows.map((r) => r.namespace));
    if (present.has(ns) || !present.has(legacy)) return;
    await sql('BEGIN');
    try {
      const moved = await sql(
        'UPDATE harn_registries SET namespace = $1 WHERE namespace = $2 AND NOT EXISTS (SELECT 1 FROM harn_registries WHERE namespace = $1)',
        [ns, legacy],
      );
      if (moved.rowCount) await sql('UPDATE harn_events SET namespace = $1 WHERE namespace = $2', [ns, legacy]);
      await sql('COMMIT');
    } catch (error) {
      // The first error is the one reported; a failed ROLLBACK leaves the server to roll back at session end.
      await sql('ROLLBACK').catch(() => undefined);
      if (errorCode(error) !== '23505') throw error; // unique violation: the new key was created meanwhile
    }
  }
}

/**
 * Whether a legacy key (a raw remote URL) is provably a remote's URL and never another namespace's key: it
 * has a scheme (`https://...`) or is scp-like (`git@host:path`: a ':' before any '/'). A local path remote
 * (`github.com/acme/app` as a relative path) could be another team's namespace spelled the same: it is never
 * adopted.
 */
function isRemoteUrl(key: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(key)) return true;
  const colon = key.indexOf(':');
  const slash = key.indexOf('/');
  return colon > 0 && (slash < 0 || colon < slash);
}

/** Read `loaded` at its time (the server's clock, or the namespace's newest stamp if later) and run `fn`. */
function apply<R>(loaded: Loaded, fn: (tx: Transaction) => R): Applied<R> {
  const nowMs = Math.max(loaded.serverMs, loaded.newestMs ?? -Infinity);
  return applyToRegistry(loaded.registry, { nowMs, wallMs: loaded.serverMs, clockBehindMs: nowMs - loaded.serverMs }, undefined, fn);
}

/** A prepared statement's name: its text's hash (the server keeps it for the connection's life). */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `harn_${textHash64(text)}`;
    if (statementNames.size < 1_000) statementNames.set(text, name);
  }
  return name;
}
const statementNames = new Map<string, string>();

/** A race a fresh run settles: an agent changed meanwhile, a deadlock (40P01), a serialization failure (40001). */
const isRace = (error: unknown): boolean => error instanceof RowsRetry || errorCode(error) === '40P01' || errorCode(error) === '40001';

/** A transaction that lost a race and was rolled back: run again. */
class RaceLost extends Error {
  constructor(override readonly cause: unknown) {
    super('race lost');
  }
}

/** A failure while COMMIT was in flight. */
class CommitUnknown extends Error {
  constructor(override readonly cause: unknown) {
    super('commit outcome unknown');
  }
}

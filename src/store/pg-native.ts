import { lockKind } from '../core/glob.js';
import type { AgentRegistry, RegistryConfig } from '../core/registry.js';
import { DEFAULT_AGENT_TIMEOUT_MS, DEFAULT_LOCK_TTL_MS } from '../core/settings.js';
import { PATTERN_ROW, ROWS_SCHEMA_VERSION, sliceFromRows, sliceLockKeys, sliceReach, type Loaded, type Sql } from './pg-rows.js';
import type { NativeOp } from './transaction.js';

/**
 * The operations the PostgreSQL server runs itself, in one statement: lock, release and heartbeat in their
 * plain case, as one function (NATIVE_FUNCTION, installed beside the tables; each version of it has a name of its
 * own, so clients of different versions share a database). One round trip instead of four (BEGIN with the
 * advisory locks, load, write back, COMMIT), the same advisory locks in the same order, the same rows.
 *
 * The function decides only what needs no rule beyond "nothing else is in the way": the agent exists, is
 * active and is no AI agent session (those are ended by a look at processes, on the client); no agent is due
 * for reaping; and, to lock, no other agent holds a live lock on the paths, above or under them, and no other
 * agent's live pattern lock exists. Anything else (a conflict, a reap, a pattern or slots asked, an unknown
 * agent) it declines by returning null, having changed nothing, and the client runs the operation the usual
 * way, where the pure registry (core/registry.ts) decides. When it acts, it returns the rows as it read them
 * and as it left them: the client runs the transaction's function over the rows as read, which gives the
 * answer, and checks that the function changed them exactly as the server did (nativeMatches).
 */

/**
 * The function's text but its name. The name carries a hash of it: a change to what the function does is a
 * new name, so a client never runs another version's function, and a database keeps each version's once
 * (small, and harmless to the others).
 */
const NATIVE_BODY = `(
  op text, ns text, ns_a integer, ns_b integer, keys bigint[], exclusive boolean[], agent bigint, paths text[],
  exact text[], lo text[], hi text[], patterned boolean, ttl bigint, reason text, lock_mode text,
  default_timeout bigint, default_ttl bigint) RETURNS json LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  layout integer;
  server_ms bigint;
  newest bigint;
  now_ms bigint;
  ns_settings jsonb;
  ns_next bigint;
  a json;
  conflict boolean;
  read_locks json;
  after_locks json;
  seen bigint;
BEGIN
  -- Few statements, each doing much: every statement of a function has a cost of its own.
  PERFORM pg_advisory_xact_lock_shared(ns_a, ns_b);
  -- The other locks in the keys' order (a function scan yields its rows in order): no deadlock.
  PERFORM count(CASE WHEN k.x THEN pg_advisory_xact_lock(k.key)::text ELSE pg_advisory_xact_lock_shared(k.key)::text END)
    FROM unnest(keys, exclusive) AS k(key, x);
  -- The time, the namespace and the agent, read at once.
  SELECT (SELECT max(version) FROM harn_layout), (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
      (SELECT max(h.last_seen_ms) FROM harn_agents h WHERE h.namespace = ns), n.settings, n.next_id,
      (SELECT row_to_json(h) FROM harn_agents h WHERE h.namespace = ns AND h.id = agent)
    INTO layout, server_ms, newest, ns_settings, ns_next, a
    FROM (VALUES (1)) AS one (x) LEFT JOIN harn_namespaces n ON n.namespace = ns;
  -- Rows of another layout are not ours to read (the client prepares the schema and asks again the usual
  -- way); an agent unknown, not active or of an AI agent session is the registry's to handle.
  IF layout IS DISTINCT FROM ${ROWS_SCHEMA_VERSION} OR ns_next IS NULL OR a IS NULL OR a->>'state' <> 'active'
     OR (a->>'meta' IS NOT NULL AND (a->>'meta')::jsonb ? 'session') THEN
    RETURN NULL;
  END IF;
  now_ms := greatest(server_ms, coalesce(newest, server_ms));
  -- A reap due is the registry's too: the oldest active agent by each timeout, one index probe each (the
  -- time a variable, never an expression in the row filter, so no plan can turn the probe into a scan).
  IF (SELECT h.last_seen_ms FROM harn_agents h WHERE h.namespace = ns AND h.state = 'active' AND h.timeout_ms IS NULL
        ORDER BY h.last_seen_ms LIMIT 1) < now_ms - coalesce((ns_settings->'values'->>'agent-timeout')::bigint, default_timeout)
     OR (SELECT h.last_seen_ms + h.timeout_ms FROM harn_agents h WHERE h.namespace = ns AND h.state = 'active' AND h.timeout_ms IS NOT NULL
        ORDER BY h.last_seen_ms + h.timeout_ms LIMIT 1) < now_ms THEN
    RETURN NULL;
  END IF;
  seen := (a->>'last_seen_ms')::bigint;
  after_locks := '[]'::json;
  IF op = 'lock' THEN
    SELECT EXISTS (SELECT 1 FROM harn_locks h WHERE h.namespace = ns AND h.path = ANY(exact) AND h.agent_id <> agent AND h.expires_ms > now_ms)
        -- LATERAL: one index range per directory, whatever plan the cache settles on (a join may scan the namespace).
        OR EXISTS (SELECT 1 FROM unnest(lo, hi) AS r(l, u) CROSS JOIN LATERAL (SELECT 1 FROM harn_locks h WHERE h.namespace = ns
                   AND h.path >= r.l AND h.path < r.u AND h.agent_id <> agent AND h.expires_ms > now_ms LIMIT 1) AS x)
        OR (patterned AND EXISTS (SELECT 1 FROM harn_locks h WHERE h.namespace = ns AND ${PATTERN_ROW.replaceAll('path', 'h.path')} AND h.agent_id <> agent AND h.expires_ms > now_ms)),
      (SELECT json_agg(h) FROM harn_locks h WHERE h.namespace = ns AND h.agent_id = agent AND h.path = ANY(paths))
      INTO conflict, read_locks;
    IF conflict THEN RETURN NULL; END IF;
    -- As the registry's lockAll: a renewal keeps its order and, given no reason, the reason it had; the expiry
    -- saturates at 2^53 - 1, so no state holds a time it cannot read back; the agent is refreshed.
    WITH put AS (
      INSERT INTO harn_locks AS h (namespace, agent_id, path, expires_ms, reason, reason_ord, mode, slots)
        SELECT ns, agent, p.path, least(now_ms + coalesce(ttl, (ns_settings->'values'->>'lock-ttl')::bigint, default_ttl), 9007199254740991),
          reason, CASE WHEN reason IS NULL THEN NULL ELSE nextval('harn_order') END, lock_mode, NULL
        FROM unnest(paths) WITH ORDINALITY AS p(path, n) ORDER BY p.n
        ON CONFLICT (namespace, path, agent_id) DO UPDATE SET expires_ms = EXCLUDED.expires_ms, reason = coalesce(EXCLUDED.reason, h.reason),
          reason_ord = CASE WHEN EXCLUDED.reason IS NULL OR h.reason IS NOT NULL THEN h.reason_ord ELSE EXCLUDED.reason_ord END,
          mode = EXCLUDED.mode, slots = NULL
        RETURNING h.*),
    refreshed AS (UPDATE harn_agents h SET last_seen_ms = now_ms WHERE h.namespace = ns AND h.id = agent AND h.state = 'active' AND h.last_seen_ms = (a->>'last_seen_ms')::bigint RETURNING h.last_seen_ms)
    SELECT (SELECT json_agg(put) FROM put), (SELECT r.last_seen_ms FROM refreshed r) INTO after_locks, seen;
    IF seen IS NULL THEN RAISE EXCEPTION 'agent changed meanwhile' USING ERRCODE = '40001'; END IF;
  ELSIF op = 'release' THEN
    WITH gone AS (DELETE FROM harn_locks h WHERE h.namespace = ns AND h.agent_id = agent AND h.path = ANY(paths) RETURNING h.*)
      SELECT json_agg(gone) INTO read_locks FROM gone;
  ELSIF op = 'heartbeat' THEN
    UPDATE harn_agents h SET last_seen_ms = now_ms WHERE h.namespace = ns AND h.id = agent AND h.state = 'active' AND h.last_seen_ms = (a->>'last_seen_ms')::bigint RETURNING h.last_seen_ms INTO seen;
    IF seen IS NULL THEN RAISE EXCEPTION 'agent changed meanwhile' USING ERRCODE = '40001'; END IF;
  ELSE
    RETURN NULL;
  END IF;
  RETURN json_build_object('server_ms', server_ms, 'newest', newest, 'next_id', ns_next, 'settings', ns_settings,
    'agent', a, 'locks', coalesce(read_locks, '[]'::json), 'seen_ms', seen, 'after', coalesce(after_locks, '[]'::json));
END
$fn$`;

/**
 * textHash64(NATIVE_BODY), the first 12 digits, written out: hashing the body's 8 KB cost every call about
 * 1.5 ms of cold code. test/unit/pg-native-name.test.ts fails, naming the new value, when the body changes.
 */
export const NATIVE_BODY_HASH = 'd2afe8937419';
export const NATIVE_FUNCTION = `harn_op_${NATIVE_BODY_HASH}`;

/** The body, for the test that checks its hash. */
export const nativeBodyForTest = (): string => NATIVE_BODY;

/** Creates the function (run under the schema's advisory lock, with the tables in place). */
export const NATIVE_DDL = `CREATE OR REPLACE FUNCTION ${NATIVE_FUNCTION}${NATIVE_BODY}`;

const SIGNATURE = `${NATIVE_FUNCTION}(text, text, integer, integer, bigint[], boolean[], bigint, text[], text[], text[], text[], boolean, bigint, text, text, bigint, bigint)`;

/** Whether the function is installed (a cheap catalogue lookup). */
export const NATIVE_PRESENT_SQL = `SELECT to_regprocedure('${SIGNATURE}') IS NOT NULL AS present`;

/** What the server did: the slice as it read it, and the agent's stamp and lock rows on the paths as it left them. */
export interface NativeDone {
  readonly loaded: Loaded;
  readonly seenMs: number;
  readonly after: ReadonlyArray<{ path: string; expires_ms: number; reason: string | null; mode: string | null; slots: number | null }>;
}

/** Whether an operation could run natively at all (the function declines the rest itself). */
export function nativeEligible(op: NativeOp): boolean {
  if (op.op !== 'lock') return true;
  // Patterns and slotted resources take the registry's overlap and slot rules: never native.
  return op.terms.slots === undefined && op.paths.every((path) => lockKind(path) !== 'pattern');
}

/** Run `op` on the server: what it did, or null when it declined (nothing changed). */
export async function runNative(sql: Sql, namespace: string, config: RegistryConfig, op: NativeOp): Promise<NativeDone | null> {
  const paths = op.op === 'heartbeat' ? [] : [...op.paths];
  const locking = op.op === 'lock';
  const { namespace: ns, keys } = sliceLockKeys(namespace, [op.agent], paths);
  const reach = sliceReach(locking ? paths : []);
  const r = await sql<{ done: DoneRow | null }>(
    `SELECT ${NATIVE_FUNCTION}($1, $2, $3, $4, $5::bigint[], $6::boolean[], $7, $8::text[], $9::text[], $10::text[], $11::text[], $12, $13, $14, $15, $16, $17) AS done`,
    [
      op.op,
      namespace,
      ns[0],
      ns[1],
      keys.map(([key]) => key.toString()),
      keys.map(([, exclusive]) => exclusive),
      op.agent,
      paths,
      reach.exact,
      reach.ranges.map((x) => x[0]),
      reach.ranges.map((x) => x[1]),
      reach.patterns,
      locking ? (op.ttlMs ?? config.defaultLockTtlMs ?? null) : null,
      locking ? (op.reason ?? null) : null,
      locking ? (op.terms.mode ?? null) : null,
      DEFAULT_AGENT_TIMEOUT_MS,
      DEFAULT_LOCK_TTL_MS,
    ],
  );
  const done = r.rows[0]?.done ?? null;
  if (done === null) return null;
  const loaded = sliceFromRows(config, {
    serverMs: Number(done.server_ms),
    newestMs: done.newest === null ? null : Number(done.newest),
    nextId: Number(done.next_id),
    settings: done.settings,
    agents: [done.agent],
    locks: done.locks,
  });
  return { loaded, seenMs: Number(done.seen_ms), after: done.after };
}

interface DoneRow {
  server_ms: number;
  newest: number | null;
  next_id: number;
  settings: unknown;
  agent: unknown;
  locks: unknown[];
  seen_ms: number;
  after: NativeDone['after'];
}

/**
 * Whether the registry, after the transaction's function ran over the slice the server read, holds what the
 * server left: the agent active with its stamp, and its locks on the paths with their expiry, reason and terms.
 */
export function nativeMatches(registry: AgentRegistry, op: NativeOp, done: NativeDone): boolean {
  const agent = registry.get(op.agent);
  if (!agent || agent.state !== 'active' || agent.lastSeenMs !== done.seenMs) return false;
  const paths = op.op === 'heartbeat' ? [] : op.paths;
  const after = new Map(done.after.map((row) => [row.path, row]));
  for (const path of paths) {
    const row = after.get(path);
    const expiry = agent.lockedPaths.get(path);
    if (!row) {
      if (expiry !== undefined) return false;
      continue;
    }
    const terms = agent.lockTerms?.get(path);
    if (expiry !== Number(row.expires_ms) || (agent.lockReasons.get(path) ?? null) !== row.reason) return false;
    if ((terms?.mode ?? null) !== row.mode || (terms?.slots ?? null) !== (row.slots === null ? null : Number(row.slots))) return false;
  }
  return true;
}

import { sha256 } from '../core/sha256.js';
import type { HarnEvent } from '../core/events.js';
import { AgentRegistry, ancestorDirectories, type Agent, type AgentMeta, type AgentState, type ExtraFields, type LockTerms, type RegistryConfig } from '../core/registry.js';
import { lockKind, patternBase } from '../core/glob.js';
import { DEFAULT_AGENT_TIMEOUT_MS, SETTINGS, validSettingValue, type WorkspaceSettings } from '../core/settings.js';

/**
 * The PostgreSQL store's rows (schema version 3): one row per namespace, per agent and per lock, and the
 * statements that load the slice of them one operation needs and write back what it changed.
 *
 *   harn_namespaces (namespace PK, next_id, extra, extension, settings)   next_id: ids are never reused
 *   harn_agents     (namespace, id) PK, ord, name, state, last_seen_ms, edit_count, timeout_ms, extra, meta
 *   harn_locks      (namespace, path COLLATE "C", agent_id) PK, expires_ms, reason, ord, reason_ord, mode, slots
 *
 * A lock row's `mode` is 'shared' or null (exclusive) and `slots` a resource's slots or null (one); schema 3
 * added them (a schema-2 database gets them, and its rows keep their meaning: exclusive, one slot). Every kind
 * of lock (path, directory, pattern, resource) is a row under its key; pattern rows are found by a partial
 * index, since any of them may cover a path an operation names.
 *
 * `ord` and `reason_ord` (from one sequence) keep the order the seed's layout lists agents, paths and reasons
 * in, so `export` gives back the bytes `import` took. `extra`/`extension` hold, as JSON text, the members the
 * codec keeps without knowing them. What the file store keeps in the state's `harn` extension lives in columns:
 * the workspace settings in `settings` ({"values": {"agent-timeout": ms, ...}, "extra": [members not known]};
 * null: none set), an agent's own timeout in `timeout_ms` (null: the workspace's), and the rest of its
 * `harn.agents` entry (worktree, branch, client process, members not known) as JSON text in `meta`.
 */

export const ROWS_SCHEMA_VERSION = 3;

/** The keys that are patterns (core/glob's isPattern), as a predicate on harn_locks' rows. */
export const PATTERN_ROW = "left(path, 1) <> '@' AND path ~ '[*?[]'";

/** The tables, created once under an advisory lock (the legacy ones too, so a v1 client finds its tables). */
export const ROWS_DDL: readonly string[] = [
  'CREATE TABLE IF NOT EXISTS harn_schema (version integer NOT NULL)',
  'CREATE TABLE IF NOT EXISTS harn_registries (namespace text PRIMARY KEY, snapshot text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())',
  'CREATE TABLE IF NOT EXISTS harn_events (id bigserial PRIMARY KEY, namespace text NOT NULL, ts bigint NOT NULL, event jsonb NOT NULL)',
  'CREATE INDEX IF NOT EXISTS harn_events_namespace ON harn_events (namespace, id)',
  'CREATE TABLE IF NOT EXISTS harn_layout (version integer NOT NULL)',
  'CREATE SEQUENCE IF NOT EXISTS harn_order',
  `CREATE TABLE IF NOT EXISTS harn_namespaces (namespace text PRIMARY KEY, next_id bigint NOT NULL DEFAULT 1,
     extra text NOT NULL DEFAULT '[]', extension text NOT NULL DEFAULT '[]', settings jsonb)`,
  `CREATE TABLE IF NOT EXISTS harn_agents (namespace text NOT NULL, id bigint NOT NULL, ord bigint NOT NULL DEFAULT nextval('harn_order'),
     name text NOT NULL, state text NOT NULL CHECK (state IN ('active', 'crashed', 'gone')), last_seen_ms bigint NOT NULL,
     edit_count bigint NOT NULL, timeout_ms bigint, extra text NOT NULL DEFAULT '[]', meta text, PRIMARY KEY (namespace, id))`,
  // Added after the first schema-2 databases were created (the test of its presence is in pg-store.ts).
  'ALTER TABLE harn_agents ADD COLUMN IF NOT EXISTS meta text',
  // The registry's newest stamp (its time never runs backwards) in one index probe.
  'CREATE INDEX IF NOT EXISTS harn_agents_seen ON harn_agents (namespace, last_seen_ms)',
  // The agents due for reaping, oldest first, without visiting crashed ones.
  "CREATE INDEX IF NOT EXISTS harn_agents_due ON harn_agents (namespace, last_seen_ms) WHERE state = 'active'",
  // The same for agents with a timeout of their own, by the time they fall due.
  "CREATE INDEX IF NOT EXISTS harn_agents_due_own ON harn_agents (namespace, (last_seen_ms + timeout_ms)) WHERE state = 'active' AND timeout_ms IS NOT NULL",
  `CREATE TABLE IF NOT EXISTS harn_locks (namespace text NOT NULL, path text COLLATE "C" NOT NULL, agent_id bigint NOT NULL,
     expires_ms bigint NOT NULL, reason text, ord bigint NOT NULL DEFAULT nextval('harn_order'), reason_ord bigint,
     PRIMARY KEY (namespace, path, agent_id))`,
  'CREATE INDEX IF NOT EXISTS harn_locks_agent ON harn_locks (namespace, agent_id)',
  // Schema 3: how a lock is held (null, null: exclusive, one slot, as every schema-2 row), and its patterns.
  "ALTER TABLE harn_locks ADD COLUMN IF NOT EXISTS mode text CHECK (mode IN ('shared'))",
  'ALTER TABLE harn_locks ADD COLUMN IF NOT EXISTS slots integer CHECK (slots >= 1)',
  `CREATE INDEX IF NOT EXISTS harn_locks_patterns ON harn_locks (namespace) WHERE ${PATTERN_ROW}`,
];

/**
 * What a v1 client finds in a namespace's `harn_registries` row once the namespace lives in rows: a snapshot
 * it refuses (exit 3), so an old client never writes a second, diverging registry beside the rows.
 */
export const TOMBSTONE = '{"next_id":"moved to rows (schema 2): upgrade harn-agents","agents":[]}';

/** A statement on the transaction's connection (pg-store.ts: a failure without a server answer is a lost connection). */
export type Sql = <T extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<{ rows: T[]; rowCount: number | null }>;

/** A transaction that lost a race (an agent it reaped or changed was changed meanwhile): run it again. */
export class RowsRetry extends Error {}

// ---- advisory lock keys -------------------------------------------------------------------------------

const digest = (text: string): Buffer => sha256(text);

/** The namespace's two-int advisory key: shared by every slice writer, exclusive for a whole-registry writer. */
function namespaceKey(namespace: string): readonly [number, number] {
  let key = namespaceKeys.get(namespace);
  if (!key) {
    const d = digest(`harn-agents namespace\0${namespace}`);
    key = [d.readInt32BE(0), d.readInt32BE(4)] as const;
    if (namespaceKeys.size >= 64) namespaceKeys.clear();
    namespaceKeys.set(namespace, key);
  }
  return key;
}
const namespaceKeys = new Map<string, readonly [number, number]>();

/** A path's (or an agent id's) bigint advisory key within a namespace. */
function itemKey(namespace: string, item: string): bigint {
  const text = `${namespace}\0${item}`;
  let key = itemKeys.get(text);
  if (key === undefined) {
    key = digest(text).readBigInt64BE(0);
    // A long-lived client names the same few paths again and again: their keys are kept, up to a bound.
    if (itemKeys.size >= 4_096) itemKeys.clear();
    itemKeys.set(text, key);
  }
  return key;
}
const itemKeys = new Map<string, bigint>();

/** The advisory key every path operation takes shared, and a pattern with no literal directory exclusive. */
const ROOT_KEY = '#root';

/**
 * `BEGIN` and the advisory locks of a slice writer, as one simple-protocol round trip (the keys are integers
 * computed here, so no text from outside reaches the statement): the namespace shared; each agent exclusive
 * (two calls for one agent, or two creating it, run one after the other); each path exclusive and each
 * directory above it shared, so two operations conflict exactly when their paths overlap (a directory lock
 * "a/" takes "a/" exclusive, a lock under it takes "a/" shared). A pattern can only cover names under its
 * literal directory (`src/` for `src/**\/*.ts`), so it takes that directory as a directory lock would
 * (the root key when it has none, which every path operation takes shared); a resource takes its name only.
 * Keys are taken in one order: no deadlock.
 */
export function sliceLocksStatement(namespace: string, agents: readonly number[], paths: readonly string[]): string {
  const { namespace: [a, b], keys } = sliceLockKeys(namespace, agents, paths);
  const calls = [`pg_advisory_xact_lock_shared(${a}, ${b})`];
  for (const [key, exclusive] of keys) calls.push(`${exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}(${key.toString()})`);
  return `BEGIN; SELECT ${calls.join(', ')}`;
}

/** The advisory locks of a slice writer (see sliceLocksStatement): the namespace's key, and each item key in the one order, exclusive or not. */
export function sliceLockKeys(namespace: string, agents: readonly number[], paths: readonly string[]): { namespace: readonly [number, number]; keys: Array<[bigint, boolean]> } {
  const keys = new Map<bigint, boolean>();
  const want = (key: bigint, exclusive: boolean) => keys.set(key, exclusive || (keys.get(key) ?? false));
  for (const id of agents) want(itemKey(namespace, `#agent ${id}`), true);
  for (const path of paths) {
    const kind = lockKind(path);
    if (kind === 'resource') {
      want(itemKey(namespace, path), true);
      continue;
    }
    const key = kind === 'pattern' ? patternBase(path) : path;
    want(itemKey(namespace, key === '' ? ROOT_KEY : key), true);
    want(itemKey(namespace, ROOT_KEY), false);
    if (key !== '') for (const dir of ancestorDirectories(key)) if (dir !== key) want(itemKey(namespace, dir), false);
  }
  return { namespace: namespaceKey(namespace), keys: [...keys].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)) };
}

/** `BEGIN` and the namespace's exclusive lock: a writer that loads the whole registry (import, prune, status's reap). */
export function wholeLocksStatement(namespace: string): string {
  const [a, b] = namespaceKey(namespace);
  return `BEGIN; SELECT pg_advisory_xact_lock(${a}, ${b})`;
}

// ---- loading ------------------------------------------------------------------------------------------

type AgentRow = {
  id: number;
  name: string;
  state: AgentState;
  last_seen_ms: number;
  edit_count: number;
  extra: string;
  timeout_ms: number | null;
  meta: string | null;
};
type LockRow = {
  path: string;
  agent_id: number;
  expires_ms: number;
  reason: string | null;
  ord: number;
  reason_ord: number | null;
  mode: 'shared' | null;
  slots: number | null;
};

/** A lock's terms as stored (null, null: exclusive, one slot). */
const termsColumns = (terms: LockTerms | undefined): readonly [string | null, number | null] => [terms?.mode ?? null, terms?.slots ?? null];
const termsKey = (terms: LockTerms | undefined): string => `${terms?.mode ?? ''}\0${terms?.slots ?? ''}`;

/** What a transaction loaded: the registry built from it, its time, and what to compare the result with. */
export interface Loaded {
  readonly registry: AgentRegistry;
  readonly serverMs: number;
  /** The namespace's newest stamp (null: no agent). */
  readonly newestMs: number | null;
  readonly before: Before;
  /** Whether the rows are of this version's layout and the namespace has its row (else the store prepares first). */
  readonly current?: boolean;
}

interface AgentBefore {
  readonly record: Agent;
  readonly name: string;
  readonly state: AgentState;
  readonly lastSeenMs: number;
  readonly editCount: number;
  readonly extra: string;
  /** `timeout_ms` and `meta` as loaded (the meta never changes in place: a new record is an upsert). */
  readonly meta: string;
  /** The lock rows loaded for this agent: path -> [expiry, reason, terms]. */
  readonly locks: Map<string, readonly [number, string | null, string]>;
}

interface Before {
  readonly nextId: number;
  readonly agents: Map<number, AgentBefore>;
  readonly extra: string;
  readonly extension: string;
  /** The settings column as written back (null: none). */
  readonly settings: string | null;
  /** Whether the whole namespace was loaded (so its extra members may be written back). */
  readonly whole: boolean;
}

const json = (value: ExtraFields): string => JSON.stringify(value);
const int = (value: unknown): number => Number(value);

/** The workspace settings as stored: known values and members not known; null when there is nothing. */
interface StoredSettings {
  readonly settings: WorkspaceSettings;
  readonly settingsExtra: ExtraFields;
}

/** The `settings` column's value (JSON text) for a registry's settings; null when none is set. */
function settingsColumn(stored: { readonly settings?: Readonly<WorkspaceSettings>; readonly settingsExtra?: ExtraFields }): string | null {
  const values: Record<string, number> = {};
  for (const definition of SETTINGS) {
    const value = stored.settings?.[definition.key];
    if (value !== undefined) values[definition.key] = value;
  }
  const extra = stored.settingsExtra ?? [];
  return Object.keys(values).length === 0 && extra.length === 0 ? null : JSON.stringify({ values, extra });
}

/** The `settings` column read back (jsonb arrives parsed); a value no writer of this version produces is refused. */
function readSettings(raw: unknown): StoredSettings {
  const settings: WorkspaceSettings = {};
  if (raw === null || raw === undefined) return { settings, settingsExtra: [] };
  const object = raw as { values?: Record<string, unknown>; extra?: unknown };
  if (typeof raw !== 'object' || Array.isArray(raw) || (object.extra !== undefined && !Array.isArray(object.extra))) {
    throw new Error('the namespace settings are not an object of values and extra members');
  }
  for (const definition of SETTINGS) {
    const value = object.values?.[definition.key];
    if (value === undefined) continue;
    if (!validSettingValue(definition, value)) throw new Error(`the namespace setting ${definition.key} is ${JSON.stringify(value)}, not a valid duration`);
    settings[definition.key] = value;
  }
  return { settings, settingsExtra: (object.extra ?? []) as ExtraFields };
}

/** The `meta` column's value: the agent's `harn.agents` entry but its timeout (which has its own column). */
function metaColumn(meta: AgentMeta | undefined): string | null {
  if (!meta) return null;
  const { timeoutMs: _timeout, ...rest } = meta;
  return Object.keys(rest).length === 0 ? null : JSON.stringify(rest);
}

function rowMeta(row: AgentRow): AgentMeta | undefined {
  const rest = row.meta === null ? {} : (JSON.parse(row.meta) as Omit<AgentMeta, 'timeoutMs'>);
  const meta: AgentMeta = row.timeout_ms === null ? rest : { timeoutMs: int(row.timeout_ms), ...rest };
  return Object.keys(meta).length === 0 ? undefined : meta;
}

const metaKey = (agent: { readonly meta?: AgentMeta }): string => `${agent.meta?.timeoutMs ?? ''}\0${metaColumn(agent.meta) ?? ''}`;

function buildRegistry(
  config: RegistryConfig,
  nextId: number,
  agentRows: AgentRow[],
  lockRows: LockRow[],
  extra: string,
  extension: string,
  stored: StoredSettings,
  whole: boolean,
) {
  const agents = new Map<number, Agent>();
  for (const row of agentRows) {
    const meta = rowMeta(row);
    agents.set(int(row.id), {
      id: int(row.id),
      name: row.name,
      state: row.state,
      lastSeenMs: int(row.last_seen_ms),
      editCount: int(row.edit_count),
      lockedPaths: new Map(),
      lockReasons: new Map(),
      extra: JSON.parse(row.extra) as ExtraFields,
      ...(meta ? { meta } : {}),
    });
  }
  const sorted = [...lockRows].sort((x, y) => int(x.ord) - int(y.ord));
  for (const lock of sorted) {
    const agent = agents.get(int(lock.agent_id));
    if (!agent) continue;
    agent.lockedPaths.set(lock.path, int(lock.expires_ms));
    if (lock.mode !== null || lock.slots !== null) {
      (agent.lockTerms ??= new Map()).set(lock.path, lock.mode === 'shared' ? { mode: 'shared' } : { slots: int(lock.slots) });
    }
  }
  const reasons = sorted.filter((l) => l.reason !== null).sort((x, y) => int(x.reason_ord) - int(y.reason_ord));
  for (const lock of reasons) agents.get(int(lock.agent_id))?.lockReasons.set(lock.path, lock.reason as string);
  const before: Before = {
    nextId,
    extra,
    extension,
    settings: settingsColumn(stored),
    whole,
    agents: new Map(
      [...agents.values()].map((agent) => [
        agent.id,
        {
          record: agent,
          name: agent.name,
          state: agent.state,
          lastSeenMs: agent.lastSeenMs,
          editCount: agent.editCount,
          extra: json(agent.extra),
          meta: metaKey(agent),
          locks: new Map([...agent.lockedPaths].map(([path, expiry]) => [path, [expiry, agent.lockReasons.get(path) ?? null, termsKey(agent.lockTerms?.get(path))] as const])),
        },
      ]),
    ),
  };
  const registry = AgentRegistry.fromSnapshot(config, {
    nextId,
    agents: [...agents.values()],
    extra: JSON.parse(extra) as ExtraFields,
    extension: JSON.parse(extension) as ExtraFields,
    settings: stored.settings,
    settingsExtra: stored.settingsExtra,
  });
  return { registry, before };
}

const CLOCK_SQL = `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS server_ms,
  (SELECT max(last_seen_ms) FROM harn_agents WHERE namespace = $1) AS newest, (SELECT max(version) FROM harn_layout) AS layout`;

/** The whole namespace, in one statement (one snapshot). */
export async function loadWhole(sql: Sql, namespace: string, config: RegistryConfig): Promise<Loaded> {
  const r = await sql<{ server_ms: string; newest: string | null; layout: number | null; ns: { next_id: number; extra: string; extension: string; settings: unknown } | null; agents: AgentRow[] | null; locks: LockRow[] | null }>(
    `WITH clock AS (${CLOCK_SQL})
     SELECT clock.server_ms, clock.newest, clock.layout,
       (SELECT row_to_json(n) FROM harn_namespaces n WHERE namespace = $1) AS ns,
       (SELECT json_agg(a ORDER BY a.ord) FROM harn_agents a WHERE namespace = $1) AS agents,
       (SELECT json_agg(l) FROM harn_locks l WHERE namespace = $1) AS locks
     FROM clock`,
    [namespace],
  );
  const row = r.rows[0];
  if (!row) throw new Error('the clock query returned no row');
  const stored = readSettings(row.ns?.settings ?? null);
  const { registry, before } = buildRegistry(config, int(row.ns?.next_id ?? 1), row.agents ?? [], row.locks ?? [], row.ns?.extra ?? '[]', row.ns?.extension ?? '[]', stored, true);
  return { registry, serverMs: int(row.server_ms), newestMs: row.newest === null ? null : int(row.newest), before, current: row.layout === ROWS_SCHEMA_VERSION && row.ns !== null };
}

/**
 * Which lock rows can bear on an operation over `paths`: those on the keys in `exact` (each path, the
 * directories above it, a directory's name as a file), those in the `ranges` of keys under a directory (from
 * it up to the same prefix with its last character, '/', plus one), the live patterns when `patterns` (any may
 * cover a path named), and every live lock when `everything` (a pattern with no literal directory).
 */
export function sliceReach(paths: readonly string[]): { exact: string[]; ranges: Array<[string, string]>; everything: boolean; patterns: boolean } {
  const exact = new Set<string>();
  const ranges: Array<[string, string]> = [];
  let everything = false;
  for (const path of paths) {
    const kind = lockKind(path);
    exact.add(path);
    if (kind === 'resource') continue;
    // A pattern covers names under its literal directory only: the locks there and above it.
    const dirKey = kind === 'pattern' ? patternBase(path) : path;
    if (dirKey === '') {
      everything = true;
      continue;
    }
    for (const dir of ancestorDirectories(dirKey)) exact.add(dir);
    if (dirKey.endsWith('/')) {
      exact.add(dirKey.slice(0, -1));
      ranges.push([dirKey, `${dirKey.slice(0, -1)}0`]);
    }
  }
  return { exact: [...exact], ranges, everything, patterns: paths.some((path) => lockKind(path) !== 'resource') };
}

/** How many due agents a writer reaps beside its own work: the reap advances without anyone scanning. */
const REAP_BATCH = 4;

/**
 * The slice an operation needs, in one statement: the agents it names; every lock row on its paths and the
 * directories above them (expired ones too: `release --force` drops them), and, for a directory, the live
 * locks under it (an index range on the "C"-collated path); the agents holding those; and, for a writer, up
 * to REAP_BATCH agents due for reaping by the workspace's timeout and as many by their own (locked, skipping
 * any another writer holds); and the workspace settings. Then, for any agent due,
 * all its locks (a reap releases them all and names them in the audit trail).
 */
export async function loadSlice(
  sql: Sql,
  namespace: string,
  config: RegistryConfig,
  scope: { agents: readonly number[]; paths: readonly string[]; lockNextId: boolean },
  write: boolean,
): Promise<Loaded> {
  const { exact, ranges, everything, patterns } = sliceReach(scope.paths);
  let lockedNextId: number | null = null;
  if (scope.lockNextId) {
    // The counter's row lock: ids are handed out one at a time (only `register` takes it).
    const r = await sql<{ next_id: string }>(
      'INSERT INTO harn_namespaces (namespace) VALUES ($1) ON CONFLICT (namespace) DO UPDATE SET next_id = harn_namespaces.next_id RETURNING next_id',
      [namespace],
    );
    lockedNextId = int(r.rows[0]?.next_id ?? 1);
  }
  // A reader takes no row lock (a role with SELECT alone can read); it reaps nothing (LIMIT 0) anyway.
  const rowLock = write ? ' FOR UPDATE SKIP LOCKED' : '';
  const r = await sql<{ server_ms: string; newest: string | null; layout: number | null; next_id: string | null; settings: unknown; agents: AgentRow[] | null; locks: LockRow[] | null }>(
    `WITH clock AS (${CLOCK_SQL}),
     now AS (SELECT greatest(server_ms, coalesce(newest, server_ms)) AS ms FROM clock),
     l AS (
       SELECT path, agent_id, expires_ms, reason, ord, reason_ord, mode, slots FROM harn_locks WHERE namespace = $1 AND path = ANY($2::text[])
       UNION
       SELECT h.path, h.agent_id, h.expires_ms, h.reason, h.ord, h.reason_ord, h.mode, h.slots
         FROM unnest($3::text[], $4::text[]) AS r(lo, hi) CROSS JOIN LATERAL (SELECT * FROM harn_locks x WHERE x.namespace = $1
           AND x.path >= r.lo AND x.path < r.hi AND x.expires_ms > (SELECT ms FROM now)) AS h
       UNION
       SELECT path, agent_id, expires_ms, reason, ord, reason_ord, mode, slots FROM harn_locks
         WHERE namespace = $1 AND $8::boolean AND ${PATTERN_ROW} AND expires_ms > (SELECT ms FROM now)
       UNION
       SELECT path, agent_id, expires_ms, reason, ord, reason_ord, mode, slots FROM harn_locks
         WHERE namespace = $1 AND $9::boolean AND expires_ms > (SELECT ms FROM now)),
     ns AS (SELECT next_id, settings FROM harn_namespaces WHERE namespace = $1),
     timeout AS (SELECT coalesce((SELECT (settings->'values'->>'agent-timeout')::bigint FROM ns), $6::bigint) AS ms),
     due AS (SELECT id FROM harn_agents WHERE namespace = $1 AND state = 'active' AND timeout_ms IS NULL
       AND last_seen_ms < (SELECT ms FROM now) - (SELECT ms FROM timeout) ORDER BY last_seen_ms LIMIT $7${rowLock}),
     due_own AS (SELECT id FROM harn_agents WHERE namespace = $1 AND state = 'active' AND timeout_ms IS NOT NULL
       AND last_seen_ms + timeout_ms < (SELECT ms FROM now) ORDER BY last_seen_ms + timeout_ms LIMIT $7${rowLock}),
     ids AS (SELECT unnest($5::bigint[]) AS id UNION SELECT agent_id FROM l UNION SELECT id FROM due UNION SELECT id FROM due_own)
     SELECT clock.server_ms, clock.newest, clock.layout,
       (SELECT next_id FROM ns) AS next_id, (SELECT settings FROM ns) AS settings,
       -- One index lookup per agent, whatever the statistics make of the ids' count (a join may scan the
       -- namespace): LIMIT 1 (an id is one row) keeps the planner from folding the lookup into a join.
       (SELECT json_agg(a ORDER BY a.ord) FROM (SELECT DISTINCT id FROM ids) AS i
          CROSS JOIN LATERAL (SELECT * FROM harn_agents x WHERE x.namespace = $1 AND x.id = i.id LIMIT 1) AS a) AS agents,
       (SELECT json_agg(l) FROM l) AS locks
     FROM clock`,
    [namespace, exact, ranges.map((x) => x[0]), ranges.map((x) => x[1]), scope.agents, DEFAULT_AGENT_TIMEOUT_MS, write ? REAP_BATCH : 0, patterns, everything],
  );
  const row = r.rows[0];
  if (!row) throw new Error('the clock query returned no row');
  const serverMs = int(row.server_ms);
  const newestMs = row.newest === null ? null : int(row.newest);
  const nowMs = Math.max(serverMs, newestMs ?? serverMs);
  const agentRows = row.agents ?? [];
  let lockRows = row.locks ?? [];
  const stored = readSettings(row.settings);
  const workspaceTimeoutMs = stored.settings['agent-timeout'] ?? DEFAULT_AGENT_TIMEOUT_MS;
  const due = agentRows
    .filter((a) => a.state === 'active' && nowMs - int(a.last_seen_ms) > (a.timeout_ms === null ? workspaceTimeoutMs : int(a.timeout_ms)))
    .map((a) => int(a.id));
  if (due.length > 0 && write) {
    const all = await sql<LockRow>('SELECT path, agent_id, expires_ms, reason, ord, reason_ord, mode, slots FROM harn_locks WHERE namespace = $1 AND agent_id = ANY($2::bigint[])', [namespace, due]);
    const seen = new Set(lockRows.map((l) => `${l.agent_id}\0${l.path}`));
    lockRows = [...lockRows, ...all.rows.filter((l) => !seen.has(`${l.agent_id}\0${l.path}`))];
  }
  const nextId = lockedNextId ?? int(row.next_id ?? 1);
  const { registry, before } = buildRegistry(config, nextId, agentRows, lockRows, '[]', '[]', stored, false);
  return { registry, serverMs, newestMs, before, current: row.layout === ROWS_SCHEMA_VERSION && row.next_id !== null };
}

/** The rows of a slice as a server-side operation read them (pg-native.ts), loaded as loadSlice loads its own. */
export function sliceFromRows(
  config: RegistryConfig,
  rows: { serverMs: number; newestMs: number | null; nextId: number; settings: unknown; agents: readonly unknown[]; locks: readonly unknown[] },
): Loaded {
  const { registry, before } = buildRegistry(config, rows.nextId, rows.agents as AgentRow[], rows.locks as LockRow[], '[]', '[]', readSettings(rows.settings), false);
  return { registry, serverMs: rows.serverMs, newestMs: rows.newestMs, before };
}

// ---- writing back ---------------------------------------------------------------------------------------

/**
 * Write what the transaction changed, as one statement: agents removed, created or replaced (an upsert, their
 * other lock rows dropped), changed (an update that insists on the state it loaded: if another writer
 * changed the agent meanwhile, RowsRetry), lock rows dropped and set, the id counter (only ever raised), the
 * namespace's own members (whole-registry writers), and the events.
 */
export async function writeBack(sql: Sql, namespace: string, loaded: Loaded, events: readonly HarnEvent[]): Promise<void> {
  const { registry, before } = loaded;
  const removed: number[] = [];
  for (const id of before.agents.keys()) if (!registry.get(id)) removed.push(id);
  const upserts: Agent[] = [];
  const updates: Array<{ agent: Agent; was: AgentBefore }> = [];
  const dropLocks: Array<[number, string]> = [];
  const setLocks: Array<[number, string, number, string | null, LockTerms | undefined]> = [];
  for (const agent of registry.agents() as IterableIterator<Agent>) {
    const was = before.agents.get(agent.id);
    if (!was || was.record !== agent) {
      upserts.push(agent);
      for (const [path, expiry] of agent.lockedPaths) setLocks.push([agent.id, path, expiry, agent.lockReasons.get(path) ?? null, agent.lockTerms?.get(path)]);
      continue;
    }
    const extra = json(agent.extra);
    if (metaKey(agent) !== was.meta) {
      // Only a new record has new meta (register, import); a change in place is written like one.
      upserts.push(agent);
      for (const [path, expiry] of agent.lockedPaths) setLocks.push([agent.id, path, expiry, agent.lockReasons.get(path) ?? null, agent.lockTerms?.get(path)]);
      continue;
    }
    if (agent.name !== was.name || agent.state !== was.state || agent.lastSeenMs !== was.lastSeenMs || agent.editCount !== was.editCount || extra !== was.extra) {
      updates.push({ agent, was });
    }
    for (const path of was.locks.keys()) if (!agent.lockedPaths.has(path)) dropLocks.push([agent.id, path]);
    for (const [path, expiry] of agent.lockedPaths) {
      const reason = agent.lockReasons.get(path) ?? null;
      const terms = agent.lockTerms?.get(path);
      const old = was.locks.get(path);
      if (!old || old[0] !== expiry || old[1] !== reason || old[2] !== termsKey(terms)) setLocks.push([agent.id, path, expiry, reason, terms]);
    }
  }
  if (before.whole && upserts.some((a) => before.agents.has(a.id))) {
    // Records replaced whole by a whole-registry writer (import): write the namespace afresh, in its new order.
    await sql('DELETE FROM harn_locks WHERE namespace = $1', [namespace]);
    await sql('DELETE FROM harn_agents WHERE namespace = $1', [namespace]);
    const fresh: Before = { nextId: 0, agents: new Map(), extra: '', extension: '', settings: '', whole: true };
    return writeBack(sql, namespace, { ...loaded, before: fresh }, events);
  }
  // next_id only grows, except by `doctor --fix-ids` (the registry lowers it nowhere else).
  const nextId = registry.nextId !== before.nextId ? registry.nextId : null;
  const lowered = nextId !== null && nextId < before.nextId;
  const snapshot = registry.snapshot();
  const extra = json(snapshot.extra);
  const extension = json(snapshot.extension ?? []);
  const settings = settingsColumn(snapshot);
  const namespaceChanged = before.whole && (extra !== before.extra || extension !== before.extension || settings !== before.settings);
  if (!removed.length && !upserts.length && !updates.length && !dropLocks.length && !setLocks.length && nextId === null && !namespaceChanged && !events.length) return;

  // Only the parts with something to do go in: a table a call does not write is not locked by it.
  const values: unknown[] = [namespace];
  const p = (value: unknown, type: string): string => `$${values.push(value)}::${type}`;
  const ctes: string[] = [];
  if (removed.length) {
    const ids = p(removed, 'bigint[]');
    ctes.push(`gone AS (DELETE FROM harn_agents WHERE namespace = $1 AND id = ANY(${ids}))`);
    ctes.push(`gone_locks AS (DELETE FROM harn_locks WHERE namespace = $1 AND agent_id = ANY(${ids}))`);
  }
  if (upserts.length) {
    const ids = upserts.map((a) => a.id);
    const kept = setLocks.filter((l) => ids.includes(l[0]));
    // A created or replaced agent keeps only the lock rows it has now.
    ctes.push(`replaced_locks AS (DELETE FROM harn_locks WHERE namespace = $1 AND agent_id = ANY(${p(ids, 'bigint[]')})
      AND (agent_id, path) NOT IN (SELECT * FROM unnest(${p(kept.map((l) => l[0]), 'bigint[]')}, ${p(kept.map((l) => l[1]), 'text[]')})))`);
    ctes.push(`put AS (INSERT INTO harn_agents (namespace, id, name, state, last_seen_ms, edit_count, extra, timeout_ms, meta)
      SELECT $1, * FROM unnest(${p(ids, 'bigint[]')}, ${p(upserts.map((a) => a.name), 'text[]')}, ${p(upserts.map((a) => a.state), 'text[]')},
        ${p(upserts.map((a) => a.lastSeenMs), 'bigint[]')}, ${p(upserts.map((a) => a.editCount), 'bigint[]')}, ${p(upserts.map((a) => json(a.extra)), 'text[]')},
        ${p(upserts.map((a) => a.meta?.timeoutMs ?? null), 'bigint[]')}, ${p(upserts.map((a) => metaColumn(a.meta)), 'text[]')})
      ON CONFLICT (namespace, id) DO UPDATE SET name = EXCLUDED.name, state = EXCLUDED.state, last_seen_ms = EXCLUDED.last_seen_ms,
        edit_count = EXCLUDED.edit_count, extra = EXCLUDED.extra, timeout_ms = EXCLUDED.timeout_ms, meta = EXCLUDED.meta)`);
  }
  if (updates.length) {
    ctes.push(`changed AS (UPDATE harn_agents a SET name = v.name, state = v.state, last_seen_ms = v.seen, edit_count = v.edits, extra = v.extra
      FROM unnest(${p(updates.map((u) => u.agent.id), 'bigint[]')}, ${p(updates.map((u) => u.agent.name), 'text[]')}, ${p(updates.map((u) => u.agent.state), 'text[]')},
        ${p(updates.map((u) => u.agent.lastSeenMs), 'bigint[]')}, ${p(updates.map((u) => u.agent.editCount), 'bigint[]')}, ${p(updates.map((u) => json(u.agent.extra)), 'text[]')},
        ${p(updates.map((u) => u.was.state), 'text[]')}, ${p(updates.map((u) => u.was.lastSeenMs), 'bigint[]')})
        AS v(id, name, state, seen, edits, extra, was_state, was_seen)
      WHERE a.namespace = $1 AND a.id = v.id AND a.state = v.was_state AND a.last_seen_ms = v.was_seen RETURNING a.id)`);
  }
  if (dropLocks.length) {
    ctes.push(`dropped AS (DELETE FROM harn_locks WHERE namespace = $1
      AND (agent_id, path) IN (SELECT * FROM unnest(${p(dropLocks.map((l) => l[0]), 'bigint[]')}, ${p(dropLocks.map((l) => l[1]), 'text[]')})))`);
  }
  if (setLocks.length) {
    ctes.push(`set_locks AS (INSERT INTO harn_locks AS h (namespace, agent_id, path, expires_ms, reason, reason_ord, mode, slots)
      SELECT $1, v.agent_id, v.path, v.expires_ms, v.reason, CASE WHEN v.reason IS NULL THEN NULL ELSE nextval('harn_order') END, v.mode, v.slots
      FROM unnest(${p(setLocks.map((l) => l[0]), 'bigint[]')}, ${p(setLocks.map((l) => l[1]), 'text[]')}, ${p(setLocks.map((l) => l[2]), 'bigint[]')},
        ${p(setLocks.map((l) => l[3]), 'text[]')}, ${p(setLocks.map((l) => termsColumns(l[4])[0]), 'text[]')}, ${p(setLocks.map((l) => termsColumns(l[4])[1]), 'integer[]')})
        AS v(agent_id, path, expires_ms, reason, mode, slots)
      ON CONFLICT (namespace, path, agent_id) DO UPDATE SET expires_ms = EXCLUDED.expires_ms, reason = EXCLUDED.reason, mode = EXCLUDED.mode, slots = EXCLUDED.slots,
        reason_ord = CASE WHEN EXCLUDED.reason IS NULL THEN NULL WHEN h.reason IS NULL THEN EXCLUDED.reason_ord ELSE h.reason_ord END)`);
  }
  if (nextId !== null || namespaceChanged) {
    const whole = p(namespaceChanged, 'boolean');
    ctes.push(`counter AS (INSERT INTO harn_namespaces AS n (namespace, next_id, extra, extension, settings)
      VALUES ($1, ${p(nextId ?? 1, 'bigint')}, ${p(extra, 'text')}, ${p(extension, 'text')}, ${p(settings, 'jsonb')})
      ON CONFLICT (namespace) DO UPDATE SET next_id = CASE WHEN ${p(lowered, 'boolean')} THEN EXCLUDED.next_id ELSE greatest(n.next_id, EXCLUDED.next_id) END,
        extra = CASE WHEN ${whole} THEN EXCLUDED.extra ELSE n.extra END, extension = CASE WHEN ${whole} THEN EXCLUDED.extension ELSE n.extension END,
        settings = CASE WHEN ${whole} THEN EXCLUDED.settings ELSE n.settings END)`);
  }
  if (events.length) {
    ctes.push(`logged AS (INSERT INTO harn_events (namespace, ts, event)
      SELECT $1, e.ts, e.event FROM unnest(${p(events.map((e) => e.ts), 'bigint[]')}, ${p(events.map((e) => JSON.stringify(e)), 'jsonb[]')}) AS e(ts, event))`);
  }
  const r = await sql<{ updated: string }>(
    `WITH ${ctes.join(',\n')} SELECT ${updates.length ? '(SELECT count(*) FROM changed)' : '0'} AS updated, $1::text AS namespace`,
    values,
  );
  if (int(r.rows[0]?.updated ?? 0) !== updates.length) throw new RowsRetry('an agent changed meanwhile');
}

/** The lock rows of an imported or migrated registry keep its order: agents, paths and reasons in sequence. */
export async function insertWhole(sql: Sql, namespace: string, registry: AgentRegistry): Promise<void> {
  const loaded: Loaded = {
    registry,
    serverMs: 0,
    newestMs: null,
    before: { nextId: 0, agents: new Map(), extra: '', extension: '', settings: '', whole: true },
  };
  await writeBack(sql, namespace, loaded, []);
}

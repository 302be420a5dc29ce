/**
 * The per-workspace agent registry and its advisory per-path locks: a TypeScript port of the Rust
 * `AgentRegistry` (harn hostlib, `code_index::agents`).
 *
 * Pure: no I/O and no clock reads. Every method that depends on time takes `nowMs` (wall-clock Unix
 * milliseconds) from the caller, so tests drive it with an injected clock.
 *
 * Invariants:
 * - An agent is reaped (`active` -> `crashed`, its locks cleared) when `now - lastSeenMs` exceeds its own
 *   timeout (set when it was created, else the workspace's setting); at exactly the timeout it is still active.
 *   No call's options change another agent's timeout.
 * - A lock is held while `expiry > now`; at `expiry == now` the path is free.
 * - At most one agent holds a live exclusive lock on a path, and then no other agent holds it at all:
 *   `tryLock` refuses while another agent's lock is live. Shared locks have any number of holders.
 *   Expired entries of other agents may stay in their `lockedPaths` (as in the seed); they hold nothing.
 * - A path ending in `/` is a directory lock: it covers every path under it; a path with `*`, `?` or `[` is a
 *   pattern (git's `:(glob)` meaning, core/glob.ts); a name starting with `@` is a resource. Two locks overlap
 *   when some name is covered by both (for patterns: may be, when that cannot be decided cheaply). A lock is
 *   refused while an overlapping live lock is held by another agent, unless both are shared; a resource lock
 *   with N slots is refused while N other agents hold it.
 * - Re-locking a path one already holds extends it (renewal); granting refreshes `lastSeenMs`.
 * - Ids are never handed out twice: `nextId` only grows and stays above every id registered.
 * - An id chosen by a call (`registerWithId`, or a heartbeat or lock for an unknown id) is at most 2^32-1
 *   (MAX_CHOSEN_ID), so no valid call pushes `nextId` near 2^53 and registration cannot run out.
 * - Timestamps stay safe integers: an expiry saturates at 2^53-1 instead of overflowing.
 *
 * Deliberate differences from the seed (documented in docs/state-file.md):
 * 1. A lock granted to a `crashed` agent brings it back to `active` (the seed would leave a crashed agent
 *    holding a live lock, which the next reap would never clear).
 * 2. Paths are normalised by the caller (see `paths.ts`) before they reach the registry.
 */

import { usageError } from './errors.js';
import type { HarnEvent } from './events.js';
import { covers, isPattern, lockKind, mayOverlap, patternBase, type LockKind } from './glob.js';
import { forEachLock, SourcedLockMap } from './lock-map.js';
import { settingValue, type SettingKey, type WorkspaceSettings } from './settings.js';
import { chosenIdError, MAX_CHOSEN_ID } from './validate.js';

export type AgentId = number;

export type AgentState = 'active' | 'crashed' | 'gone';

export const AGENT_STATES: readonly AgentState[] = ['active', 'crashed', 'gone'];

/** Raw JSON members a reader did not recognise, kept so a rewrite loses nothing. */
export type ExtraFields = ReadonlyArray<readonly [string, unknown]>;

export interface Agent {
  readonly id: AgentId;
  name: string;
  state: AgentState;
  /** Wall-clock ms of the last heartbeat, register or lock activity. */
  lastSeenMs: number;
  editCount: number;
  /** Normalised workspace-relative path -> lock expiry (ms). */
  readonly lockedPaths: Map<string, number>;
  /** Why a path is locked (`lock --reason`), for paths in `lockedPaths` that have one. */
  readonly lockReasons: Map<string, string>;
  /** How a lock is held when not exclusive with one slot (shared, or a resource's slots); absent: none is. */
  lockTerms?: Map<string, LockTerms>;
  extra: ExtraFields;
  /** What this tool keeps about the agent outside the seed's members (the state's `harn.agents`). */
  meta?: AgentMeta;
}

/**
 * An agent as the registry hands it out: read-only, so no caller can change a record behind the registry's
 * back (its `changed` flag and path index would go stale). Change agents through the registry's methods.
 */
export interface ReadonlyAgent {
  readonly id: AgentId;
  readonly name: string;
  readonly state: AgentState;
  readonly lastSeenMs: number;
  readonly editCount: number;
  readonly lockedPaths: ReadonlyMap<string, number>;
  readonly lockReasons: ReadonlyMap<string, string>;
  readonly lockTerms?: ReadonlyMap<string, LockTerms>;
  readonly extra: ExtraFields;
  readonly meta?: AgentMeta;
}

export type LockMode = 'exclusive' | 'shared';

/**
 * How a lock is held beyond its path and expiry. Absent members are the defaults: exclusive, one slot. A
 * resource (`@name`) takes `slots`; a path, directory or pattern may be `shared`.
 */
export interface LockTerms {
  readonly mode?: 'shared';
  readonly slots?: number;
  /** Members of the state file's terms this version does not know, kept as they were. */
  readonly extra?: ExtraFields;
}

/** The most slots a resource can have. */
export const MAX_SLOTS = 1_000_000;

const EXCLUSIVE: LockTerms = {};

/** An agent's terms for one of its locks (the defaults when it has none). */
export const termsOf = (agent: ReadonlyAgent, path: string): LockTerms => agent.lockTerms?.get(path) ?? EXCLUSIVE;

/** A long-lived process an agent belongs to (with-lock, an MCP client): its id and start time, against reuse. */
export interface AgentProcess {
  readonly pid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot at which the process started. */
  readonly start: number;
  readonly extra?: ExtraFields;
}

/**
 * The AI coding agent session an agent stands for (`agent-hook`): which client (`claude-code`, `codex`), its
 * own session id, and the host its process runs on (a process is judged alive only on its own host).
 */
export interface AgentSession {
  readonly client: string;
  readonly id: string;
  readonly host: string;
}

/** Where an agent was created from. */
export interface AgentOrigin {
  readonly worktree?: string;
  readonly branch?: string;
  readonly process?: AgentProcess;
}

export interface AgentMeta extends AgentOrigin {
  /** The agent's own silence limit; absent: the workspace's `agent-timeout` setting. */
  readonly timeoutMs?: number;
  /** Set for the agent of an AI coding agent's session (its hooks register it). */
  readonly session?: AgentSession;
  /** Members of the agent's `harn.agents` entry this version does not know, kept as they were. */
  readonly extra?: ExtraFields;
}

/** What one call brings to the registry: defaults for what it creates, never a change to existing agents. */
export interface RegistryConfig {
  /** TTL of the locks this call takes without one (`--lock-ttl`); absent: the workspace's `lock-ttl`. */
  readonly defaultLockTtlMs?: number;
  /** Timeout recorded with the agents this call creates (`--agent-timeout`); absent: they follow the workspace's. */
  readonly agentTimeoutMs?: number;
  /** Where the agents this call creates come from (worktree, branch); read only when one is created. */
  readonly origin?: () => AgentOrigin;
  /**
   * Run by every transaction before its reap: ends the AI agent sessions whose process is gone (the shell
   * injects it: it looks at processes and files). Returns the audit events of what it ended.
   */
  readonly endSessions?: (registry: AgentRegistry, nowMs: number) => readonly HarnEvent[];
}

export const DEFAULT_CONFIG: RegistryConfig = {};

/** Options of one registration. */
export interface NewAgentOptions {
  /** The agent's own timeout (`register --timeout`); default: the call's `agentTimeoutMs`, else the workspace's. */
  readonly timeoutMs?: number;
  /** The long-lived process the agent belongs to. */
  readonly process?: AgentProcess;
  /** The AI coding agent session the agent stands for. */
  readonly session?: AgentSession;
}

/** The snapshot layout of `.harn/agents.json` (the seed's `SerializedRegistry`), as plain data. */
export interface RegistrySnapshot {
  nextId: number;
  agents: Agent[];
  /** Unknown top-level members, kept as they were. */
  extra: ExtraFields;
  /** Unknown members of this tool's own top-level `harn` object, kept as they were. */
  extension?: ExtraFields;
  /** The workspace settings (`harn.settings`), and its members this version does not know. */
  settings?: WorkspaceSettings;
  settingsExtra?: ExtraFields;
}

/** The registry's state as the codec writes it: read-only views of the records. */
export interface ReadonlyRegistrySnapshot {
  readonly nextId: number;
  readonly agents: readonly ReadonlyAgent[];
  readonly extra: ExtraFields;
  readonly extension?: ExtraFields;
  readonly settings?: Readonly<WorkspaceSettings>;
  readonly settingsExtra?: ExtraFields;
}

export interface LockHold {
  readonly agent: ReadonlyAgent;
  /** The lock that holds: the asked path itself, a directory above it, (for a directory) a path under it, or a pattern. */
  readonly path: string;
  readonly expiresMs: number;
  readonly reason: string | undefined;
  readonly mode: LockMode;
  /** A resource's slots (undefined for paths). */
  readonly slots: number | undefined;
  readonly kind: LockKind;
}

/** An agent's live locks as holds, in its lock map's order. */
export function liveHolds(agent: ReadonlyAgent, nowMs: number): LockHold[] {
  const holds: LockHold[] = [];
  forEachLock(agent.lockedPaths, (path, expiry) => {
    if (expiry > nowMs) holds.push(holdOf(agent, path, expiry));
  });
  return holds;
}

/** A hold read off an agent's lock on `path`. */
function holdOf(agent: ReadonlyAgent, path: string, expiresMs: number): LockHold {
  const terms = termsOf(agent, path);
  const kind = lockKind(path);
  return {
    agent,
    path,
    expiresMs,
    reason: agent.lockReasons.get(path),
    mode: terms.mode ?? 'exclusive',
    slots: kind === 'resource' ? (terms.slots ?? 1) : undefined,
    kind,
  };
}

export interface LockConflict {
  readonly path: string;
  readonly holder: ReadonlyAgent;
  /** The conflicting lock's own path (differs from `path` for directory locks and patterns). */
  readonly heldPath: string;
  readonly expiresMs: number;
  readonly reason: string | undefined;
  /** The conflicting hold, whole. */
  readonly hold: LockHold;
}

/** Whether a lock on `a` and a lock on `b` cover a common path (patterns: may cover one). */
export function locksOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.startsWith('@') || b.startsWith('@')) return false;
  if (isPattern(a) || isPattern(b)) return mayOverlap(a, b);
  const dirA = a.endsWith('/');
  const dirB = b.endsWith('/');
  return (dirA && (b.startsWith(a) || b === a.slice(0, -1))) || (dirB && (a.startsWith(b) || a === b.slice(0, -1)));
}

/** The directory locks that would cover `path`: "a/", "a/b/", ... (for "a/b/c.ts"). */
export function ancestorDirectories(path: string): string[] {
  const dirs: string[] = [];
  for (let i = path.indexOf('/'); i !== -1 && i < path.length - 1; i = path.indexOf('/', i + 1)) dirs.push(path.slice(0, i + 1));
  if (!path.endsWith('/')) dirs.push(`${path}/`);
  return dirs;
}

export type LockAllResult =
  | { readonly granted: true; readonly agent: ReadonlyAgent; readonly expiresMs: number }
  | { readonly granted: false; readonly conflicts: readonly LockConflict[] };

/** Thrown when the id space is used up; the caller maps it to a state error. */
export class IdSpaceExhaustedError extends Error {}

const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Lookups answered by scanning before `holderOf` builds its path index. */
const SCAN_LOOKUPS = 4;

export class AgentRegistry {
  private nextIdValue: number;
  private readonly byId: Map<AgentId, Agent>;
  private extra: ExtraFields;
  private extension: ExtraFields;
  private settingsValues: WorkspaceSettings;
  private settingsExtra: ExtraFields;
  /** path -> agents with an entry for it; built on first lookup, dropped on any lock mutation. */
  private pathIndex: Map<string, Agent[]> | null = null;
  /** The pattern keys any agent has an entry for; found on first lookup, dropped on any lock mutation. */
  private patterns: string[] | null = null;
  private mutations = 0;
  private lookups = 0;

  constructor(readonly config: RegistryConfig = DEFAULT_CONFIG, snapshot?: RegistrySnapshot) {
    this.nextIdValue = Math.max(snapshot?.nextId ?? 1, 1);
    this.byId = new Map();
    for (const agent of snapshot?.agents ?? []) this.byId.set(agent.id, agent);
    this.extra = snapshot?.extra ?? [];
    this.extension = snapshot?.extension ?? [];
    this.settingsValues = { ...snapshot?.settings };
    this.settingsExtra = snapshot?.settingsExtra ?? [];
  }

  static fromSnapshot(config: RegistryConfig, snapshot: RegistrySnapshot): AgentRegistry {
    return new AgentRegistry(config, snapshot);
  }

  get nextId(): number {
    return this.nextIdValue;
  }

  /** Whether anything changed since construction (so a caller can skip writing an unchanged state). */
  get changed(): boolean {
    return this.mutations > 0;
  }

  /** A number that moves on every change (a query transaction checks it did not). */
  get version(): number {
    return this.mutations;
  }

  private touched(): void {
    this.mutations += 1;
    this.pathIndex = null;
    this.patterns = null;
  }

  /** The workspace settings that are set (absent keys have their defaults). */
  get settings(): Readonly<WorkspaceSettings> {
    return this.settingsValues;
  }

  /** Set (or, with undefined, unset) a workspace setting. Returns whether it changed. */
  setSetting(key: SettingKey, valueMs: number | undefined): boolean {
    if (this.settingsValues[key] === valueMs) return false;
    if (valueMs === undefined) delete this.settingsValues[key];
    else this.settingsValues[key] = valueMs;
    this.mutations += 1;
    return true;
  }

  /** An agent's silence limit: its own, else the workspace's. */
  timeoutOf(agent: ReadonlyAgent): number {
    return agent.meta?.timeoutMs ?? settingValue(this.settingsValues, 'agent-timeout');
  }

  /** The TTL of a lock taken without one: the call's default, else the workspace's. */
  get defaultLockTtlMs(): number {
    return this.config.defaultLockTtlMs ?? settingValue(this.settingsValues, 'lock-ttl');
  }

  /** How long writes keep agents `prune` would remove: the workspace's `retention` setting (0: for ever). */
  get retentionMs(): number {
    return settingValue(this.settingsValues, 'retention');
  }

  /** Register a new agent under the next free id. */
  register(name: string, nowMs: number, options: NewAgentOptions = {}): AgentId {
    const id = this.nextIdValue;
    if (id >= MAX_ID) {
      // Only another tool can have written such a next_id (chosen ids stop at 2^32-1).
      throw new IdSpaceExhaustedError(
        `agent ids are exhausted: next_id is ${id} (2^53-1), so no agent can be registered; run \`harn-agents doctor --fix-ids\``,
      );
    }
    this.nextIdValue = id + 1;
    return this.put(id, name, nowMs, options);
  }

  /**
   * Register or refresh an agent under an explicit id, at most MAX_CHOSEN_ID. As in the seed, an existing
   * record under that id is replaced whole (state, edit count and locks start afresh), and `nextId` moves
   * past the id.
   */
  registerWithId(id: AgentId, name: string, nowMs: number, options: NewAgentOptions = {}): AgentId {
    if (!(id <= MAX_CHOSEN_ID)) throw chosenIdError(id, 'id');
    return this.put(id, name, nowMs, options);
  }

  private put(id: AgentId, name: string, nowMs: number, options: NewAgentOptions): AgentId {
    this.nextIdValue = Math.max(this.nextIdValue, Math.min(id + 1, MAX_ID));
    const timeoutMs = options.timeoutMs ?? this.config.agentTimeoutMs;
    const origin = this.config.origin?.() ?? {};
    const meta: AgentMeta = {
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(origin.worktree === undefined ? {} : { worktree: origin.worktree }),
      ...(origin.branch === undefined ? {} : { branch: origin.branch }),
      ...(options.process ? { process: options.process } : origin.process ? { process: origin.process } : {}),
      ...(options.session ? { session: options.session } : {}),
    };
    this.byId.set(id, {
      id,
      name,
      state: 'active',
      lastSeenMs: nowMs,
      editCount: 0,
      lockedPaths: new Map(),
      lockReasons: new Map(),
      extra: [],
      ...(Object.keys(meta).length > 0 ? { meta } : {}),
    });
    this.touched();
    return id;
  }

  /** Refresh an agent; an unknown id is registered as `agent-<id>`, a crashed one comes back to active. */
  heartbeat(id: AgentId, nowMs: number): ReadonlyAgent {
    return this.heartbeatRecord(id, nowMs);
  }

  private heartbeatRecord(id: AgentId, nowMs: number): Agent {
    const info = this.byId.get(id);
    if (!info) {
      if (!(id <= MAX_CHOSEN_ID)) throw usageError(`agent ${id} is not registered, and a call can register an agent only under ids 0 to ${MAX_CHOSEN_ID}`);
      this.registerWithId(id, `agent-${id}`, nowMs);
      return this.byId.get(id) as Agent;
    }
    info.lastSeenMs = nowMs;
    if (info.state === 'crashed') info.state = 'active';
    this.mutations += 1;
    return info;
  }

  /**
   * Record that an agent's process is now `process` (a session resumed by a new client process). Refreshes
   * the agent like a heartbeat.
   */
  moveToProcess(id: AgentId, process: AgentProcess, nowMs: number): void {
    const info = this.heartbeatRecord(id, nowMs);
    info.meta = { ...info.meta, process };
    this.touched();
  }

  /**
   * An agent whose session ended (its client closed or its process is gone) but whose live locks stay: they
   * cover uncommitted work. State `gone` is never reaped (reap looks at `active` agents only), so the locks
   * last until released or broken; `reactivate` brings the agent back (its session resumed).
   */
  /** Bring a `gone` or `crashed` agent back to `active` (a session resumed), refreshed like a heartbeat. */
  reactivate(id: AgentId, nowMs: number): void {
    const info = this.heartbeatRecord(id, nowMs);
    if (info.state !== 'active') {
      info.state = 'active';
      this.touched();
    }
  }

  markGone(id: AgentId): boolean {
    const info = this.byId.get(id);
    if (!info || info.state === 'gone') return false;
    info.state = 'gone';
    this.touched();
    return true;
  }

  /** Drop an agent record. Returns whether there was one. */
  unregister(id: AgentId): boolean {
    const removed = this.byId.delete(id);
    if (removed) this.touched();
    return removed;
  }

  agents(): IterableIterator<ReadonlyAgent> {
    return this.byId.values();
  }

  get(id: AgentId): ReadonlyAgent | undefined {
    return this.byId.get(id);
  }

  /** Count one edit for `id`. No-op (returns false) when the agent is unknown, as in the seed. */
  noteEdit(id: AgentId, nowMs: number): boolean {
    const info = this.byId.get(id);
    if (!info) return false;
    info.editCount = Math.min(info.editCount + 1, MAX_ID);
    info.lastSeenMs = nowMs;
    this.mutations += 1;
    return true;
  }

  /**
   * The live lock that holds `path` for an agent other than `except`, if any: a lock on the path itself
   * first, then a directory lock above it, then (when `path` is a directory) a lock under it, then a pattern.
   * Does not reap.
   */
  holderOf(path: string, nowMs: number, except?: AgentId | ReadonlySet<AgentId>): LockHold | undefined {
    return this.holdersOf(path, nowMs, except)[0];
  }

  /**
   * Every live lock of an agent other than `except` that overlaps `key` (a path, directory, pattern or
   * resource), in the order `holderOf` prefers them: the key itself, directories above it, locks under it,
   * patterns. Does not reap.
   */
  holdersOf(key: string, nowMs: number, except?: AgentId | ReadonlySet<AgentId>, name = false): LockHold[] {
    const excluded = (id: AgentId): boolean => (typeof except === 'number' ? id === except : (except?.has(id) ?? false));
    // A few lookups scan the agents (as the seed does); more build the path index once, so answering many
    // paths (check --staged on a big change) stays linear in the registry's size.
    this.lookups += 1;
    const index = this.pathIndex ?? (this.lookups > SCAN_LOOKUPS ? this.index() : null);
    // `name`: the key is a file's name as it is (check's paths from git): never a pattern or a resource.
    const kind: LockKind = name ? (key.endsWith('/') ? 'directory' : 'path') : lockKind(key);
    const candidates = kind === 'resource' ? [key] : kind === 'pattern' ? [] : [key, ...ancestorDirectories(key)];
    const allKeys = (): Iterable<string> => (index ? index.keys() : this.allKeys());
    if (kind === 'directory') {
      for (const other of allKeys()) if (other !== key && !other.startsWith('@') && !isPattern(other) && locksOverlap(key, other) && !candidates.includes(other)) candidates.push(other);
    } else if (kind === 'pattern') {
      // Only keys under the pattern's literal base, directories above it, and patterns can overlap it.
      const base = patternBase(key);
      for (const other of allKeys()) {
        if (other.startsWith('@') || isPattern(other)) continue;
        if ((other.startsWith(base) || (other.endsWith('/') && base.startsWith(other))) && mayOverlap(key, other) && !candidates.includes(other)) candidates.push(other);
      }
    }
    const overlapsPattern = (pattern: string): boolean => (name && kind === 'path' ? covers(pattern, key) : mayOverlap(key, pattern));
    if (kind !== 'resource') for (const pattern of this.patternKeys()) if (!candidates.includes(pattern) && overlapsPattern(pattern)) candidates.push(pattern);
    const holds: LockHold[] = [];
    for (const held of candidates) {
      const agents = index ? (index.get(held) ?? []) : this.byId.values();
      for (const agent of agents) {
        if (excluded(agent.id)) continue;
        const expiry = agent.lockedPaths.get(held);
        if (expiry !== undefined && expiry > nowMs) holds.push(holdOf(agent, held, expiry));
      }
    }
    return holds;
  }

  /** Every key any agent has an entry for, without building lock maps (for the few scanning lookups). */
  private *allKeys(): Iterable<string> {
    const seen = new Set<string>();
    for (const agent of this.byId.values()) {
      const keys: string[] = [];
      forEachLock(agent.lockedPaths, (path) => keys.push(path));
      for (const path of keys) {
        if (seen.has(path)) continue;
        seen.add(path);
        yield path;
      }
    }
  }

  /** The pattern keys any agent has an entry for (live or not). */
  private patternKeys(): readonly string[] {
    if (this.patterns) return this.patterns;
    const found = new Set<string>();
    for (const agent of this.byId.values()) {
      // A lock map read from a file without any pattern, and not changed since, has none to find.
      const locks = agent.lockedPaths;
      if (locks instanceof SourcedLockMap && locks.noPatterns && locks.unchanged) continue;
      forEachLock(locks, (path) => {
        if (isPattern(path)) found.add(path);
      });
    }
    this.patterns = [...found];
    return this.patterns;
  }

  /** The seed's `lock_holder`: reaps, then returns the id holding a live lock on `path`. */
  lockHolder(path: string, nowMs: number): AgentId | undefined {
    this.reap(nowMs);
    return this.holderOf(path, nowMs)?.agent.id;
  }

  /** The seed's `try_lock` for one path. */
  tryLock(agentId: AgentId, path: string, ttlMs: number | undefined, nowMs: number): boolean {
    return this.lockAll(agentId, [path], ttlMs, nowMs).granted;
  }

  /**
   * The live locks of other agents that stop `agentId` from locking `key` with `terms`: every overlapping
   * lock unless both are shared; for a resource, its holders once they fill its slots. A resource asked with
   * other slots than its live holders hold it with is a usage error (exit 2) naming them.
   */
  conflictsOf(agentId: AgentId, key: string, terms: LockTerms, nowMs: number): LockHold[] {
    const holds = this.holdersOf(key, nowMs, agentId);
    if (lockKind(key) === 'resource') {
      const slots = terms.slots ?? 1;
      const other = holds.find((h) => h.path === key && (h.slots ?? 1) !== slots);
      if (other) {
        throw usageError(
          `${key} has ${other.slots ?? 1} slot${(other.slots ?? 1) === 1 ? '' : 's'} (agent ${other.agent.id} holds it so), not ${slots}: ` +
            `lock it with --slots ${other.slots ?? 1}, or wait until its holders release it`,
        );
      }
      return holds.length >= slots ? holds : [];
    }
    const shared = terms.mode === 'shared';
    return holds.filter((h) => !(shared && h.mode === 'shared'));
  }

  /**
   * Lock every path for `agentId`, or none: refused while any path has a live lock held by another agent
   * that conflicts (see `conflictsOf`). Reaps first, so a silent holder does not block forever. An unknown
   * agent is registered as `agent-<id>`. `terms` apply to every path (default: exclusive, one slot).
   */
  lockAll(agentId: AgentId, paths: readonly string[], ttlMs: number | undefined, nowMs: number, reason?: string, terms: LockTerms = EXCLUSIVE): LockAllResult {
    this.reap(nowMs);
    const conflicts: LockConflict[] = [];
    for (const path of paths) {
      for (const hold of this.conflictsOf(agentId, path, terms, nowMs)) {
        conflicts.push({ path, holder: hold.agent, heldPath: hold.path, expiresMs: hold.expiresMs, reason: hold.reason, hold });
      }
    }
    if (conflicts.length > 0) return { granted: false, conflicts };

    const agent = this.byId.get(agentId) ?? this.heartbeatRecord(agentId, nowMs);
    // Saturates: a registry time near 2^53 (a skewed writer) must not produce an expiry no file can hold.
    const expiresMs = Math.min(nowMs + (ttlMs ?? this.defaultLockTtlMs), Number.MAX_SAFE_INTEGER);
    const plain = terms.mode === undefined && (terms.slots ?? 1) === 1;
    for (const path of paths) {
      agent.lockedPaths.set(path, expiresMs);
      // A renewal without a reason keeps the reason given before.
      if (reason !== undefined) agent.lockReasons.set(path, reason);
      // Locking again with other terms changes them (shared to exclusive and back).
      if (!plain) (agent.lockTerms ??= new Map()).set(path, terms.mode === 'shared' ? { mode: 'shared' } : { slots: terms.slots as number });
      else agent.lockTerms?.delete(path);
    }
    agent.lastSeenMs = nowMs;
    if (agent.state === 'crashed') agent.state = 'active';
    this.touched();
    return { granted: true, agent, expiresMs };
  }

  /**
   * Extend `agentId`'s live locks on every path to `nowMs + ttlMs`, or none. Unlike `lockAll`, a renewal
   * never takes a lock back: a lock that lapsed, was broken (`release --force`) or was reaped is lost, even if
   * the path is free again, because someone may have used it meanwhile. Returns the paths it no longer holds
   * (empty: renewed).
   */
  renewLocks(agentId: AgentId, paths: readonly string[], ttlMs: number, nowMs: number): string[] {
    const agent = this.byId.get(agentId);
    const lost = paths.filter((path) => !(agent && agent.state === 'active' && (agent.lockedPaths.get(path) ?? -Infinity) > nowMs));
    if (lost.length > 0 || !agent) return lost;
    const expiresMs = Math.min(nowMs + ttlMs, Number.MAX_SAFE_INTEGER);
    for (const path of paths) agent.lockedPaths.set(path, expiresMs);
    agent.lastSeenMs = nowMs;
    this.touched();
    return [];
  }

  /** Set the reason of a lock `agentId` holds on `path` (a claim kept after its session ended). */
  setLockReason(agentId: AgentId, path: string, reason: string): void {
    const agent = this.byId.get(agentId);
    if (!agent?.lockedPaths.has(path) || agent.lockReasons.get(path) === reason) return;
    agent.lockReasons.set(path, reason);
    this.touched();
  }

  /**
   * Move `from`'s live locks (and their reasons, or `reason`) to `to` (a session that took over another's
   * work: `/clear` in the same client process). Returns the paths moved.
   */
  transferLocks(from: AgentId, to: AgentId, nowMs: number, reason?: string): string[] {
    const source = this.byId.get(from);
    const target = this.byId.get(to);
    if (!source || !target || from === to) return [];
    const moved: string[] = [];
    for (const [path, expiry] of source.lockedPaths) {
      if (expiry <= nowMs) continue;
      target.lockedPaths.set(path, Math.max(expiry, target.lockedPaths.get(path) ?? 0));
      const why = reason ?? source.lockReasons.get(path);
      if (why !== undefined) target.lockReasons.set(path, why);
      moved.push(path);
    }
    source.lockedPaths.clear();
    source.lockReasons.clear();
    this.touched();
    return moved;
  }

  /** Release `agentId`'s lock on `path`. Returns whether it had an entry for it. */
  releaseLock(agentId: AgentId, path: string): boolean {
    const agent = this.byId.get(agentId);
    const removed = agent?.lockedPaths.delete(path) ?? false;
    agent?.lockReasons.delete(path);
    agent?.lockTerms?.delete(path);
    if (removed) this.touched();
    return removed;
  }

  /**
   * Break every agent's live lock on exactly `path` (`release --force`). Returns the locks broken.
   * Expired entries on the path are dropped too.
   */
  forceRelease(path: string, nowMs: number): LockHold[] {
    const broken: LockHold[] = [];
    for (const agent of this.index().get(path) ?? []) {
      const expiry = agent.lockedPaths.get(path);
      if (expiry !== undefined && expiry > nowMs) broken.push(holdOf(agent, path, expiry));
      agent.lockedPaths.delete(path);
      agent.lockReasons.delete(path);
      agent.lockTerms?.delete(path);
      this.touched();
    }
    return broken;
  }

  /**
   * Mark every active agent silent for longer than the timeout as crashed and clear its locks.
   * Idempotent. Returns the agents it reaped.
   */
  reap(nowMs: number): ReadonlyAgent[] {
    return this.reapWithDetails(nowMs).map((r) => r.agent);
  }

  /** `reap`, also saying which lock paths each reaped agent lost (for the audit trail). */
  reapWithDetails(nowMs: number): Array<{ readonly agent: ReadonlyAgent; readonly releasedPaths: readonly string[] }> {
    const reaped: Array<{ agent: Agent; releasedPaths: string[] }> = [];
    // `timeoutOf`, with the workspace's timeout looked up once rather than for each of (maybe) 10,000 agents.
    const workspaceTimeoutMs = settingValue(this.settingsValues, 'agent-timeout');
    for (const info of this.byId.values()) {
      if (info.state === 'active' && nowMs - info.lastSeenMs > (info.meta?.timeoutMs ?? workspaceTimeoutMs)) {
        const releasedPaths = [...info.lockedPaths].filter(([, expiry]) => expiry > nowMs).map(([path]) => path);
        info.state = 'crashed';
        info.lockedPaths.clear();
        info.lockReasons.clear();
        info.lockTerms?.clear();
        reaped.push({ agent: info, releasedPaths });
      }
    }
    if (reaped.length > 0) this.touched();
    return reaped;
  }

  /**
   * Remove the agents that are `crashed` or `gone`, hold no live lock, and were last seen more than
   * `olderThanMs` before `nowMs`: `harn-agents prune`, and every write under the workspace's `retention`
   * setting (src/store/transaction.ts). `nextId` is kept, so their ids are never handed out again. Returns
   * the agents removed.
   */
  prune(nowMs: number, olderThanMs: number): ReadonlyAgent[] {
    const removed: ReadonlyAgent[] = [];
    // Runs on every write: no arrays per agent, and the lock map only of agents old enough.
    for (const agent of this.byId.values()) {
      if (agent.state === 'active' || !(nowMs - agent.lastSeenMs > olderThanMs)) continue;
      let holds = false;
      for (const expiry of agent.lockedPaths.values()) if (expiry > nowMs) holds = true;
      if (!holds) removed.push(agent);
    }
    for (const agent of removed) this.byId.delete(agent.id);
    if (removed.length > 0) this.touched();
    return removed;
  }

  /**
   * Replace every record with those of `snapshot` (`harn-agents import`). `nextId` never goes down, so ids
   * handed out here before are still never reused.
   */
  replaceAll(snapshot: RegistrySnapshot): void {
    this.byId.clear();
    for (const agent of snapshot.agents) this.byId.set(agent.id, agent);
    this.nextIdValue = Math.max(this.nextIdValue, snapshot.nextId, 1);
    this.extra = snapshot.extra;
    this.extension = snapshot.extension ?? [];
    this.settingsValues = { ...snapshot.settings };
    this.settingsExtra = snapshot.settingsExtra ?? [];
    this.touched();
  }

  /**
   * Move `nextId` up to `atLeast` (never down), so ids below it are never handed out (`doctor --reset`, past
   * the ids a broken file mentions). Counts as a change even when `nextId` stays: the registry is saved.
   */
  raiseNextId(atLeast: number): void {
    this.nextIdValue = Math.max(this.nextIdValue, Math.min(atLeast, MAX_ID));
    this.touched();
  }

  /** Whether `nextId` leaves no id to hand out (only another tool or an old import can have written that). */
  get idsExhausted(): boolean {
    return this.nextIdValue >= MAX_ID;
  }

  /**
   * `doctor --fix-ids`: bring an exhausted `nextId` back to just past the highest id held (agents and their
   * locks are kept). Ids between were never handed out by a call (chosen ids stop at 2^32-1), so none is
   * reused by anyone who could still use it. Returns the new `nextId`, or null when it cannot help (not
   * exhausted, or an agent's own id is at the limit).
   */
  repairNextId(): number | null {
    if (!this.idsExhausted) return null;
    let highest = 0;
    for (const id of this.byId.keys()) highest = Math.max(highest, id);
    if (highest + 1 >= MAX_ID) return null;
    this.nextIdValue = highest + 1;
    this.touched();
    return this.nextIdValue;
  }

  /**
   * Move every stored time (last seen, lock expiries) by `deltaMs` (`doctor --fix-clock`): their order and
   * the spans between them, so each lock's time left, are kept. Returns how many lock entries moved.
   */
  shiftTimes(deltaMs: number): number {
    let locks = 0;
    for (const agent of this.byId.values()) {
      agent.lastSeenMs = Math.max(0, agent.lastSeenMs + deltaMs);
      for (const [path, expiry] of agent.lockedPaths) {
        agent.lockedPaths.set(path, Math.max(0, expiry + deltaMs));
        locks++;
      }
    }
    this.touched();
    return locks;
  }

  /** The newest `lastSeenMs` of any agent, or -Infinity for an empty registry. */
  newestSeenMs(): number {
    let newest = -Infinity;
    for (const agent of this.byId.values()) if (agent.lastSeenMs > newest) newest = agent.lastSeenMs;
    return newest;
  }

  /** A view of the current state for encoding; it shares the agent records, so encode it before mutating. */
  snapshot(): ReadonlyRegistrySnapshot {
    return {
      nextId: this.nextIdValue,
      agents: [...this.byId.values()],
      extra: this.extra,
      extension: this.extension,
      settings: this.settingsValues,
      settingsExtra: this.settingsExtra,
    };
  }

  private index(): Map<string, Agent[]> {
    if (this.pathIndex) return this.pathIndex;
    const index = new Map<string, Agent[]>();
    for (const agent of this.byId.values()) {
      for (const path of agent.lockedPaths.keys()) {
        const list = index.get(path);
        if (list) list.push(agent);
        else index.set(path, [agent]);
      }
    }
    this.pathIndex = index;
    return index;
  }
}

/**
 * harn-agents as a library: the same use cases the CLI and the MCP server run, as typed functions. Each
 * method is one store transaction (the same OS lock and atomic write as the CLI), returns the same data as
 * the CLI's `--json`, and throws a `HarnError` whose `exitCode` has the CLI's meaning (2 bad input, 3 state
 * file, 4 state lock). A refused lock or a held path is a normal result, not an error.
 *
 *   import { openRegistry } from 'harn-agents';
 *   const registry = openRegistry({ cwd: '/path/to/repo' });
 *   const { id } = await registry.register('my-editor');
 *   const result = await registry.lock(['src/api.ts'], { agent: id, ttl: '5m' });
 */
import { check, type CheckResult } from '../commands/check.js';
import type { Context } from '../commands/context.js';
import { heartbeat, type HeartbeatResult } from '../commands/heartbeat.js';
import { holder, type HolderResult } from '../commands/holder.js';
import { lock, type LockResult } from '../commands/lock.js';
import { log, type LogResult } from '../commands/log.js';
import { noteEdit, type NoteEditResult } from '../commands/note-edit.js';
import { reap, type ReapResult } from '../commands/reap.js';
import { register, type RegisterResult } from '../commands/register.js';
import { release, type ReleaseResult } from '../commands/release.js';
import { status, type StatusOptions, type StatusResult } from '../commands/status.js';
import { unregister, type UnregisterResult } from '../commands/unregister.js';
import { parseDuration } from '../core/durations.js';
import { DEFAULT_CONFIG, type RegistryConfig } from '../core/registry.js';
import { createContext as createContextFrom } from '../commands/create-context.js';

export { ExitCode, HarnError, isHarnError } from '../core/errors.js';
export type { CheckResult, HeartbeatResult, HolderResult, LockResult, LogResult, NoteEditResult, ReapResult, RegisterResult, ReleaseResult, StatusResult, UnregisterResult };
export type { HarnEvent } from '../core/events.js';

/** A duration as the CLI takes it ("30s", "5m", "1500ms") or a number of milliseconds. */
export type Duration = string | number;

export interface OpenRegistryOptions {
  /** Where to start looking for the workspace, as the CLI's current directory (default: process.cwd()). */
  readonly cwd?: string;
  /** The workspace root, as HARN_WORKSPACE (default: discovered from `cwd`). */
  readonly workspace?: string;
  /** Default lock TTL (default 30s). */
  readonly lockTtl?: Duration;
  /** Silence after which an agent is reaped (default 45s). */
  readonly agentTimeout?: Duration;
  /** How long to wait for the state file's OS lock (default 10s). */
  readonly stateLockWait?: Duration;
  /** The clock, for tests (default Date.now; the PostgreSQL store uses the database server's clock). */
  readonly clock?: () => number;
  /** Where the registry lives: 'file' (default) or a postgres:// URL. */
  readonly store?: string;
  /** The workspace's name in a shared database (default: the git remote URL, else the directory's name). */
  readonly namespace?: string;
}

export interface Registry {
  /** The workspace root and state file this registry works on. */
  readonly workspace: { readonly root: string; readonly statePath: string };
  register(name: string, options?: { id?: number }): Promise<RegisterResult>;
  heartbeat(agent: number): Promise<HeartbeatResult>;
  unregister(agent: number): Promise<UnregisterResult>;
  noteEdit(agent: number): Promise<NoteEditResult>;
  /** Lock every path or none; `granted: false` names the holders. Paths are taken from `cwd`. */
  lock(paths: readonly string[], options: { agent: number; ttl?: Duration; wait?: Duration; reason?: string }): Promise<LockResult>;
  release(paths: readonly string[], options: { agent?: number; force?: boolean; reason?: string }): Promise<ReleaseResult>;
  holder(paths: readonly string[]): Promise<HolderResult>;
  /** Which paths are held by an agent other than `agent` (every holder counts without one). */
  check(paths: readonly string[], options?: { agent?: number }): Promise<CheckResult>;
  status(options?: StatusOptions): Promise<StatusResult>;
  reap(): Promise<ReapResult>;
  log(options?: { since?: Duration }): Promise<LogResult>;
}

const toMs = (value: Duration | undefined, what: string): number | undefined =>
  value === undefined ? undefined : typeof value === 'number' ? parseDuration(String(value), what) : parseDuration(value, what);

/** Build the context one registry works in: the same pieces the CLI builds from its flags. */
export function createContext(options: OpenRegistryOptions = {}): Context {
  const config: RegistryConfig = {
    defaultLockTtlMs: toMs(options.lockTtl, 'lockTtl') ?? DEFAULT_CONFIG.defaultLockTtlMs,
    agentTimeoutMs: toMs(options.agentTimeout, 'agentTimeout') ?? DEFAULT_CONFIG.agentTimeoutMs,
  };
  return createContextFrom({
    cwd: options.cwd ?? process.cwd(),
    workspace: options.workspace,
    config,
    store: options.store,
    namespace: options.namespace,
    stateLockWaitMs: toMs(options.stateLockWait, 'stateLockWait'),
    clock: options.clock,
  });
}

/** Open the registry of a workspace. Cheap: nothing is read until a method is called. */
export function openRegistry(options: OpenRegistryOptions = {}): Registry {
  return registryFor(createContext(options));
}

/** The registry API over an existing context (the CLI and the MCP server build theirs from flags). */
export function registryFor(ctx: Context): Registry {
  return {
    workspace: { root: ctx.workspace.root, statePath: ctx.workspace.statePath },
    register: (name, options = {}) => register(ctx, { name, id: options.id }),
    heartbeat: (agent) => heartbeat(ctx, { agent }),
    unregister: (agent) => unregister(ctx, { agent }),
    noteEdit: (agent) => noteEdit(ctx, { agent }),
    lock: (paths, options) =>
      lock(ctx, { paths, agent: options.agent, ttlMs: toMs(options.ttl, 'ttl'), waitMs: toMs(options.wait, 'wait'), reason: options.reason }),
    release: (paths, options) => release(ctx, { paths, agent: options.agent ?? null, force: options.force, reason: options.reason }),
    holder: (paths) => holder(ctx, { paths }),
    check: (paths, options = {}) => check(ctx, { paths, agent: options.agent ?? null, guard: 'on' }),
    status: (options = {}) => status(ctx, options),
    reap: () => reap(ctx),
    log: (options = {}) => log(ctx, { sinceMs: toMs(options.since, 'since') }),
  };
}

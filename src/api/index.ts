/**
 * harn-agents as a library: the same use cases the CLI and the MCP server run, as typed functions. Each
 * method is one store transaction (the same OS lock and atomic write as the CLI), returns the same data as
 * the CLI's `--json`, and throws a `HarnError` whose `exitCode` has the CLI's meaning (2 bad input, 3 state
 * file, 4 state lock). A refused lock or a held path is a normal result, not an error. Input of the wrong
 * type or out of range (a string id, a fractional id, `ttl: -1`, no paths) is a `HarnError` with exit code 2,
 * checked by the use cases themselves (core/validate.ts) before the state is read, so nothing is written.
 *
 * The methods are the commands that declare a library face (src/commands/<name>.ts, `library`); the
 * `Registry` type is derived from those declarations.
 *
 *   import { openRegistry } from 'harn-agents';
 *   const registry = openRegistry({ cwd: '/path/to/repo' });
 *   const { id } = await registry.register('my-editor');
 *   const result = await registry.lock(['src/api.ts'], { agent: id, ttl: '5m' });
 */
import { erased } from '../commands/command.js';
import type { Context } from '../commands/context.js';
import { openContext, registryConfig } from '../commands/create-context.js';
import { COMMANDS, type AnyCommand } from '../commands/index.js';
import type { Duration } from '../core/durations.js';
import { usageError } from '../core/errors.js';
import { optionalDuration, optionalString, optionsObject } from '../core/validate.js';

export { ExitCode, HarnError, isHarnError } from '../core/errors.js';
export type { CheckResult } from '../commands/check.js';
export type { ConfigResult } from '../commands/config.js';
export type { HeartbeatResult } from '../commands/heartbeat.js';
export type { Hold, PathHolds } from '../commands/hold.js';
export type { HolderResult } from '../commands/holder.js';
export type { LockResult } from '../commands/lock.js';
export type { LogResult } from '../commands/log.js';
export type { NoteEditResult } from '../commands/note-edit.js';
export type { ReapResult } from '../commands/reap.js';
export type { RegisterResult } from '../commands/register.js';
export type { ReleaseResult } from '../commands/release.js';
export type { StatusOptions, StatusResult } from '../commands/status/status.js';
export type { UnregisterResult } from '../commands/unregister.js';
export type { HarnEvent } from '../core/events.js';
export type { Duration } from '../core/durations.js';

export interface OpenRegistryOptions {
  /** Where to start looking for the workspace, as the CLI's current directory (default: process.cwd()). */
  readonly cwd?: string;
  /** The workspace root, as HARN_WORKSPACE (default: discovered from `cwd`). */
  readonly workspace?: string;
  /** TTL of the locks this registry takes without one (default: the workspace's `lock-ttl` setting, 30s). */
  readonly lockTtl?: Duration;
  /**
   * Timeout recorded with the agents this registry creates without one (default: they follow the workspace's
   * `agent-timeout` setting, 45s). Never changes how long other agents live.
   */
  readonly agentTimeout?: Duration;
  /** How long to wait for the store's lock (default 10s): the state file's OS lock, or PostgreSQL's lock_timeout. */
  readonly stateLockWait?: Duration;
  /**
   * The clock, for tests (default Date.now). The file store reads it; the PostgreSQL store reads the database
   * server's clock instead (one clock for every machine), so this one is not used there.
   */
  readonly clock?: () => number;
  /** Where the registry lives: 'file' (default) or a postgres:// URL. */
  readonly store?: string;
  /** The workspace's name in a shared database (default: the git remote URL, else the directory's name). */
  readonly namespace?: string;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The method a command adds to the library: its declared name, arguments, and the use case's result. */
type LibraryMethod<C> = C extends {
  readonly library?: { readonly method: infer M extends string; readonly input: (...args: infer A) => unknown; run?(ctx: Context, options: never): Promise<infer R> };
}
  ? { readonly [K in M]: (...args: A) => Promise<R> }
  : never;

/** The library: one method per command that declares a library face, and the workspace it works on. */
export type Registry = {
  /** The workspace root and state file this registry works on. */
  readonly workspace: { readonly root: string; readonly statePath: string };
  /** Let go of what the store holds open (a PostgreSQL pool); a no-op for the file store. */
  close(): Promise<void>;
} & UnionToIntersection<LibraryMethod<AnyCommand>>;

/** Build the context a library registry works in: the same pieces the CLI builds from its flags. */
function libraryContext(given: OpenRegistryOptions = {}): Context {
  const options = optionsObject(given, 'openRegistry options');
  const clock = options.clock;
  if (clock !== undefined && typeof clock !== 'function') throw usageError('clock must be a function returning milliseconds');
  return openContext({
    cwd: optionalString(options.cwd, 'cwd') ?? process.cwd(),
    workspace: optionalString(options.workspace, 'workspace'),
    config: registryConfig({ lockTtl: options.lockTtl, agentTimeout: options.agentTimeout }),
    store: optionalString(options.store, 'store'),
    namespace: optionalString(options.namespace, 'namespace'),
    stateLockWaitMs: optionalDuration(options.stateLockWait, 'stateLockWait'),
    clock: clock as (() => number) | undefined,
    safeDirectories: process.env.HARN_SAFE_DIRECTORIES,
  });
}

/** Open the registry of a workspace. Cheap: nothing is read until a method is called. */
export function openRegistry(options: OpenRegistryOptions = {}): Registry {
  return registryFor(libraryContext(options));
}

/** The library's method names, from the declarations (the docs test checks docs/api.md names each). */
export const LIBRARY_METHODS: readonly string[] = [
  ...erased(COMMANDS).flatMap((c) => (c.library ? [c.library.method] : [])),
  'close',
];

/** The registry API over an existing context (the CLI and the MCP server build theirs from flags). */
export function registryFor(ctx: Context): Registry {
  const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const command of erased(COMMANDS)) {
    const library = command.library;
    if (!library) continue;
    // Async, so bad input rejects the promise rather than throwing where the method is called. Values are
    // passed on as they arrived: the library face converts ("5m" to ms), the use case validates.
    const run = library.run ?? command.run;
    methods[library.method] = async (...args) => run(ctx, library.input(...args));
  }
  return {
    ...methods,
    workspace: { root: ctx.workspace.root, statePath: ctx.workspace.statePath },
    close: () => ctx.store.close(),
  } as Registry;
}

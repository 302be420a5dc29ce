import { normaliseLockPaths } from '../core/paths.js';
import { agentId, byKey, describeValue, optionalDuration, optionalFlag, optionalReason, optionsObject, pathList, type InputNames } from '../core/validate.js';
import { usageError } from '../core/errors.js';
import { MAX_SLOTS, type LockTerms } from '../core/registry.js';
import { holdJson, holdSays, holdText, HOLD_SCHEMA, pathHolds, PATH_HOLDS_SCHEMA, type Hold, type PathHolds } from './hold.js';
import { defineCommand, type CancelSignal } from './command.js';
import { cliPaths, flagNames, givenAgent, wholeNumberText } from './argv.js';
import { ExitCode } from '../core/errors.js';
import type { Duration } from '../core/durations.js';
import { lockLifetime, mcpPaths, NOW_MS, pathsText } from './mcp-schema.js';
import { formatSpan } from '../core/durations.js';
import { agentLabel, clockTime, expiresIn, type Rendered } from '../render/text.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import type { Context } from './context.js';

/** A lock's options as a face gives them, checked once by the use case (`lockSettings`). */
export interface LockOptions {
  /** Paths as the user gave them; normalised against the workspace. */
  readonly paths: readonly string[];
  /** The agent taking the locks (the CLI's id as typed). */
  readonly agent: number | string;
  /** Lock TTL, in ms or as typed ("2m"); the registry's default (`--lock-ttl`) when absent. */
  readonly ttlMs?: Duration;
  /** Keep retrying a refused lock for this long (ms, or as typed). */
  readonly waitMs?: Duration;
  /** Why the paths are locked; shown to anyone the lock stops. */
  readonly reason?: string;
  /** Lock shared (paths, directories, patterns): any number of shared holders, no exclusive one. */
  readonly shared?: boolean;
  /** A resource's slots (`@name` only): at most this many holders at once (default 1); the CLI's text as typed. */
  readonly slots?: number | string;
  /**
   * Aborts when the caller gives up (an MCP request the client cancelled): a `wait` stops at once, and a try
   * whose transaction has not run yet takes nothing; the call then rejects with `LockCancelled`.
   */
  readonly signal?: CancelSignal;
  /** How the calling face names these options in a refusal (default: by key, as the library and MCP do). */
  readonly names?: InputNames;
}

/** A lock's options once checked. */
export interface LockSettings {
  readonly agent: number;
  readonly ttlMs?: number;
  readonly waitMs?: number;
  readonly reason?: string;
  readonly shared?: boolean;
  readonly slots?: number;
  readonly signal?: CancelSignal;
}

/** The caller gave up on a lock (its `signal` aborted) before anything was locked for it. */
export class LockCancelled extends Error {
  constructor(paths: readonly string[]) {
    super(`the lock on ${paths.join(', ')} was cancelled; nothing was locked`);
    this.name = 'LockCancelled';
  }
}

/** Sleep, but wake at once when `signal` aborts. */
async function sleepUnlessAborted(ctx: Context, ms: number, signal: CancelSignal | undefined): Promise<void> {
  if (!signal) return ctx.sleep(ms);
  if (signal.aborted) return;
  let wake = (): void => undefined;
  const aborted = new Promise<void>((resolve) => {
    wake = resolve;
    signal.addEventListener('abort', wake, { once: true });
  });
  await Promise.race([ctx.sleep(ms), aborted]);
  signal.removeEventListener('abort', wake);
}

export interface LockResult {
  readonly granted: boolean;
  readonly agent: number;
  /** Granted: the caller's holds, one per key asked. Refused: none. */
  readonly locks: readonly Hold[];
  /** Refused: each key that conflicts, with every hold in its way. Granted: none. */
  readonly conflicts: readonly PathHolds[];
  /** Refused: how long from `now_ms` until every conflict's holds expire (when to try again); granted: null. */
  readonly retry_after_ms: number | null;
  /** The registry's time of the answer: the clock `expires_ms` is counted on. */
  readonly now_ms: number;
  /**
   * Granted: the agent's own silence limit. A lock is freed when its agent is reaped, so a TTL longer than
   * this holds only while the agent heartbeats (or locks again) at least that often.
   */
  readonly agent_timeout_ms?: number;
}

/** Longest sleep between two tries of `--wait`, so a released lock is picked up quickly. */
const WAIT_POLL_MS = 200;
/** Shortest sleep between two tries: a bound on the write rate of `--wait` whatever the clocks say. */
const WAIT_POLL_MIN_MS = 50;

/**
 * How long `--wait` sleeps after a refusal: until the soonest conflicting lock expires, counted on the
 * answer's own timeline (its `now_ms`, the store's clock) rather than this process's clock, which may
 * disagree with it by hours; never less than 50 ms nor more than 200 ms, nor past the wait's end.
 */
export function waitPollMs(result: LockResult, remainingMs: number): number {
  const soonest = Math.min(...result.conflicts.flatMap((c) => c.holders.map((h) => h.expires_ms)));
  const untilExpiry = soonest - result.now_ms + 1;
  const poll = Math.min(WAIT_POLL_MS, Math.max(WAIT_POLL_MIN_MS, untilExpiry));
  return Math.max(1, Math.min(remainingMs, poll));
}

/** Lock every path for the agent, or none. With `waitMs`, retry until granted or the wait runs out. */
export async function lock(ctx: Context, options: LockOptions): Promise<LockResult> {
  const paths = pathList(options.paths, 'paths');
  return lockNormalised(ctx, normaliseLockPaths(paths, ctx.workspace.cwd, ctx.workspace.pathRoot), options);
}

/**
 * The options of a lock, checked: the one place `lock` and `with-lock` validate them, for every face, each
 * named as the caller's face names it (`names`).
 */
export function lockSettings(options: Omit<LockOptions, 'paths'>): LockSettings {
  const name = options.names ?? byKey;
  return {
    agent: agentId(options.agent, name('agent')),
    ttlMs: optionalDuration(options.ttlMs, name('ttl')),
    waitMs: optionalDuration(options.waitMs, name('wait')),
    reason: optionalReason(options.reason, name('reason')),
    shared: optionalFlag(options.shared, name('shared')),
    slots: optionalSlots(options.slots, name('slots')),
    signal: options.signal,
  };
}

/** A resource's slots: absent, or a whole number from 1 to MAX_SLOTS. */
export function optionalSlots(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_SLOTS) {
    throw usageError(`${what} must be a whole number from 1 to ${MAX_SLOTS}; got ${describeValue(value)}`);
  }
  return value;
}

/**
 * The terms of one lock call, checked against its keys: `shared` is for paths, directories and patterns (a
 * resource is shared by its slots), `slots` for resources only.
 */
export function lockTerms(keys: readonly string[], options: Pick<LockSettings, 'shared' | 'slots'>): LockTerms {
  const resources = keys.filter((k) => k.startsWith('@'));
  if (options.shared && resources.length > 0) {
    throw usageError(`${resources[0]} is a resource: it is shared by its slots, not --shared; lock it with --slots N to let N agents hold it`);
  }
  if (options.slots !== undefined && resources.length < keys.length) {
    const path = keys.find((k) => !k.startsWith('@')) as string;
    throw usageError(`--slots is for resources (@name), not for the path ${path}; lock a path --shared to let several agents hold it`);
  }
  if (options.shared) return { mode: 'shared' };
  return options.slots !== undefined && options.slots !== 1 ? { slots: options.slots } : {};
}

/** `lock` for paths already in their stored form, its options checked here. */
export function lockNormalised(ctx: Context, paths: readonly string[], given: Omit<LockOptions, 'paths'>): Promise<LockResult> {
  return lockChecked(ctx, paths, lockSettings(given));
}

/** `lock` for paths in their stored form and options checked by `lockSettings` (with-lock checks its own once). */
export async function lockChecked(ctx: Context, paths: readonly string[], options: LockSettings): Promise<LockResult> {
  lockTerms(paths, options);
  const deadline = ctx.clock() + (options.waitMs ?? 0);
  for (;;) {
    const result = await tryOnce(ctx, options, paths);
    const remaining = deadline - ctx.clock();
    if (result.granted || remaining <= 0) return result;
    await sleepUnlessAborted(ctx, waitPollMs(result, remaining), options.signal);
  }
}

function tryOnce(ctx: Context, options: LockSettings, paths: readonly string[]): Promise<LockResult> {
  const terms = lockTerms(paths, options);
  return ctx.store.transact('update', ({ registry, nowMs }) => {
    // Checked inside the transaction: a cancellation that came before it takes nothing (thrown, nothing is saved).
    if (options.signal?.aborted) throw new LockCancelled(paths);
    const outcome = registry.lockAll(options.agent, paths, options.ttlMs, nowMs, options.reason, terms);
    if (outcome.granted) {
      return {
        granted: true,
        agent: options.agent,
        locks: paths.map((path) => holdJson(registry.holdersOf(path, nowMs).find((h) => h.agent.id === options.agent && h.path === path) ?? never(path))),
        conflicts: [],
        retry_after_ms: null,
        now_ms: nowMs,
        agent_timeout_ms: registry.timeoutOf(outcome.agent),
      };
    }
    const conflicts = paths.flatMap((path) => {
      const holds = outcome.conflicts.filter((c) => c.path === path).map((c) => c.hold);
      return holds.length > 0 ? [pathHolds(path, holds, nowMs, path.startsWith('@') ? (terms.slots ?? 1) : undefined)] : [];
    });
    return {
      granted: false,
      agent: options.agent,
      locks: [],
      conflicts,
      retry_after_ms: Math.max(...conflicts.map((c) => c.retry_after_ms ?? 0)),
      now_ms: nowMs,
    };
  }, {
    agents: [options.agent],
    paths,
    // A cancellable call checks its signal inside the transaction: only the registry can run it.
    native: options.signal ? undefined : { op: 'lock', agent: options.agent, paths, ttlMs: options.ttlMs, reason: options.reason, terms },
  });
}

function never(path: string): never {
  throw new Error(`the lock on ${path} was granted but is not held`);
}

/**
 * `lock`'s text: each lock granted, or each conflict and that nothing was locked. Every span is counted from
 * the answer's own time (`now_ms`, the registry's clock), never this process's clock. A lock whose TTL
 * outlasts its agent's timeout is said to hold only while the agent heartbeats, with one hint on how to hold
 * it longer: that is what really bounds it.
 */
export function renderLock(r: LockResult): Rendered {
  const nowMs = r.now_ms;
  if (r.granted) {
    const timeout = r.agent_timeout_ms;
    let outlasts = 0;
    const lines = r.locks.map((p) => {
      const expires = p.expires_ms;
      const label = `locked ${esc(p.path)}${p.mode === 'shared' ? ' shared' : p.slots !== null && p.slots > 1 ? ` (one of ${p.slots} slots)` : ''} for ${agentLabel(p.agent)}`;
      if (timeout === undefined || expires - nowMs <= timeout) return `${label}, ${expiresIn(expires, nowMs)}`;
      outlasts = Math.max(outlasts, expires - nowMs);
      return `${label} until ${clockTime(expires, nowMs)} (${expiresIn(expires, nowMs)}), while agent ${r.agent} heartbeats at least every ${formatSpan(timeout)}`;
    });
    const hint =
      timeout !== undefined && outlasts > 0
        ? `harn-agents: hint: agent ${r.agent} is reaped after ${formatSpan(timeout)} without a heartbeat, and its locks go with it; to hold them ` +
          `longer, run 'harn-agents heartbeat ${r.agent}' more often, run the work under 'harn-agents with-lock', ` +
          `or register the agent with a longer timeout ('harn-agents register NAME --timeout ${formatSpan(outlasts)}')\n`
        : '';
    return { stdout: lines.map((l) => `${l}\n`).join(''), stderr: hint };
  }
  const lines = r.conflicts.flatMap((c) => c.holders.map((h) => `refused: ${esc(c.path)} is held by ${holdText(c.path, h, nowMs)}`));
  lines.push(`nothing was locked for agent ${r.agent}`);
  return { stdout: '', stderr: lines.map((l) => `${l}\n`).join('') };
}

export const command = defineCommand({
  name: 'lock',
  run: lock,
  render: (r) => renderLock(r),
  exitCode: (r) => (r.granted ? ExitCode.ok : ExitCode.no),
  cli: {
    description: 'lock paths for an agent, all or none; exit 1 naming the holders when refused',
    arguments: [{ name: '<path...>', help: 'files to lock, relative to the current directory or absolute inside the workspace' }],
    options: [
      { flags: '--agent <id>', help: 'the agent taking the locks (default: HARN_AGENT_ID)' },
      { flags: '--ttl <duration>', help: "how long the locks last (default: --lock-ttl, else the workspace's lock-ttl)" },
      { flags: '--wait <duration>', help: 'when refused, keep trying for this long' },
      { flags: '--reason <text>', help: 'why you lock: shown to anyone the lock stops' },
      { flags: '--shared', help: 'a shared (read) lock: other agents may hold it shared too, none exclusively' },
      { flags: '--slots <n>', help: 'for a resource (@name): at most n holders at once (default 1); every caller names the same n' },
    ],
    examples: [
      'harn-agents lock src/a.ts src/b.ts --agent 3 --ttl 2m',
      'harn-agents lock src/a.ts --wait 30s    # agent from HARN_AGENT_ID',
      'harn-agents lock src/api/ --agent 3 --reason "renaming the API"   # a trailing / locks the directory',
      "harn-agents lock 'src/**/*.test.ts' --agent 3   # a pattern, as git's :(glob) pathspec",
      'harn-agents lock docs/schema.md --shared        # readers share it; a writer waits',
      'harn-agents lock @gpu --slots 2                 # a resource two agents may hold at once',
    ],
    // Text as typed, checked once by the use case under the flags' names.
    input: ({ args, opts, env }) => {
      const agent = givenAgent(opts.agent, env, '--agent');
      return {
        paths: cliPaths(args[0]),
        agent: agent.agent,
        ttlMs: opts.ttl as string | undefined,
        waitMs: opts.wait as string | undefined,
        reason: opts.reason as string | undefined,
        shared: opts.shared === true ? true : undefined,
        slots: wholeNumberText(opts.slots as string | undefined),
        names: flagNames({ agent: agent.name }),
      };
    },
  },
  library: {
    method: 'lock',
    input: (paths: readonly string[], options: { agent: number; ttl?: Duration; wait?: Duration; reason?: string; shared?: boolean; slots?: number }): LockOptions => {
      const o = optionsObject(options, 'options');
      return {
        paths,
        agent: o.agent as number,
        ttlMs: o.ttl as Duration | undefined,
        waitMs: o.wait as Duration | undefined,
        reason: o.reason as string | undefined,
        shared: o.shared as boolean | undefined,
        slots: o.slots as number | undefined,
      };
    },
  },
  mcp: {
    tool: 'lock',
    description: (settings) =>
      'Lock files (or directories, with a trailing /, or patterns such as src/**/*.test.ts) for this session before you edit them, so other agents do not; all or none. ' +
      'With shared: true, a read lock others may share (no one may then lock it to write). A name starting with @ (@gpu, @db) is a resource; with slots: N, at most N sessions hold it at once. ' +
      `${lockLifetime(settings)} A refusal is a normal result naming who holds what and when to try again: do not edit those paths.`,
    properties: (settings) => ({
      paths: mcpPaths(settings),
      ttl: {
        type: 'string',
        description: `How long the lock outlives this server if it dies, e.g. "5m", "2h" (default ${formatSpan(settings.lockTtlMs)}, this server's --ttl). While you are connected the server renews it.`,
      },
      reason: { type: 'string', description: 'Why you lock, shown to others.' },
      wait: { type: 'string', description: 'If refused, keep trying this long, e.g. "20s". Cancelling the request stops the wait and locks nothing.' },
      shared: { type: 'boolean', description: 'A shared (read) lock: others may hold it shared too; no one exclusively.' },
      slots: { type: 'integer', minimum: 1, description: 'For a resource (@name): at most this many holders at once (default 1); every caller names the same number.' },
    }),
    required: ['paths'],
    readOnly: false,
    input: (args, session) => ({
      paths: args.paths as string[],
      agent: session.id,
      ttlMs: (args.ttl as Duration | undefined) ?? session.lockTtlMs,
      waitMs: args.wait as Duration | undefined,
      reason: args.reason as string | undefined,
      shared: args.shared as boolean | undefined,
      slots: args.slots as number | undefined,
      signal: session.signal,
    }),
    outputSchema: {
      type: 'object',
      properties: {
        granted: { type: 'boolean' },
        agent: { type: 'integer' },
        locks: { type: 'array', items: HOLD_SCHEMA, description: 'Granted: your holds.' },
        conflicts: { type: 'array', items: PATH_HOLDS_SCHEMA, description: 'Refused: each path in the way, with every hold on it.' },
        retry_after_ms: { type: ['integer', 'null'], description: 'Refused: until the holds in the way expire (they may be renewed): when to try again.' },
        now_ms: NOW_MS,
        agent_timeout_ms: { type: 'integer', description: "Granted: the agent's own timeout; its locks go when it is reaped." },
      },
      required: ['granted', 'agent', 'locks', 'conflicts', 'retry_after_ms', 'now_ms'],
    },
    says: (r) => {
      if (r.granted) return `locked ${pathsText(r.locks.map((p) => p.path))} until you release it (renewed while this session is connected)`;
      const held = r.conflicts.flatMap((c) => c.holders.map((h) => `${c.path} is held by ${holdSays(c.path, h, r.now_ms)}`));
      const retry = r.retry_after_ms === null ? '' : ` They expire in ${formatSpan(r.retry_after_ms)} unless renewed.`;
      return `refused: ${held.join('; ')}; nothing was locked.${retry} Do not edit these paths: wait for them (wait), or work on something else.`;
    },
  },
});

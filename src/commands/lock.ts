import { normaliseLockPaths } from '../core/paths.js';
import { agentId, optionalDuration, optionalReason, optionsObject, pathList } from '../core/validate.js';
import { defineCommand, type CancelSignal } from './command.js';
import { cliPaths, resolveAgent } from './argv.js';
import { ExitCode } from '../core/errors.js';
import type { Duration } from '../core/durations.js';
import { AGENT_REF, agentText, expiresText, lockLifetime, mcpPaths, NOW_MS, NULLABLE_STRING, pathsText } from './mcp-schema.js';
import { formatSpan } from '../core/durations.js';
import { agentLabel, because, clockTime, expiresIn, through, type Rendered } from '../render/text.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import type { AgentRef, Context } from './context.js';

export interface LockOptions {
  /** Paths as the user gave them; normalised against the workspace. */
  readonly paths: readonly string[];
  readonly agent: number;
  /** Lock TTL; the registry's default (`--lock-ttl`) when absent. */
  readonly ttlMs?: number;
  /** Keep retrying a refused lock for this long. */
  readonly waitMs?: number;
  /** Why the paths are locked; shown to anyone the lock stops. */
  readonly reason?: string;
  /**
   * Aborts when the caller gives up (an MCP request the client cancelled): a `wait` stops at once, and a try
   * whose transaction has not run yet takes nothing; the call then rejects with `LockCancelled`.
   */
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

export interface LockPathResult {
  readonly path: string;
  /** Granted: the caller. Refused: the agent holding the path, or null for a path that was free. */
  readonly holder: AgentRef | null;
  readonly expires_ms: number | null;
  /** Refused: the holder's own lock path (a directory above, or a path under, this one), and its reason. */
  readonly held_path?: string;
  readonly reason?: string | null;
}

export interface LockResult {
  readonly granted: boolean;
  readonly agent: number;
  readonly paths: readonly LockPathResult[];
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
  const soonest = Math.min(...result.paths.map((p) => (p.holder ? (p.expires_ms ?? Infinity) : Infinity)));
  const untilExpiry = soonest - result.now_ms + 1;
  const poll = Math.min(WAIT_POLL_MS, Math.max(WAIT_POLL_MIN_MS, untilExpiry));
  return Math.max(1, Math.min(remainingMs, poll));
}

/** Lock every path for the agent, or none. With `waitMs`, retry until granted or the wait runs out. */
export async function lock(ctx: Context, options: LockOptions): Promise<LockResult> {
  const paths = pathList(options.paths, 'paths');
  return lockNormalised(ctx, normaliseLockPaths(paths, ctx.workspace.cwd, ctx.workspace.pathRoot), options);
}

/** The options of a lock, checked (the one place `lock` and `with-lock` validate them). */
export function lockSettings(options: Omit<LockOptions, 'paths'>): Omit<LockOptions, 'paths'> {
  return {
    agent: agentId(options.agent, 'agent'),
    ttlMs: optionalDuration(options.ttlMs, 'ttl'),
    waitMs: optionalDuration(options.waitMs, 'wait'),
    reason: optionalReason(options.reason, 'reason'),
  };
}

/** `lock` for paths already in their stored form (callers that normalised them once, as with-lock does). */
export async function lockNormalised(ctx: Context, paths: readonly string[], given: Omit<LockOptions, 'paths'>): Promise<LockResult> {
  const options = { ...lockSettings(given), signal: given.signal };
  const deadline = ctx.clock() + (options.waitMs ?? 0);
  for (;;) {
    const result = await tryOnce(ctx, options, paths);
    const remaining = deadline - ctx.clock();
    if (result.granted || remaining <= 0) return result;
    await sleepUnlessAborted(ctx, waitPollMs(result, remaining), options.signal);
  }
}

function tryOnce(ctx: Context, options: Omit<LockOptions, 'paths'>, paths: readonly string[]): Promise<LockResult> {
  return ctx.store.transact('update', ({ registry, nowMs }) => {
    // Checked inside the transaction: a cancellation that came before it takes nothing (thrown, nothing is saved).
    if (options.signal?.aborted) throw new LockCancelled(paths);
    const outcome = registry.lockAll(options.agent, paths, options.ttlMs, nowMs, options.reason);
    if (outcome.granted) {
      const holder = { id: outcome.agent.id, name: outcome.agent.name };
      return {
        granted: true,
        agent: options.agent,
        paths: paths.map((path) => ({ path, holder, expires_ms: outcome.expiresMs })),
        now_ms: nowMs,
        agent_timeout_ms: registry.timeoutOf(outcome.agent),
      };
    }
    const byPath = new Map(outcome.conflicts.map((c) => [c.path, c]));
    return {
      granted: false,
      now_ms: nowMs,
      agent: options.agent,
      paths: paths.map((path) => {
        const conflict = byPath.get(path);
        return conflict
          ? {
              path,
              holder: { id: conflict.holder.id, name: conflict.holder.name },
              expires_ms: conflict.expiresMs,
              held_path: conflict.heldPath,
              reason: conflict.reason ?? null,
            }
          : { path, holder: null, expires_ms: null };
      }),
    };
  }, { agents: [options.agent], paths });
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
    const lines = r.paths.map((p) => {
      const expires = p.expires_ms ?? nowMs;
      const label = `locked ${esc(p.path)} for ${agentLabel(p.holder ?? { id: r.agent, name: '' })}`;
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
  const lines = r.paths
    .filter((p) => p.holder)
    .map((p) => `refused: ${esc(p.path)} is held by ${agentLabel(p.holder as AgentRef)}${through(p.path, p.held_path)}${because(p.reason)}, ${expiresIn(p.expires_ms ?? nowMs, nowMs)}`);
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
      { flags: '--ttl <duration>', help: "how long the locks last (default: --lock-ttl, else the workspace's lock-ttl)", value: 'duration' },
      { flags: '--wait <duration>', help: 'when refused, keep trying for this long', value: 'duration' },
      { flags: '--reason <text>', help: 'why you lock: shown to anyone the lock stops' },
    ],
    examples: [
      'harn-agents lock src/a.ts src/b.ts --agent 3 --ttl 2m',
      'harn-agents lock src/a.ts --wait 30s    # agent from HARN_AGENT_ID',
      'harn-agents lock src/api/ --agent 3 --reason "renaming the API"   # a trailing / locks the directory',
    ],
    input: ({ args, opts, env }) => ({
      paths: cliPaths(args[0]),
      agent: resolveAgent(opts.agent, env, '--agent'),
      ttlMs: opts.ttl as number | undefined,
      waitMs: opts.wait as number | undefined,
      reason: optionalReason(opts.reason, '--reason'),
    }),
  },
  library: {
    method: 'lock',
    input: (paths: readonly string[], options: { agent: number; ttl?: Duration; wait?: Duration; reason?: string }): LockOptions => {
      const o = optionsObject(options, 'options');
      return { paths, agent: o.agent as number, ttlMs: optionalDuration(o.ttl, 'ttl'), waitMs: optionalDuration(o.wait, 'wait'), reason: o.reason as string | undefined };
    },
  },
  mcp: {
    tool: 'lock',
    description: (settings) =>
      'Lock files (or directories, with a trailing /) for this session before you edit them, so other agents do not; all or none. ' +
      `${lockLifetime(settings)} A refusal is a normal result naming who holds what: do not edit those paths.`,
    properties: (settings) => ({
      paths: mcpPaths(settings),
      ttl: {
        type: 'string',
        description: `How long the lock outlives this server if it dies, e.g. "5m", "2h" (default ${formatSpan(settings.lockTtlMs)}, this server's --ttl). While you are connected the server renews it.`,
      },
      reason: { type: 'string', description: 'Why you lock, shown to others.' },
      wait: { type: 'string', description: 'If refused, keep trying this long, e.g. "20s". Cancelling the request stops the wait and locks nothing.' },
    }),
    required: ['paths'],
    readOnly: false,
    input: (args, session) => ({
      paths: args.paths as string[],
      agent: session.id,
      ttlMs: optionalDuration(args.ttl, 'ttl') ?? session.lockTtlMs,
      waitMs: optionalDuration(args.wait, 'wait'),
      reason: args.reason as string | undefined,
      signal: session.signal,
    }),
    outputSchema: {
      type: 'object',
      properties: {
        granted: { type: 'boolean' },
        agent: { type: 'integer' },
        paths: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              path: { type: 'string' },
              holder: { anyOf: [AGENT_REF, { type: 'null' }] },
              expires_ms: { type: ['integer', 'null'] },
              held_path: { type: 'string' },
              reason: NULLABLE_STRING,
            },
            required: ['path', 'holder', 'expires_ms'],
          },
        },
        now_ms: NOW_MS,
        agent_timeout_ms: { type: 'integer', description: "Granted: the agent's own timeout; its locks go when it is reaped." },
      },
      required: ['granted', 'agent', 'paths', 'now_ms'],
    },
    says: (r) => {
      if (r.granted) return `locked ${pathsText(r.paths.map((p) => p.path))} until you release it (renewed while this session is connected)`;
      const held = r.paths.flatMap((p) =>
        p.holder
          ? [`${p.path} is held by ${agentText(p.holder)}${p.held_path && p.held_path !== p.path ? ` through ${p.held_path}` : ''}${p.reason ? ` (reason: ${p.reason})` : ''}, ${expiresText(p.expires_ms ?? r.now_ms, r.now_ms)}`]
          : [],
      );
      return `refused: ${held.join('; ')}; nothing was locked. Do not edit these paths: wait for them (wait), or work on something else.`;
    },
  },
});

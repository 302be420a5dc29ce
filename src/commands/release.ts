import { usageError } from '../core/errors.js';
import { normaliseLockPaths } from '../core/paths.js';
import { byKey, optionalAgentId, optionalFlag, optionalReason, pathList, type InputNames } from '../core/validate.js';
import type { Context } from './context.js';
import { holdJson, HOLD_SCHEMA, PATH_HOLDS_SCHEMA, pathHolds, type Hold, type PathHolds } from './hold.js';
import { defineCommand } from './command.js';
import { cliPaths, flagNames, givenAgent, optionalGivenAgent } from './argv.js';
import { mcpPaths, NOW_MS, pathsText } from './mcp-schema.js';
import { agentLabel, because } from '../render/text.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import { optionsObject } from '../core/validate.js';

export interface ReleaseOptions {
  readonly paths: readonly string[];
  /** The agent releasing its own locks (the CLI's id as typed); with `force`, only recorded as who broke the locks. */
  readonly agent: number | string | null;
  /** Break any agent's lock on exactly these paths (git LFS `unlock --force`); needs a reason. */
  readonly force?: boolean;
  readonly reason?: string;
  /** How the calling face names these options in a refusal (default: by key). */
  readonly names?: InputNames;
}

/** A release's options once checked. */
interface ReleaseSettings {
  readonly paths: readonly string[];
  readonly agent: number | null;
  readonly force: boolean;
  readonly reason?: string;
}

/** A lock `release --force` broke: the hold as it was. */
export type BrokenLock = Hold;

export interface ReleaseResult {
  readonly agent: number | null;
  /** The registry time of the release. */
  readonly now_ms: number;
  /** Paths released (with `force`: paths whose lock was broken). */
  readonly released: readonly string[];
  /** Paths with nothing to release (releasing them is a no-op, not an error). */
  readonly not_held: readonly string[];
  /** With `force`: the locks broken, with their holders. */
  readonly broken?: readonly BrokenLock[];
  /** With `force`: paths not locked themselves but held through other locks (a directory, a pattern), left alone. */
  readonly held_through?: readonly PathHolds[];
}

export async function release(ctx: Context, given: ReleaseOptions): Promise<ReleaseResult> {
  const name = given.names ?? byKey;
  const force = optionalFlag(given.force, name('force')) ?? false;
  // A blank reason with --force gets the message below that says what the reason is for.
  const blank = typeof given.reason === 'string' && given.reason.trim() === '';
  const options: ReleaseSettings = {
    paths: pathList(given.paths, 'paths'),
    agent: optionalAgentId(given.agent, name('agent')),
    force,
    reason: force && blank ? undefined : optionalReason(given.reason, name('reason')),
  };
  const paths = normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.pathRoot);
  if (force) return forceRelease(ctx, options, paths);
  if (options.agent === null) throw usageError('no agent given: pass --agent or set HARN_AGENT_ID (or --force to break locks)');
  const agent = options.agent;
  return ctx.store.transact('maybe-update', ({ registry, nowMs }) => {
    const released: string[] = [];
    const notHeld: string[] = [];
    for (const path of paths) (registry.releaseLock(agent, path) ? released : notHeld).push(path);
    return { agent, now_ms: nowMs, released, not_held: notHeld };
  }, { agents: [agent], paths, native: { op: 'release', agent, paths } });
}

function forceRelease(ctx: Context, options: ReleaseSettings, paths: readonly string[]): Promise<ReleaseResult> {
  const reason = options.reason?.trim();
  if (reason === undefined) throw usageError('release --force needs --reason TEXT: it is recorded in the event log');
  return ctx.store.transact('maybe-update', ({ registry, nowMs, record }) => {
    const broken: BrokenLock[] = [];
    for (const path of paths) {
      for (const hold of registry.forceRelease(path, nowMs)) broken.push(holdJson(hold));
    }
    // The event log keeps its own record shape (docs/cli.md, log).
    const logged = broken.map((b) => ({ path: b.path, holder: b.agent, expires_ms: b.expires_ms, lock_reason: b.reason }));
    if (broken.length > 0) record({ type: 'force-release', ts: nowMs, by: options.agent, reason, broken: logged });
    const released = paths.filter((p) => broken.some((b) => b.path === p));
    const notHeld = paths.filter((p) => !released.includes(p));
    // Exactly these paths: a directory lock covering one is named, not broken.
    const heldThrough = notHeld.flatMap((path) => {
      const holds = registry.holdersOf(path, nowMs);
      return holds.length > 0 ? [pathHolds(path, holds, nowMs)] : [];
    });
    return { agent: options.agent, now_ms: nowMs, released, not_held: notHeld, broken, held_through: heldThrough };
  }, { paths });
}

export const command = defineCommand({
  name: 'release',
  run: release,
  render: (r) => {
    const lines = r.broken
      ? [
          ...r.broken.map((b) => `broke ${esc(b.path)}: it was held by ${agentLabel(b.agent)}${b.mode === 'shared' ? ' (shared)' : ''}${because(b.reason)}`),
          ...r.not_held.flatMap((p) => {
            const held = r.held_through?.find((h) => h.path === p);
            return held
              ? held.holders.map(
                  (h) => `${esc(p)} is not locked itself: it is held through ${agentLabel(h.agent)}'s lock on ${esc(h.path)}, left alone (break that one: harn-agents release --force ${esc(h.path)} --reason ...)`,
                )
              : [`${esc(p)} was not locked by anyone`];
          }),
        ]
      : [...r.released.map((p) => `released ${esc(p)}`), ...r.not_held.map((p) => `${esc(p)} was not locked by agent ${r.agent}`)];
    return { stdout: lines.map((l) => `${l}\n`).join(''), stderr: '' };
  },
  cli: {
    description: "release an agent's locks on paths (a path it does not hold is not an error)",
    arguments: [{ name: '<path...>', help: 'paths, directories, patterns or resources to release, as they were locked' }],
    options: [
      { flags: '--agent <id>', help: 'the agent releasing (default: HARN_AGENT_ID)' },
      { flags: '--force', help: "break any agent's lock on exactly these paths (needs --reason; recorded in the event log)" },
      { flags: '--reason <text>', help: 'why a lock is broken (with --force)' },
    ],
    examples: ['harn-agents release src/a.ts --agent 3', 'harn-agents release --force src/a.ts --reason "agent 3 is stuck; ok by Ana"'],
    input: ({ args, opts, env }) => {
      const agent = opts.force ? optionalGivenAgent(opts.agent, env) : givenAgent(opts.agent, env, '--agent');
      return {
        paths: cliPaths(args[0]),
        agent: agent.agent,
        force: opts.force as boolean | undefined,
        // Checked once by the use case under the flags' names (with --force, a blank reason gets its message
        // saying what the reason is for).
        reason: opts.reason as string | undefined,
        names: flagNames({ agent: agent.name }),
      };
    },
  },
  library: {
    method: 'release',
    input: (paths: readonly string[], options: { agent?: number; force?: boolean; reason?: string }): ReleaseOptions => {
      const o = optionsObject(options, 'options');
      return { paths, agent: (o.agent ?? null) as number | null, force: o.force as boolean | undefined, reason: o.reason as string | undefined };
    },
  },
  mcp: {
    tool: 'release',
    description: "Release this session's locks on paths as soon as you are done with them (the session's locks are also released when it ends).",
    properties: (settings) => ({ paths: mcpPaths(settings) }),
    required: ['paths'],
    readOnly: false,
    input: (args, session) => ({ paths: args.paths as string[], agent: session.id }),
    outputSchema: {
      type: 'object',
      properties: {
        agent: { type: ['integer', 'null'] },
        now_ms: NOW_MS,
        released: { type: 'array', items: { type: 'string' } },
        not_held: { type: 'array', items: { type: 'string' } },
        broken: { type: 'array', items: HOLD_SCHEMA },
        held_through: { type: 'array', items: PATH_HOLDS_SCHEMA },
      },
      required: ['agent', 'now_ms', 'released', 'not_held'],
    },
    says: (r) =>
      [
        ...(r.released.length ? [`released ${pathsText(r.released)}`] : []),
        ...(r.not_held.length ? [`${pathsText(r.not_held)} ${r.not_held.length > 1 ? 'were' : 'was'} not locked by this session`] : []),
      ].join('; '),
  },
});

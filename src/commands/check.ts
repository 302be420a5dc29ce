import { normaliseLockPath } from '../core/paths.js';
import { isHarnError, usageError } from '../core/errors.js';
import { ancestry, type ProcessIdentity } from '../core/process-tree.js';
import type { ReadonlyAgent } from '../core/registry.js';
import { byKey, describeValue, optionalAgentId, pathList, type InputNames } from '../core/validate.js';
import type { Context } from './context.js';
import { defineCommand, type Environment } from './command.js';
import { cliPaths, flagNames, optionalGivenAgent } from './argv.js';
import { guardMode, type GuardMode } from './environment.js';

export type { GuardMode } from './environment.js';
import { changedPaths, pushedPaths, stagedPaths, stdinPaths } from '../store/path-sources.js';
import { AGENT_HOOKS, parseAgentHook } from '../hooks/agents/index.js';
import { HarnError } from '../core/errors.js';
import path from 'node:path';
import { ExitCode } from '../core/errors.js';
import { optionsObject } from '../core/validate.js';
import { mcpPaths, NOW_MS } from './mcp-schema.js';
import type { Rendered } from '../render/text.js';
import { holdSays, holdText, pathHolds, PATH_HOLDS_SCHEMA, type PathHolds } from './hold.js';
import { escapeForTerminal as esc } from '../render/escape.js';

const GUARD_MODES: readonly unknown[] = ['on', 'warn', 'off'];

export interface CheckOptions {
  /** Paths given on the command line (relative to the current directory); bad ones are usage errors. */
  readonly paths: readonly string[];
  /** Paths from git or stdin: absolute or relative to the current directory; ones outside the workspace are skipped. */
  readonly gatheredPaths?: readonly string[];
  /**
   * The caller: its own locks are no conflict. Null: the caller is recognised by its process instead (an
   * agent whose recorded process is this process or one of its ancestors is the caller), else every holder
   * counts. The CLI's id as typed.
   */
  readonly agent: number | string | null;
  readonly guard: GuardMode;
  /** How the calling face names the agent in a refusal (default: by key). */
  readonly names?: InputNames;
  /** CLI: the paths staged in git's index are added (read in the workspace, after the context is built). */
  readonly staged?: boolean;
  /** CLI: every path changed since this base (its merge base with HEAD) in the work tree is added. */
  readonly changed?: string;
  /** CLI: git's pre-push input (or pre-commit's PRE_COMMIT_*_REF): the paths of the commits being pushed. */
  readonly prePush?: { readonly input: string; readonly env: Environment };
  /** CLI: the AI agent whose hook payload gave the paths (claude-code): refusal is exit 2, failure exit 1. */
  readonly hook?: string;
  /** With `hook`: the directory the agent works in (the payload's cwd), where the workspace is found. */
  readonly hookCwd?: string;
  /** This process and its ancestors (default: read from /proc; empty where there is none). */
  readonly ancestry?: readonly ProcessIdentity[];
}

/** A path held by others (shared holds too: a commit changing a file others read is a conflict), with every hold on it. */
export type CheckConflict = PathHolds;

export interface CheckResult {
  readonly guard: GuardMode;
  readonly agent: number | null;
  /** Agents taken for the caller because their recorded process is an ancestor of this one (agent null only). */
  readonly recognised: readonly number[];
  /**
   * Live agents whose recorded process is an ancestor of this one but is recorded by another live agent too
   * (one client hosting several sessions): none of them is taken for the caller; HARN_AGENT_ID says which.
   */
  readonly shared_process: readonly number[];
  readonly checked: number;
  readonly conflicts: readonly CheckConflict[];
  readonly now_ms: number;
}

/** Which of the paths are held by an agent other than the caller (the guard behind hooks and CI jobs). */
export async function check(ctx: Context, given: CheckOptions): Promise<CheckResult> {
  const { cwd, pathRoot: root } = ctx.workspace;
  if (!GUARD_MODES.includes(given.guard)) throw usageError(`guard must be on, warn or off; got ${describeValue(given.guard)}`);
  const agent = optionalAgentId(given.agent, (given.names ?? byKey)('agent'));
  // Paths from git or stdin may add to (or stand in for) the ones given.
  const fromGit =
    given.guard === 'off'
      ? []
      : [
          ...(given.staged === true ? stagedPaths(cwd) : []),
          ...(given.changed !== undefined ? changedPaths(cwd, given.changed) : []),
          ...(given.prePush ? pushedPaths(cwd, given.prePush.input, given.prePush.env) : []),
        ];
  const fromGitAsked = given.staged === true || given.changed !== undefined || given.prePush !== undefined;
  const gatheredPaths =
    given.gatheredPaths === undefined && !fromGitAsked ? undefined : [...fromGit, ...pathList(given.gatheredPaths ?? [], 'gathered paths', true)];
  const options = {
    paths: pathList(given.paths, 'paths', gatheredPaths !== undefined),
    gatheredPaths,
    agent,
    guard: given.guard,
  };
  if (options.guard === 'off') return { guard: 'off', agent: options.agent, recognised: [], shared_process: [], checked: 0, conflicts: [], now_ms: ctx.clock() };
  const paths = new Set(options.paths.map((p) => normaliseLockPath(p, cwd, root)));
  for (const p of options.gatheredPaths ?? []) {
    try {
      paths.add(normaliseLockPath(p, cwd, root));
    } catch (error) {
      if (!isHarnError(error)) throw error; // outside the workspace: nothing there can be locked
    }
  }
  // HARN_AGENT_ID (or --agent) wins; without it, a process tree recognises its own agents.
  const tree = options.agent === null ? (given.ancestry ?? ancestry()) : [];
  // Recognising the caller by its process reads every agent; otherwise only the paths' slice is needed.
  const recognising = tree.length > 0;
  return ctx.store.transact('query', ({ registry, nowMs }) => {
    const { recognised, shared } = recognising ? agentsOfProcesses(registry.agents(), tree) : { recognised: [], shared: [] };
    const except = options.agent ?? new Set(recognised);
    const conflicts: CheckConflict[] = [];
    for (const path of paths) {
      // The paths are names of files (from git, stdin or the command line), never patterns or resources.
      const holds = registry.holdersOf(path, nowMs, except, true);
      if (holds.length > 0) conflicts.push(pathHolds(path, holds, nowMs));
    }
    return { guard: options.guard, agent: options.agent, recognised, shared_process: shared, checked: paths.size, conflicts, now_ms: nowMs };
  }, recognising ? undefined : { paths: [...paths] });
}

/**
 * The active agents whose recorded process is one of `tree` (same pid and start time: not a reused pid).
 * A process recorded by several sessions (one client hosting several MCP sessions, or several AI sessions)
 * names none of them: each session's locks would otherwise count as the others' own. One AI session's own
 * agent (registered by its hooks) and one MCP session of that same client are one session, one caller.
 */
function agentsOfProcesses(agents: Iterable<ReadonlyAgent>, tree: readonly ProcessIdentity[]): { recognised: number[]; shared: number[] } {
  const starts = new Map(tree.map((p) => [p.pid, p.start]));
  const byProcess = new Map<number, ReadonlyAgent[]>();
  for (const agent of agents) {
    const recorded = agent.meta?.process;
    if (recorded && agent.state === 'active' && starts.get(recorded.pid) === recorded.start) {
      byProcess.set(recorded.pid, [...(byProcess.get(recorded.pid) ?? []), agent]);
    }
  }
  const recognised: number[] = [];
  const shared: number[] = [];
  for (const group of byProcess.values()) {
    const sessions = group.filter((a) => a.meta?.session !== undefined).length;
    (sessions <= 1 && group.length - sessions <= 1 ? recognised : shared).push(...group.map((a) => a.id));
  }
  return { recognised, shared };
}


/**
 * `check --hook <agent>`: an AI agent's editing hook. Its contract (Claude Code's): exit 2 blocks the edit
 * with stderr shown to the model; anything else lets it run. So a failure of ours is exit 1 (shown to the
 * user), never a block.
 */
async function checkForAgentHook(ctx: Context, options: CheckOptions): Promise<CheckResult> {
  try {
    return await check(ctx, options);
  } catch (error) {
    if (isHarnError(error)) throw new HarnError(ExitCode.no, `--hook ${options.hook}: ${error.message}`);
    throw error;
  }
}

/** One message for the model (Claude Code shows a blocking hook's stderr to it). */
function renderAgentHookRefusal(r: CheckResult): Rendered {
  if (r.conflicts.length === 0) return { stdout: '', stderr: '' };
  const held = r.conflicts.flatMap((c) => c.holders.map((h) => `${esc(c.path)} is locked by ${holdText(c.path, h, r.now_ms)}`));
  const verdict = r.guard === 'warn' ? 'HARN_GUARD=warn: not refusing.' : 'Do not edit it now: work on something else, or ask its holder to release it.';
  const shared =
    r.shared_process.length > 0
      ? ` (Agents ${r.shared_process.join(' and ')} share one client process, so none is recognised by it: if one of them is you, run with HARN_AGENT_ID set to its id.)`
      : '';
  return { stdout: '', stderr: `harn-agents: ${held.join('; ')}. ${verdict}${shared}\n` };
}

/**
 * The guard's text: each conflict, counted from the answer's own time (`now_ms`), then the verdict. A
 * refusal says how to act as the holder, if that is who you are, and how to go ahead on purpose.
 */
export function renderCheck(r: CheckResult): Rendered {
  if (r.guard === 'off' || r.conflicts.length === 0) return { stdout: '', stderr: '' };
  const lines = r.conflicts.flatMap((c) => c.holders.map((h) => `${esc(c.path)}: held by ${holdText(c.path, h, r.now_ms)}`));
  if (r.guard === 'warn') {
    lines.push(`harn-agents: warning: ${r.conflicts.length} of ${r.checked} paths are held by other agents (HARN_GUARD=warn: not refusing)`);
  } else {
    lines.push(`harn-agents: ${r.conflicts.length} of ${r.checked} paths are held by other agents`);
    if (r.shared_process.length > 0) {
      lines.push(
        `harn-agents: agents ${r.shared_process.join(' and ')} were started by one process, so neither is recognised by its process: ` +
          `set HARN_AGENT_ID to your own agent's id (HARN_AGENT_ID=<id> git commit ...)`,
      );
    }
    const paths = [...new Set(r.conflicts.map((c) => c.path))].slice(0, 20).map((p) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`));
    lines.push(
      `harn-agents: leave them to their holders and commit only your own files: git restore --staged ${esc(paths.join(' '))}, then commit again`,
    );
  }
  return { stdout: '', stderr: lines.map((l) => `${l}\n`).join('') };
}

export const command = defineCommand({
  name: 'check',
  run: (ctx, options: CheckOptions) => (options.hook !== undefined ? checkForAgentHook(ctx, options) : check(ctx, options)),
  render: (r, { options }) => (options.hook !== undefined ? renderAgentHookRefusal(r) : renderCheck(r)),
  exitCode: (r, options) => (r.guard === 'on' && r.conflicts.length > 0 ? (options.hook !== undefined ? ExitCode.usage : ExitCode.no) : ExitCode.ok),
  cli: {
    description: 'guard: exit 1 when any path is held by an agent other than the caller, listing each conflict',
    arguments: [{ name: '[path...]', help: 'paths to check' }],
    options: [
      { flags: '--staged', help: "check the paths staged in git's index (both names of a rename)" },
      { flags: '--changed <base>', help: 'check every path changed since <base> (its merge base with HEAD) in the work tree, untracked files too' },
      { flags: '--pre-push', help: "check the paths of the commits being pushed (reads git's pre-push stdin)" },
      { flags: '--stdin', help: 'read paths from stdin, one per line' },
      { flags: '-z', help: 'with --stdin: paths are NUL-separated (git diff --name-only -z)' },
      { flags: '--hook <agent>', help: `read an AI agent's hook payload from stdin (${AGENT_HOOKS.join(', ')}); exit 2 to block its edit` },
      { flags: '--agent <id>', help: 'the caller, whose own locks are no conflict (default: HARN_AGENT_ID, else an agent whose recorded process is an ancestor of this one, as with-lock records)' },
    ],
    examples: ['harn-agents check src/a.ts src/b.ts', 'harn-agents check --staged', 'harn-agents check --changed origin/main', 'harn-agents check --hook claude-code < payload.json'],
    contextCwd: (options) => options.hookCwd,
    notes:
      'HARN_GUARD=warn prints the conflicts but exits 0; HARN_GUARD=off skips the check.\n' +
      'A person who means to commit a held path anyway: HARN_GUARD=warn git commit ..., git commit --no-verify, or\n' +
      'release --force the lock with a --reason (audited). The refusal itself never says so: agents read it.\n',
    input: ({ args, opts, env, cwd, stdin }) => {
      const guard = guardMode(env.HARN_GUARD);
      // The caller as typed, checked once by the use case under its name (--agent or HARN_AGENT_ID).
      const given = optionalGivenAgent(opts.agent, env);
      const agent = given.agent;
      const names = flagNames({ agent: given.name });
      if (typeof opts.hook === 'string') {
        // The payload names absolute paths (or ones relative to its cwd); the caller's own locks are no
        // conflict through HARN_AGENT_ID or --agent.
        let request;
        try {
          request = parseAgentHook(opts.hook, stdin());
        } catch (error) {
          if (isHarnError(error)) throw new HarnError(ExitCode.no, `--hook ${opts.hook}: ${error.message}`);
          throw error;
        }
        const base = request.cwd ?? cwd;
        return { paths: [], gatheredPaths: request.paths.map((p) => path.resolve(base, p)), agent, names, guard, hook: opts.hook, hookCwd: request.cwd ?? undefined };
      }
      const paths = cliPaths(args[0]);
      const changed = typeof opts.changed === 'string' ? opts.changed : undefined;
      if (!opts.staged && !opts.stdin && !opts.prePush && changed === undefined && paths.length === 0) {
        throw usageError('give paths to check, or --staged, --changed <base>, --pre-push or --stdin');
      }
      return {
        paths,
        staged: opts.staged === true,
        changed,
        prePush: opts.prePush && guard !== 'off' ? { input: stdin(), env } : undefined,
        gatheredPaths: guard !== 'off' && opts.stdin ? stdinPaths(stdin(), opts.z === true) : [],
        agent,
        names,
        guard,
      };
    },
  },
  library: {
    method: 'check',
    input: (paths: readonly string[], options?: { agent?: number }): CheckOptions => ({
      paths,
      agent: (optionsObject(options, 'options').agent ?? null) as number | null,
      guard: 'on',
    }),
  },
  mcp: {
    tool: 'check',
    description: 'Is any of these paths held by another agent? Lists each conflict. Use it before editing paths you have not locked and before committing: do not commit a conflicting path.',
    properties: (settings) => ({ paths: mcpPaths(settings) }),
    required: ['paths'],
    readOnly: true,
    input: (args, session) => ({ paths: args.paths as string[], agent: session.id, guard: 'on' as const }),
    outputSchema: {
      type: 'object',
      properties: {
        guard: { type: 'string', enum: ['on', 'warn', 'off'] },
        agent: { type: ['integer', 'null'] },
        recognised: { type: 'array', items: { type: 'integer' } },
        shared_process: { type: 'array', items: { type: 'integer' } },
        checked: { type: 'integer' },
        conflicts: { type: 'array', items: PATH_HOLDS_SCHEMA },
        now_ms: NOW_MS,
      },
      required: ['guard', 'agent', 'recognised', 'shared_process', 'checked', 'conflicts', 'now_ms'],
    },
    says: (r) =>
      r.conflicts.length === 0
        ? `no conflicts: none of the ${r.checked} paths is held by another agent`
        : `${r.conflicts.length} of ${r.checked} paths are held by other agents: ` +
          r.conflicts.map((c) => `${c.path} by ${c.holders.map((h) => holdSays(c.path, h, r.now_ms)).join(' and by ')}`).join('; ') +
          '. Do not edit or commit them.',
  },
});

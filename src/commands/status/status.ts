import { locksOverlap, termsOf } from '../../core/registry.js';
import { lockKind } from '../../core/glob.js';
import { HOLD_SCHEMA } from '../hold.js';
import { forEachLock } from '../../core/lock-map.js';
import { normaliseLockPath } from '../../core/paths.js';
import { byKey, optionalAgentId, optionalDuration, optionalFlag, optionalString, optionsObject, pathText, type InputNames } from '../../core/validate.js';
import type { Context } from '../context.js';
import { defineCommand } from '../command.js';
import { agentIdText, cliPath, flagNames } from '../argv.js';
import { clockWarning } from '../../render/text.js';
import { NOW_MS, NULLABLE_STRING } from '../mcp-schema.js';
import { settingsView } from '../config.js';
import type { LocksView, StatusAgent, StatusLock, StatusOptions, StatusResult } from './types.js';

export type { LocksView, StatusAgent, StatusLock, StatusOptions, StatusResult } from './types.js';

const byExpiryThenPath = (a: StatusLock, b: StatusLock): number => a.expires_ms - b.expires_ms || (a.path < b.path ? -1 : 1);

/** Every agent (after reaping silent ones), by id, filtered as asked. */
export async function status(ctx: Context, given: StatusOptions = {}, names: InputNames = byKey): Promise<StatusResult> {
  const pathPrefix = optionalString(given.pathPrefix, 'pathPrefix');
  const options: StatusOptions = {
    agent: optionalAgentId(given.agent, names('agent')) ?? undefined,
    pathPrefix: pathPrefix === undefined ? undefined : pathText(pathPrefix, 'pathPrefix'),
    all: optionalFlag(given.all, 'all'),
  };
  const prefix = options.pathPrefix === undefined ? undefined : normaliseLockPath(options.pathPrefix, ctx.workspace.cwd, ctx.workspace.pathRoot);
  const matches = (path: string) => prefix === undefined || path.startsWith(prefix) || locksOverlap(path, prefix);
  return ctx.store.transact('query', ({ registry, nowMs, clockBehindMs, clock }) => {
    let hidden = 0;
    const agents: StatusAgent[] = [];
    for (const agent of [...registry.agents()].sort((a, b) => a.id - b.id)) {
      if (options.agent !== undefined && agent.id !== options.agent) continue;
      // One object per live lock and nothing else per lock: a large registry has 100,000 of them.
      const locks: StatusLock[] = [];
      const reasons = agent.lockReasons.size > 0 ? agent.lockReasons : undefined;
      const ref = { id: agent.id, name: agent.name };
      forEachLock(agent.lockedPaths, (path, expiry) => {
        if (!(expiry > nowMs && matches(path))) return;
        const kind = lockKind(path);
        const terms = agent.lockTerms ? termsOf(agent, path) : undefined;
        locks.push({
          path,
          kind,
          mode: terms?.mode ?? 'exclusive',
          slots: kind === 'resource' ? (terms?.slots ?? 1) : null,
          agent: ref,
          expires_ms: expiry,
          reason: reasons?.get(path) ?? null,
        });
      });
      locks.sort(byExpiryThenPath);
      if (prefix !== undefined && locks.length === 0) continue;
      if (!options.all && agent.state !== 'active' && locks.length === 0) {
        hidden++;
        continue;
      }
      agents.push({
        id: agent.id,
        name: agent.name,
        state: agent.state,
        last_seen_ms: agent.lastSeenMs,
        edit_count: agent.editCount,
        timeout_ms: registry.timeoutOf(agent),
        own_timeout: agent.meta?.timeoutMs !== undefined,
        worktree: agent.meta?.worktree ?? null,
        branch: agent.meta?.branch ?? null,
        session: agent.meta?.session ? { client: agent.meta.session.client, id: agent.meta.session.id } : null,
        locks,
      });
    }
    return { now_ms: nowMs, clock_behind_ms: clockBehindMs, clock, workspace: ctx.workspace.root, settings: settingsView(registry.settings), agents, hidden };
  });
}

/** `status --locks`: one entry per live lock, soonest expiry first. */
export function locksView(result: StatusResult): LocksView {
  const locks = result.agents.flatMap((agent) => agent.locks).sort(byExpiryThenPath);
  return { now_ms: result.now_ms, locks };
}

/** The CLI's status: what to show, and how (a table of locks, redrawn). */
export interface StatusCliOptions extends Omit<StatusOptions, 'agent'> {
  /** Only this agent (the CLI's id as typed). */
  readonly agent?: number | string;
  /** How the calling face names the options in a refusal (default: by key). */
  readonly names?: InputNames;
  readonly locks?: boolean;
  /** The boxed table even into a pipe. */
  readonly table?: boolean;
  readonly watchMs?: number;
}

export const command = defineCommand({
  name: 'status',
  // The agent as typed on the command line is checked by the use case, once, under the face's name.
  run: (ctx, options: StatusCliOptions) => status(ctx, { agent: options.agent as number | undefined, pathPrefix: options.pathPrefix, all: options.all }, options.names),
  render: async (r, { color, terminalColumns, options }) => {
    const tables = await import('./status-table.js');
    // Into a pipe or a file: tab-separated rows (as gh does), unless the table is asked for.
    const plain = terminalColumns === null && !options.table;
    const width = terminalColumns ?? undefined;
    return {
      stdout: plain
        ? options.locks
          ? tables.renderLocksTsv(locksView(r))
          : tables.renderStatusTsv(r)
        : options.locks
          ? tables.renderLocksTable(locksView(r), color, width)
          : tables.renderStatusTable(r, color, width),
      // The clock warning first: it says the times above may be wrong.
      stderr: (r.clock_behind_ms > 0 ? `${clockWarning(r.clock)}\n` : '') + (plain && !options.locks ? tables.statusNotes(r) : ''),
    };
  },
  json: (r, options) => (options.locks ? locksView(r) : r),
  cli: {
    description: 'show the agents: state, last seen, edits and live locks',
    options: [
      { flags: '--agent <id>', help: 'only this agent' },
      { flags: '--path <prefix>', help: 'only locks on this path, under it or covering it (src/ for a directory)' },
      { flags: '--locks', help: 'one row per live lock (path, holder, reason, time left), soonest expiry first' },
      { flags: '--all', help: 'include crashed and gone agents that hold nothing (hidden by default)' },
      { flags: '--table', help: 'the boxed table even when stdout is not a terminal (into a pipe: tab-separated rows by default)' },
      { flags: '--watch', help: 'redraw every second (or --interval) until Ctrl-C' },
      { flags: '--interval <duration>', help: 'with --watch: time between redraws' },
    ],
    examples: ['harn-agents status', 'harn-agents status --locks --path src/api/', 'harn-agents status --watch', 'harn-agents status --json'],
    input: ({ opts }) => {
      // --interval is the command line's alone (status --watch): checked here, its one face.
      const intervalMs = optionalDuration(opts.interval, '--interval');
      return {
        agent: opts.agent === undefined ? undefined : agentIdText(opts.agent as string),
        pathPrefix: opts.path === undefined ? undefined : cliPath(opts.path as string),
        all: opts.all as boolean | undefined,
        locks: opts.locks === true,
        table: opts.table === true,
        watchMs: opts.watch ? (intervalMs ?? 1_000) : undefined,
        names: flagNames(),
      };
    },
    repeatMs: (options) => options.watchMs,
  },
  library: { method: 'status', input: (options?: StatusOptions): StatusCliOptions => optionsObject(options, 'options') as StatusOptions },
  mcp: {
    tool: 'status',
    description: 'All agents in the workspace with their state and live locks.',
    properties: { path: { type: 'string', description: 'Only locks on, under or covering this path (relative to the workspace root).' } },
    readOnly: true,
    input: (args) => ({ pathPrefix: args.path as string | undefined }),
    outputSchema: {
      type: 'object',
      properties: {
        now_ms: NOW_MS,
        clock_behind_ms: { type: 'integer' },
        workspace: { type: 'string' },
        settings: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              value_ms: { type: 'integer' },
              value: { type: 'string' },
              source: { type: 'string', enum: ['workspace', 'default'] },
              default_ms: { type: 'integer' },
              description: { type: 'string' },
            },
            required: ['key', 'value_ms', 'value', 'source', 'default_ms', 'description'],
          },
        },
        agents: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              name: { type: 'string' },
              state: { type: 'string' },
              last_seen_ms: { type: 'integer' },
              edit_count: { type: 'integer' },
              timeout_ms: { type: 'integer' },
              own_timeout: { type: 'boolean' },
              worktree: NULLABLE_STRING,
              branch: NULLABLE_STRING,
              session: {
                type: ['object', 'null'],
                properties: { client: { type: 'string' }, id: { type: 'string' } },
                required: ['client', 'id'],
              },
              locks: {
                type: 'array',
                items: HOLD_SCHEMA,
              },
            },
            required: ['id', 'name', 'state', 'last_seen_ms', 'edit_count', 'timeout_ms', 'own_timeout', 'worktree', 'branch', 'session', 'locks'],
          },
        },
        hidden: { type: 'integer' },
      },
      required: ['now_ms', 'workspace', 'settings', 'agents', 'hidden'],
    },
    says: (r) => {
      const locks = r.agents.reduce((n, a) => n + a.locks.length, 0);
      return `${r.agents.length} agent${r.agents.length === 1 ? '' : 's'} shown, ${locks} live lock${locks === 1 ? '' : 's'}`;
    },
  },
});

import type { Duration } from '../core/durations.js';
import { usageError } from '../core/errors.js';
import { ancestry, clientOf } from '../core/process-tree.js';
import { agentName, byKey, describeValue, optionalChosenAgentId, optionalDuration, optionsObject, type InputNames } from '../core/validate.js';
import { agentIdText, flagNames, optionalGivenAgent } from './argv.js';
import { dropIntent, guardDrop, type DropIntent } from './break-guard.js';
import { defineCommand } from './command.js';
import type { AgentRef, Context } from './context.js';

export interface RegisterOptions extends DropIntent {
  readonly name: string;
  /** Register under this id instead of the next free one (replaces any record under it, as in the seed). */
  readonly id?: number | string;
  /**
   * The agent's own silence limit: how long it may go without a heartbeat or lock before it is reaped and its
   * locks freed. Default: the call's `--agent-timeout`, else the workspace's `agent-timeout` setting.
   */
  readonly timeoutMs?: Duration;
  /**
   * A long-lived process the agent belongs to (an MCP server's client, an editor): `check` run from any of
   * its descendants (a `git commit` hook) treats the agent as the caller. Recorded with its start time
   * (/proc), so a reused pid is not mistaken for it; ignored where /proc is not available. A wrapper
   * (`sh -c`, `npm exec`) stands for the client above it; pid 1 is refused.
   */
  readonly clientPid?: number;
  /** How the calling face names these options in a refusal (default: by key). */
  readonly names?: InputNames;
}

export type RegisterResult = AgentRef;

export async function register(ctx: Context, options: RegisterOptions): Promise<RegisterResult> {
  const name = agentName(options.name, 'the agent name');
  const names = options.names ?? byKey;
  const chosen = optionalChosenAgentId(options.id, names('id'));
  const timeoutMs = optionalDuration(options.timeoutMs, names('timeout'));
  const pid = options.clientPid;
  if (pid !== undefined && pid !== null && !(typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0)) {
    throw usageError(`clientPid: ${describeValue(pid)} is not a process id`);
  }
  // pid 1 is every process's ancestor: recorded, every commit on the machine would count as this agent's.
  if (pid === 1) throw usageError('clientPid: 1 is init, the ancestor of every process; pass the pid of the client itself');
  const client = typeof pid === 'number' ? clientOf(pid) : null;
  const agentOptions = { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(client ? { process: client } : {}) };
  const intent = dropIntent(options, names);
  const tree = chosen !== undefined && intent.by === null ? { ...intent, ancestry: options.ancestry ?? ancestry() } : intent;
  return ctx.store.transact('update', ({ registry, nowMs, record }) => {
    // Re-registering an id replaces its record, locks and all: another agent's only on purpose.
    if (chosen !== undefined) guardDrop(registry, nowMs, record, chosen, 'register --id', tree);
    const id = chosen === undefined ? registry.register(name, nowMs, agentOptions) : registry.registerWithId(chosen, name, nowMs, agentOptions);
    return { id, name };
  }, chosen === undefined ? { newId: true } : { agents: [chosen] });
}

export const command = defineCommand({
  name: 'register',
  run: register,
  render: (r) => ({ stdout: `${r.id}\n`, stderr: '' }),
  cli: {
    description: 'register an agent and print its id alone on stdout',
    arguments: [{ name: '<name>', help: 'a human-readable name ("editor", "ci", ...)' }],
    options: [
      { flags: '--id <id>', help: 'register under this id (replaces any agent registered under it; one holding live locks only as itself, or with --force --reason)' },
      { flags: '--agent <id>', help: 'with --id: who you are (default: HARN_AGENT_ID)' },
      { flags: '--force', help: 'with --id: replace an agent that holds live locks, breaking them (needs --reason; recorded in the event log)' },
      { flags: '--reason <text>', help: 'why its locks are broken (with --force)' },
      {
        flags: '--timeout <duration>',
        help: "how long the agent may go without a heartbeat before it is reaped and its locks freed (default: --agent-timeout, else the workspace's agent-timeout)",
      },
    ],
    examples: ['ID=$(harn-agents register ci)', 'ID=$(harn-agents register ana --timeout 8h)', 'harn-agents register editor --id 7'],
    input: ({ args, opts, env }) => {
      // Text as typed (an id's digits as a number), checked once by the use case under the flags' names.
      const by = opts.id === undefined ? undefined : optionalGivenAgent(opts.agent, env);
      return {
        name: args[0] as string,
        id: opts.id === undefined ? undefined : agentIdText(opts.id as string),
        timeoutMs: opts.timeout as string | undefined,
        by: by?.agent,
        force: opts.force === true,
        reason: opts.reason as string | undefined,
        names: flagNames({ by: by?.name ?? '--agent' }),
      };
    },
  },
  library: {
    method: 'register',
    /** `timeout`: the agent's own silence limit; `clientPid`: a long-lived process it belongs to (see RegisterOptions). */
    input: (name: string, options?: { id?: number; timeout?: Duration; clientPid?: number }): RegisterOptions => {
      const o = optionsObject(options, 'options');
      return { name, id: o.id as number | undefined, timeoutMs: o.timeout as Duration | undefined, clientPid: o.clientPid as number | undefined };
    },
  },
});

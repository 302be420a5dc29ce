import type { Duration } from '../core/durations.js';
import { usageError } from '../core/errors.js';
import { processIdentity } from '../core/process-tree.js';
import { agentName, chosenAgentId, describeValue, optionalChosenAgentId, optionalDuration, optionsObject } from '../core/validate.js';
import { parseAgentId } from './argv.js';
import { defineCommand } from './command.js';
import type { AgentRef, Context } from './context.js';

export interface RegisterOptions {
  readonly name: string;
  /** Register under this id instead of the next free one (replaces any record under it, as in the seed). */
  readonly id?: number;
  /**
   * The agent's own silence limit: how long it may go without a heartbeat or lock before it is reaped and its
   * locks freed. Default: the call's `--agent-timeout`, else the workspace's `agent-timeout` setting.
   */
  readonly timeoutMs?: number;
  /**
   * A long-lived process the agent belongs to (an MCP server's client, an editor): `check` run from any of
   * its descendants (a `git commit` hook) treats the agent as the caller. Recorded with its start time
   * (/proc), so a reused pid is not mistaken for it; ignored where /proc is not available.
   */
  readonly clientPid?: number;
}

export type RegisterResult = AgentRef;

export async function register(ctx: Context, options: RegisterOptions): Promise<RegisterResult> {
  const name = agentName(options.name, 'the agent name');
  const chosen = optionalChosenAgentId(options.id, 'id');
  const timeoutMs = optionalDuration(options.timeoutMs, 'timeout');
  const pid = options.clientPid;
  if (pid !== undefined && pid !== null && !(typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0)) {
    throw usageError(`clientPid: ${describeValue(pid)} is not a process id`);
  }
  const client = typeof pid === 'number' ? processIdentity(pid) : null;
  const agentOptions = { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(client ? { process: client } : {}) };
  return ctx.store.transact('update', ({ registry, nowMs }) => {
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
      { flags: '--id <id>', help: 'register under this id (replaces any agent registered under it)' },
      {
        flags: '--timeout <duration>',
        help: "how long the agent may go without a heartbeat before it is reaped and its locks freed (default: --agent-timeout, else the workspace's agent-timeout)",
        value: 'duration',
      },
    ],
    examples: ['ID=$(harn-agents register ci)', 'ID=$(harn-agents register ana --timeout 8h)', 'harn-agents register editor --id 7'],
    input: ({ args, opts }) => ({
      name: args[0] as string,
      id: opts.id === undefined ? undefined : chosenAgentId(parseAgentId(opts.id as string, '--id'), '--id'),
      timeoutMs: opts.timeout as number | undefined,
    }),
  },
  library: {
    method: 'register',
    /** `timeout`: the agent's own silence limit; `clientPid`: a long-lived process it belongs to (see RegisterOptions). */
    input: (name: string, options?: { id?: number; timeout?: Duration; clientPid?: number }): RegisterOptions => {
      const o = optionsObject(options, 'options');
      return { name, id: o.id as number | undefined, timeoutMs: optionalDuration(o.timeout, 'timeout'), clientPid: o.clientPid as number | undefined };
    },
  },
});

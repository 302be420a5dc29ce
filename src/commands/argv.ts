import { usageError } from '../core/errors.js';
import { agentId } from '../core/validate.js';
import type { Context } from './context.js';
import type { GlobalOptions } from './command.js';
import { openContext, registryConfig } from './create-context.js';
import { parseDuration } from '../core/durations.js';

export type { GlobalOptions } from './command.js';

/** Parse an agent id given as text: plain decimal digits, then the library's own check (core/validate.ts). */
export function parseAgentId(text: string, what: string): number {
  const trimmed = text.trim();
  const id = /^\d{1,16}$/.test(trimmed) ? Number(trimmed) : NaN;
  // Not digits, or beyond what a number holds exactly (9007199254740993 would become ...992): refused with
  // the message the validator gives any value that is not an id, quoting the text as given.
  return agentId(Number.isSafeInteger(id) ? id : text, what);
}

/** The agent a command acts for: the argument or option if given, else HARN_AGENT_ID. */
export function resolveAgent(given: unknown, env: NodeJS.ProcessEnv, what: string): number {
  if (typeof given === 'string') return parseAgentId(given, what);
  const fromEnv = env.HARN_AGENT_ID;
  if (fromEnv !== undefined && fromEnv !== '') return parseAgentId(fromEnv, 'HARN_AGENT_ID');
  throw usageError(`no agent given: pass ${what} or set HARN_AGENT_ID`);
}

/** The agent if one is given (argument, option or HARN_AGENT_ID), else null. */
export function optionalAgent(given: unknown, env: NodeJS.ProcessEnv): number | null {
  if (given === undefined && !env.HARN_AGENT_ID) return null;
  return resolveAgent(given, env, '--agent');
}

/**
 * A path argument as typed. An empty one (`lock "$FILE"` with FILE unset) is refused in the CLI's own words,
 * before the use case would refuse it naming the library's `paths[0]`; the use case checks everything else.
 */
export function cliPath(value: string): string {
  if (value === '') throw usageError('a path must not be empty (an unset shell variable?)');
  return value;
}

/** Path arguments as commander gives them (`<path...>`), each checked by `cliPath`. */
export const cliPaths = (values: unknown): string[] => (values as string[]).map(cliPath);

/** Build the context one invocation runs in, from its flags and environment. */
export function cliContext(globals: GlobalOptions, env: NodeJS.ProcessEnv, processCwd: string, clock?: () => number): Context {
  const lockTtl = (globals.lockTtl ?? env.HARN_LOCK_TTL) || undefined;
  const agentTimeout = (globals.agentTimeout ?? env.HARN_AGENT_TIMEOUT) || undefined;
  return openContext({
    cwd: globals.C !== undefined ? resolveFrom(processCwd, globals.C) : processCwd,
    workspace: env.HARN_WORKSPACE,
    config: registryConfig(
      { lockTtl, agentTimeout },
      { lockTtl: globals.lockTtl ? '--lock-ttl' : 'HARN_LOCK_TTL', agentTimeout: globals.agentTimeout ? '--agent-timeout' : 'HARN_AGENT_TIMEOUT' },
    ),
    store: globals.store ?? env.HARN_STORE,
    namespace: globals.namespace ?? env.HARN_NAMESPACE,
    stateLockWaitMs: env.HARN_STATE_LOCK_WAIT ? parseDuration(env.HARN_STATE_LOCK_WAIT, 'HARN_STATE_LOCK_WAIT') : undefined,
    safeDirectories: env.HARN_SAFE_DIRECTORIES,
    clock,
    trace: env.HARN_DEBUG ? (line: string) => process.stderr.write(`harn-agents: debug: ${line}\n`) : undefined,
  });
}

function resolveFrom(base: string, dir: string): string {
  if (dir === '') throw usageError('-C: the directory must not be empty');
  return dir.startsWith('/') ? dir : `${base}/${dir}`;
}

import { parseDuration } from '../core/durations.js';
import { usageError } from '../core/errors.js';
import { DEFAULT_CONFIG, type RegistryConfig } from '../core/registry.js';
import type { Context } from '../commands/context.js';
import { createContext } from '../commands/create-context.js';

/** Options every command accepts (before or after the command name). */
export interface GlobalOptions {
  readonly C?: string;
  readonly json?: boolean;
  readonly lockTtl?: string;
  readonly agentTimeout?: string;
  readonly store?: string;
  readonly namespace?: string;
}

/** Parse an agent id: a plain decimal integer in 0..2^53-2. */
export function parseAgentId(text: string, what: string): number {
  const trimmed = text.trim();
  const value = /^\d{1,16}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value >= Number.MAX_SAFE_INTEGER) {
    throw usageError(`${what}: '${text}' is not an agent id (a whole number from 0 to ${Number.MAX_SAFE_INTEGER - 1})`);
  }
  return value;
}

/** The agent a command acts for: the argument or option if given, else HARN_AGENT_ID. */
export function resolveAgent(given: string | undefined, env: NodeJS.ProcessEnv, what: string): number {
  if (given !== undefined) return parseAgentId(given, what);
  const fromEnv = env.HARN_AGENT_ID;
  if (fromEnv !== undefined && fromEnv !== '') return parseAgentId(fromEnv, 'HARN_AGENT_ID');
  throw usageError(`no agent given: pass ${what} or set HARN_AGENT_ID`);
}

/** The agent if one is given (argument, option or HARN_AGENT_ID), else null. */
export function optionalAgent(given: string | undefined, env: NodeJS.ProcessEnv): number | null {
  if (given === undefined && !env.HARN_AGENT_ID) return null;
  return resolveAgent(given, env, '--agent');
}

export function registryConfig(globals: GlobalOptions, env: NodeJS.ProcessEnv): RegistryConfig {
  const lockTtl = globals.lockTtl ?? env.HARN_LOCK_TTL;
  const agentTimeout = globals.agentTimeout ?? env.HARN_AGENT_TIMEOUT;
  return {
    defaultLockTtlMs: lockTtl ? parseDuration(lockTtl, globals.lockTtl ? '--lock-ttl' : 'HARN_LOCK_TTL') : DEFAULT_CONFIG.defaultLockTtlMs,
    agentTimeoutMs: agentTimeout
      ? parseDuration(agentTimeout, globals.agentTimeout ? '--agent-timeout' : 'HARN_AGENT_TIMEOUT')
      : DEFAULT_CONFIG.agentTimeoutMs,
  };
}

/** Build the context one invocation runs in, from its flags and environment. */
export function buildContext(globals: GlobalOptions, env: NodeJS.ProcessEnv, processCwd: string): Context {
  return createContext({
    cwd: globals.C ? resolveFrom(processCwd, globals.C) : processCwd,
    workspace: env.HARN_WORKSPACE,
    config: registryConfig(globals, env),
    store: globals.store ?? env.HARN_STORE,
    namespace: globals.namespace ?? env.HARN_NAMESPACE,
    stateLockWaitMs: env.HARN_STATE_LOCK_WAIT ? parseDuration(env.HARN_STATE_LOCK_WAIT, 'HARN_STATE_LOCK_WAIT') : undefined,
    trace: env.HARN_DEBUG ? (line: string) => process.stderr.write(`harn-agents: debug: ${line}\n`) : undefined,
  });
}

function resolveFrom(base: string, dir: string): string {
  if (dir === '') throw usageError('-C: the directory must not be empty');
  return dir.startsWith('/') ? dir : `${base}/${dir}`;
}

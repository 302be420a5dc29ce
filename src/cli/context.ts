import type { Context } from '../commands/context.js';
import type { GlobalOptions } from '../commands/command.js';
import { openContext, registryConfig } from '../commands/create-context.js';
import { envDuration, envStore, keeperEnabled } from '../commands/environment.js';
import { usageError } from '../core/errors.js';

/** Build the context one invocation runs in, from its flags and environment. */
export function cliContext(globals: GlobalOptions, env: NodeJS.ProcessEnv, processCwd: string, clock?: () => number, use: { sessionKeeper: boolean } = { sessionKeeper: true }): Context {
  // HARN_PG_KEEPER is read (and refused if wrong) by every call; a long-lived one never borrows sessions.
  const keeper = keeperEnabled(env.HARN_PG_KEEPER) && use.sessionKeeper;
  const lockTtl = (globals.lockTtl ?? env.HARN_LOCK_TTL) || undefined;
  const agentTimeout = (globals.agentTimeout ?? env.HARN_AGENT_TIMEOUT) || undefined;
  return openContext({
    cwd: globals.C !== undefined ? resolveFrom(processCwd, globals.C) : processCwd,
    workspace: env.HARN_WORKSPACE,
    config: registryConfig(
      { lockTtl, agentTimeout },
      { lockTtl: globals.lockTtl ? '--lock-ttl' : 'HARN_LOCK_TTL', agentTimeout: globals.agentTimeout ? '--agent-timeout' : 'HARN_AGENT_TIMEOUT' },
    ),
    store: globals.store ?? envStore(env),
    namespace: globals.namespace ?? env.HARN_NAMESPACE,
    stateLockWaitMs: envDuration(env, 'HARN_STATE_LOCK_WAIT'),
    safeDirectories: env.HARN_SAFE_DIRECTORIES,
    sessionKeeper: keeper ? { env } : undefined,
    clock,
    trace: env.HARN_DEBUG ? (line: string) => process.stderr.write(`harn-agents: debug: ${line}\n`) : undefined,
  });
}

function resolveFrom(base: string, dir: string): string {
  if (dir === '') throw usageError('-C: the directory must not be empty');
  return dir.startsWith('/') ? dir : `${base}/${dir}`;
}

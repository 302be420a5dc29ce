import { spawn } from 'node:child_process';
import { usageError } from '../core/errors.js';
import { keepAliveIntervalMs } from '../core/keepalive.js';
import { normaliseLockPaths } from '../core/paths.js';
import type { Context } from './context.js';
import { lockNormalised, type LockResult } from './lock.js';

export interface WithLockOptions {
  readonly paths: readonly string[];
  /** The command and its arguments, run without a shell. */
  readonly command: readonly string[];
  /** Hold the locks as this agent; null: register a transient agent for the run and unregister it after. */
  readonly agent: number | null;
  readonly ttlMs?: number;
  readonly waitMs?: number;
  readonly reason?: string;
}

export type WithLockResult =
  | { readonly ran: false; readonly lock: LockResult }
  | { readonly ran: true; readonly agent: number; readonly exit_code: number | null; readonly signal: NodeJS.Signals | null };

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Like flock(1), with the registry: take every lock (all or nothing), run the command, keep the agent alive
 * and the locks renewed while it runs (every third of the TTL or the agent timeout, whichever is shorter),
 * and release them (and unregister a transient agent) however the command ends. Signals sent to this
 * process are forwarded to the command.
 */
export async function withLock(ctx: Context, options: WithLockOptions): Promise<WithLockResult> {
  if (options.command.length === 0) throw usageError('no command given: harn-agents with-lock <path...> -- <command> [args...]');
  const paths = normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.root);
  const name = `with-lock: ${options.command.join(' ')}`.slice(0, 200);
  const agent =
    options.agent ?? (await ctx.store.transact('write', ({ registry, nowMs }) => registry.register(name, nowMs)));
  const transient = options.agent === null;

  const granted = await lockNormalised(ctx, paths, { agent, ttlMs: options.ttlMs, waitMs: options.waitMs, reason: options.reason });
  if (!granted.granted) {
    if (transient) await ctx.store.transact('write', ({ registry }) => registry.unregister(agent));
    return { ran: false, lock: granted };
  }

  const started = ctx.clock();
  const ttl = options.ttlMs ?? ctx.config.defaultLockTtlMs;
  const renewEvery = keepAliveIntervalMs(ttl, ctx.config.agentTimeoutMs);
  let renewing = Promise.resolve();
  const renewal = setInterval(() => {
    renewing = renewing.then(async () => {
      const renewed = await ctx.store
        .transact('write', ({ registry, nowMs }) => registry.lockAll(agent, paths, ttl, nowMs).granted)
        .catch(() => false);
      if (!renewed) process.stderr.write(`harn-agents: warning: could not renew the locks of agent ${agent} (broken or taken over?)\n`);
    });
  }, renewEvery);

  const child = spawn(options.command[0] as string, options.command.slice(1), { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`harn-agents: cannot run ${options.command[0]}: ${error.message}\n`);
      resolve({ code: 127, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  clearInterval(renewal);
  for (const [signal, handler] of handlers) process.off(signal, handler);
  await renewing;
  await ctx.store.transact('write', ({ registry, nowMs, record }) => {
    for (const path of paths) registry.releaseLock(agent, path);
    const holder = registry.get(agent);
    record({
      type: 'with-lock',
      ts: nowMs,
      agent: { id: agent, name: holder?.name ?? name },
      paths,
      command: options.command,
      exit_code: outcome.code,
      signal: outcome.signal,
      duration_ms: Math.max(0, nowMs - started),
    });
    if (transient) registry.unregister(agent);
  });
  return { ran: true, agent, exit_code: outcome.code, signal: outcome.signal };
}

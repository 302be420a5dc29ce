import { spawn } from 'node:child_process';
import { formatSpan } from '../core/durations.js';
import { isHarnError, usageError } from '../core/errors.js';
import type { AgentRegistry } from '../core/registry.js';
import { ownProcess } from '../core/process-tree.js';
import { normaliseLockPaths } from '../core/paths.js';
import { agentName, byKey, MAX_NAME_LENGTH, optionalAgentId, optionalDuration, pathList, type InputNames } from '../core/validate.js';
import type { Duration } from '../core/durations.js';
import { escapeForTerminal as esc } from '../render/escape.js';
import type { Context } from './context.js';
import { lockChecked, lockSettings, lockTerms, renderLock, type LockResult, type LockSettings } from './lock.js';
import { constants as osConstants } from 'node:os';
import { ExitCode } from '../core/errors.js';
import { cliPaths, flagNames, optionalGivenAgent, wholeNumberText } from './argv.js';
import { defineCommand, nothingShown } from './command.js';
import { Lease, type LostLock } from './lease.js';

export interface WithLockOptions {
  readonly paths: readonly string[];
  /** The command and its arguments, run without a shell. */
  readonly command: readonly string[];
  /** Hold the locks as this agent (the CLI's id as typed); null: register a transient agent for the run and unregister it after. */
  readonly agent: number | string | null;
  /** The transient agent's name (default `with-lock: <program>`: never the arguments, which may hold secrets). */
  readonly name?: string;
  /** In ms, or as typed ("2m"), as every duration here. */
  readonly ttlMs?: Duration;
  readonly waitMs?: Duration;
  readonly reason?: string;
  /** Hold the paths shared (see `lock --shared`). */
  readonly shared?: boolean;
  /** A resource's slots (see `lock --slots`). */
  readonly slots?: number | string;
  /** When the lock is lost: how long the command has between SIGTERM and SIGKILL (default 10 s). */
  readonly killAfterMs?: Duration;
  /**
   * Send the command's stdout to this process's stderr (`--json`: stdout then carries one JSON document,
   * with-lock's result, which the command's output cannot mix with).
   */
  readonly commandStdoutToStderr?: boolean;
  /** How the calling face names these options in a refusal (default: by key). */
  readonly names?: InputNames;
}

/** with-lock's options once checked. */
type WithLockSettings = Omit<LockSettings, 'agent' | 'signal'> & {
  readonly paths: readonly string[];
  readonly command: readonly string[];
  readonly agent: number | null;
  readonly name?: string;
  readonly killAfterMs?: number;
  readonly commandStdoutToStderr: boolean;
};

/** Why the command was stopped: its locks were lost while it ran. */
export interface LostLocks {
  readonly paths: readonly string[];
  readonly why: 'lapsed' | 'lost';
}

export type WithLockResult =
  | { readonly ran: false; readonly lock: LockResult }
  | {
      readonly ran: true;
      readonly agent: number;
      readonly exit_code: number | null;
      /** The signal that ended the command (SIGTERM, ...), or null. */
      readonly signal: string | null;
      /** Set when the locks were lost while the command ran (it was then stopped). */
      readonly lost: LostLocks | null;
    };

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
export const DEFAULT_KILL_AFTER_MS = 10_000;

/**
 * Like flock(1), with the registry: take every lock (all or nothing), run the command, keep the locks renewed
 * while it runs (the lease, lease.ts: every third of the TTL or the agent timeout, whichever is shorter),
 * and release them (and unregister a transient agent) however the command ends. Signals sent to this
 * process are forwarded to the command.
 *
 * A renewal only extends locks the agent still holds. When they are lost (lapsed while this process was
 * stopped, broken with `release --force`, reaped, or taken), the command is told on stderr and ended:
 * SIGTERM, then SIGKILL after `killAfterMs`, as `consul lock` does, because its critical section is over.
 */
export async function withLock(ctx: Context, given: WithLockOptions): Promise<WithLockResult> {
  const options = withLockSettings(given);
  const program = options.command[0];
  if (program === undefined) throw usageError('no command given: harn-agents with-lock <path...> -- <command> [args...]');
  const paths = normaliseLockPaths(options.paths, ctx.workspace.cwd, ctx.workspace.pathRoot);
  // Checked before a transient agent is registered, so bad terms leave nothing behind.
  lockTerms(paths, options);
  // A name given was checked by the register rule (withLockSettings: 1 to MAX_NAME_LENGTH characters, as
  // every face); the default one is cut to fit it, as the MCP session's is.
  const name = options.name ?? `with-lock: ${program}`.slice(0, MAX_NAME_LENGTH);
  // The transient agent records this process, so a `git commit` the command runs is recognised as its own.
  const self = ownProcess();
  const agent =
    options.agent ??
    (await ctx.store.transact('update', ({ registry, nowMs }) => registry.register(name, nowMs, self ? { process: self } : {}), { newId: true }));
  const transient = options.agent === null;

  const granted = await lockChecked(ctx, paths, { agent, ttlMs: options.ttlMs, waitMs: options.waitMs, reason: options.reason, shared: options.shared, slots: options.slots });
  if (!granted.granted) {
    if (transient) await ctx.store.transact('update', ({ registry }) => registry.unregister(agent), { agents: [agent] });
    return { ran: false, lock: granted };
  }

  const started = ctx.clock();
  // The TTL the locks were granted with (the call's, else the workspace's), and the agent's own timeout.
  const ttl = Math.max(1, (granted.locks[0]?.expires_ms ?? granted.now_ms) - granted.now_ms);
  const agentTimeoutMs = granted.agent_timeout_ms ?? ttl;
  let lost: LostLocks | null = null;
  let child: ReturnType<typeof spawn> | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let lostReport: Promise<void> = Promise.resolve();
  // Not on a terminal (scripts, hooks, CI), the command gets a process group of its own, so stopping it
  // stops everything it started too (sh -c, npm run). On a terminal it stays in ours: a process group in
  // the background would be stopped by the terminal the moment it reads from it.
  const ownGroup = process.stdin.isTTY !== true;
  const signalCommand = (signal: NodeJS.Signals): void => {
    const pid = child?.pid;
    if (pid === undefined) return;
    try {
      if (ownGroup) process.kill(-pid, signal);
      else child?.kill(signal);
    } catch {
      // Already gone: nothing left to signal.
    }
  };

  /** Who holds the lost paths now, for the message ('' when nobody, or when the store cannot say). */
  const newHolder = (registry: AgentRegistry, lostPaths: readonly string[], nowMs: number): string => {
    const hold = lostPaths.map((path) => registry.holderOf(path, nowMs, agent)).find((h) => h !== undefined);
    return hold ? `; now held by agent ${hold.agent.id} (${hold.agent.name})` : '';
  };
  /** Why the locks went, for the message. */
  const lossDetail = async (locks: readonly LostLock[], why: LostLocks['why']): Promise<string> => {
    if (why === 'lost') {
      const holder = locks.find((l) => l.holders.length > 0)?.holders[0]?.agent;
      return holder ? `now held by agent ${holder.id} (${holder.name})` : 'expired, broken or reaped';
    }
    // Lapsed by this process's own clock (it was stopped, or the store was out of reach for a whole TTL):
    // lost, whatever the store says later. Asking who holds the paths now is only for the message; the store
    // may be out of reach (that can be why the locks lapsed): the message then names no holder.
    const lostPaths = locks.map((l) => l.path);
    const holder = await ctx.store.transact('query', ({ registry, nowMs }) => newHolder(registry, lostPaths, nowMs), { paths: lostPaths }).catch(() => '');
    return `not renewed within its ${formatSpan(ttl)} TTL${holder}`;
  };

  // The lease renews the locks while the command runs; when they are lost, the command is stopped first (its
  // critical section is over), then told why.
  let warned = false;
  const lease = new Lease(ctx, {
    agent,
    agentTimeoutMs,
    events: {
      lost: (locks) => {
        if (lost) return;
        const why = locks[0]?.why ?? 'lost';
        lost = { paths: locks.map((l) => l.path), why };
        signalCommand('SIGTERM');
        killTimer = setTimeout(() => signalCommand('SIGKILL'), options.killAfterMs ?? DEFAULT_KILL_AFTER_MS);
        const lostPaths = lost.paths;
        lostReport = lossDetail(locks, why).then((text) => {
          process.stderr.write(`harn-agents: with-lock lost its lock on ${lostPaths.map(esc).join(', ')} (${text}); stopping ${esc(program)}\n`);
        });
      },
      // The store could not be reached this time (exit 3/4, or a system error such as EACCES): the locks are
      // still ours until they lapse.
      failed: (error) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!warned) process.stderr.write(`harn-agents: warning: could not renew the locks of agent ${agent}: ${esc(message)}\n`);
        warned = true;
      },
    },
  });
  lease.hold(paths, ttl);
  lease.start();

  // The handlers go in before the command starts: a signal in the instant after spawn() would otherwise
  // find no handler and kill this process, leaving the command running with its locks. One that comes
  // before the command exists is delivered to it as soon as it does.
  let early: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => () => {
    if (child?.pid === undefined) early = signal;
    else signalCommand(signal);
  };
  const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  const cannotRun = (error: NodeJS.ErrnoException): { code: number; signal: null } => {
    process.stderr.write(`harn-agents: cannot run ${esc(program)}: ${esc(error.message)}\n`);
    // As shells do: 127 when the command is not found, 126 when it exists but cannot be executed.
    return { code: error.code === 'ENOENT' ? 127 : 126, signal: null };
  };
  let spawnFailure = { code: 126, signal: null };
  // Started before the command, so no moment passes with the command running and nothing watching.
  const watcher = watchForOwnDeath(options.killAfterMs ?? DEFAULT_KILL_AFTER_MS);
  try {
    // The watcher's token in the command's environment lets it find the command even if this process is
    // killed before telling it the command's process group (the instant right after this spawn).
    const env = watcher ? { ...process.env, HARN_WITH_LOCK_WATCH: watcher.token } : process.env;
    child = spawn(program, options.command.slice(1), { cwd: ctx.workspace.cwd, env, stdio: ['inherit', options.commandStdoutToStderr ? 2 : 'inherit', 'inherit'], detached: ownGroup });
  } catch (error) {
    // spawn() itself can throw (a NUL in an argument, too many open files): the cleanup below still runs.
    child = undefined;
    spawnFailure = cannotRun(error as NodeJS.ErrnoException);
  }
  const running = child;
  if (running && early) signalCommand(early);
  if (running?.pid !== undefined) watcher?.watch(ownGroup ? -running.pid : running.pid);
  const outcome: { code: number | null; signal: NodeJS.Signals | null } =
    running === undefined
      ? spawnFailure
      : await new Promise((resolve) => {
          running.once('error', (error: NodeJS.ErrnoException) => resolve(cannotRun(error)));
          running.once('exit', (code, signal) => resolve({ code, signal }));
        });

  watcher?.done();
  await lease.stop();
  clearTimeout(killTimer);
  for (const [signal, handler] of handlers) process.off(signal, handler);
  await lostReport;
  // The command ran: whatever happens to the clean-up, its exit code is the answer (a failed clean-up is
  // one warning line; the locks then lapse by their TTL and a transient agent by its timeout).
  await ctx.store.transact('update', ({ registry, nowMs, record }) => {
    for (const path of paths) registry.releaseLock(agent, path);
    const holder = registry.get(agent);
    record({
      type: 'with-lock',
      ts: nowMs,
      agent: { id: agent, name: holder?.name ?? name },
      paths,
      program,
      exit_code: outcome.code,
      signal: outcome.signal,
      duration_ms: Math.max(0, nowMs - started),
      ...(lost ? { lost: (lost as LostLocks).paths } : {}),
    });
    if (transient) registry.unregister(agent);
  }, { agents: [agent], paths }).catch((error: unknown) => {
    if (!isHarnError(error)) throw error;
    process.stderr.write(`harn-agents: warning: ${esc(program)} exited, but its locks could not be released: ${esc(error.message)}; they lapse after their TTL\n`);
  });
  return { ran: true, agent, exit_code: outcome.code, signal: outcome.signal, lost };
}

/**
 * A watcher outliving this process: were it killed (SIGKILL, which no handler sees), nothing would release
 * the locks while the command ran on, unguarded, and another agent could take its paths once they lapsed.
 * So the command is stopped then, as a lost lock stops it: a small `sh` in a process group of its own reads
 * a pipe only this process writes; end of file without "done" means this process is gone, and the command
 * (`target`: its process group, negative, or its pid) gets SIGTERM, then SIGKILL after `killAfterMs`.
 * flock(1) leaves the lock with the command instead; here the lock lapses by its TTL, never re-taken.
 */
export const WATCHER = [
  // $1: the kill-after period in tenths of a second; $2: the token in the command's environment.
  // Killed before it said which process group: the processes carrying the token are the command's (one
  // grep over every environment, NUL-separated).
  'if ! read -r target; then pids=$(grep -lszx "HARN_WITH_LOCK_WATCH=$2" /proc/[0-9]*/environ | sed "s#/proc/\\([0-9]*\\)/environ#\\1#"); ' +
    '[ -n "$pids" ] || exit 0; kill -s TERM $pids 2>/dev/null; ' +
    'i=0; while [ "$i" -lt "$1" ] && kill -s 0 $pids 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; kill -s KILL $pids 2>/dev/null; exit 0; fi',
  '[ "$target" = done ] && exit 0; read -r line; [ "$line" = done ] && exit 0',
  'kill -s TERM -- "$target" 2>/dev/null || exit 0',
  'i=0; while [ "$i" -lt "$1" ] && kill -s 0 -- "$target" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; kill -s KILL -- "$target" 2>/dev/null; exit 0',
].join('\n');

/** `watch(target)`: the command to stop (its process group, negative, or its pid); `done()`: it ended. */
function watchForOwnDeath(killAfterMs: number): { token: string; watch(target: number): void; done(): void } | undefined {
  const token = `${process.pid}-${Math.floor(Math.random() * 2 ** 48).toString(16)}`;
  let watcher: ReturnType<typeof spawn>;
  try {
    // $1: the kill-after period in tenths of a second, the pace at which it looks whether the command is gone.
    watcher = spawn('sh', ['-c', WATCHER, 'harn-agents-watch', String(Math.ceil(killAfterMs / 100)), token], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  } catch {
    return undefined; // no sh: the command then outlives a killed with-lock, as before
  }
  watcher.on('error', () => undefined);
  watcher.stdin?.on('error', () => undefined);
  watcher.unref();
  (watcher.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let ended = false;
  return {
    token,
    watch: (target) => void watcher.stdin?.write(`${target}\n`),
    done: () => {
      if (ended) return;
      ended = true;
      watcher.stdin?.end('done\ndone\n');
    },
  };
}

/**
 * The options checked once, before anything is registered or locked (the validation boundary, see
 * validate.ts), each named as the calling face names it; the lock's own are lock's checks (`lockSettings`).
 */
function withLockSettings(options: WithLockOptions): WithLockSettings {
  const name = options.names ?? byKey;
  const paths = pathList(options.paths, 'paths');
  const command = options.command as unknown;
  if (!Array.isArray(command) || !command.every((arg) => typeof arg === 'string')) throw usageError('command must be an array of strings');
  const agent = optionalAgentId(options.agent, name('agent'));
  const lock = lockSettings({ ...options, agent: agent ?? 0, signal: undefined });
  return {
    paths,
    command: command as string[],
    agent,
    ttlMs: lock.ttlMs,
    waitMs: lock.waitMs,
    reason: lock.reason,
    shared: lock.shared,
    slots: lock.slots,
    name: options.name === undefined || options.name === null ? undefined : agentName(options.name, name('name')),
    killAfterMs: optionalDuration(options.killAfterMs, name('killAfter')),
    commandStdoutToStderr: options.commandStdoutToStderr === true,
  };
}

function parseExitCode(text: string): number {
  const value = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 255)) throw usageError(`--conflict-exit-code: '${text}' is not an exit code (0-255)`);
  return value;
}

function signalNumber(signal: string | null): number {
  return (signal && osConstants.signals[signal as NodeJS.Signals]) || 0;
}

export const command = defineCommand({
  name: 'with-lock',
  run: (ctx, options: WithLockOptions & { readonly conflictExitCode: number }) => withLock(ctx, options),
  render: (r) => (r.ran ? nothingShown : renderLock(r.lock)),
  exitCode: (r, options) => (!r.ran ? options.conflictExitCode : r.lost ? ExitCode.lockLost : (r.exit_code ?? 128 + signalNumber(r.signal))),
  cli: {
    description: 'run a command holding locks (like flock, with the registry); exit with its exit code',
    passThrough: true,
    usage: '<path...> [options] -- <command> [args...]',
    arguments: [{ name: '<path-and-command...>', help: 'paths to lock, then -- and the command to run' }],
    options: [
      { flags: '--agent <id>', help: 'hold the locks as this agent (default: HARN_AGENT_ID, else a transient agent)' },
      { flags: '--ttl <duration>', help: 'lock TTL; renewed every third of it while the command runs' },
      { flags: '--wait <duration>', help: 'when refused, keep trying for this long' },
      { flags: '--reason <text>', help: 'why the paths are locked' },
      { flags: '--shared', help: 'hold the paths shared (readers together; a writer waits)' },
      { flags: '--slots <n>', help: 'for a resource (@name): at most n holders at once (default 1)' },
      { flags: '-E, --conflict-exit-code <n>', help: 'exit code when the locks are refused (default 1), as flock -E' },
      { flags: '--name <name>', help: 'name of the transient agent (default: "with-lock: <program>"; arguments are never shown)' },
      { flags: '--kill-after <duration>', help: 'if the locks are lost while the command runs: SIGTERM, then SIGKILL after this (default 10s)' },
    ],
    examples: [
      'harn-agents with-lock db/schema.sql -- ./migrate.sh up',
      'harn-agents with-lock src/api/ --wait 5m -E 75 -- npm run codegen',
      'harn-agents with-lock @db --wait 10m -- ./migrate.sh   # a resource, as with paths',
      'harn-agents with-lock @gpu --slots 2 --wait 1h -- python train.py',
    ],
    input: ({ args, opts, argv, env, globals }) => {
      const dash = argv.indexOf('--');
      if (dash === -1) throw usageError('put -- before the command: harn-agents with-lock <path...> -- <command> [args...]');
      const operands = args[0] as string[];
      const command = argv.slice(dash + 1);
      const paths = cliPaths(operands.slice(0, operands.length - command.length));
      const agent = optionalGivenAgent(opts.agent, env);
      if (paths.length === 0) throw usageError('give at least one path to lock before --');
      return {
        paths,
        command,
        conflictExitCode: opts.conflictExitCode === undefined ? ExitCode.no : parseExitCode(opts.conflictExitCode as string),
        agent: agent.agent,
        // Text as typed, checked once by the use case under the flags' names.
        name: opts.name as string | undefined,
        ttlMs: opts.ttl as string | undefined,
        waitMs: opts.wait as string | undefined,
        reason: opts.reason as string | undefined,
        shared: opts.shared === true ? true : undefined,
        slots: wholeNumberText(opts.slots as string | undefined),
        killAfterMs: opts.killAfter as string | undefined,
        commandStdoutToStderr: globals.json === true,
        names: flagNames({ agent: agent.name }),
      };
    },
  },
});

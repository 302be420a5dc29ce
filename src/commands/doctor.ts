import fs from 'node:fs';
import { describeKind, readRegular } from '../store/safe-fs.js';
import type { ClockFacts } from '../core/clock.js';
import { formatSpan } from '../core/durations.js';
import { isHarnError } from '../core/errors.js';
import { applyTransaction } from '../store/transaction.js';
import { describeError, errorCode } from '../store/fs-errors.js';
import type { Context } from './context.js';
import { hook } from './hook.js';
import { runGit } from '../hooks/git.js';
import { agentSettings, CLAUDE_CODE, CODEX } from '../hooks/agents/claude-settings.js';
import { defineCommand } from './command.js';
import { ExitCode, usageError } from '../core/errors.js';
import { rebaseClock, type ClockRebaseResult } from './clock-rebase.js';
import { resetState, type StateResetResult } from './state-reset.js';
import { renderClockRebase, renderDoctor, renderStateReset } from '../render/doctor.js';
import { settingsProblems, withoutBadSettings } from '../cli/doctor-settings.js';
import { redactUrl } from '../store/redact-url.js';
import { defaultNamespace } from '../store/store-factory.js';

/**
 * `harn-agents doctor`: looks at everything a call depends on and, for each problem, prints the one command
 * that fixes it. Reads only: it takes no lock and writes nothing (the fixes are separate commands).
 */

export type DoctorCheckName = 'settings' | 'store' | 'state' | 'state lock' | 'clock' | 'hooks' | 'agent hooks';

export interface DoctorCheck {
  readonly check: DoctorCheckName;
  readonly ok: boolean;
  /** One line: what was found. */
  readonly detail: string;
  /** The exact shell command that fixes it; null when ok. */
  readonly fix: string | null;
}

export interface DoctorResult {
  readonly healthy: boolean;
  readonly checks: readonly DoctorCheck[];
  /** The clock against the registry's time (as `status` reports it); null when the state could not be read. */
  readonly clock: ClockFacts | null;
}

export interface DoctorOptions {
  /** Settings problems the CLI found before building the context (a HARN_* variable that does not parse). */
  readonly settings: readonly DoctorCheck[];
  /** How the printed fix commands start: `harn-agents` and the global options this call was given. */
  readonly cli: string;
  /** The PostgreSQL store, when that is the store: its URL without password and the namespace. */
  readonly postgres?: { readonly url: string; readonly namespace: string };
}

/** The state lock's stale period (src/store/state-lock.ts): an older lock directory belongs to no live call. */
export const STALE_LOCK_MS = 5_000;
/** A registry time ahead of this clock by more than this is a problem worth fixing (less is scheduling noise). */
export const CLOCK_PROBLEM_MS = 1_000;

export const shellQuote = (text: string): string => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`);

const ok = (check: DoctorCheckName, detail: string): DoctorCheck => ({ check, ok: true, detail, fix: null });
const problem = (check: DoctorCheckName, detail: string, fix: string): DoctorCheck => ({ check, ok: false, detail, fix });

export async function doctor(ctx: Context, options: DoctorOptions): Promise<DoctorResult> {
  const checks: DoctorCheck[] = [...(options.settings.length ? options.settings : [ok('settings', 'every HARN_* variable set parses')])];
  const read = options.postgres ? await readPostgres(ctx, options) : readFile(ctx, options);
  checks.push(...read.checks);
  if (!options.postgres) checks.push(stateLockCheck(ctx.workspace.statePath));
  if (read.clock) checks.push(clockCheck(read.clock, options.cli));
  checks.push(hooksCheck(ctx.workspace.cwd, options.cli));
  checks.push(agentHooksCheck(ctx.workspace.cwd, options.cli));
  return { healthy: checks.every((c) => c.ok), checks, clock: read.clock };
}

interface StateRead {
  readonly checks: DoctorCheck[];
  readonly clock: ClockFacts | null;
}

/** The file store: read and decode the file as a call would, without the lock and without writing. */
function readFile(ctx: Context, options: DoctorOptions): StateRead {
  const { statePath, stateDir } = ctx.workspace;
  const checks: DoctorCheck[] = [ok('store', `file ${statePath}`)];
  let text: string | null = null;
  let mtimeMs: number | undefined;
  try {
    // Never follow a symlink or open a FIFO or device: doctor runs where the state may be hostile.
    const stat = fs.lstatSync(statePath);
    if (!stat.isFile()) {
      checks.push(problem('state', `the state file ${statePath} is ${describeKind(stat)}, not a regular file`, `${options.cli} doctor --reset`));
      return { checks, clock: null };
    }
    text = readRegular(statePath, ctx.workspace);
    mtimeMs = stat.mtimeMs;
  } catch (error) {
    if (isHarnError(error)) {
      checks.push(problem('state', error.message, `${options.cli} doctor --reset`));
      return { checks, clock: null };
    }
    const code = errorCode(error);
    if (code === 'EACCES') {
      checks.push(problem('state', `cannot read ${statePath}: ${describeError(error)}`, `chmod u+rw ${shellQuote(statePath)}`));
      return { checks, clock: null };
    }
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      checks.push(problem('state', `cannot read ${statePath}: ${describeError(error)}`, `ls -ld ${shellQuote(stateDir)} ${shellQuote(statePath)}`));
      return { checks, clock: null };
    }
  }
  let facts: { clock: ClockFacts; agents: number };
  try {
    facts = applyTransaction(text, ctx.config, ctx.clock(), `file ${statePath}`, (tx) => ({ clock: tx.clock, agents: [...tx.registry.agents()].length }), mtimeMs).result;
  } catch (error) {
    const message = isHarnError(error) ? error.message : `the state file ${statePath} is invalid: ${describeError(error)}`;
    checks.push(problem('state', message, `${options.cli} doctor --reset`));
    return { checks, clock: null };
  }
  const unwritable = [stateDir, statePath].find((p) => fs.existsSync(p) && !writable(p));
  if (unwritable) checks.push(problem('state', `${unwritable} is not writable`, `chmod u+w ${shellQuote(unwritable)}`));
  else checks.push(ok('state', text === null ? 'no state file yet (a fresh workspace)' : `valid: ${facts.agents} agent${facts.agents === 1 ? '' : 's'}`));
  return { checks, clock: facts.clock };
}

function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** PostgreSQL: a read transaction, as `status` makes, tells connection, lock and state apart. */
async function readPostgres(ctx: Context, options: DoctorOptions): Promise<StateRead> {
  const pg = options.postgres as NonNullable<DoctorOptions['postgres']>;
  try {
    const facts = await ctx.store.transact('query', (tx) => ({ clock: tx.clock, agents: [...tx.registry.agents()].length }));
    return { checks: [ok('store', `connected to ${ctx.store.location}`), ok('state', `valid: ${facts.agents} agent${facts.agents === 1 ? '' : 's'}`)], clock: facts.clock };
  } catch (error) {
    const message = isHarnError(error) ? error.message : describeError(error);
    if (isHarnError(error) && error.exitCode === 4) {
      return { checks: [problem('store', message, `psql ${shellQuote(pg.url)} -c 'SELECT pid, state, query_start, query FROM pg_stat_activity'`)], clock: null };
    }
    if (/ is invalid: /.test(message)) {
      // Keep the broken row beside the namespace (renamed), so the next call starts a fresh registry.
      const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
      const aside = `${pg.namespace}.broken-${new Date(ctx.clock()).toISOString()}`;
      const sql = `UPDATE harn_registries SET namespace = ${literal(aside)} WHERE namespace = ${literal(pg.namespace)}`;
      return { checks: [ok('store', `connected to ${ctx.store.location}`), problem('state', message, `psql ${shellQuote(pg.url)} -c ${shellQuote(sql)}`)], clock: null };
    }
    return { checks: [problem('store', message, `psql ${shellQuote(pg.url)} -c 'SELECT 1'`)], clock: null };
  }
}

/** The state lock directory, by its mtime only (its holder refreshes it every second). */
function stateLockCheck(statePath: string): DoctorCheck {
  const lockPath = `${statePath}.lock`;
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(lockPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return ok('state lock', 'not held');
    return problem('state lock', `cannot look at ${lockPath}: ${describeError(error)}`, `ls -ld ${shellQuote(lockPath)}`);
  }
  if (!stat.isDirectory()) {
    return problem('state lock', `${lockPath} is not a lock directory; no call can take the state lock`, `mv ${shellQuote(lockPath)} ${shellQuote(`${lockPath}.broken`)}`);
  }
  const age = Date.now() - stat.mtimeMs;
  if (age <= STALE_LOCK_MS) return ok('state lock', `held by a running call (refreshed ${formatSpan(Math.max(0, age))} ago)`);
  return problem(
    'state lock',
    `${lockPath} is stale: not refreshed for ${formatSpan(age)}, so its holder is gone (the next write takes it over after ${STALE_LOCK_MS / 1000}s)`,
    `rm -r ${shellQuote(lockPath)}`,
  );
}

function clockCheck(clock: ClockFacts, cli: string): DoctorCheck {
  if (clock.behind_ms <= CLOCK_PROBLEM_MS) return ok('clock', clock.behind_ms > 0 ? `within ${formatSpan(clock.behind_ms)} of the registry's time` : "agrees with the registry's time");
  const span = formatSpan(clock.behind_ms);
  const fix = `${cli} doctor --fix-clock`;
  switch (clock.cause) {
    case 'registry_ahead':
      return problem(
        'clock',
        `the registry's time is ${span} ahead of this machine's clock: a call with a clock ahead wrote it (its newest stamp is ${formatSpan(clock.registry_ahead_of_file_ms ?? 0)} after the state file's last write); locks last ${span} longer than asked`,
        fix,
      );
    case 'clock_went_back':
      return problem(
        'clock',
        `this machine's clock went back: it is ${formatSpan(clock.clock_behind_file_ms ?? 0)} behind the state file's last write; locks last ${span} longer than asked until it catches up (or rebase the registry to this clock)`,
        fix,
      );
    default:
      return problem('clock', `the registry's time is ${span} ahead of the store's clock (a writer's clock was ahead, or the clock went back)`, fix);
  }
}

/** Both hooks or neither: one of ours replaced by another tool's hook is a guard that no longer runs. */
function hooksCheck(cwd: string, cli: string): DoctorCheck {
  let hooks;
  try {
    hooks = hook('status', cwd, []).hooks;
  } catch {
    return ok('hooks', 'not a git repository: no hooks to check');
  }
  const ours = hooks.filter((h) => h.state === 'installed');
  if (ours.length === 0) return ok('hooks', `not installed (optional: ${cli} hook install)`);
  if (ours.length === hooks.length) return ok('hooks', `installed: ${hooks.map((h) => h.name).join(', ')}`);
  const missing = hooks.filter((h) => h.state !== 'installed').map((h) => `${h.name} is ${h.state === 'foreign' ? 'another hook, not harn-agents' : 'missing'}`);
  return problem('hooks', `${missing.join('; ')} (${ours.map((h) => h.name).join(', ')} installed): the guard runs only in part`, `${cli} hook install`);
}

/**
 * The AI agents' session hooks (docs/agents.md): a partial or out-of-date install (an earlier version's
 * PreToolUse-only hook) is a problem; none at all is one only where the project shows it uses Claude Code (a
 * `.claude/` folder or CLAUDE.md) or Codex (a `.codex/` folder), since sessions there then coordinate nothing.
 */
function agentHooksCheck(cwd: string, cli: string): DoctorCheck {
  const top = runGit(cwd, ['rev-parse', '--show-toplevel']);
  if (top.status !== 0) return ok('agent hooks', 'not a git repository: no agent hooks to check');
  const project = top.stdout.trim();
  const found: string[] = [];
  for (const [spec, local, flag] of [
    [CLAUDE_CODE, false, '--claude-code'],
    [CLAUDE_CODE, true, '--claude-code --local'],
    [CODEX, false, '--codex'],
  ] as const) {
    let status;
    try {
      status = agentSettings(spec, 'status', project, local);
    } catch (error) {
      if (isHarnError(error)) return problem('agent hooks', error.message, `${cli} hook status ${flag}`);
      throw error;
    }
    if (status.installed) found.push(`${spec.agent} (${status.file})`);
    else if (status.missing.length < spec.events.length || /out of date/.test(status.change)) {
      return problem('agent hooks', `${status.change}: sessions are coordinated only in part`, `${cli} hook install ${flag}`);
    }
  }
  if (found.length > 0) {
    // The hooks run `harn-agents` from PATH or the project's node_modules/.bin: with neither, they do nothing.
    const onPath = (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && isExecutable(`${dir}/harn-agents`));
    if (!onPath && !isExecutable(`${project}/node_modules/.bin/harn-agents`)) {
      return problem('agent hooks', `installed (${found.join(', ')}), but harn-agents is neither on PATH nor in ${project}/node_modules/.bin: the hooks cannot run it and guard nothing`, 'npm install -D harn-agents');
    }
    return ok('agent hooks', `installed: ${found.join(', ')}`);
  }
  const uses = (name: string) => fs.existsSync(`${project}/${name}`);
  if (uses('.claude') || uses('CLAUDE.md')) {
    return problem('agent hooks', 'this project uses Claude Code but its sessions do not claim what they edit (no agent hooks)', `${cli} hook install --claude-code`);
  }
  if (uses('.codex')) return problem('agent hooks', 'this project uses Codex but its sessions do not claim what they edit (no agent hooks)', `${cli} hook install --codex`);
  return ok('agent hooks', `not installed (optional: ${cli} hook install --claude-code)`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The CLI's doctor: which of its three jobs, and what the checks need to know about this call. */
export interface DoctorCall {
  readonly mode: 'check' | 'fix-clock' | 'reset';
  readonly settings: readonly DoctorCheck[];
  readonly cli: string;
  /** The store URL and namespace given (flag or environment); the namespace's default needs the workspace. */
  readonly storeUrl: string | undefined;
  readonly namespace: string | undefined;
}

type DoctorOutcome = DoctorResult | ClockRebaseResult | StateResetResult;

export const command = defineCommand({
  name: 'doctor',
  run: async (ctx, call: DoctorCall): Promise<DoctorOutcome> => {
    if (call.mode === 'fix-clock') return rebaseClock(ctx);
    const postgres =
      call.storeUrl && call.storeUrl !== 'file' ? { url: redactUrl(call.storeUrl), namespace: call.namespace || defaultNamespace(ctx.workspace.root).namespace } : undefined;
    if (call.mode === 'reset') {
      if (postgres) throw usageError("doctor --reset works on the file store; for PostgreSQL run the fix 'harn-agents doctor' prints");
      return resetState(ctx);
    }
    return doctor(ctx, { settings: call.settings, cli: call.cli, postgres });
  },
  render: (r, { options }) =>
    options.mode === 'fix-clock'
      ? renderClockRebase(r as ClockRebaseResult)
      : options.mode === 'reset'
        ? renderStateReset(r as StateResetResult)
        : renderDoctor(r as DoctorResult),
  exitCode: (r, options) => (options.mode === 'check' && !(r as DoctorResult).healthy ? ExitCode.no : ExitCode.ok),
  cli: {
    description: 'check the state, its lock, the clock, settings, hooks and the store; print the command that fixes each problem',
    options: [
      { flags: '--fix-clock', help: 'rebase a registry whose time is ahead of this clock (every lock keeps its time left)' },
      { flags: '--reset', help: 'move an invalid state file aside (kept as agents.json.broken-<time>) and start a fresh registry' },
    ],
    examples: ['harn-agents doctor', 'harn-agents doctor --json', 'harn-agents doctor --fix-clock', 'harn-agents doctor --reset && harn-agents import snapshot.json'],
    notes:
      'Exit 0 when healthy, 1 when a problem was found; each problem is printed with the command that fixes it.\n' +
      '--fix-clock and --reset change the registry and record an event; --reset never deletes the broken file.\n',
    input: ({ opts, globals, env, cwd }): DoctorCall => {
      if (opts.fixClock && opts.reset) throw usageError('doctor: give --fix-clock or --reset, not both');
      const mode: DoctorCall['mode'] = opts.fixClock ? 'fix-clock' : opts.reset ? 'reset' : 'check';
      const settings = mode === 'fix-clock' ? [] : settingsProblems(env, cwd);
      const clean = withoutBadSettings(env, settings);
      const cli = [
        'harn-agents',
        ...(globals.C ? ['-C', shellQuote(globals.C)] : []),
        ...(globals.store ? ['--store', shellQuote(redactUrl(globals.store))] : []),
        ...(globals.namespace ? ['--namespace', shellQuote(globals.namespace)] : []),
      ].join(' ');
      return { mode, settings, cli, storeUrl: globals.store ?? clean.HARN_STORE, namespace: globals.namespace || clean.HARN_NAMESPACE };
    },
    // Doctor goes on checking the rest when a HARN_* variable does not parse (it reports it instead).
    contextEnv: (env, _cwd, options) => (options.mode === 'fix-clock' ? env : withoutBadSettings(env, options.settings)),
  },
});

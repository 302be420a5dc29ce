import fs from 'node:fs';

/**
 * Processes as /proc shows them, so an agent can recognise itself: a long-lived process (with-lock, an MCP
 * client) is recorded with its agent, and `check` treats an agent whose process is one of its own ancestors
 * as the caller. A pid alone may be reused; the pair (pid, start time) names one process. On a platform
 * without /proc every function answers "unknown" (null or no ancestors), so nothing is recognised.
 */

export interface ProcessIdentity {
  readonly pid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot at which the process started. */
  readonly start: number;
}

/** How far up the tree `ancestry` looks: deeper chains are not real process trees. */
const MAX_DEPTH = 256;

/** A process's parent and start time, or null (no /proc, no such process, or a line it cannot read). */
export function procStat(pid: number): { readonly ppid: number; readonly start: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]); // field 4
  const start = Number(fields[19]); // field 22
  return Number.isSafeInteger(ppid) && ppid >= 0 && Number.isSafeInteger(start) && start >= 0 ? { ppid, start } : null;
}

/** A process's identity (pid and start time), or null where it cannot be read. */
export function processIdentity(pid: number): ProcessIdentity | null {
  if (!Number.isSafeInteger(pid) || pid < 1) return null;
  const stat = procStat(pid);
  return stat ? { pid, start: stat.start } : null;
}

/** Whether the process recorded as `recorded` still runs (same pid and start time: not a reused pid). */
export function processAlive(recorded: { readonly pid: number; readonly start: number }): boolean {
  return processIdentity(recorded.pid)?.start === recorded.start;
}

/** This process's identity. */
export function ownProcess(): ProcessIdentity | null {
  return processIdentity(process.pid);
}

/** `pid` and each of its ancestors up to init, nearest first (empty without /proc). */
export function ancestry(pid: number = process.pid): ProcessIdentity[] {
  const chain: ProcessIdentity[] = [];
  for (let current = pid, depth = 0; current > 0 && depth < MAX_DEPTH; depth++) {
    const stat = procStat(current);
    if (!stat) break;
    chain.push({ pid: current, start: stat.start });
    if (stat.ppid === current) break;
    current = stat.ppid;
  }
  return chain;
}

/** A process's command line (argv), or null where it cannot be read. */
export function procCmdline(pid: number): string[] | null {
  try {
    const words = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter((word) => word !== '');
    // A process that set its title (npm: "npm exec harn-agents mcp") has it as one string, NUL-padded.
    return words.length === 1 && (words[0] as string).includes(' ') ? (words[0] as string).split(' ').filter(Boolean) : words;
  } catch {
    return null;
  }
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'busybox']);
const base = (word: string | undefined): string => (word ?? '').slice((word ?? '').lastIndexOf('/') + 1);

/**
 * Whether a command line is a launcher that runs another program for its client rather than being the client:
 * a shell running `-c` (Claude Code runs each hook through one), `npx`, `npm exec`/`npm x`, `pnpm dlx`,
 * `yarn dlx` (as their own binaries or as node running their scripts).
 */
export function isWrapperCommand(argv: readonly string[]): boolean {
  const program = base(argv[0]);
  if (SHELLS.has(program)) return argv.includes('-c') || argv.some((a) => /^-[a-z]*c[a-z]*$/.test(a));
  let words = argv;
  if (program === 'node' || program === 'nodejs') words = argv.slice(1).filter((a) => !a.startsWith('-'));
  const script = base(words[0]);
  if (['npx', 'npx-cli.js', 'pnpx'].includes(script)) return true;
  if (['npm', 'npm-cli.js', 'pnpm', 'pnpm.cjs', 'yarn', 'yarn.js', 'yarn.cjs'].includes(script)) {
    return ['exec', 'x', 'dlx', 'run', 'run-script', 'exec-cli'].includes(words[1] ?? '');
  }
  return false;
}

/**
 * The client process of this one: the nearest ancestor that is not a wrapper (shell `-c`, npx, npm exec),
 * skipping `self` (the first entry of `chain`). Never pid 1 or anything at or above it: a process whose
 * parent is gone is adopted by init (or a subreaper) and has no client to name, so the answer is null.
 */
export function clientProcess(chain: readonly ProcessIdentity[] = ancestry(), cmdline: (pid: number) => string[] | null = procCmdline): ProcessIdentity | null {
  for (const candidate of chain.slice(1)) {
    if (candidate.pid <= 1) return null;
    const argv = cmdline(candidate.pid);
    if (argv === null) return null;
    if (isWrapperCommand(argv)) continue;
    // A subreaper (systemd --user, tini, a container's init) adopts orphans: it is nobody's client.
    if (['systemd', 'init', 'tini', 'dumb-init', 'catatonit'].includes(base(argv[0]))) return null;
    return candidate;
  }
  return null;
}

import fs from 'node:fs';
import path from 'node:path';

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

export interface ProcStat {
  readonly ppid: number;
  /** Session id (field 6): a client's children share it unless they start a session of their own. */
  readonly sid: number;
  readonly start: number;
}

/** A process's parent, session and start time, or null (no /proc, no such process, or a line it cannot read). */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses, so fields are counted
  // after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]); // field 4
  const sid = Number(fields[3]); // field 6
  const start = Number(fields[19]); // field 22
  const whole = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
  return whole(ppid) && whole(sid) && whole(start) ? { ppid, sid, start } : null;
}

/** A process's identity (pid and start time), or null where it cannot be read. */
export function processIdentity(pid: number): ProcessIdentity | null {
  if (!Number.isSafeInteger(pid) || pid < 1) return null;
  const stat = procStat(pid);
  return stat ? { pid, start: stat.start } : null;
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

/** A process's argument vector, or null where it cannot be read. */
function commandLine(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text.split('\0').filter((arg, i, all) => i < all.length - 1 || arg !== '');
  } catch {
    return null;
  }
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'mksh', 'busybox']);
const LAUNCHERS = new Set(['npm', 'npx']);
const LAUNCHER_SCRIPTS = new Set(['npm', 'npx', 'npm-cli.js', 'npx-cli.js']);

/**
 * A process that only starts another one for its client: `sh -c ...` (how npm and many clients run a
 * command), `npm exec`/`npx` (npm renames its process to "npm exec ...", so its first word is checked too),
 * or node running npm's own scripts. Such a process is never the client: the client is above it.
 */
export function isWrapper(argv: readonly string[]): boolean {
  const first = argv[0] ?? '';
  const program = path.basename(first.split(' ')[0] ?? '');
  if (LAUNCHERS.has(program)) return true;
  if (SHELLS.has(program)) return argv.slice(1).some((arg) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(arg));
  if (program === 'node' || program === 'nodejs') {
    const script = argv.slice(1).find((arg) => !arg.startsWith('-'));
    return script !== undefined && LAUNCHER_SCRIPTS.has(path.basename(script));
  }
  return false;
}

/** The inode of the pipe on `pid`'s standard input ("pipe:[123]"), or null if it is something else. */
function stdinPipe(pid: number): string | null {
  try {
    const target = fs.readlinkSync(`/proc/${pid}/fd/0`);
    return target.startsWith('pipe:') ? target : null;
  } catch {
    return null;
  }
}

/** Whether `pid` holds `pipe` open on any descriptor (false where its descriptors cannot be read). */
function holdsPipe(pid: number, pipe: string): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === pipe;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * The client of process `of` (default: this one): its nearest ancestor that is not a wrapper (`sh -c`,
 * `npm exec`, `npx`; see isWrapper), if that ancestor really started the chain. Null when it cannot be
 * known, which recognises nobody (never everybody):
 * - pid 1 is never a client: it is every process's ancestor, and adopts every orphan;
 * - a chain whose client has exited was adopted by init or a subreaper, which is not its client: the
 *   adopter must hold the pipe on the chain's standard input (its client wrote to it), or, where that input
 *   is not a pipe (a socket, as Node's spawn gives), share the chain's session (a client's children
 *   inherit it; an adopter such as `systemd --user` has its own).
 */
export function clientProcess(of: number = process.pid): ProcessIdentity | null {
  let child = of;
  let childStat = procStat(child);
  for (let depth = 0; childStat && depth < MAX_DEPTH; depth++) {
    const pid = childStat.ppid;
    if (pid <= 1 || pid === child) return null;
    const stat = procStat(pid);
    const argv = commandLine(pid);
    if (!stat || !argv) return null;
    if (isWrapper(argv)) {
      child = pid;
      childStat = stat;
      continue;
    }
    const pipe = stdinPipe(child);
    const started = pipe !== null ? holdsPipe(pid, pipe) : stat.sid === childStat.sid;
    return started ? { pid, start: stat.start } : null;
  }
  return null;
}

/**
 * The process a caller names as its client (`clientPid`): itself, or, when it is a wrapper, the client
 * above it (clientProcess). Null where it cannot be read or no client can be told.
 */
export function clientOf(pid: number): ProcessIdentity | null {
  const argv = commandLine(pid);
  if (argv && isWrapper(argv)) return clientProcess(pid);
  return processIdentity(pid);
}

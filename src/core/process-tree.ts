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

import fs from 'node:fs';

/**
 * Where this process's pids mean something: the machine's name and its pid namespace, read without loading
 * node:os (start-up cost). A session's process is judged alive only from the same place: a container that
 * shares the host's name but not its pids cannot see the host's processes, nor they its.
 */
export function hostName(): string {
  let name = process.env.HOSTNAME ?? 'localhost';
  try {
    name = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() || name;
  } catch {
    // no /proc: the environment's name
  }
  try {
    // "pid:[4026531836]": the namespace's inode.
    const ns = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1];
    if (ns) return `${name}/pid:${ns}`;
  } catch {
    // no namespaces to tell apart
  }
  return name;
}

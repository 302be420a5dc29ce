import fs from 'node:fs';

/**
 * This machine's name, read without loading node:os (start-up cost): a session's process is judged alive
 * only on the host it runs on.
 */
export function hostName(): string {
  try {
    const name = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
    if (name !== '') return name;
  } catch {
    // no /proc: fall through
  }
  return process.env.HOSTNAME ?? 'localhost';
}

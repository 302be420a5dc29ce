/**
 * A path git printed on a line of its own: exactly one trailing newline removed. Never trim(): a directory
 * named with a trailing space or newline is a real directory. (File names git lists are read with -z.)
 */
export const gitLine = (stdout: string): string => (stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout);

import { stateError, type HarnError } from '../core/errors.js';

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`, ...), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** One line describing a system error, with its code. */
export function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * A full disk said as such: the write that failed changed nothing (it went to a temp file or a new lock
 * directory), and doctor reports the space left. Null for any other error.
 */
export function noSpaceError(error: unknown, dir: string): HarnError | null {
  return errorCode(error) === 'ENOSPC' ? stateError(`no space left on the device holding ${dir}; nothing was changed`) : null;
}

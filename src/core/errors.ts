/**
 * Exit codes, the same for every command (docs/cli.md):
 * 0 done; 1 the answer is no; 2 usage error or bad input; 3 state file unreadable, invalid or unwritable;
 * 4 the state file's OS lock could not be taken in time; 5 with-lock lost its locks and stopped its command;
 * 6 an internal error: a bug in harn-agents, not a problem with the state.
 */
export const ExitCode = {
  ok: 0,
  no: 1,
  usage: 2,
  state: 3,
  stateLock: 4,
  /** with-lock: the locks were lost while the command ran, and the command was stopped. */
  lockLost: 5,
  /** Anything thrown that is not a HarnError: a bug in harn-agents, reported as such. */
  internal: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the user: one line of text and the exit code that goes with it. */
export class HarnError extends Error {
  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
    /** False when doctor can see nothing wrong (a state that would grow past its cap): no "run doctor" hint. */
    readonly doctorCanSee = true,
  ) {
    super(message);
    this.name = 'HarnError';
  }
}

/**
 * Whether `error` is a HarnError, also when it was thrown by a separately bundled copy of this module (the
 * lazily loaded parts of the CLI are bundled on their own, with their own copy of the class).
 */
export function isHarnError(error: unknown): error is HarnError {
  if (error instanceof HarnError) return true;
  return error instanceof Error && error.name === 'HarnError' && 'exitCode' in error && typeof error.exitCode === 'number';
}

export const usageError = (message: string): HarnError => new HarnError(ExitCode.usage, message);
export const stateError = (message: string): HarnError => new HarnError(ExitCode.state, message);
export const stateLockError = (message: string): HarnError => new HarnError(ExitCode.stateLock, message);

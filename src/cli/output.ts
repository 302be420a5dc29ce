import fs from 'node:fs';

/**
 * Output to fd 1 and 2 without creating `process.stdout` / `process.stderr`: the first touch of either loads
 * Node's stream modules (about 4% of a quiet call, docs/performance.md). Writes are synchronous, as Node's own
 * writes to files and pipes are on Linux. A descriptor that says "try again" (a non-blocking pipe someone else
 * set up) is handed to Node's stream for the rest of the call, which waits for it properly.
 *
 * A reader that goes away (`harn-agents status | head`) is not an error worth a stack trace: the command's
 * work is already done by the time it prints, so stop quietly, as other command-line tools do.
 */
export interface FdOutput {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

/**
 * Make `process.stdout` and `process.stderr` stop quietly on EPIPE whenever something first creates them (a
 * command writing a warning, the stream fallback below), without creating them now.
 */
export function quietOnEpipe(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(process, name);
    const get = descriptor?.get;
    if (!get || !descriptor.configurable) {
      process[name].on('error', onStreamError);
      continue;
    }
    let created: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: descriptor.enumerable,
      get() {
        if (!created) {
          created = get.call(process) as NodeJS.WriteStream;
          created.on('error', onStreamError);
        }
        return created;
      },
    });
  }
}

function onStreamError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
}

export function fdOutput(): FdOutput {
  /** Set once a descriptor said "try again": from then on that output goes through Node's stream. */
  const streamed: boolean[] = [];
  const write = (fd: 1 | 2, text: string): void => {
    if (streamed[fd]) {
      (fd === 1 ? process.stdout : process.stderr).write(text);
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
        if (code !== 'EAGAIN') throw error;
        streamed[fd] = true;
        (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(offset));
        return;
      }
    }
  };
  return { writeOut: (text) => write(1, text), writeErr: (text) => write(2, text) };
}

import type { Rendered } from '../render/text.js';

/** Where a redrawn frame goes, and whether it is a terminal (cleared between frames). */
export interface WatchOutput {
  readonly stdoutIsTty: boolean;
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/**
 * Redraw `frame` every `intervalMs` until `stop` resolves (the CLI passes SIGINT/SIGTERM); clears the screen
 * between frames on a terminal. `wait` is the pause between frames, injected so tests need not sleep.
 */
export async function watch(
  out: WatchOutput,
  intervalMs: number,
  frame: () => Promise<Rendered>,
  stop: Promise<void>,
  wait: (ms: number) => { readonly done: Promise<void>; cancel(): void } = timer,
): Promise<void> {
  let running = true;
  const stopped = stop.then(() => {
    running = false;
  });
  while (running) {
    const rendered = await frame();
    out.writeOut(`${out.stdoutIsTty ? '\x1b[H\x1b[2J' : ''}${rendered.stdout}${out.stdoutIsTty ? '' : '\n'}`);
    if (rendered.stderr) out.writeErr(rendered.stderr);
    if (!running) break;
    const pause = wait(intervalMs);
    await Promise.race([stopped, pause.done]);
    pause.cancel();
  }
}

function timer(ms: number): { readonly done: Promise<void>; cancel(): void } {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => (handle = setTimeout(resolve, ms)));
  return { done, cancel: () => clearTimeout(handle) };
}

/** Resolves on the first SIGINT or SIGTERM; `dispose` removes the handlers. */
export function untilSignal(): { readonly stop: Promise<void>; dispose(): void } {
  let onSignal: () => void = () => undefined;
  const stop = new Promise<void>((resolve) => (onSignal = () => resolve()));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

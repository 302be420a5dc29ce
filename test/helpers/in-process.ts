import { runCli } from '../../src/cli/run.js';
import type { Store } from '../../src/store/transaction.js';
import { tempDir, cleanEnv } from './cli.js';

/** A clock a test moves by hand: TTL and timeout boundaries without sleeping. */
export interface TestClock {
  now: number;
  (): number;
}

export function testClock(start = 1_800_000_000_000): TestClock {
  const clock = (() => clock.now) as TestClock;
  clock.now = start;
  return clock;
}

/**
 * A view of `clock` that moves it `stepMs` forward each time it is read: time that passes only as the code
 * under test looks at it, so a `--wait` loop runs through its whole wait whatever the machine's speed.
 */
export function steppingClock(clock: TestClock, stepMs: number): TestClock {
  const stepping = (() => (clock.now += stepMs)) as TestClock;
  Object.defineProperty(stepping, 'now', { get: () => clock.now, set: (value: number) => (clock.now = value) });
  return stepping;
}

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The CLI run in this process (runCli, the same wiring bin/harn-agents.js runs) over a real temporary
 * workspace and state file, on an injected clock. For what a real process shows (signals, exit on a
 * crash, races) the e2e tests spawn the built CLI instead.
 */
export function inProcessCli(
  options: {
    ws?: string;
    clock?: TestClock;
    env?: Record<string, string | undefined>;
    /** How installed hooks call this CLI back (bin/harn-agents.js passes node and itself); default `harn-agents`. */
    selfCommand?: readonly string[];
  } = {},
) {
  const ws = options.ws ?? tempDir();
  const clock = options.clock ?? testClock();
  /** `input` is the call's stdin (default: empty, as the spawning helpers give). */
  const run = async (argv: readonly string[], env: Record<string, string | undefined> = {}, input = ''): Promise<InProcessResult> => {
    let stdout = '';
    let stderr = '';
    const code = await runCli({
      argv,
      env: cleanEnv({ ...options.env, ...env }),
      cwd: ws,
      stdoutIsTty: false,
      selfCommand: options.selfCommand ?? ['harn-agents'],
      writeOut: (text) => (stdout += text),
      writeErr: (text) => (stderr += text),
      clock,
      readStdin: () => Buffer.from(input),
    });
    return { code, stdout, stderr };
  };
  const json = async (argv: readonly string[], env?: Record<string, string | undefined>, input?: string) => {
    const result = await run(['--json', ...argv], env, input);
    // The shapes vary by command, and each test asserts the one it expects: typed as loosely as JSON.parse.
    return { ...result, data: JSON.parse(result.stdout) as any };
  };
  return { ws, clock, run, json };
}

/** `store` with its transactions passed through `transact` (to hold, count or follow them); the rest as it is. */
export function aroundTransactions(store: Store, transact: Store['transact']): Store {
  return { location: store.location, readEvents: () => store.readEvents(), close: () => store.close(), transact };
}

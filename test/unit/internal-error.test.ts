import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { VERSION } from '../../src/core/version.js';
import { cleanEnv, tempDir } from '../helpers/cli.js';

// Issue 21: a bug is not a state problem. Anything thrown that is not one of ours gets exit 6, the error
// and a line asking to report it, and never sends the user to repair a healthy state with doctor.

async function runWith(clock: () => number, argv: readonly string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli({
    argv,
    env: cleanEnv(),
    cwd: tempDir(),
    stdoutIsTty: false,
    selfCommand: ['harn-agents'],
    writeOut: (text) => (stdout += text),
    writeErr: (text) => (stderr += text),
    clock,
    readStdin: () => Buffer.alloc(0),
  });
  return { code, stdout, stderr };
}

describe('an unexpected error', () => {
  it('is exit 6 with the error and a line asking to report it, not exit 3 and "run doctor"', async () => {
    // A programming error where the registry reads its clock.
    const broken = (): number => {
      throw new TypeError("Cannot read properties of undefined (reading 'now')");
    };
    const result = await runWith(broken, ['register', 'a']);
    expect(result).toEqual({
      code: 6,
      stdout: '',
      stderr:
        "harn-agents: internal error: TypeError: Cannot read properties of undefined (reading 'now')\n" +
        `harn-agents: this is a bug in harn-agents ${VERSION}, not a problem with your state; please report it with the command you ran and this message\n`,
    });
    expect(result.stderr).not.toContain('doctor');
  });

  it('escapes control characters in the error as every other line', async () => {
    const result = await runWith(() => {
      throw new Error('bad \x1b[31m thing');
    }, ['status']);
    expect(result.code).toBe(6);
    expect(result.stderr.split('\n')[0]).toBe('harn-agents: internal error: Error: bad \\x1b[31m thing');
  });

  it("a state problem doctor cannot see (a state that would pass its cap) is exit 3 without doctor's name", async () => {
    const { HarnError, ExitCode } = await import('../../src/core/errors.js');
    const result = await runWith(() => {
      throw new HarnError(ExitCode.state, 'this change would make the state file too large; nothing was written', false);
    }, ['status']);
    expect(result).toEqual({ code: 3, stdout: '', stderr: 'harn-agents: this change would make the state file too large; nothing was written\n' });
    const seen = await runWith(() => {
      throw new HarnError(ExitCode.state, 'the state file is invalid');
    }, ['status']);
    expect(seen.stderr).toBe("harn-agents: the state file is invalid (run 'harn-agents doctor')\n");
  });
});


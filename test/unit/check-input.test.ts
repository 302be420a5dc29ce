import { describe, expect, it } from 'vitest';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// `check` reading its input from stdin (the paths of --stdin, an agent hook's payload), in-process: the stdin
// is the Io's (runCli's readStdin), as the bin passes its fd 0. That the bin reads its own stdin is in
// test/e2e/workflow.test.ts and test/e2e/agent-hooks.test.ts.

const HELD = 'dir with space/ünï.ts';
const REFUSED =
  `${HELD}: held by agent 1 (agent-1), expires in 1h\n` +
  'harn-agents: 1 of 2 paths are held by other agents\n' +
  "harn-agents: leave them to their holders and commit only your own files: git restore --staged 'dir with space/ünï.ts', then commit again\n";

async function heldWorkspace() {
  const cli = inProcessCli({ clock: testClock() });
  expect((await cli.run(['lock', HELD, '--agent', '1', '--ttl', '1h'])).code).toBe(0);
  return cli;
}

describe('check --stdin', () => {
  it('reads newline- or NUL-separated paths, spaces and non-ASCII intact; paths outside are skipped', async () => {
    const { run } = await heldWorkspace();
    expect(await run(['check', '--stdin'], {}, `other.ts\n${HELD}\n`)).toEqual({ code: 1, stdout: '', stderr: REFUSED });
    expect(await run(['check', '--stdin'], {}, `other.ts\r\n${HELD}\r\n`)).toEqual({ code: 1, stdout: '', stderr: REFUSED });
    expect(await run(['check', '--stdin', '-z'], {}, `x\0${HELD}\0/etc/passwd\0`)).toEqual({ code: 1, stdout: '', stderr: REFUSED });
    expect(await run(['check', '--stdin', '-z'], {}, 'x\0y\0')).toEqual({ code: 0, stdout: '', stderr: '' });
    // No stdin at all is no path to check.
    expect(await run(['check', '--stdin'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('check --hook claude-code', () => {
  const BLOCKED = `harn-agents: ${HELD} is locked by agent 1 (agent-1), expires in 1h. Do not edit it now: work on something else, or ask its holder to release it.\n`;
  const edit = (filePath: string, cwd?: string) =>
    JSON.stringify({ ...(cwd === undefined ? {} : { cwd }), hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: filePath } });

  it('reads the payload from stdin and resolves a relative path against the payload cwd', async () => {
    const { ws, run } = await heldWorkspace();
    expect(await run(['check', '--hook', 'claude-code'], {}, edit(HELD, ws))).toEqual({ code: 2, stdout: '', stderr: BLOCKED });
    expect(await run(['check', '--hook', 'claude-code'], {}, edit('free.ts', ws))).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('without a payload cwd, resolves a relative path against the directory the call was given, not the process’s', async () => {
    const { ws, run } = await heldWorkspace();
    expect(ws).not.toBe(process.cwd());
    expect(await run(['check', '--hook', 'claude-code'], {}, edit(HELD))).toEqual({ code: 2, stdout: '', stderr: BLOCKED });
  });
});

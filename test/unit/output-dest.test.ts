import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderStatusTable } from '../../src/commands/status/status-table.js';
import type { StatusResult } from '../../src/commands/status/status.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// Issue 14: output that fits its destination. In-process through the CLI's own wiring (runCli), whose stdout
// is not a terminal; a real terminal (script(1)) and with-lock's child writing to the process's own stdout
// are in test/e2e/output-dest.test.ts.

describe('status into a pipe', () => {
  it('prints one tab-separated row per agent (no box, no heading), and --table still gives the table', async () => {
    const { clock, run } = inProcessCli({ clock: testClock() });
    expect((await run(['register', 'ana'])).code).toBe(0);
    expect((await run(['lock', 'src/a.ts', 'src/b.ts', '--agent', '1', '--ttl', '1h'])).code).toBe(0);
    clock.now += 5_000;
    expect(await run(['status'])).toEqual({ code: 0, stdout: '1\tana\tactive\t5000\t45000\t0\t-\t-\tsrc/a.ts=3595000 src/b.ts=3595000\n', stderr: '' });
    expect(await run(['status', '--locks'])).toEqual({ code: 0, stdout: 'src/a.ts\t1\tana\t-\t3595000\texclusive\t-\nsrc/b.ts\t1\tana\t-\t3595000\texclusive\t-\n', stderr: '' });
    expect((await run(['status', '--table'])).stdout).toMatch(/│ id │ name/);
  });

  it('escapes tabs and newlines inside a field, so a row stays a row', async () => {
    const { run } = inProcessCli({ clock: testClock() });
    expect((await run(['register', 'tab\there\nnewline'])).code).toBe(0);
    const out = (await run(['status'])).stdout;
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(out.split('\t')[1]).toBe('tab\\there\\nnewline');
  });
});

describe('status on a terminal', () => {
  const result: StatusResult = {
    now_ms: 1_000_000,
    clock_behind_ms: 0,
    clock: { behind_ms: 0, file_written_ms: null, registry_ahead_of_file_ms: 0, clock_behind_file_ms: 0, cause: 'none' },
    workspace: '/w',
    settings: [],
    hidden: 0,
    agents: [
      {
        id: 1,
        name: 'ana',
        state: 'active',
        last_seen_ms: 1_000_000,
        edit_count: 0,
        timeout_ms: 45_000,
        own_timeout: false,
        worktree: null,
        branch: null,
        session: null,
        locks: [{ path: `src/${'very-long-directory-name/'.repeat(8)}file.ts`, expires_ms: 1_060_000, reason: 'a long reason that goes on and on' }],
      },
    ],
  } as unknown as StatusResult;
  const widest = (text: string): number => Math.max(...text.split('\n').map((line) => [...line].length));

  it('fits the terminal width by cutting the locks column (with …), and is unchanged when it fits', () => {
    const wide = renderStatusTable(result, false);
    expect(widest(wide)).toBeGreaterThan(200);
    const narrow = renderStatusTable(result, false, 60);
    expect(widest(narrow)).toBeLessThanOrEqual(60);
    expect(narrow).toMatch(/src\/very-long.*…/);
    expect(renderStatusTable(result, false, 500)).toBe(wide);
  });
});

describe('with-lock runs its command in the directory the call was given', () => {
  // In-process the call's directory is not this process's: a command found only there shows which one it ran in.
  // The message a failed start prints (to the process's stderr) is in test/e2e/output-dest.test.ts.
  it('./program is found there: 127 when it is not, 126 when it cannot be executed, and it runs there', async () => {
    const { ws, run } = inProcessCli({ clock: testClock() });
    expect(ws).not.toBe(process.cwd());
    fs.writeFileSync(`${ws}/not-executable.sh`, 'echo never\n', { mode: 0o644 });
    fs.writeFileSync(`${ws}/where.sh`, '#!/bin/sh\npwd > where.txt\n', { mode: 0o755 });
    expect(await run(['with-lock', 'a.ts', '--', './no-such-program'])).toMatchObject({ code: 127, stdout: '' });
    expect(await run(['with-lock', 'a.ts', '--', './not-executable.sh'])).toMatchObject({ code: 126, stdout: '' });
    expect(await run(['with-lock', 'a.ts', '--', './where.sh'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(fs.readFileSync(`${ws}/where.txt`, 'utf8')).toBe(`${ws}\n`);
    // Either way nothing stays locked.
    expect(await run(['holder', 'a.ts'])).toEqual({ code: 1, stdout: 'a.ts: free\n', stderr: '' });
  });

  it('with -C DIR, the command runs in DIR, as if started there', async () => {
    const { ws, run } = inProcessCli({ clock: testClock() });
    fs.mkdirSync(`${ws}/sub`);
    fs.writeFileSync(`${ws}/sub/where.sh`, '#!/bin/sh\npwd > where.txt\n', { mode: 0o755 });
    expect(await run(['-C', 'sub', 'with-lock', 'a.ts', '--', './where.sh'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(fs.readFileSync(`${ws}/sub/where.txt`, 'utf8')).toBe(`${ws}/sub\n`);
  });
});

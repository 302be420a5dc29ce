import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// Issue 14: output that fits its destination, where only a process shows it: a real terminal (script(1)),
// and with-lock's command writing to the process's own stdout and stderr. Status into a pipe and the table's
// width run in-process in test/unit/output-dest.test.ts.

describe('status on a terminal', () => {
  it('a real terminal (script(1)) gets the table at its width; no colour codes with NO_COLOR', async () => {
    // Set up in-process on the wall clock, with an hour to spare however late the spawned CLI starts.
    const { ws, run } = inProcessCli({ clock: testClock(Date.now()) });
    expect((await run(['register', 'ana', '--timeout', '1h'])).code).toBe(0);
    expect((await run(['lock', `src/${'deep-directory/'.repeat(10)}a.ts`, '--agent', '1', '--ttl', '1h', '--reason', 'x'.repeat(80)])).code).toBe(0);
    const shown = spawnSync('script', ['-qec', `stty cols 70; ${process.execPath} ${BIN} status`, '/dev/null'], { cwd: ws, env: cleanEnv({ NO_COLOR: '1' }), encoding: 'utf8' });
    expect(shown.status, shown.stderr).toBe(0);
    const lines = shown.stdout.replaceAll('\r', '').split('\n').filter((l) => l.includes('│') || l.includes('─'));
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(70);
    expect(shown.stdout).not.toMatch(/\x1b\[3\dm/);
  });
});

describe('--json with-lock', () => {
  it("stdout is one JSON document (with-lock's result); the command's own stdout goes to stderr", () => {
    const ws = tempDir();
    const result = cli(['--json', 'with-lock', 'a.ts', '--', 'sh', '-c', 'echo from-the-command; exit 3'], { cwd: ws });
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ ran: true, exit_code: 3 });
    expect(result.stderr).toContain('from-the-command');
    // Without --json the command's output is its own stdout, as before.
    expect(cli(['with-lock', 'a.ts', '--', 'sh', '-c', 'echo plain'], { cwd: ws }).stdout).toBe('plain\n');
  });
});

describe('with-lock exit codes, as shells give them', () => {
  it('127 for a program that is not found, 126 for one that exists but cannot be executed, each with one line on stderr', () => {
    const ws = tempDir();
    fs.writeFileSync(`${ws}/not-executable.sh`, 'echo never\n', { mode: 0o644 });
    const missing = cli(['with-lock', 'a.ts', '--', './no-such-program'], { cwd: ws });
    expect(missing).toMatchObject({ code: 127, stdout: '', stderr: 'harn-agents: cannot run ./no-such-program: spawn ./no-such-program ENOENT\n' });
    const denied = cli(['with-lock', 'a.ts', '--', './not-executable.sh'], { cwd: ws });
    expect(denied).toMatchObject({ code: 126, stdout: '', stderr: 'harn-agents: cannot run ./not-executable.sh: spawn ./not-executable.sh EACCES\n' });
  });
});

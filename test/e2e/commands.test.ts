import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cli, statePath, tempDir } from '../helpers/cli.js';
import { inProcessCli, testClock } from '../helpers/in-process.js';

// What only the built CLI in a process of its own shows: the version the bundler inlines, argv and exit codes
// as a shell sees them, and a reader that goes away. The commands' use cases run in-process, on an injected
// clock, in test/unit/commands.test.ts.

describe('the built CLI', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(cli(['--version'], { cwd: tempDir() })).toMatchObject({ code: 0, signal: null, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('takes its argv from the shell and exits with the code it returns: 0 done, 2 for a usage error, one line', () => {
    const ws = tempDir();
    expect(cli(['register', 'editor'], { cwd: ws })).toMatchObject({ code: 0, signal: null, stdout: '1\n', stderr: '' });
    expect(cli([], { cwd: ws })).toMatchObject({ code: 2, stdout: '', stderr: "harn-agents: no command given (try 'harn-agents --help')\n" });
    expect(cli(['register', 'x', '--id', '-1'], { cwd: ws })).toMatchObject({
      code: 2,
      stdout: '',
      stderr: "harn-agents: --id: '-1' is not an agent id (a whole number from 0 to 9007199254740990)\n",
    });
    expect(JSON.parse(fs.readFileSync(statePath(ws), 'utf8')).next_id).toBe(2);
  });

  it('a reader that closes the pipe early gets no stack trace', async () => {
    // More than a pipe holds (64 KiB): the CLI is still writing when `head` goes away, so it meets EPIPE.
    const { ws, run } = inProcessCli({ clock: testClock(Date.now()) });
    const paths = Array.from({ length: 1_000 }, (_, i) => `src/some/directory/file-${i}.ts`);
    expect((await run(['lock', ...paths, '--agent', '1', '--ttl', '1h'])).code).toBe(0);
    expect((await run(['--json', 'status'])).stdout.length).toBeGreaterThan(128 * 1024);
    const result = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --json status | head -c 20 >/dev/null; echo "exit \${PIPESTATUS[0]}"`], {
      cwd: ws,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('exit 0\n');
  });
});

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderStatusTable } from '../../src/render/status-table.js';
import type { StatusResult } from '../../src/commands/status.js';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';

// Issue 14: output that fits its destination.
describe('status into a pipe', () => {
  it('prints one tab-separated row per agent (no box, no heading), and --table still gives the table', () => {
    const ws = tempDir();
    expect(cli(['register', 'ana'], { cwd: ws }).code).toBe(0);
    expect(cli(['lock', 'src/a.ts', 'src/b.ts', '--agent', '1', '--ttl', '1h'], { cwd: ws }).code).toBe(0);
    const plain = cli(['status'], { cwd: ws }).stdout;
    const rows = plain.trimEnd().split('\n').map((line) => line.split('\t'));
    expect(rows).toHaveLength(1);
    const [id, name, state, seen, timeout, edits, worktree, branch, locks] = rows[0] ?? [];
    expect([id, name, state, edits, worktree, branch]).toEqual(['1', 'ana', 'active', '0', '-', '-']);
    expect(Number(seen)).toBeGreaterThanOrEqual(0);
    expect(Number(timeout)).toBe(45_000);
    expect(locks).toMatch(/^src\/a\.ts=\d+ src\/b\.ts=\d+$/);
    expect(plain).not.toMatch(/[│┌]/);
    const locksRows = cli(['status', '--locks'], { cwd: ws }).stdout.trimEnd().split('\n');
    expect(locksRows.map((l) => l.split('\t').slice(0, 4))).toEqual([
      ['src/a.ts', '1', 'ana', '-'],
      ['src/b.ts', '1', 'ana', '-'],
    ]);
    expect(cli(['status', '--table'], { cwd: ws }).stdout).toMatch(/│ id │ name/);
  });

  it('escapes tabs and newlines inside a field, so a row stays a row', () => {
    const ws = tempDir();
    expect(cli(['register', 'tab\there\nnewline'], { cwd: ws }).code).toBe(0);
    const out = cli(['status'], { cwd: ws }).stdout;
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

  it('a real terminal (script(1)) gets the table at its width; no colour codes with NO_COLOR', () => {
    const ws = tempDir();
    expect(cli(['register', 'ana'], { cwd: ws }).code).toBe(0);
    expect(cli(['lock', `src/${'deep-directory/'.repeat(10)}a.ts`, '--agent', '1', '--ttl', '1h', '--reason', 'x'.repeat(80)], { cwd: ws }).code).toBe(0);
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
  it('127 for a program that is not found, 126 for one that exists but cannot be executed', async () => {
    const ws = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${ws}/not-executable.sh`, 'echo never\n', { mode: 0o644 });
    const missing = cli(['with-lock', 'a.ts', '--', './no-such-program'], { cwd: ws });
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/cannot run \.\/no-such-program/);
    const denied = cli(['with-lock', 'a.ts', '--', './not-executable.sh'], { cwd: ws });
    expect(denied.code).toBe(126);
    expect(denied.stderr).toMatch(/cannot run \.\/not-executable\.sh: .*EACCES/);
    // Either way nothing stays locked.
    expect(cli(['holder', 'a.ts'], { cwd: ws }).code).toBe(1);
  });
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, readState, tempDir, writeState } from '../helpers/cli.js';

// Issue 21: nothing outside the registry itself can block a write. Whatever is planted in the event log's
// place (a directory, a FIFO, a symlink) costs only the log: commits, releases, reaps and with-lock's
// clean-up go through with a warning, and doctor names the file and how to move it away.

const plants: Array<[string, (harn: string, outside: string) => string]> = [
  ['events.jsonl.1 as a directory', (harn) => (fs.mkdirSync(path.join(harn, 'events.jsonl.1')), 'events.jsonl.1')],
  ['events.jsonl as a directory', (harn) => (fs.mkdirSync(path.join(harn, 'events.jsonl')), 'events.jsonl')],
  ['events.jsonl as a FIFO', (harn) => (spawnSync('mkfifo', [path.join(harn, 'events.jsonl')]), 'events.jsonl')],
  ['events.jsonl as a symlink to a file outside', (harn, outside) => (fs.symlinkSync(outside, path.join(harn, 'events.jsonl')), 'events.jsonl')],
];

/** A workspace whose agent 1 holds x.ts and was last seen long ago (reaped by the next write). */
function workspaceWithDeadHolder(): string {
  const ws = tempDir('harn-planted-');
  writeState(ws, '{"next_id":2,"agents":[{"id":1,"name":"dead","state":"active","last_seen_ms":1000,"edit_count":0,"locked_paths":{"x.ts":9007199254740991}}]}');
  return ws;
}

describe('a planted file in the event log\'s place', () => {
  for (const [what, plant] of plants) {
    it(`${what}: reap, lock, release --force and with-lock go through with a warning; doctor names it and its fix works`, () => {
      const ws = workspaceWithDeadHolder();
      const outside = path.join(tempDir('harn-outside-'), 'bashrc');
      fs.writeFileSync(outside, 'precious\n');
      const planted = path.join(ws, '.harn', plant(path.join(ws, '.harn'), outside));
      const rotationOnly = planted.endsWith('.1');
      const warning = new RegExp(`^harn-agents: warning: the change was saved, but the event log .*events\\.jsonl could not be written: .*${path.basename(planted).replaceAll('.', '\\.')}`, 'm');

      // A dead holder is reaped by the next write, which also takes its path.
      const locked = cli(['lock', 'x.ts', '--agent', '2', '--ttl', '1h'], { cwd: ws });
      expect(locked.code, locked.stderr).toBe(0);
      // A directory at events.jsonl.1 matters only when the log rotates: the append itself works.
      if (rotationOnly) expect(locked.stderr).not.toMatch(/warning/);
      else expect(locked.stderr).toMatch(warning);
      expect(readState(ws).agents.find((a) => a.id === 1 && a.state === 'active')).toBeUndefined();

      const forced = cli(['release', 'x.ts', '--force', '--reason', 'planted log'], { cwd: ws });
      expect(forced.code, forced.stderr).toBe(0);
      expect(cli(['holder', 'x.ts'], { cwd: ws }).code).toBe(1);

      // with-lock exits with its command's code and leaves no agent and no lock behind.
      const ran = cli(['with-lock', 'y.ts', '--', 'sh', '-c', 'exit 7'], { cwd: ws });
      expect(ran.code, ran.stderr).toBe(7);
      if (!rotationOnly) expect(ran.stderr).toMatch(warning);
      expect(readState(ws).agents.filter((a) => a.state === 'active' && Object.keys(a.locked_paths).length > 0)).toEqual([]);
      expect(readState(ws).agents.some((a) => a.name.startsWith('with-lock'))).toBe(false);

      expect(fs.readFileSync(outside, 'utf8')).toBe('precious\n');
      if (rotationOnly) {
        // A full log must rotate into the planted directory: the write goes through, the events are skipped.
        fs.writeFileSync(path.join(ws, '.harn/events.jsonl'), `${'{"ts":1,"type":"x"}\n'.repeat(60_000)}`);
        const full = cli(['with-lock', 'w.ts', '--', 'sh', '-c', 'exit 5'], { cwd: ws });
        expect(full.code, full.stderr).toBe(5);
        expect(full.stderr).toMatch(/^harn-agents: warning: the change was saved, but the event log .*events\.jsonl could not be written: .*events\.jsonl\.1 is a directory/m);
      }

      // doctor sees it and prints a fix that works.
      const doctor = cli(['--json', 'doctor'], { cwd: ws });
      expect(doctor.code).toBe(1);
      const check = JSON.parse(doctor.stdout).checks.find((c: { check: string }) => c.check === 'event log');
      expect(check).toMatchObject({ ok: false, fix: `mv ${planted} ${planted}.planted` });
      expect(check.detail).toContain(planted);
      expect(spawnSync('sh', ['-c', check.fix], { cwd: ws }).status).toBe(0);
      expect(cli(['doctor'], { cwd: ws }).code).toBe(0);
      const after = cli(['lock', 'z.ts', '--agent', '2'], { cwd: ws });
      expect(after).toMatchObject({ code: 0, stderr: '' });
    });
  }

  it("with-lock exits with its command's code when its clean-up cannot write, saying the locks lapse by their TTL", () => {
    const ws = tempDir('harn-cleanup-');
    // The command replaces the state file with a directory: the release afterwards cannot write.
    const ran = cli(['with-lock', 'a.ts', '--ttl', '1m', '--', 'sh', '-c', 'mv .harn/agents.json .harn/moved && mkdir .harn/agents.json && exit 7'], { cwd: ws });
    expect(ran.code, ran.stderr).toBe(7);
    expect(ran.stderr).toMatch(/^harn-agents: warning: sh exited, but its locks could not be released: .*agents\.json is a directory.*; they lapse after their TTL$/m);
  });
});

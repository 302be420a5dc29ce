import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir, type CliResult } from '../helpers/cli.js';

// Issue 10: a cloned repository, another local user or a planted `.harn/` cannot make harn-agents write
// outside `.harn/`, run code or hang.

const isRoot = process.getuid?.() === 0;
const NOBODY = 65_534;
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});
const scratch = (prefix?: string): string => {
  const dir = tempDir(prefix);
  made.push(dir);
  return dir;
};

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Run the CLI with a hard time limit: a call that hangs fails the test instead of the suite. */
function run(args: string[], cwd: string, env: Record<string, string | undefined> = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), input: '', encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

// A stale agent whose name is a shell payload: reaping it logs the name, which the attack aims at ~/.bashrc.
const PAYLOAD_STATE = '{"next_id":2,"agents":[{"id":1,"name":"$(touch /tmp/harn-pwned)","state":"active","last_seen_ms":0,"edit_count":0,"locked_paths":{"a.ts":1}}]}\n';

/** Every command, as a user or a hook would run them in a fresh clone. */
const EVERY_COMMAND: string[][] = [
  ['status'],
  ['status', '--locks', '--all'],
  ['--json', 'status'],
  ['holder', 'a.ts'],
  ['check', 'a.ts'],
  ['reap'],
  ['register', 'me'],
  ['heartbeat', '1'],
  ['note-edit', '1'],
  ['lock', 'b.ts', '--agent', '5'],
  ['release', 'b.ts', '--agent', '5'],
  ['release', '--force', 'a.ts', '--reason', 'test'],
  ['unregister', '1'],
  ['with-lock', 'c.ts', '--', 'true'],
  ['log'],
  ['export'],
  ['doctor'],
];
/** Commands that answer about the broken state (exit 1, on stdout) rather than refuse it. */
const DIAGNOSES = new Set(['log', 'doctor']);

/** A repository committing a hostile `.harn/`, cloned the way a user gets it. */
function hostileClone(plant: (harn: string, outside: string) => void): { clone: string; outside: string; before: Buffer } {
  const base = scratch('harn-hostile-');
  const outside = path.join(base, 'bashrc');
  fs.writeFileSync(outside, '# the victim file\nexport PATH\n');
  const origin = path.join(base, 'origin');
  fs.mkdirSync(path.join(origin, '.harn'), { recursive: true });
  git(origin, 'init', '-q');
  plant(path.join(origin, '.harn'), outside);
  fs.writeFileSync(path.join(origin, 'a.ts'), 'x\n');
  git(origin, 'add', '-A', '-f');
  git(origin, 'commit', '-q', '-m', 'hostile');
  const clone = path.join(base, 'clone');
  git(base, 'clone', '-q', origin, clone);
  return { clone, outside, before: fs.readFileSync(outside) };
}

function expectRefusedOrAnswered(result: CliResult, label: string): void {
  expect(result.signal, `${label} hung or was killed`).toBeNull();
  expect([0, 1, 3], `${label}: ${result.stderr}`).toContain(result.code);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  if (result.code === 3) expect(result.stderr.trimEnd().split('\n'), label).toHaveLength(1);
}

describe('a cloned repository with a hostile .harn/', () => {
  it('an event log symlinked to a file outside: nothing is ever written through it', () => {
    const { clone, outside, before } = hostileClone((harn, target) => {
      fs.writeFileSync(path.join(harn, 'agents.json'), PAYLOAD_STATE);
      fs.symlinkSync(target, path.join(harn, 'events.jsonl'));
    });
    // The write that logs the reap commits it and skips the log with a warning naming the path and what it
    // is (issue 21: a planted log never blocks a write); nothing is written through it.
    const status = run(['status'], clone);
    expect(status.code).toBe(0);
    expect(status.stderr).toMatch(/warning: the change was saved, but the event log .*events\.jsonl is a symbolic link, not a regular file/);
    expect(fs.readFileSync(outside).equals(before)).toBe(true);
    for (const args of EVERY_COMMAND) {
      const result = run(args, clone);
      expectRefusedOrAnswered(result, args.join(' '));
      expect(fs.readFileSync(outside).equals(before), `${args.join(' ')} wrote through the symlink`).toBe(true);
    }
    expect(fs.existsSync('/tmp/harn-pwned')).toBe(false);
  });

  it('a state file symlinked outside, to /dev/zero, or a directory: exit 3 at once, the target untouched', () => {
    const forms: Array<[string, (harn: string, outside: string) => void, RegExp]> = [
      ['symlink', (harn, target) => fs.symlinkSync(target, path.join(harn, 'agents.json')), /agents\.json is a symbolic link/],
      ['/dev/zero', (harn) => fs.symlinkSync('/dev/zero', path.join(harn, 'agents.json')), /agents\.json is a symbolic link/],
      [
        'directory',
        (harn) => {
          fs.mkdirSync(path.join(harn, 'agents.json'));
          fs.writeFileSync(path.join(harn, 'agents.json', 'keep'), '');
        },
        /agents\.json is a directory/,
      ],
    ];
    for (const [label, plant, message] of forms) {
      const { clone, outside, before } = hostileClone(plant);
      for (const args of EVERY_COMMAND) {
        const result = run(args, clone);
        expectRefusedOrAnswered(result, `${label}: ${args.join(' ')}`);
        if (!DIAGNOSES.has(args[0] as string)) {
          expect(result.code, `${label}: ${args.join(' ')}`).toBe(3);
          expect(result.stderr).toMatch(message);
        }
      }
      expect(fs.readFileSync(outside).equals(before)).toBe(true);
    }
  });

  it('a .harn that is itself a symlink to a directory outside: refused, nothing created there', () => {
    const base = scratch('harn-hostile-');
    const elsewhere = path.join(base, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const repo = path.join(base, 'repo');
    fs.mkdirSync(repo);
    git(repo, 'init', '-q');
    fs.symlinkSync(elsewhere, path.join(repo, '.harn'));
    for (const args of EVERY_COMMAND) expectRefusedOrAnswered(run(args, repo), args.join(' '));
    const register = run(['register', 'x'], repo);
    expect(register.code).toBe(3);
    expect(register.stderr).toMatch(/\.harn is a symbolic link, not a directory/);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it('a FIFO as the state file or the event log never blocks a call', () => {
    const ws = scratch();
    fs.mkdirSync(path.join(ws, '.harn'));
    spawnSync('mkfifo', [path.join(ws, '.harn', 'agents.json')]);
    for (const args of EVERY_COMMAND) {
      const result = run(args, ws);
      expectRefusedOrAnswered(result, args.join(' '));
      if (!DIAGNOSES.has(args[0] as string)) expect(result.stderr, args.join(' ')).toMatch(/agents\.json is a FIFO/);
    }
    const ws2 = scratch();
    expect(run(['register', 'a'], ws2).code).toBe(0);
    spawnSync('mkfifo', [path.join(ws2, '.harn', 'events.jsonl')]);
    const doctor = run(['doctor'], ws);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/agents\.json is a FIFO \(named pipe\), not a regular file/);
    const log = run(['log'], ws2);
    expect(log.code).toBe(3);
    expect(log.stderr).toMatch(/events\.jsonl is a FIFO/);
    const forced = run(['release', '--force', 'x.ts', '--reason', 'r'], ws2);
    expectRefusedOrAnswered(forced, 'release --force');
  });

  it('a planted state lock that is a symlink or a file is refused, not followed', () => {
    const ws = scratch();
    const elsewhere = scratch();
    fs.mkdirSync(path.join(ws, '.harn'));
    fs.symlinkSync(elsewhere, path.join(ws, '.harn', 'agents.json.lock'));
    const result = run(['register', 'x'], ws);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/agents\.json\.lock is a symbolic link, not the state lock directory/);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it('SIGTERM ends a call that is waiting for the state lock', async () => {
    const ws = scratch();
    fs.mkdirSync(path.join(ws, '.harn', 'agents.json.lock'), { recursive: true });
    const child = (await import('node:child_process')).spawn(process.execPath, [BIN, 'register', 'x'], { cwd: ws, env: cleanEnv() });
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Let it start and enter its wait loop, then stop it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGTERM');
    expect(await ended).toBe('SIGTERM');
  });
});

describe('.harn/ is never committed', () => {
  it('a fresh workspace: after register, git status shows nothing under .harn/', () => {
    const repo = scratch();
    git(repo, 'init', '-q');
    expect(run(['register', 'a'], repo).code).toBe(0);
    expect(run(['lock', 'x.ts', '--agent', '1', '--reason', 'r'], repo).code).toBe(0);
    expect(run(['release', '--force', 'x.ts', '--reason', 'r'], repo).code).toBe(0);
    expect(fs.existsSync(path.join(repo, '.harn', 'events.jsonl'))).toBe(true);
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    git(repo, 'add', '-A');
    expect(git(repo, 'diff', '--cached', '--name-only')).toBe('');
  });

  it('an existing .harn/ without a .gitignore gets one on the next write, and a present one is left alone', () => {
    const repo = scratch();
    git(repo, 'init', '-q');
    fs.mkdirSync(path.join(repo, '.harn'));
    expect(run(['status'], repo).code).toBe(0); // a quiet read writes nothing
    expect(fs.existsSync(path.join(repo, '.harn', '.gitignore'))).toBe(false);
    expect(run(['register', 'a'], repo).code).toBe(0);
    expect(fs.readFileSync(path.join(repo, '.harn', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    fs.writeFileSync(path.join(repo, '.harn', '.gitignore'), 'mine\n');
    expect(run(['register', 'b'], repo).code).toBe(0);
    expect(fs.readFileSync(path.join(repo, '.harn', '.gitignore'), 'utf8')).toBe('mine\n');
  });
});

describe('discovery stays inside the repository and away from shared directories', () => {
  it("a .harn/ above the git top-level is not adopted (as root: one planted by another user)", () => {
    const parent = scratch();
    fs.mkdirSync(path.join(parent, '.harn'));
    fs.writeFileSync(path.join(parent, '.harn', 'agents.json'), PAYLOAD_STATE);
    if (isRoot) spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path.join(parent, '.harn')]);
    const before = fs.readFileSync(path.join(parent, '.harn', 'agents.json'));
    const repo = path.join(parent, 'repo');
    fs.mkdirSync(path.join(repo, 'src'), { recursive: true });
    git(repo, 'init', '-q');
    const status = JSON.parse(run(['--json', 'status'], path.join(repo, 'src')).stdout);
    expect(status.workspace).toBe(repo);
    expect(run(['register', 'x'], path.join(repo, 'src')).code).toBe(0);
    expect(fs.existsSync(path.join(repo, '.harn', 'agents.json'))).toBe(true);
    expect(fs.readFileSync(path.join(parent, '.harn', 'agents.json')).equals(before)).toBe(true);
  });

  it('outside git, a .harn/ in a directory others can write to (like /tmp) is not adopted', () => {
    const shared = scratch();
    fs.chmodSync(shared, 0o1777);
    fs.mkdirSync(path.join(shared, '.harn'));
    fs.writeFileSync(path.join(shared, '.harn', 'agents.json'), PAYLOAD_STATE);
    const mine = path.join(shared, 'mine');
    fs.mkdirSync(mine);
    const status = JSON.parse(run(['--json', 'status'], mine).stdout);
    expect(status.workspace).toBe(mine);
    expect(status.agents).toEqual([]);
    // A private parent directory is still adopted, as before.
    fs.chmodSync(shared, 0o755);
    expect(JSON.parse(run(['--json', 'status', '--all'], mine).stdout).workspace).toBe(shared);
  });

  describe.runIf(isRoot)("another user's .harn/ (as root: chown to nobody)", () => {
    it('is refused with the documented message, and HARN_SAFE_DIRECTORIES trusts it on purpose', () => {
      const ws = scratch();
      expect(cli(['register', 'theirs'], { cwd: ws }).code).toBe(0);
      spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path.join(ws, '.harn')]);
      const before = fs.readFileSync(path.join(ws, '.harn', 'agents.json'));
      for (const args of [['status'], ['holder', 'a.ts'], ['register', 'me']]) {
        const result = run(args, ws);
        expect(result.code, args.join(' ')).toBe(3);
        expect(result.stderr).toMatch(/\.harn is owned by (user nobody \(uid 65534\)|uid 65534), not by you \(uid 0\); refusing .* HARN_SAFE_DIRECTORIES/);
        expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      }
      expect(fs.readFileSync(path.join(ws, '.harn', 'agents.json')).equals(before)).toBe(true);
      const trusted = run(['--json', 'status'], ws, { HARN_SAFE_DIRECTORIES: `/nonexistent:${ws}` });
      expect(trusted.code, trusted.stderr).toBe(0);
      expect(JSON.parse(trusted.stdout).agents.map((a: { name: string }) => a.name)).toEqual(['theirs']);
      expect(run(['register', 'me'], ws, { HARN_SAFE_DIRECTORIES: '*' }).code).toBe(0);
    });

    it("a state file or event log owned by someone else inside one's own .harn/ is refused too", () => {
      const ws = scratch();
      expect(cli(['register', 'a'], { cwd: ws }).code).toBe(0);
      expect(cli(['release', '--force', 'x', '--reason', 'r'], { cwd: ws }).code).toBe(0);
      fs.writeFileSync(path.join(ws, '.harn', 'events.jsonl'), '');
      fs.chownSync(path.join(ws, '.harn', 'events.jsonl'), NOBODY, NOBODY);
      const log = run(['log'], ws);
      expect(log.code).toBe(3);
      expect(log.stderr).toMatch(/events\.jsonl is owned by .*65534/);
      fs.chownSync(path.join(ws, '.harn', 'agents.json'), NOBODY, NOBODY);
      expect(run(['status'], ws).stderr).toMatch(/agents\.json is owned by .*65534/);
    });
  });
});

describe('files are created with modes that follow the umask', () => {
  function runWithUmask(umask: string, args: string[], cwd: string): CliResult {
    const result = spawnSync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, BIN, ...args], { cwd, env: cleanEnv(), encoding: 'utf8' });
    return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
  }
  const mode = (file: string): number => fs.statSync(file).mode & 0o777;

  it('umask 022: nothing under .harn/ or the hooks is group- or world-writable; umask 002 lets the group write', () => {
    const repo = scratch();
    git(repo, 'init', '-q');
    expect(runWithUmask('022', ['register', 'a'], repo).code).toBe(0);
    expect(runWithUmask('022', ['release', '--force', 'x', '--reason', 'r', '--agent', '1'], repo).code).toBe(0);
    expect(runWithUmask('022', ['lock', 'x', '--agent', '1'], repo).code).toBe(0);
    runWithUmask('022', ['release', '--force', 'x', '--reason', 'r'], repo);
    expect(runWithUmask('022', ['hook', 'install'], repo).code).toBe(0);
    const harn = path.join(repo, '.harn');
    for (const file of [harn, path.join(harn, 'agents.json'), path.join(harn, 'events.jsonl'), path.join(harn, '.gitignore'), path.join(repo, '.git/hooks/pre-commit')]) {
      expect(mode(file) & 0o022, file).toBe(0);
    }
    expect(mode(path.join(repo, '.git/hooks/pre-commit')) & 0o100).toBe(0o100);

    const shared = scratch();
    expect(runWithUmask('002', ['register', 'a'], shared).code).toBe(0);
    expect(mode(path.join(shared, '.harn', 'agents.json'))).toBe(0o664);
    // A later write by a stricter umask keeps the mode the team chose.
    expect(runWithUmask('077', ['register', 'b'], shared).code).toBe(0);
    expect(mode(path.join(shared, '.harn', 'agents.json'))).toBe(0o664);
  });
});

describe('secrets stay out of names, state and logs', () => {
  it("with-lock names its agent after the program alone; the arguments reach no output, state or log", () => {
    const ws = scratch();
    // The command copies the live state while it runs, so the test sees what `status` would have shown.
    const result = run(['with-lock', 'db', '--', 'sh', '-c', 'cp .harn/agents.json during.json # postgres://admin:SECRET@db/prod'], ws);
    expect(result.code, result.stderr).toBe(0);
    const during = fs.readFileSync(path.join(ws, 'during.json'), 'utf8');
    expect(during).toContain('"name":"with-lock: sh"');
    const outputs = [result, run(['log'], ws), run(['--json', 'log'], ws), run(['status', '--all'], ws), run(['export'], ws)];
    const everything = [during, ...outputs.map((o) => o.stdout + o.stderr), ...fs.readdirSync(path.join(ws, '.harn')).map((f) => fs.readFileSync(path.join(ws, '.harn', f), 'utf8'))];
    for (const text of everything) expect(text).not.toContain('SECRET');
    expect(run(['log'], ws).stdout).toMatch(/ran sh holding db/);
    // --name sets the agent's name instead.
    expect(run(['with-lock', 'db', '--name', 'migration', '--', 'sh', '-c', 'cp .harn/agents.json named.json'], ws).code).toBe(0);
    expect(fs.readFileSync(path.join(ws, 'named.json'), 'utf8')).toContain('"name":"migration"');
  });
});

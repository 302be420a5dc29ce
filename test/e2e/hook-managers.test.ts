import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, tempDir } from '../helpers/cli.js';
import { npmHookTools, preCommitTool } from '../helpers/hook-tools.js';
import { hookScript } from '../../src/hooks/plain.js';

// `hook install` with the real hook managers: husky and lefthook from the npm registry, pre-commit from
// Debian. Each test commits (or pushes) in a real repository through the manager's own hooks.

const NPM_TOOLS = npmHookTools();
const PRE_COMMIT = preCommitTool();

/** A directory with a `harn-agents` on PATH that runs this build, as an installed package would. */
let shim: string;
beforeAll(() => {
  shim = tempDir('harn-shim-');
  fs.writeFileSync(path.join(shim, 'harn-agents'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 });
});

const env = (extra: Record<string, string> = {}) =>
  cleanEnv({
    PATH: [shim, NPM_TOOLS ?? '', process.env.PATH ?? ''].filter(Boolean).join(path.delimiter),
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@e',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@e',
    HOME: shim, // no user-level husky init.sh, pre-commit cache in the temp dir
    PRE_COMMIT_HOME: path.join(shim, 'pre-commit-cache'),
    ...extra,
  });
const sh = (cwd: string, command: string, extra: Record<string, string> = {}) => spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', env: env(extra) });
const harn = (cwd: string, args: string[], extra: Record<string, string> = {}) => cli(args, { cwd, env: { PATH: env().PATH, ...extra } });
const read = (file: string) => fs.readFileSync(file, 'utf8');

function repo(): string {
  const dir = tempDir('harn-mgr-');
  sh(dir, 'git init -q -b main && git config user.email t@e && git config user.name t');
  return dir;
}

const head = (dir: string) => sh(dir, 'git rev-parse -q --verify HEAD').stdout.trim();

/** Run a commit command; its result, its output (both streams) and whether HEAD moved. */
function commit(dir: string, command: string) {
  const before = head(dir);
  const r = sh(dir, command);
  return { status: r.status, stderr: r.stderr, output: r.stdout + r.stderr, committed: head(dir) !== before };
}
type Commit = ReturnType<typeof commit>;

/** Stage `file` (locked by agent 5 with a reason) and try to commit it. */
function commitLocked(dir: string, file = 'locked.txt'): Commit {
  fs.writeFileSync(path.join(dir, file), `${Math.random()}`);
  expect(harn(dir, ['lock', file, '--agent', '5', '--reason', 'mine', '--ttl', '10m']).code).toBe(0);
  const r = commit(dir, 'git add -A && git commit -qm locked');
  harn(dir, ['release', file, '--agent', '5']);
  return r;
}
const commitFree = (dir: string): Commit => {
  fs.writeFileSync(path.join(dir, `free-${Math.random()}.txt`), 'x');
  return commit(dir, 'git add -A && git commit -qm free');
};

/** The guard itself refused: git's exit 1 for a failed hook, our line naming the path and its holder, no commit. */
function expectGuardRefused(r: Commit, file = 'locked.txt', holder = 'agent 5'): void {
  expect(r.status, r.output).toBe(1);
  expect(r.output).toContain(`${file}: held by ${holder}`);
  expect(r.committed).toBe(false);
}

/** The user's own hook refused (`own`: what it or its manager says), not the guard: nothing of ours, no commit. */
function expectUserHookRefused(r: Commit, own: RegExp): void {
  expect(r.status, r.output).toBe(1);
  expect(r.output).toMatch(own);
  expect(r.output).not.toContain('held by');
  expect(r.committed).toBe(false);
}

/** A commit of nothing locked still goes through. */
function expectFreeCommitPasses(dir: string): void {
  const r = commitFree(dir);
  expect(r.status, r.output).toBe(0);
  expect(r.committed).toBe(true);
}

describe.skipIf(!NPM_TOOLS)('husky (from the npm registry)', () => {
  function huskyRepo(userHook = 'echo "user pre-commit ran"\n'): string {
    const dir = repo();
    expect(sh(dir, 'husky').status).toBe(0);
    fs.writeFileSync(path.join(dir, '.husky/pre-commit'), userHook);
    return dir;
  }

  it('adds its check to .husky/pre-commit: a locked file is refused, the user hook still runs and blocks, npx husky keeps it, uninstall restores', () => {
    const dir = huskyRepo();
    const stubs = Object.fromEntries(fs.readdirSync(path.join(dir, '.husky/_')).map((f) => [f, read(path.join(dir, '.husky/_', f))]));
    const installed = harn(dir, ['hook', 'install']);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/hooks run by: husky/);
    expect(read(path.join(dir, '.husky/pre-commit'))).not.toMatch(/\/tmp|node/);
    const refused = commitLocked(dir);
    expectGuardRefused(refused);
    expect(refused.stderr).toMatch(/locked\.txt: held by agent 5 \(agent-5\) \(reason: mine\)/);
    const ok = commitFree(dir);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.output).toMatch(/user pre-commit ran/);
    // The user's own failing hook still blocks (its own code, through husky), and a free commit passes again.
    fs.appendFileSync(path.join(dir, '.husky/pre-commit'), 'exit 3\n');
    expectUserHookRefused(commitFree(dir), /husky - pre-commit script failed \(code 3\)/);
    fs.writeFileSync(path.join(dir, '.husky/pre-commit'), read(path.join(dir, '.husky/pre-commit')).replace('exit 3\n', ''));
    expectFreeCommitPasses(dir);
    // husky's own re-install keeps the guard: the refusal itself, and a free commit still passes.
    expect(sh(dir, 'husky').status).toBe(0);
    expectGuardRefused(commitLocked(dir));
    expectFreeCommitPasses(dir);
    expect(harn(dir, ['hook', 'status']).code).toBe(0);
    // Uninstall: husky exactly as before.
    expect(harn(dir, ['hook', 'uninstall']).code).toBe(0);
    expect(read(path.join(dir, '.husky/pre-commit'))).toBe('echo "user pre-commit ran"\n');
    expect(fs.existsSync(path.join(dir, '.husky/pre-push'))).toBe(false);
    expect(Object.fromEntries(fs.readdirSync(path.join(dir, '.husky/_')).map((f) => [f, read(path.join(dir, '.husky/_', f))]))).toEqual(stubs);
    expect(commitLocked(dir).status).toBe(0);
  });

  it('pre-push refuses pushed commits touching a locked path, and the user pre-push hook still gets git\'s stdin', () => {
    const dir = huskyRepo();
    const remote = tempDir('harn-remote-');
    sh(remote, 'git init -q --bare');
    fs.writeFileSync(path.join(dir, '.husky/pre-push'), 'read local_ref rest; echo "user pre-push saw $local_ref"\n');
    expect(harn(dir, ['hook', 'install']).code).toBe(0);
    expect(sh(dir, `git remote add origin '${remote}' && echo a > a.txt && git add -A && git commit -qm a && git push -q origin main`).status).toBe(0);
    fs.writeFileSync(path.join(dir, 'pushed.txt'), 'x');
    sh(dir, 'git add -A && git commit -qm p --no-verify');
    harn(dir, ['lock', 'pushed.txt', '--agent', '4', '--ttl', '10m']);
    const refused = sh(dir, 'git push -q origin main');
    expect(refused.status, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/pushed\.txt: held by agent 4/);
    harn(dir, ['release', 'pushed.txt', '--agent', '4']);
    const pushed = sh(dir, 'git push -q origin main');
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(pushed.stdout + pushed.stderr).toMatch(/user pre-push saw refs\/heads\/main/);
  });

  it('repairs what an older plain install did to .husky/_ (our script in place of husky\'s stub)', () => {
    const dir = huskyRepo('exit 7\n');
    const stub = path.join(dir, '.husky/_/pre-commit');
    const original = read(stub);
    fs.renameSync(stub, `${stub}.harn-previous`);
    fs.writeFileSync(stub, hookScript('pre-commit', ['harn-agents']), { mode: 0o755 });
    expect(harn(dir, ['hook', 'install']).code).toBe(0);
    expect(read(stub)).toBe(original);
    expect(fs.existsSync(`${stub}.harn-previous`)).toBe(false);
    // The user's failing hook blocks again, with its own code.
    expectUserHookRefused(commitFree(dir), /husky - pre-commit script failed \(code 7\)/);
  });
});

describe.skipIf(!NPM_TOOLS)('lefthook (from the npm registry)', () => {
  const CONFIG = 'pre-commit:\n  commands:\n    lint:\n      run: test ! -e fail-lint\n';
  /** lefthook's summary naming the user's failed command. */
  const LEFTHOOK_LINT_FAILED = /🥊\s*lint/;

  it('adds a command to lefthook.yml: a locked file is refused, its own failing command still blocks, lefthook install keeps it, uninstall restores', () => {
    const dir = repo();
    fs.writeFileSync(path.join(dir, 'lefthook.yml'), CONFIG);
    expect(sh(dir, 'lefthook install').status).toBe(0);
    const installed = harn(dir, ['hook', 'install']);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/hooks run by: lefthook/);
    expectGuardRefused(commitLocked(dir));
    expectFreeCommitPasses(dir);
    // Its own failing command still blocks (lefthook names it), and a free commit passes again.
    fs.writeFileSync(path.join(dir, 'fail-lint'), '');
    expectUserHookRefused(commitFree(dir), LEFTHOOK_LINT_FAILED);
    fs.rmSync(path.join(dir, 'fail-lint'));
    expectFreeCommitPasses(dir);
    // lefthook's own re-install keeps the guard.
    expect(sh(dir, 'lefthook install').status).toBe(0);
    expectGuardRefused(commitLocked(dir));
    expectFreeCommitPasses(dir);
    expect(harn(dir, ['hook', 'status']).code).toBe(0);
    expect(harn(dir, ['hook', 'uninstall']).code).toBe(0);
    expect(read(path.join(dir, 'lefthook.yml'))).toBe(CONFIG);
    expect(commitLocked(dir).status).toBe(0);
  });

  it('uninstall cleans what an older plain install left after lefthook renamed it (pre-commit.old, .harn-previous)', () => {
    const dir = repo();
    fs.writeFileSync(path.join(dir, 'lefthook.yml'), CONFIG);
    expect(sh(dir, 'lefthook install').status).toBe(0);
    const hooks = path.join(dir, '.git/hooks');
    fs.renameSync(path.join(hooks, 'pre-commit'), path.join(hooks, 'pre-commit.harn-previous'));
    fs.writeFileSync(path.join(hooks, 'pre-commit'), hookScript('pre-commit', ['harn-agents']), { mode: 0o755 });
    expect(sh(dir, 'lefthook install --force').status).toBe(0);
    const uninstalled = harn(dir, ['hook', 'uninstall']);
    expect(uninstalled.code, uninstalled.stderr).toBe(0);
    expect(fs.readdirSync(hooks).filter((f) => /harn-previous|\.old$/.test(f))).toEqual([]);
    expect(read(path.join(hooks, 'pre-commit'))).toMatch(/lefthook/);
  });

  it('prints the lines to add and changes nothing when the config is beyond safe editing', () => {
    const dir = repo();
    const flow = 'pre-commit: { commands: { lint: { run: "true" } } }\n';
    fs.writeFileSync(path.join(dir, 'lefthook.yml'), flow);
    const r = harn(dir, ['hook', 'install']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing was changed; add these lines by hand:\n.*lefthook\.yml:\npre-commit:\n  commands:\n    harn-agents:\n      run: harn-agents check --staged/);
    expect(read(path.join(dir, 'lefthook.yml'))).toBe(flow);
  });
});

describe.skipIf(!PRE_COMMIT)('pre-commit (the framework, from Debian)', () => {
  const CONFIG = 'repos:\n- repo: local\n  hooks:\n  - id: mine\n    name: mine\n    entry: sh -c "test ! -e fail-mine"\n    language: system\n    pass_filenames: false\n';

  function preCommitRepo(): string {
    const dir = repo();
    fs.writeFileSync(path.join(dir, '.pre-commit-config.yaml'), CONFIG);
    expect(sh(dir, 'pre-commit install').status).toBe(0);
    return dir;
  }

  it('adds a repo: local entry: locked files (deleted ones too) are refused, its own hook still blocks, pre-commit install keeps it, uninstall restores', () => {
    const dir = preCommitRepo();
    const installed = harn(dir, ['hook', 'install']);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/hooks run by: pre-commit/);
    expect(read(path.join(dir, '.pre-commit-config.yaml'))).toMatch(/pass_filenames: false/);
    expectGuardRefused(commitLocked(dir));
    expectFreeCommitPasses(dir);
    // A deletion of a locked file: no file name to pass, seen through --staged.
    fs.writeFileSync(path.join(dir, 'gone.txt'), 'x');
    sh(dir, 'git add -A && git commit -qm gone');
    harn(dir, ['lock', 'gone.txt', '--agent', '5']);
    expectGuardRefused(commit(dir, 'git rm -q gone.txt && git commit -qm rm'), 'gone.txt');
    harn(dir, ['release', 'gone.txt', '--agent', '5']);
    // Its own failing hook still blocks (pre-commit names it), and a commit passes again once it does not fail.
    fs.writeFileSync(path.join(dir, 'fail-mine'), '');
    expectUserHookRefused(commit(dir, 'git add -A && git commit -qm fail'), /^mine\.+Failed$/m);
    fs.rmSync(path.join(dir, 'fail-mine'));
    expectFreeCommitPasses(dir);
    // pre-commit's own re-install keeps the guard.
    expect(sh(dir, 'pre-commit install').status).toBe(0);
    expectGuardRefused(commitLocked(dir));
    expectFreeCommitPasses(dir);
    expect(harn(dir, ['hook', 'uninstall']).code).toBe(0);
    expect(read(path.join(dir, '.pre-commit-config.yaml'))).toBe(CONFIG);
    expect(commitLocked(dir).status).toBe(0);
  });

  it('repairs an older plain install that pre-commit put in migration mode (pre-commit.legacy)', () => {
    const dir = preCommitRepo();
    const hooks = path.join(dir, '.git/hooks');
    fs.renameSync(path.join(hooks, 'pre-commit'), path.join(hooks, 'pre-commit.harn-previous'));
    fs.writeFileSync(path.join(hooks, 'pre-commit'), hookScript('pre-commit', ['harn-agents']), { mode: 0o755 });
    expect(sh(dir, 'pre-commit install').status).toBe(0);
    expect(fs.existsSync(path.join(hooks, 'pre-commit.legacy'))).toBe(true);
    expect(harn(dir, ['hook', 'install']).code).toBe(0);
    expect(fs.readdirSync(hooks).filter((f) => /harn-previous|\.legacy$/.test(f))).toEqual([]);
    expectFreeCommitPasses(dir);
    expectGuardRefused(commitLocked(dir));
  });
});

describe('a core.hooksPath folder inside the work tree', () => {
  it('adds a block naming harn-agents only (no path of this machine), refuses locked files, uninstall restores the tracked hook', () => {
    const dir = repo();
    const own = '#!/bin/sh\necho "team hook ran"\n';
    fs.mkdirSync(path.join(dir, '.githooks'));
    fs.writeFileSync(path.join(dir, '.githooks/pre-commit'), own, { mode: 0o755 });
    sh(dir, 'git config core.hooksPath .githooks && git add -A && git commit -qm hooks');
    const installed = harn(dir, ['hook', 'install']);
    expect(installed.code, installed.stderr).toBe(0);
    for (const name of ['pre-commit', 'pre-push']) {
      const text = read(path.join(dir, '.githooks', name));
      expect(text).not.toContain(BIN);
      expect(text).not.toContain(process.execPath);
      expect(text).not.toContain(dir);
    }
    expectGuardRefused(commitLocked(dir));
    const ok = commitFree(dir);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/team hook ran/);
    expect(harn(dir, ['hook', 'uninstall']).code).toBe(0);
    expect(read(path.join(dir, '.githooks/pre-commit'))).toBe(own);
    expect(fs.existsSync(path.join(dir, '.githooks/pre-push'))).toBe(false);
  });
});

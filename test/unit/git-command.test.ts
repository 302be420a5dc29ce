import { describe, expect, it } from 'vitest';
import { gitOperations, pathspecCovers, shellWords } from '../../src/hooks/agents/git-command.js';
import { clientProcess, isWrapperCommand } from '../../src/core/process-tree.js';

// The guarded shell reads what a command line would do to uncommitted changes. Each case is a command a
// model writes; the answer is the operations it takes or destroys changes with.

const ops = (line: string, exists: (dir: string, word: string) => boolean = () => false) =>
  gitOperations(line, exists).map((o) => ({ effect: o.effect, dir: o.dir, all: o.all, pathspecs: o.pathspecs, files: o.files }));

describe('gitOperations', () => {
  it('sees the commands that take every change', () => {
    expect(ops('git add -A && git commit -m "wip"')).toEqual([{ effect: 'take', dir: '.', all: true, pathspecs: [], files: 'any' }]);
    expect(ops('git add --all')).toEqual([{ effect: 'take', dir: '.', all: true, pathspecs: [], files: 'any' }]);
    expect(ops('git add -u')).toEqual([{ effect: 'take', dir: '.', all: true, pathspecs: [], files: 'tracked' }]);
    expect(ops('git commit -am "fix: x"')).toEqual([{ effect: 'take', dir: '.', all: true, pathspecs: [], files: 'tracked' }]);
    expect(ops("git commit -a -m 'msg with -- and src/a.ts'")).toEqual([{ effect: 'take', dir: '.', all: true, pathspecs: [], files: 'tracked' }]);
    expect(ops('git -c core.x=y commit --all --message=done')).toEqual([{ effect: 'take', dir: '.', all: true, pathspecs: [], files: 'tracked' }]);
  });

  it('keeps pathspecs and the directory they are relative to', () => {
    expect(ops('git add .')).toEqual([{ effect: 'take', dir: '.', all: false, pathspecs: ['.'], files: 'any' }]);
    expect(ops('cd src && git add . && git commit -m x')).toEqual([{ effect: 'take', dir: 'src', all: false, pathspecs: ['.'], files: 'any' }]);
    expect(ops('git -C lib add a.ts "b c.ts"')).toEqual([{ effect: 'take', dir: 'lib', all: false, pathspecs: ['a.ts', 'b c.ts'], files: 'any' }]);
    expect(ops('git commit -m msg -- src/a.ts')).toEqual([{ effect: 'take', dir: '.', all: false, pathspecs: ['src/a.ts'], files: 'tracked' }]);
  });

  it('sees the commands that destroy changes', () => {
    expect(ops('git stash')).toEqual([{ effect: 'destroy', dir: '.', all: true, pathspecs: [], files: 'tracked' }]);
    expect(ops('git stash -u')).toEqual([{ effect: 'destroy', dir: '.', all: true, pathspecs: [], files: 'any' }]);
    expect(ops('git stash push -- src/a.ts')).toEqual([{ effect: 'destroy', dir: '.', all: false, pathspecs: ['src/a.ts'], files: 'tracked' }]);
    expect(ops('git checkout -- .')).toEqual([{ effect: 'destroy', dir: '.', all: false, pathspecs: ['.'], files: 'tracked' }]);
    expect(ops('git checkout .')).toEqual([{ effect: 'destroy', dir: '.', all: false, pathspecs: ['.'], files: 'tracked' }]);
    expect(ops('git restore .')).toEqual([{ effect: 'destroy', dir: '.', all: false, pathspecs: ['.'], files: 'tracked' }]);
    expect(ops('git reset --hard HEAD~1')).toEqual([{ effect: 'destroy', dir: '.', all: true, pathspecs: [], files: 'tracked' }]);
    expect(ops('git clean -fd')).toEqual([{ effect: 'destroy', dir: '.', all: true, pathspecs: [], files: 'untracked' }]);
    expect(ops('git switch --discard-changes main')).toEqual([{ effect: 'destroy', dir: '.', all: true, pathspecs: [], files: 'tracked' }]);
    expect(ops('git checkout src/a.ts', (_d, w) => w === 'src/a.ts')).toEqual([{ effect: 'destroy', dir: '.', all: false, pathspecs: ['src/a.ts'], files: 'tracked' }]);
  });

  it('leaves alone what keeps changes: reads, branch switches, unstaging, dry runs, stash list/pop', () => {
    for (const line of [
      'git status',
      'git diff --cached',
      'git log -5 --oneline',
      'git checkout main',
      'git checkout -b feature',
      'git switch main',
      'git restore --staged src/a.ts',
      'git reset',
      'git reset HEAD src/a.ts',
      'git clean -n',
      'git stash list',
      'git stash pop',
      'git commit -m "only what is staged"',
      'echo git add -A',
      "grep -r 'git stash' .",
      'npm test',
    ]) {
      expect(ops(line), line).toEqual([]);
    }
  });

  it('finds git behind env assignments, wrappers, pipes, subshells and newlines', () => {
    expect(ops('GIT_AUTHOR_NAME=x git add -A')).toHaveLength(1);
    expect(ops('env FOO=1 git stash')).toHaveLength(1);
    expect(ops('(cd sub; git add .)')[0]).toMatchObject({ dir: 'sub' });
    expect(ops('npm test\ngit commit -am x')).toHaveLength(1);
    expect(ops('true || /usr/bin/git reset --hard')).toHaveLength(1);
    expect(ops('git status # git add -A')).toEqual([]);
  });
});

describe('gitOperations: the forms models write (from an adversarial review)', () => {
  // Each discards or stages src/b.ts when run at the work tree's top /repo.
  const covers = (line: string, file = 'src/b.ts', top = '/repo') =>
    gitOperations(line, (_d, w) => w === '.' || w.startsWith('src') || w.startsWith('/repo')).some(
      (op) => op.all || op.pathspecs.some((s) => pathspecCovers(s, op.dir, file, top)),
    );
  for (const line of [
    'git stash 2>&1',
    'git stash > /dev/null',
    'git stash -q 2>/dev/null || true',
    'git stash -u 2>&1',
    'git stash push -m wip 2>&1',
    'git clean -fd 2>&1',
    'git clean -fd &>/dev/null',
    'git add -A 2>&1',
    'git commit -am x 2>&1',
    'timeout 60 git reset --hard',
    'timeout -s KILL 60 git stash',
    'if true; then git stash; fi',
    'for f in src/*.ts; do git checkout -- "$f"; done',
    '! git stash',
    '(cd lib && ls) && git checkout .',
    'cd lib && cd - && git checkout .',
    'git checkout -- /repo/src/b.ts',
    'git checkout /repo/src/b.ts',
    'git restore /repo/src',
    'git stash push -- /repo/src',
    'git rm -f /repo/src/b.ts',
    "git commit -F - <<'EOF'\nDon't break it\nEOF\ngit stash",
    'git add $(git ls-files -m)',
    'git add `git ls-files -m`',
    'git add --pathspec-from-file=list',
    'env -i git add -A',
    'sudo -u x git add -A',
    'nice -n 5 git add -A',
    'git mv -f src/a.ts src/b.ts',
    'git checkout-index -f -a',
    'git read-tree -u --reset HEAD',
  ]) {
    it(line.split('\n').join('\\n'), () => expect(covers(line)).toBe(true));
  }

  it('what runs in another repository, or names files outside this one, is none of its changes', () => {
    expect(gitOperations('cd /tmp/other && git add -A')[0]?.dir).toBe('/tmp/other');
    expect(pathspecCovers('/elsewhere/src/b.ts', '.', 'src/b.ts', '/repo')).toBe(false);
    expect(pathspecCovers('/repo', '.', 'src/b.ts', '/repo')).toBe(true);
    // A heredoc's body is not run; `>` names a file, not a pathspec.
    expect(ops("cat > notes.md <<'EOF'\ngit stash\nEOF")).toEqual([]);
    expect(ops('git log > out.txt')).toEqual([]);
  });
});

describe('shellWords', () => {
  it('splits commands and honours quotes and escapes', () => {
    expect(shellWords(`git commit -m "a && b" && echo 'c;d' ; x\\ y`)).toEqual([['git', 'commit', '-m', 'a && b'], ['echo', 'c;d'], ['x y']]);
  });
});

describe('pathspecCovers', () => {
  it('matches files under a directory spec, relative to where git runs, and globs', () => {
    expect(pathspecCovers('.', '.', 'src/a.ts')).toBe(true);
    expect(pathspecCovers('.', 'src', 'src/a.ts')).toBe(true);
    expect(pathspecCovers('.', 'lib', 'src/a.ts')).toBe(false);
    expect(pathspecCovers('src', '.', 'src/a.ts')).toBe(true);
    expect(pathspecCovers('src/', '.', 'src/a.ts')).toBe(true);
    expect(pathspecCovers('sr', '.', 'src/a.ts')).toBe(false);
    expect(pathspecCovers('../src/a.ts', 'lib', 'src/a.ts')).toBe(true);
    expect(pathspecCovers('*.ts', '.', 'src/a.ts')).toBe(true);
    expect(pathspecCovers('*.md', '.', 'src/a.ts')).toBe(false);
    expect(pathspecCovers(':/', 'lib', 'src/a.ts')).toBe(true);
    expect(pathspecCovers('../..', 'lib', 'src/a.ts')).toBe(true);
  });
});

describe('the client process of a hook or an MCP server', () => {
  const argv: Record<number, string[]> = {
    10: ['node', '/usr/bin/harn-agents', 'agent-hook', 'claude-code'],
    9: ['sh', '-c', 'harn-agents agent-hook claude-code'],
    8: ['npm', 'exec', 'harn-agents', 'mcp'],
    7: ['node', '/usr/lib/node_modules/npm/bin/npx-cli.js', 'harn-agents'],
    6: ['claude'],
    1: ['/sbin/init'],
    5: ['/usr/lib/systemd/systemd', '--user'],
  };
  const cmdline = (pid: number) => argv[pid] ?? null;
  const chain = (...pids: number[]) => pids.map((pid) => ({ pid, start: pid * 100 }));

  it('is the nearest ancestor that is not a shell -c, npx or npm exec', () => {
    expect(clientProcess(chain(10, 9, 6, 1), cmdline)).toEqual({ pid: 6, start: 600 });
    expect(clientProcess(chain(10, 9, 8, 7, 9, 6, 1), cmdline)).toEqual({ pid: 6, start: 600 });
  });

  it('is nobody when the chain reaches init or a subreaper (the real client is gone), or cannot be read', () => {
    expect(clientProcess(chain(10, 9, 1), cmdline)).toBeNull();
    expect(clientProcess(chain(10, 8, 5, 1), cmdline)).toBeNull();
    expect(clientProcess(chain(10, 9, 42, 1), cmdline)).toBeNull();
  });

  it('knows wrappers by their words', () => {
    expect(isWrapperCommand(['bash', '-c', 'x'])).toBe(true);
    expect(isWrapperCommand(['/bin/sh', '-ec', 'x'])).toBe(true);
    expect(isWrapperCommand(['bash'])).toBe(false); // an interactive shell is someone's client
    expect(isWrapperCommand(['npx', 'harn-agents'])).toBe(true);
    expect(isWrapperCommand(['node', '/x/npm-cli.js', 'exec', 'harn-agents'])).toBe(true);
    expect(isWrapperCommand(['node', '/x/npm-cli.js', 'install'])).toBe(false);
    expect(isWrapperCommand(['node', '/x/claude/cli.js'])).toBe(false);
  });
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cli, tempDir } from '../helpers/cli.js';
import { harnOnPath } from '../helpers/claude-sessions.js';

// Claude Code's PreToolUse hook (`check --hook claude-code`, `hook install --claude-code`) and the CI check
// (`check --changed BASE`), run as Claude Code and a CI job run them: a real process, stdin, exit codes.

const git = (cwd: string, command: string) =>
  spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', env: cleanEnv({ GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' }) });

const payload = (cwd: string, tool: string, input: Record<string, unknown>) =>
  JSON.stringify({ session_id: 'abc123', transcript_path: '/tmp/t.jsonl', cwd, hook_event_name: 'PreToolUse', tool_name: tool, tool_input: input });

describe('check --hook claude-code', () => {
  const hook = (cwd: string, input: string, env: Record<string, string> = {}) => cli(['check', '--hook', 'claude-code'], { cwd, input, env });

  it('exits 2 with one message naming the holder, the lock and its reason for Edit, Write, MultiEdit and NotebookEdit', () => {
    const ws = tempDir();
    expect(cli(['lock', 'src/', '--agent', '3', '--reason', 'renaming the API', '--ttl', '10m'], { cwd: ws }).code).toBe(0);
    const inputs: Array<[string, Record<string, unknown>]> = [
      ['Edit', { file_path: path.join(ws, 'src/api.ts'), old_string: 'a', new_string: 'b' }],
      ['Write', { file_path: 'src/new file.ts', content: 'x' }],
      ['MultiEdit', { file_path: path.join(ws, 'src/api.ts'), edits: [{ old_string: 'a', new_string: 'b' }] }],
      ['NotebookEdit', { notebook_path: path.join(ws, 'src/n.ipynb'), new_source: 'x' }],
    ];
    for (const [tool, input] of inputs) {
      const r = hook(ws, payload(ws, tool, input));
      expect(r.code, `${tool}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/is locked by agent 3 \(agent-3\) through src\/ \(reason: renaming the API\)/);
    }
  });

  it('exits 0 for other tools, free paths, paths outside the workspace, the holder itself, and a workspace without a registry', () => {
    const ws = tempDir();
    cli(['lock', 'held.ts', '--agent', '3', '--ttl', '10m'], { cwd: ws });
    expect(hook(ws, payload(ws, 'Read', { file_path: path.join(ws, 'held.ts') })).code).toBe(0);
    expect(hook(ws, payload(ws, 'Bash', { command: 'rm held.ts' })).code).toBe(0);
    expect(hook(ws, payload(ws, 'Edit', { file_path: path.join(ws, 'free.ts') })).code).toBe(0);
    expect(hook(ws, payload(ws, 'Edit', { file_path: '/etc/hosts' })).code).toBe(0);
    expect(hook(ws, payload(ws, 'Edit', { file_path: path.join(ws, 'held.ts') }), { HARN_AGENT_ID: '3' })).toMatchObject({ code: 0, stderr: '' });
    expect(hook(ws, payload(ws, 'Edit', { file_path: path.join(ws, 'held.ts') }), { HARN_GUARD: 'warn' }).code).toBe(0);
    const empty = tempDir();
    expect(hook(empty, payload(empty, 'Write', { file_path: path.join(empty, 'a.ts') }))).toMatchObject({ code: 0, stderr: '' });
    expect(fs.existsSync(path.join(empty, '.harn'))).toBe(false);
  });

  it('takes the workspace from the payload cwd; a payload it cannot read is exit 1 (reported, not blocking)', () => {
    const ws = tempDir();
    cli(['lock', 'held.ts', '--agent', '3', '--ttl', '10m'], { cwd: ws });
    const elsewhere = tempDir();
    expect(hook(elsewhere, payload(ws, 'Edit', { file_path: 'held.ts' })).code).toBe(2);
    const bad = hook(ws, 'not json');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^harn-agents: --hook claude-code: stdin is not JSON/);
    expect(hook(ws, '[1,2]').code).toBe(1);
    expect(cli(['check', '--hook', 'nobody'], { cwd: ws, input: '{}' }).code).toBe(1);
  });
});

describe('hook install --claude-code', () => {
  const COMMAND = 'exec "$(command -v harn-agents || echo "$CLAUDE_PROJECT_DIR/node_modules/.bin/harn-agents")" agent-hook claude-code';
  const ours = (matcher?: string) => ({ ...(matcher ? { matcher } : {}), hooks: [{ type: 'command', command: COMMAND }] });
  const EVENTS = {
    SessionStart: [ours()],
    PreToolUse: [ours('Edit|Write|MultiEdit|NotebookEdit|Bash')],
    PostToolUse: [ours('Read|Edit|Write|MultiEdit|NotebookEdit|Bash')],
    SubagentStop: [ours()],
    Stop: [ours()],
    SessionEnd: [ours()],
  };

  it("merges the session lifecycle's hooks into .claude/settings.json (idempotent); uninstall leaves the user's settings as they were", () => {
    const ws = tempDir();
    git(ws, 'git init -q -b main');
    const settings = path.join(ws, '.claude/settings.json');
    fs.mkdirSync(path.dirname(settings));
    const original = { permissions: { allow: ['Bash(npm test)'] }, hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'my-guard' }] }], Stop: [{ hooks: [{ type: 'command', command: 'notify-me' }] }] } };
    fs.writeFileSync(settings, JSON.stringify(original));
    fs.mkdirSync(path.join(ws, 'sub'));
    const installed = cli(['hook', 'install', '--claude-code'], { cwd: path.join(ws, 'sub') });
    expect(installed.code).toBe(0);
    expect(installed.stdout).toMatch(/commit \.claude\/settings\.json/);
    expect(cli(['hook', 'install', '--claude-code'], { cwd: ws }).stdout).toMatch(/already/);
    const merged = JSON.parse(fs.readFileSync(settings, 'utf8'));
    expect(merged.permissions).toEqual(original.permissions);
    expect(merged.hooks).toEqual({ ...EVENTS, PreToolUse: [...original.hooks.PreToolUse, ...EVENTS.PreToolUse], Stop: [...original.hooks.Stop, ...EVENTS.Stop] });
    expect(cli(['hook', 'status', '--claude-code'], { cwd: ws }).code).toBe(0);
    expect(cli(['hook', 'uninstall', '--claude-code'], { cwd: ws }).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(settings, 'utf8'))).toEqual(original);
    expect(cli(['hook', 'status', '--claude-code'], { cwd: ws }).code).toBe(1);
  });

  it('replaces the PreToolUse-only hook of earlier versions, and says a partial install is out of date', () => {
    const ws = tempDir();
    git(ws, 'git init -q -b main');
    const settings = path.join(ws, '.claude/settings.json');
    fs.mkdirSync(path.dirname(settings));
    fs.writeFileSync(settings, JSON.stringify({ hooks: { PreToolUse: [{ matcher: 'Edit|Write|MultiEdit|NotebookEdit', hooks: [{ type: 'command', command: 'harn-agents check --hook claude-code' }] }] } }));
    const status = cli(['hook', 'status', '--claude-code'], { cwd: ws });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/out of date \(missing: SessionStart, PreToolUse, PostToolUse, SubagentStop, Stop, SessionEnd; run: harn-agents hook install --claude-code\)/);
    expect(cli(['hook', 'install', '--claude-code'], { cwd: ws }).stdout).toMatch(/updated its hooks/);
    expect(JSON.parse(fs.readFileSync(settings, 'utf8')).hooks).toEqual(EVENTS);
  });

  it('--local writes .claude/settings.local.json and leaves settings.json alone', () => {
    const ws = tempDir();
    git(ws, 'git init -q -b main');
    const r = cli(['hook', 'install', '--claude-code', '--local'], { cwd: ws });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/settings\.local\.json is your own/);
    expect(JSON.parse(fs.readFileSync(path.join(ws, '.claude/settings.local.json'), 'utf8')).hooks).toEqual(EVENTS);
    expect(fs.existsSync(path.join(ws, '.claude/settings.json'))).toBe(false);
    expect(cli(['hook', 'install', '--local'], { cwd: ws })).toMatchObject({ code: 2 });
  });

  it('leaves a settings file it cannot read as JSON untouched and prints what to add', () => {
    const ws = tempDir();
    const settings = path.join(ws, '.claude/settings.json');
    fs.mkdirSync(path.dirname(settings));
    fs.writeFileSync(settings, '{ // a comment\n}');
    const r = cli(['hook', 'install', '--claude-code'], { cwd: ws });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('agent-hook claude-code"');
    expect(fs.readFileSync(settings, 'utf8')).toBe('{ // a comment\n}');
  });
});

describe('check --changed BASE', () => {
  function branch(): string {
    const repo = tempDir('harn-ci-');
    git(repo, 'git init -q -b main && mkdir -p src lib && echo a > src/old.ts && echo b > lib/gone.ts && echo c > keep.ts && git add -A && git commit -qm base');
    git(repo, 'git checkout -q -b feature && git mv src/old.ts src/new.ts && git rm -q lib/gone.ts && git commit -qm work && echo d > untracked.ts && echo e >> keep.ts');
    return repo;
  }

  it('sees both names of a rename, deletions, uncommitted and untracked changes, from a subdirectory', () => {
    const repo = branch();
    for (const p of ['src/old.ts', 'lib/gone.ts', 'untracked.ts', 'keep.ts']) cli(['lock', p, '--agent', '2', '--ttl', '10m'], { cwd: repo });
    const r = cli(['--json', 'check', '--changed', 'main'], { cwd: path.join(repo, 'src') });
    expect(r.code).toBe(1);
    const conflicts = JSON.parse(r.stdout).conflicts.map((c: { path: string }) => c.path).sort();
    expect(conflicts).toEqual(['keep.ts', 'lib/gone.ts', 'src/old.ts', 'untracked.ts']);
    expect(JSON.parse(r.stdout).checked).toBe(5); // src/new.ts too
  });

  it('counts from the merge base: what main gained since is not this branch\'s change', () => {
    const repo = branch();
    git(repo, 'git stash -q -u && git checkout -q main && echo z > main-only.ts && git add -A && git commit -qm main && git checkout -q feature');
    cli(['lock', 'main-only.ts', '--agent', '2'], { cwd: repo });
    expect(cli(['check', '--changed', 'main'], { cwd: repo }).code).toBe(0);
    expect(cli(['check', '--changed', 'no-such-branch'], { cwd: repo })).toMatchObject({ code: 2 });
  });
});

describe('doctor and the agent hooks', () => {
  it('warns when the session hooks are out of date, partial, or missing in a project that uses Claude Code; not otherwise', () => {
    const ws = tempDir();
    git(ws, 'git init -q -b main');
    const plain = JSON.parse(cli(['--json', 'doctor'], { cwd: ws }).stdout);
    expect(plain.checks.find((c: { check: string }) => c.check === 'agent hooks')).toMatchObject({ ok: true });
    fs.writeFileSync(path.join(ws, 'CLAUDE.md'), '# notes\n');
    const missing = cli(['--json', 'doctor'], { cwd: ws });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).checks.find((c: { check: string }) => c.check === 'agent hooks')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/uses Claude Code but its sessions do not claim what they edit/),
      fix: 'harn-agents hook install --claude-code',
    });
    fs.mkdirSync(path.join(ws, '.claude'));
    fs.writeFileSync(path.join(ws, '.claude/settings.json'), JSON.stringify({ hooks: { PreToolUse: [{ matcher: 'Edit', hooks: [{ type: 'command', command: 'harn-agents check --hook claude-code' }] }] } }));
    const old = JSON.parse(cli(['--json', 'doctor'], { cwd: ws }).stdout).checks.find((c: { check: string }) => c.check === 'agent hooks');
    expect(old).toMatchObject({ ok: false, detail: expect.stringMatching(/out of date .*sessions are coordinated only in part/) });
    expect(cli(['hook', 'install', '--claude-code'], { cwd: ws }).code).toBe(0);
    const fixed = JSON.parse(cli(['--json', 'doctor'], { cwd: ws, env: { PATH: `${harnOnPath()}:${process.env.PATH ?? ''}` } }).stdout).checks.find(
      (c: { check: string }) => c.check === 'agent hooks',
    );
    expect(fixed).toMatchObject({ ok: true, detail: expect.stringMatching(/^installed: claude-code/) });
  });
});

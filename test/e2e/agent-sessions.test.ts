import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, tempDir as tempDirFor } from '../helpers/cli.js';
import { harnOnPath, repoWith, sessionEnv, sh, startSession, type FakeSession, type ToolAnswer } from '../helpers/claude-sessions.js';

// Several Claude Code sessions in one repository, each its own process running the hooks installed by the
// documented setup (`hook install --claude-code` and `hook install`), with "models" that never lock anything:
// they read, write, edit, and commit with `git add -A && git commit` first, following what a refusal tells
// them. The harness keeps its own account of who changed what and counts what harn-agents exists to prevent.

const open: FakeSession[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill('SIGKILL');
  }
});

interface Counts {
  editsOnOthersFile: number;
  staleWrites: number;
  commitsWithOthersWork: number;
  lostEdits: number;
}

/** The harness's own truth: who has uncommitted changes in each file, what each session last saw. */
class World {
  readonly counts: Counts = { editsOnOthersFile: 0, staleWrites: 0, commitsWithOthersWork: 0, lostEdits: 0 };
  readonly owner = new Map<string, string>();
  readonly seen = new Map<string, Map<string, string>>();
  readonly markers: Array<{ session: string; file: string; marker: string }> = [];
  readonly refusals: string[] = [];
  readonly commitsBy = new Map<string, number>();

  constructor(
    readonly repo: string,
    readonly guarded: boolean,
  ) {}

  content(file: string): string {
    return fs.readFileSync(path.join(this.repo, file), 'utf8');
  }

  seenBy(session: string): Map<string, string> {
    let m = this.seen.get(session);
    if (!m) this.seen.set(session, (m = new Map()));
    return m;
  }

  async read(s: FakeSession, file: string, reader = s.id): Promise<void> {
    const r = await s.ask({ tool: 'Read', input: { file_path: path.join(this.repo, file) }, ...(reader !== s.id ? { agent: reader } : {}) });
    expect(r.allowed).toBe(true);
    this.seenBy(reader).set(file, this.content(file));
  }

  /**
   * The model writes the file from what it last read (Write: the whole content), inserting its marker: a
   * write from a stale read loses whatever changed since. Returns the answer.
   */
  async write(s: FakeSession, file: string, marker: string, tool: 'Write' | 'Edit' | 'MultiEdit' = 'Write', reader = s.id): Promise<ToolAnswer> {
    const before = this.content(file);
    const base = this.seenBy(reader).get(file) ?? before;
    const input =
      tool === 'Write'
        ? { file_path: path.join(this.repo, file), content: base.replace('END', `${marker}\nEND`) }
        : tool === 'Edit'
          ? { file_path: path.join(this.repo, file), old_string: 'END', new_string: `${marker}\nEND` }
          : { file_path: path.join(this.repo, file), edits: [{ old_string: 'END', new_string: `${marker}\nEND` }] };
    const r = await s.ask({ tool, input, ...(reader !== s.id ? { agent: reader } : {}) });
    expect(r.hookErrors).toEqual([]);
    if (!r.allowed) {
      this.refusals.push(`${s.id}: ${r.reason}`);
      return r;
    }
    const holder = this.owner.get(file);
    if (holder !== undefined && holder !== s.id) this.counts.editsOnOthersFile++;
    if (tool === 'Write' && this.seenBy(reader).get(file) !== before) this.counts.staleWrites++;
    this.owner.set(file, s.id);
    this.markers.push({ session: s.id, file, marker });
    this.seenBy(reader).set(file, this.content(file));
    return r;
  }

  private heads(): string[] {
    return sh(this.repo, 'git rev-list HEAD').stdout.trim().split('\n');
  }

  /** Run a shell command as the session; account for the commits it made. */
  async bash(s: FakeSession, command: string): Promise<ToolAnswer> {
    const before = new Set(this.heads());
    const r = await s.ask({ tool: 'Bash', input: { command } });
    expect(r.hookErrors).toEqual([]);
    if (!r.allowed) {
      this.refusals.push(`${s.id}: ${r.reason}`);
      return r;
    }
    for (const sha of this.heads().filter((h) => !before.has(h))) {
      this.commitsBy.set(s.id, (this.commitsBy.get(s.id) ?? 0) + 1);
      const files = sh(this.repo, `git show --name-only --format= ${sha}`).stdout.trim().split('\n').filter(Boolean);
      if (files.some((f) => this.owner.has(f) && this.owner.get(f) !== s.id)) this.counts.commitsWithOthersWork++;
      for (const f of files) this.owner.delete(f);
    }
    return r;
  }

  /** How a model commits: everything first; on a refusal, the command the refusal gives. */
  async commit(s: FakeSession): Promise<void> {
    const r = await this.bash(s, `git add -A && git commit -qm "${s.id}"`);
    if (r.allowed) return;
    const suggested = /Commit only your own files: git add ([^&]+) && git commit/.exec(r.reason ?? '');
    if (suggested) await this.bash(s, `git add ${suggested[1]?.trim()} && git commit -qm "${s.id}"`);
  }

  finish(): Counts {
    for (const m of this.markers) {
      const head = sh(this.repo, `git show HEAD:${m.file}`).stdout;
      if (!head.includes(m.marker)) this.counts.lostEdits++;
    }
    return this.counts;
  }
}

function setup(guarded: boolean) {
  const repo = repoWith(['shared.ts', 'src/a1.ts', 'src/a2.ts', 'src/b1.ts', 'src/c1.ts']);
  const bin = harnOnPath();
  const env = sessionEnv(bin);
  if (guarded) {
    for (const args of [['hook', 'install', '--claude-code'], ['hook', 'install']]) {
      const r = sh(repo, `harn-agents ${args.join(' ')}`, env);
      expect(r.status, r.stderr).toBe(0);
    }
    sh(repo, 'git add .claude && git commit -qm "harn-agents hooks"');
  }
  return { repo, env, world: new World(repo, guarded) };
}

/**
 * Three sessions with overlapping work. Each reads all its files first (so later reads go stale), then
 * edits round by round; a file refused because another session has it is tried again in a later round, a
 * stale one is read again first. Then each commits as models do.
 */
async function threeSessions(guarded: boolean) {
  const { repo, env, world } = setup(guarded);
  const tasks: Record<string, Array<{ file: string; tool: 'Write' | 'Edit' | 'MultiEdit' }>> = {
    s1: [{ file: 'shared.ts', tool: 'Write' }, { file: 'src/a1.ts', tool: 'Write' }, { file: 'src/a2.ts', tool: 'MultiEdit' }],
    s2: [{ file: 'shared.ts', tool: 'Write' }, { file: 'src/b1.ts', tool: 'Edit' }, { file: 'src/a2.ts', tool: 'Write' }],
    s3: [{ file: 'src/c1.ts', tool: 'Write' }, { file: 'src/a1.ts', tool: 'Write' }, { file: 'shared.ts', tool: 'Write' }],
  };
  const sessions = Object.keys(tasks).map((id) => startSession(repo, id, env));
  open.push(...sessions);
  for (const s of sessions) {
    const start = await s.ask({ event: 'SessionStart' });
    if (guarded) expect(start.context).toMatch(/claimed for this session until you commit it/);
  }
  for (const s of sessions) for (const t of tasks[s.id] ?? []) await world.read(s, t.file);
  let marker = 0;
  const committed = new Set<string>();
  for (let round = 0; round < 10 && Object.values(tasks).some((t) => t.length > 0); round++) {
    for (const s of sessions) {
      const pending = tasks[s.id] ?? [];
      const task = pending[0];
      if (!task) continue;
      const r = await world.write(s, task.file, `${s.id}-edit-${++marker}`, task.tool);
      if (r.allowed) pending.shift();
      else if (/Read it (again|first)/.test(r.reason ?? '')) await world.read(s, task.file);
      else pending.push(pending.shift() as (typeof pending)[number]); // held by another: work elsewhere first
      // A session whose edits are done commits them.
      if (pending.length === 0 && !committed.has(s.id)) {
        committed.add(s.id);
        await world.commit(s);
      }
    }
  }
  for (const s of sessions) await world.commit(s);
  return { repo, world, sessions, tasks };
}

describe('several Claude Code sessions with the documented setup and models that never lock', () => {
  it('counts 0 edits on a file another session is editing, 0 commits of others\' work, 0 stale writes, 0 lost edits; every session commits its own work', async () => {
    const { repo, world, tasks } = await threeSessions(true);
    expect(world.finish(), world.refusals.join('\n')).toEqual({ editsOnOthersFile: 0, staleWrites: 0, commitsWithOthersWork: 0, lostEdits: 0 });
    expect(Object.values(tasks).flat()).toEqual([]);
    expect(sh(repo, 'git status --porcelain').stdout).toBe('');
    for (const id of ['s1', 's2', 's3']) expect(world.commitsBy.get(id) ?? 0, id).toBeGreaterThan(0);
    // The guard acted: each kind of refusal happened, and says what to do instead, never how to bypass.
    const all = world.refusals.join('\n');
    expect(all).toMatch(/is held by agent \d+ \(claude-code s\d/);
    expect(all).toMatch(/changed since you last read it .*Read it again before editing it/);
    expect(all).toMatch(/`git add -A` would stage or commit uncommitted changes other sessions are working on/);
    expect(all).not.toMatch(/HARN_GUARD|--no-verify|release --force|HARN_AGENT_ID/);
  }, 120_000);

  it('the same sessions without harn-agents: the harness sees the damage (it can fail)', async () => {
    const { world } = await threeSessions(false);
    const counts = world.finish();
    expect(counts.editsOnOthersFile + counts.staleWrites + counts.commitsWithOthersWork + counts.lostEdits).toBeGreaterThan(0);
    expect(counts.commitsWithOthersWork).toBeGreaterThan(0);
    expect(counts.editsOnOthersFile).toBeGreaterThan(0);
  }, 120_000);
});

describe('session variants', () => {
  it('two subagents of one session on one file: the one whose read went stale is refused until it reads again', async () => {
    const { repo, env, world } = setup(true);
    const s = startSession(repo, 'solo', env);
    open.push(s);
    await world.read(s, 'shared.ts', 'sub-a');
    await world.read(s, 'shared.ts', 'sub-b');
    expect((await world.write(s, 'shared.ts', 'from-a', 'Write', 'sub-a')).allowed).toBe(true);
    const stale = await world.write(s, 'shared.ts', 'from-b', 'Write', 'sub-b');
    expect(stale.allowed).toBe(false);
    expect(stale.reason).toMatch(/shared\.ts changed since you last read it .*by agent \d+ \(a subagent\).*Read it again before editing it/);
    await world.read(s, 'shared.ts', 'sub-b');
    expect((await world.write(s, 'shared.ts', 'from-b', 'Write', 'sub-b')).allowed).toBe(true);
    // SubagentStop forgets what the subagent saw: a new subagent of that id must read first.
    await s.ask({ event: 'SubagentStop', agent: 'sub-a' });
    const unread = await world.write(s, 'shared.ts', 'again', 'Edit', 'sub-a');
    expect(unread.reason).toMatch(/has not been read by you in this session: Read it first/);
    expect(world.finish().lostEdits).toBe(2); // nothing committed yet: both markers are in the work tree only
    expect(fs.readFileSync(path.join(repo, 'shared.ts'), 'utf8')).toMatch(/from-a\nfrom-b\nEND/);
  }, 60_000);

  it('two worktrees: a file claimed with uncommitted changes in one is refused in the other until committed', async () => {
    const { repo, env, world } = setup(true);
    const other = `${repo}-wt`;
    expect(sh(repo, `git worktree add -q -b feature ${other}`).status).toBe(0);
    const a = startSession(repo, 'in-main', env);
    const b = startSession(other, 'in-feature', env);
    open.push(a, b);
    await world.read(a, 'src/a1.ts');
    expect((await world.write(a, 'src/a1.ts', 'main-change')).allowed).toBe(true);
    const r = await b.ask({ tool: 'Read', input: { file_path: path.join(other, 'src/a1.ts') } });
    expect(r.allowed).toBe(true);
    const refused = await b.ask({ tool: 'Edit', input: { file_path: path.join(other, 'src/a1.ts'), old_string: 'END', new_string: 'x\nEND' } });
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toMatch(/src\/a1\.ts is held by agent \d+ \(claude-code in-main .*\(main\)\) \(editing\)/);
    expect((await world.bash(a, 'git add src/a1.ts && git commit -qm a')).allowed).toBe(true);
    const after = await b.ask({ tool: 'Edit', input: { file_path: path.join(other, 'src/a1.ts'), old_string: 'END', new_string: 'x\nEND' } });
    expect(after.allowed, after.reason ?? '').toBe(true);
  }, 60_000);

  it('a session whose MCP server was started through npx is never refused by its own locks, in its hooks or its commits', async () => {
    const { repo, env, world } = setup(true);
    fs.mkdirSync(path.join(repo, 'node_modules/.bin'), { recursive: true });
    fs.symlinkSync(path.resolve(import.meta.dirname, '../../bin/harn-agents.js'), path.join(repo, 'node_modules/.bin/harn-agents'));
    fs.appendFileSync(path.join(repo, '.git/info/exclude'), 'node_modules/\n');
    const s = startSession(repo, 'with-mcp', env);
    const other = startSession(repo, 'other', env);
    open.push(s, other);
    await s.ask({ mcp: 'start', command: 'npx --no-install harn-agents mcp' });
    const locked = await s.ask({ mcp: 'call', name: 'lock', arguments: { paths: ['src/a1.ts', 'src/a2.ts'] } });
    expect(JSON.parse(locked.output ?? 'null')).toMatchObject({ granted: true });
    await world.read(s, 'src/a1.ts');
    const edit = await world.write(s, 'src/a1.ts', 'mcp-session-edit');
    expect(edit.allowed, edit.reason ?? '').toBe(true);
    expect((await world.bash(s, 'git add src/a1.ts && git commit -qm mine')).allowed).toBe(true);
    expect(world.commitsBy.get('with-mcp')).toBe(1);
    // Another session is refused by those locks.
    await world.read(other, 'src/a2.ts');
    expect((await world.write(other, 'src/a2.ts', 'not-yours', 'Edit')).reason).toMatch(/src\/a2\.ts is held by agent \d+ \(mcp: claude-code\)/);
  }, 60_000);

  it('a session killed: its claims on unchanged files free at once, its uncommitted changes stay claimed and shown as such', async () => {
    const { repo, env, world } = setup(true);
    const victim = startSession(repo, 'victim', env);
    const other = startSession(repo, 'other', env);
    open.push(victim, other);
    await world.read(victim, 'src/a1.ts');
    await world.read(victim, 'src/a2.ts');
    expect((await world.write(victim, 'src/a1.ts', 'kept')).allowed).toBe(true);
    // Claimed, then put back as it was: unchanged.
    const original = fs.readFileSync(path.join(repo, 'src/a2.ts'), 'utf8');
    expect((await victim.ask({ tool: 'Write', input: { file_path: path.join(repo, 'src/a2.ts'), content: `${original}tmp\n` } })).allowed).toBe(true);
    expect((await victim.ask({ tool: 'Write', input: { file_path: path.join(repo, 'src/a2.ts'), content: original } })).allowed).toBe(true);
    victim.process.kill('SIGKILL');
    await new Promise((resolve) => victim.process.once('exit', resolve));
    // The next call of anyone (here a plain `status`) ends the session: no TTL to wait for.
    const status = cli(['--json', 'status'], { cwd: repo });
    const victimAgent = JSON.parse(status.stdout).agents.find((a: { name: string }) => a.name.startsWith('claude-code victim'));
    expect(victimAgent.state).toBe('gone');
    expect(victimAgent.locks.map((l: { path: string }) => l.path)).toEqual(['src/a1.ts']);
    expect(JSON.stringify(victimAgent)).toMatch(/uncommitted changes of an ended session/);
    const ended = JSON.parse(cli(['--json', 'log'], { cwd: repo }).stdout).events.filter((e: { type: string }) => e.type === 'session-end');
    expect(ended).toMatchObject([{ cause: 'process-gone', released: ['src/a2.ts'], kept: ['src/a1.ts'] }]);
    await world.read(other, 'src/a2.ts');
    expect((await world.write(other, 'src/a2.ts', 'free-now', 'Edit')).allowed).toBe(true);
    await world.read(other, 'src/a1.ts');
    const refused = await world.write(other, 'src/a1.ts', 'not-yet', 'Edit');
    expect(refused.reason).toMatch(/src\/a1\.ts holds uncommitted changes of a session that ended.*tell the user/);
    // `git add -A` of the other session would sweep them up: refused.
    expect((await world.bash(other, 'git add -A && git commit -qm x')).reason).toMatch(/src\/a1\.ts/);
  }, 60_000);
});

describe('agent-hook as Claude Code runs it, with hostile input', () => {
  const hook = (cwd: string, input: string) => cli(['agent-hook', 'claude-code'], { cwd, input });

  it('a payload it cannot read is one line and exit 1 (Claude Code reports it and lets the tool run), nothing written', () => {
    const ws = tempDirFor();
    for (const input of ['not json', '[1,2]', '"text"', '', 'x'.repeat(3 * 1024 * 1024)]) {
      const r = hook(ws, input);
      expect(r.code, input.slice(0, 20)).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^harn-agents: agent-hook claude-code: (stdin is not JSON|the hook payload is not a JSON object)/);
    }
    expect(cli(['agent-hook', 'nobody'], { cwd: ws, input: '{}' })).toMatchObject({ code: 1 });
    expect(fs.existsSync(path.join(ws, '.harn'))).toBe(false);
  });

  it('one file reached through a symlinked directory is one claim', async () => {
    const { repo, env, world } = setup(true);
    fs.symlinkSync('src', path.join(repo, 'link'));
    const a = startSession(repo, 'real-name', env);
    const b = startSession(repo, 'link-name', env);
    open.push(a, b);
    await world.read(a, 'src/a1.ts');
    expect((await world.write(a, 'src/a1.ts', 'one')).allowed).toBe(true);
    await b.ask({ tool: 'Read', input: { file_path: path.join(repo, 'link/a1.ts') } });
    const r = await b.ask({ tool: 'Edit', input: { file_path: path.join(repo, 'link/a1.ts'), old_string: 'END', new_string: 'two\nEND' } });
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/^harn-agents: src\/a1\.ts is held by agent \d+ \(claude-code real-nam/);
  }, 60_000);
});

describe('Codex CLI sessions (payloads as Codex documents them: Bash and apply_patch)', () => {
  const payload = (repo: string, session: string, event: string, tool: string, command: string) =>
    JSON.stringify({
      session_id: session,
      turn_id: '1',
      transcript_path: null,
      cwd: repo,
      hook_event_name: event,
      model: 'gpt-5.5',
      permission_mode: 'default',
      tool_name: tool,
      tool_input: { command },
      tool_use_id: `call_${session}`,
      ...(event === 'PostToolUse' ? { tool_response: 'Success. Updated files.' } : {}),
    });
  const patch = (file: string) => `*** Begin Patch\n*** Update File: ${file}\n@@\n-END\n+x\n+END\n*** End Patch`;

  it('hook install --codex writes .codex/hooks.json; an apply_patch of a file another session claims is denied, as is its git commit -am', () => {
    const { repo, env } = setup(false);
    const install = sh(repo, 'harn-agents hook install --codex', env);
    expect(install.status, install.stderr).toBe(0);
    const hooks = JSON.parse(fs.readFileSync(path.join(repo, '.codex/hooks.json'), 'utf8')).hooks;
    expect(Object.keys(hooks)).toEqual(['SessionStart', 'PreToolUse', 'PostToolUse', 'SubagentStop', 'Stop']);
    expect(hooks.PreToolUse).toEqual([
      { matcher: 'Bash|apply_patch', hooks: [{ type: 'command', command: 'exec "$(command -v harn-agents || echo "$(git rev-parse --show-toplevel)/node_modules/.bin/harn-agents")" agent-hook codex' }] },
    ]);
    const hook = (input: string) => cli(['agent-hook', 'codex'], { cwd: repo, input });
    const first = hook(payload(repo, 'codex-x', 'PreToolUse', 'apply_patch', patch('src/a1.ts')));
    expect(first).toMatchObject({ code: 0, stdout: '' });
    fs.appendFileSync(path.join(repo, 'src/a1.ts'), 'x\n');
    const denied = hook(payload(repo, 'codex-y', 'PreToolUse', 'apply_patch', patch(path.join(repo, 'src/a1.ts'))));
    expect(denied.code).toBe(0);
    const decision = JSON.parse(denied.stdout).hookSpecificOutput;
    expect(decision).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'deny' });
    expect(decision.permissionDecisionReason).toMatch(/src\/a1\.ts is held by agent \d+ \(codex codex-x/);
    const sweep = JSON.parse(hook(payload(repo, 'codex-y', 'PreToolUse', 'Bash', "git commit -am 'wip'")).stdout).hookSpecificOutput;
    expect(sweep.permissionDecisionReason).toMatch(/`git commit -am wip` would stage or commit uncommitted changes other sessions are working on: src\/a1\.ts/);
  });
});

describe('installed as a devDependency only', () => {
  it('the session hooks find harn-agents in node_modules/.bin (not on the hook shell\'s PATH), and doctor sees it', async () => {
    const repo = repoWith(['src/a1.ts']);
    fs.mkdirSync(path.join(repo, 'node_modules/.bin'), { recursive: true });
    fs.symlinkSync(path.resolve(import.meta.dirname, '../../bin/harn-agents.js'), path.join(repo, 'node_modules/.bin/harn-agents'));
    fs.appendFileSync(path.join(repo, '.git/info/exclude'), 'node_modules/\n');
    // PATH as Claude Code's hook shell has it: no harn-agents anywhere on it.
    const env = sessionEnv('/nonexistent');
    expect(sh(repo, 'command -v harn-agents', env).status).not.toBe(0);
    expect(sh(repo, 'node_modules/.bin/harn-agents hook install --claude-code', env).status).toBe(0);
    const world = new World(repo, true);
    const a = startSession(repo, 'dev-a', env);
    const b = startSession(repo, 'dev-b', env);
    open.push(a, b);
    await world.read(a, 'src/a1.ts');
    expect((await world.write(a, 'src/a1.ts', 'a')).allowed).toBe(true);
    await world.read(b, 'src/a1.ts');
    expect((await world.write(b, 'src/a1.ts', 'b', 'Edit')).reason).toMatch(/src\/a1\.ts is held by agent \d+ \(claude-code dev-a/);
    const doctorCheck = (extraEnv: Record<string, string>) =>
      JSON.parse(cli(['--json', 'doctor'], { cwd: repo, env: extraEnv }).stdout).checks.find((c: { check: string }) => c.check === 'agent hooks');
    expect(doctorCheck({ PATH: `/nonexistent:${process.env.PATH ?? ''}` })).toMatchObject({ ok: true });
    fs.rmSync(path.join(repo, 'node_modules'), { recursive: true });
    expect(doctorCheck({ PATH: '/usr/bin:/bin' })).toMatchObject({ ok: false, fix: 'npm install -D harn-agents' });
  }, 60_000);
});

describe('a session cleared (/clear) or resumed', () => {
  it('after /clear, the new session of the same process carries on the old one\'s uncommitted work and can commit it', async () => {
    const { repo, env, world } = setup(true);
    const s = startSession(repo, 'before-clear', env);
    const other = startSession(repo, 'other', env);
    open.push(s, other);
    await world.read(s, 'src/a1.ts');
    expect((await world.write(s, 'src/a1.ts', 'mine')).allowed).toBe(true);
    await s.ask({ event: 'SessionEnd', reason: 'clear' });
    const start = await s.ask({ event: 'SessionStart', source: 'clear', session: 'after-clear' });
    expect(start.context).not.toMatch(/src\/a1\.ts/); // not listed as someone else's
    await world.read(s, 'src/a1.ts');
    expect((await world.write(s, 'src/a1.ts', 'mine-again', 'Edit')).allowed).toBe(true);
    // Still the session's own to everyone else, with the reason of work in progress.
    await world.read(other, 'src/a1.ts');
    expect((await world.write(other, 'src/a1.ts', 'no', 'Edit')).reason).toMatch(/src\/a1\.ts is held by agent \d+ \(claude-code after-cl.*\(editing\)/);
    expect((await world.bash(s, 'git add src/a1.ts && git commit -qm mine')).allowed).toBe(true);
    expect(sh(repo, 'git status --porcelain').stdout).toBe('');
  }, 60_000);
});

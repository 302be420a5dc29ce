import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, HarnError, isHarnError } from '../core/errors.js';
import { normaliseLockPath, realExistingPrefix } from '../core/paths.js';
import { clientProcess, type ProcessIdentity } from '../core/process-tree.js';
import { hostName } from '../core/host.js';
import type { AgentRegistry, ReadonlyAgent } from '../core/registry.js';
import { gitOperations, pathspecCovers, type GitOperation } from '../hooks/agents/git-command.js';
import { AGENT_HOOKS, parseAgentEvent, type AgentHookEvent } from '../hooks/agents/index.js';
import { changedFiles } from '../hooks/agents/work-tree.js';
import { fileHash, SeenStore } from '../store/seen-store.js';
import { workspaceOrigin } from '../store/workspace.js';
import {
  CLAIM_REASON,
  CLAIM_TTL_MS,
  endSession,
  findSessionAgent,
  ORPHAN_REASON,
  ownAgents,
  sameProcess,
  SESSION_LEASE_MS,
  sessionAgentName,
} from './agent-session.js';
import { defineCommand } from './command.js';
import type { Context } from './context.js';

/**
 * `agent-hook <agent>`: every hook of an AI coding agent's session (Claude Code's settings run it for each
 * event, the payload on stdin). A session that edits a file claims it and keeps it until it commits it; an
 * edit of a file another session claims, or of a file changed since this (sub)agent read it, is denied; a
 * shell command that would stage or discard another session's uncommitted work is denied. Every denial
 * tells the model what to do instead. docs/agents.md describes the whole lifecycle.
 */

export interface AgentHookOptions {
  /** The agent CLI whose hooks call (`claude-code`). */
  readonly client: string;
  readonly event: AgentHookEvent;
  /** The agent CLI's process (the hook's nearest ancestor that is not a shell or npx), if it can be seen. */
  readonly process: ProcessIdentity | null;
  /** This machine's name: a session's process is judged alive only on its own host. */
  readonly host: string;
}

export interface AgentHookResult {
  readonly event: string;
  readonly decision: 'allow' | 'deny';
  /** Why the call is denied, for the model. */
  readonly reason: string | null;
  /** What the model is told at the start of a session. */
  readonly context: string | null;
  /** The session's agent, once it is registered. */
  readonly agent: number | null;
  readonly claimed: readonly string[];
  readonly released: readonly string[];
}

const allow = (event: string, more: Partial<AgentHookResult> = {}): AgentHookResult => ({
  event,
  decision: 'allow',
  reason: null,
  context: null,
  agent: null,
  claimed: [],
  released: [],
  ...more,
});
const deny = (event: string, reason: string, agent: number | null = null): AgentHookResult => ({ ...allow(event, { agent }), decision: 'deny', reason });

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 360) / 10} h ago`;
}

const who = (agent: { readonly id: number; readonly name: string }): string => `agent ${agent.id} (${agent.name})`;
/** A path as a shell word in a suggested command. */
const shellWord = (p: string): string => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`);

class Session {
  readonly seen: SeenStore;
  readonly reader: string;

  constructor(
    readonly ctx: Context,
    readonly options: AgentHookOptions,
    readonly id: string,
  ) {
    this.seen = new SeenStore(ctx.workspace.stateDir, ctx.workspace);
    this.reader = options.event.subagent ?? 'main';
  }

  get event(): string {
    return this.options.event.event;
  }

  /** A file as a lock path (workspace-relative), or null when it lies outside the workspace. */
  lockPath(file: string): string | null {
    try {
      // The file's real path: one file reached through a symlinked directory has one claim, not two.
      const p = normaliseLockPath(realExistingPrefix(path.resolve(this.ctx.workspace.cwd, file)), this.ctx.workspace.cwd, this.ctx.workspace.pathRoot);
      return p.endsWith('/') || p === '.harn' || p.startsWith('.harn/') || p === '.git' || p.startsWith('.git/') ? null : p;
    } catch (error) {
      if (isHarnError(error)) return null;
      throw error;
    }
  }

  absolute(lockPath: string): string {
    return path.join(this.ctx.workspace.pathRoot, lockPath);
  }

  /** This session's agent, registered on its first call (or brought back, or moved to a resumed process). */
  ensureAgent(registry: AgentRegistry, nowMs: number): ReadonlyAgent {
    const { client, process, host } = this.options;
    const found = findSessionAgent(registry, client, this.id);
    if (!found) {
      const origin = workspaceOrigin(this.ctx.workspace);
      const name = sessionAgentName(client, this.id, origin.worktree ?? null, origin.branch ?? null);
      const id = registry.register(name, nowMs, {
        timeoutMs: SESSION_LEASE_MS,
        ...(process ? { process } : {}),
        session: { client, id: this.id, host },
      });
      // A new session in the client process of one that ended (Claude Code's /clear) carries on its work:
      // the claims kept on its uncommitted changes are this session's now.
      if (process) {
        for (const ended of [...registry.agents()]) {
          const s = ended.meta?.session;
          if (ended.state === 'gone' && s?.client === client && s.host === host && sameProcess(ended.meta?.process, process)) {
            registry.transferLocks(ended.id, id, nowMs, CLAIM_REASON);
          }
        }
      }
      return registry.get(id) as ReadonlyAgent;
    }
    const recorded = found.meta?.process;
    if (process && !(recorded && recorded.pid === process.pid && recorded.start === process.start)) registry.moveToProcess(found.id, process, nowMs);
    if (found.state !== 'active') {
      // A session resumed: the claims it kept while it was ended are its work in progress again.
      for (const [p, expiry] of found.lockedPaths) if (expiry > nowMs && found.lockReasons.get(p) === ORPHAN_REASON) registry.setLockReason(found.id, p, CLAIM_REASON);
    }
    registry.reactivate(found.id, nowMs);
    return found;
  }

  async sessionStart(): Promise<AgentHookResult> {
    return this.ctx.store.transact('update', ({ registry, nowMs }) => {
      const agent = this.ensureAgent(registry, nowMs);
      const own = ownAgents(registry, agent.id, this.options.process);
      const others: string[] = [];
      const sessions = new Set<number>();
      for (const other of registry.agents()) {
        if (own.has(other.id)) continue;
        if (other.state === 'active' && other.meta?.session) sessions.add(other.id);
        for (const [p, expiry] of other.lockedPaths) {
          if (expiry > nowMs) others.push(`${p} (${who(other)}, ${other.lockReasons.get(p) ?? 'locked'})`);
        }
      }
      const lines = [
        `harn-agents coordinates the agents working in this repository (${sessions.size} other session${sessions.size === 1 ? '' : 's'} active now). Its rules:`,
        '- A file you edit is claimed for this session until you commit it. Editing a file another session has claimed is refused: work on other files meanwhile, or wait for that session to commit it.',
        '- Read a file before editing it. If it changed since you read it (another agent, an editor or a formatter), the edit is refused: Read it again, then edit.',
        "- Commit only your own files: git add <your files> && git commit -m '...'. Commands that would stage or discard other sessions' uncommitted work (git add -A, git add ., git commit -a, git stash, git checkout -- ., git restore ., git reset --hard, git clean -f) are refused.",
      ];
      if (others.length > 0) lines.push(`Held by others now: ${others.slice(0, 20).join('; ')}${others.length > 20 ? `; and ${others.length - 20} more` : ''}.`);
      return allow(this.event, { agent: agent.id, context: lines.join('\n') });
    });
  }

  /** PreToolUse of an editing tool: refuse a stale write, then claim the files (or refuse: another session has one). */
  async beforeEdit(files: readonly string[]): Promise<AgentHookResult> {
    const paths = [...new Set(files.map((f) => this.lockPath(f)).filter((p): p is string => p !== null))];
    if (paths.length === 0) return allow(this.event);
    const hashes = new Map<string, string | null>();
    for (const lockPath of paths) {
      const current = fileHash(this.absolute(lockPath));
      hashes.set(lockPath, current);
      if (current === null || !this.options.event.tracksReads) continue; // a new file needs no read
      const last = this.seen.lastSeen(this.id, this.reader, lockPath);
      if (last === null) return deny(this.event, `${lockPath} has not been read by you in this session: Read it first, then edit it.`);
      if (last.hash !== current) return deny(this.event, this.staleReason(lockPath, current, last.atMs));
    }
    const outcome = await this.ctx.store.transact('update', ({ registry, nowMs }) => {
      const agent = this.ensureAgent(registry, nowMs);
      const own = ownAgents(registry, agent.id, this.options.process);
      for (const lockPath of paths) {
        // A file's name as it is: a pattern or directory lock covering it holds it, whatever characters it has.
        const hold = registry.holdersOf(lockPath, nowMs, own, true)[0];
        if (hold) return { agent: agent.id, nowMs, lockPath, hold, claimed: [] };
      }
      // Each path on its own: a refusal now can only be a lock of the session's own (its MCP server's).
      const claimed = paths.filter((p) => registry.lockAll(agent.id, [p], CLAIM_TTL_MS, nowMs, CLAIM_REASON).granted);
      return { agent: agent.id, nowMs, lockPath: null, hold: undefined, claimed };
    });
    if (outcome.hold && outcome.lockPath !== null) {
      const { hold, nowMs, lockPath } = outcome;
      const since = hold.reason === CLAIM_REASON || hold.reason === ORPHAN_REASON ? `, last claimed ${ago(nowMs - (hold.expiresMs - CLAIM_TTL_MS))}` : '';
      const what = hold.reason === ORPHAN_REASON ? 'holds uncommitted changes of a session that ended' : `is held by ${who(hold.agent)}${hold.reason ? ` (${hold.reason})` : ''}${since}`;
      const through = hold.path !== lockPath ? ` through ${hold.path}` : '';
      return deny(
        this.event,
        `${lockPath}${through} ${what}. Do not edit it now: work on other files meanwhile, or wait until it is committed and released` +
          (hold.reason === ORPHAN_REASON ? ' (tell the user: those changes need committing or discarding).' : '.'),
        outcome.agent,
      );
    }
    const atMs = this.ctx.clock();
    for (const lockPath of outcome.claimed) this.seen.recordBase(this.id, { path: lockPath, hash: hashes.get(lockPath) ?? null, atMs });
    return allow(this.event, { agent: outcome.agent, claimed: outcome.claimed });
  }

  private staleReason(lockPath: string, current: string, readAtMs: number): string {
    const write = this.seen.lastWrite(lockPath);
    const now = this.ctx.clock();
    let by = 'by someone else (another agent, an editor or a formatter)';
    if (write && write.hash === current) {
      by = `by agent ${write.agent}${write.reader !== 'main' ? ' (a subagent)' : ''}, ${ago(now - write.atMs)}`;
    }
    return `${lockPath} changed since you last read it ${ago(now - readAtMs)} (${by}): Read it again before editing it.`;
  }

  /** PostToolUse of Read: what this (sub)agent has now seen. */
  afterRead(file: string): AgentHookResult {
    const lockPath = this.lockPath(file);
    if (lockPath !== null) this.seen.recordSeen(this.id, this.reader, { path: lockPath, hash: fileHash(this.absolute(lockPath)), atMs: this.ctx.clock() });
    return allow(this.event);
  }

  /** PostToolUse of an editing tool: the content it left is what this (sub)agent has seen; one edit counted. */
  async afterEdit(files: readonly string[]): Promise<AgentHookResult> {
    const paths = [...new Set(files.map((f) => this.lockPath(f)).filter((p): p is string => p !== null))];
    if (paths.length === 0) return allow(this.event);
    const atMs = this.ctx.clock();
    const written = paths.map((lockPath) => ({ path: lockPath, hash: fileHash(this.absolute(lockPath)), atMs }));
    for (const record of written) this.seen.recordSeen(this.id, this.reader, record);
    const agent = await this.ctx.store.transact('update', ({ registry, nowMs }) => {
      const a = this.ensureAgent(registry, nowMs);
      registry.noteEdit(a.id, nowMs);
      // The file is changed now: claim it again in case a sweep let it go between the claim and the edit.
      const own = ownAgents(registry, a.id, this.options.process);
      for (const p of paths) if (!registry.holderOf(p, nowMs, own)) registry.lockAll(a.id, [p], CLAIM_TTL_MS, nowMs, CLAIM_REASON);
      return a.id;
    });
    for (const record of written) this.seen.recordWrite({ ...record, agent, reader: this.reader });
    return allow(this.event, { agent });
  }

  /** PreToolUse of the shell: refuse git commands that would take or destroy others' uncommitted claimed work. */
  async beforeShell(command: string): Promise<AgentHookResult> {
    const { cwd, pathRoot: top } = this.ctx.workspace;
    const operations = gitOperations(command, (dir, word) => fs.existsSync(path.resolve(cwd, dir, word)));
    if (operations.length === 0) return allow(this.event);
    const claims = await this.claims();
    if (claims.others.length === 0) return allow(this.event);
    const changed = changedFiles(top);
    if (changed === null) return allow(this.event);
    const heldBy = (file: string) => claims.others.find((c) => c.path === file || (c.path.endsWith('/') && file.startsWith(c.path)));
    const hit: { op: GitOperation; files: Map<string, string> } | undefined = operations
      .map((op) => {
        const relative = path.relative(top, path.resolve(cwd, op.dir));
        const files = new Map<string, string>();
        // Run in another repository (`cd /tmp/other && git stash`): none of this work tree's changes.
        if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return { op, files };
        const dir = relative.split(path.sep).join('/') || '.';
        for (const [file, info] of changed) {
          if ((op.files === 'tracked' && !info.tracked) || (op.files === 'untracked' && info.tracked)) continue;
          if (!op.all && !op.pathspecs.some((spec) => pathspecCovers(spec, dir, file, top))) continue;
          const holder = heldBy(file);
          if (holder) files.set(file, holder.label);
        }
        return { op, files };
      })
      .find((r) => r.files.size > 0);
    if (!hit) return allow(this.event);
    const theirs = [...hit.files].slice(0, 10).map(([file, label]) => `${file} (${label})`);
    const more = hit.files.size > 10 ? ` and ${hit.files.size - 10} more` : '';
    const mine = claims.mine.filter((p) => changed.has(p)).map(shellWord);
    let instead: string;
    if (hit.op.effect === 'take') {
      instead = mine.length > 0 ? `Commit only your own files: git add ${mine.join(' ')} && git commit -m '...'` : 'You have no uncommitted claimed files of your own here: leave the other files alone.';
    } else {
      instead = mine.length > 0 ? `Name only your own files instead (for example: git restore ${mine.join(' ')}, or git stash push -- ${mine.join(' ')}).` : 'Leave those files alone: they are not yours to discard.';
    }
    const verb = hit.op.effect === 'take' ? 'stage or commit' : 'discard';
    return deny(this.event, `\`${hit.op.text}\` would ${verb} uncommitted changes other sessions are working on: ${theirs.join(', ')}${more}. ${instead}`);
  }

  /** The live locks of this session (and its own agents) and of everyone else, with who holds them. */
  private async claims(): Promise<{ mine: string[]; others: Array<{ path: string; label: string }> }> {
    return this.ctx.store.transact('query', ({ registry, nowMs }) => {
      const sessionAgent = findSessionAgent(registry, this.options.client, this.id);
      const own = ownAgents(registry, sessionAgent?.id ?? null, this.options.process);
      const mine: string[] = [];
      const others: Array<{ path: string; label: string }> = [];
      for (const agent of registry.agents()) {
        for (const [p, expiry] of agent.lockedPaths) {
          if (expiry <= nowMs) continue;
          if (own.has(agent.id)) mine.push(p);
          else others.push({ path: p, label: `${who(agent)}, ${agent.lockReasons.get(p) ?? 'locked'}` });
        }
      }
      return { mine, others };
    });
  }

  /**
   * After a shell command or a turn: claims on files with no uncommitted change left (committed, or
   * discarded) are released, this session's and those an ended session kept in this work tree.
   */
  async sweep(): Promise<AgentHookResult> {
    const top = this.ctx.workspace.pathRoot;
    const candidates = await this.ctx.store.transact('query', ({ registry, nowMs }) => {
      const sessionAgent = findSessionAgent(registry, this.options.client, this.id);
      const found: Array<{ agent: number; path: string; session: string | null; young: boolean }> = [];
      for (const agent of registry.agents()) {
        const mineOrOrphan = agent.id === sessionAgent?.id || (agent.state === 'gone' && agent.meta?.session && agent.meta.worktree === top);
        if (!mineOrOrphan) continue;
        for (const [p, expiry] of agent.lockedPaths) {
          const young = agent.lockReasons.get(p) === CLAIM_REASON && expiry - CLAIM_TTL_MS > nowMs - CLAIM_GRACE_MS;
          if (expiry > nowMs && !p.endsWith('/')) found.push({ agent: agent.id, path: p, session: agent.meta?.session?.id ?? null, young });
        }
      }
      return { found, agent: sessionAgent?.id ?? null };
    });
    if (candidates.found.length === 0) return allow(this.event, { agent: candidates.agent });
    const changed = changedFiles(top, [...new Set(candidates.found.map((c) => c.path))]);
    if (changed === null) return allow(this.event, { agent: candidates.agent });
    // A claim just taken on a file still as it was when claimed may be ahead of its edit (a parallel
    // subagent's tool still running): not settled yet. One whose file changed since and is clean is committed.
    const pending = (c: { path: string; session: string | null; young: boolean }) =>
      c.young && c.session !== null && this.seen.base(c.session, c.path)?.hash === fileHash(this.absolute(c.path));
    const settled = candidates.found.filter((c) => !changed.has(c.path) && !pending(c));
    if (settled.length === 0) return allow(this.event, { agent: candidates.agent });
    const released = await this.ctx.store.transact('update', ({ registry }) => settled.filter((c) => registry.releaseLock(c.agent, c.path)).map((c) => c.path));
    for (const c of settled) if (c.session !== null) this.seen.forgetBase(c.session, c.path);
    return allow(this.event, { agent: candidates.agent, released });
  }

  async sessionEnd(): Promise<AgentHookResult> {
    const result = await this.ctx.store.transact('update', ({ registry, nowMs, record }) => {
      const agent = findSessionAgent(registry, this.options.client, this.id);
      if (!agent || agent.state === 'gone') return null;
      return endSession(registry, agent, nowMs, this.seen, record, 'session-end', this.ctx.workspace.root);
    });
    this.seen.forgetSession(this.id);
    return allow(this.event, { agent: result?.agent.id ?? null, released: result?.released ?? [] });
  }
}

/** How long a fresh claim is not released by a sweep: its edit may still be running (a parallel subagent). */
const CLAIM_GRACE_MS = 10_000;

export async function agentHook(ctx: Context, options: AgentHookOptions): Promise<AgentHookResult> {
  const { event } = options;
  if (event.session === null) return allow(event.event);
  // Outside a git work tree, with no registry there yet, a payload's cwd (`/`, a temp directory) is not a
  // workspace to create.
  if (ctx.workspace.git() === null && !fs.existsSync(ctx.workspace.stateDir)) return allow(event.event);
  const session = new Session(ctx, options, event.session);
  const call = event.call;
  switch (event.event) {
    case 'SessionStart':
      return session.sessionStart();
    case 'PreToolUse':
      if (call?.kind === 'edit') return session.beforeEdit(call.files);
      if (call?.kind === 'shell') return session.beforeShell(call.command);
      return allow(event.event);
    case 'PostToolUse':
      if (call?.kind === 'read') return session.afterRead(call.file);
      if (call?.kind === 'edit') return session.afterEdit(call.files);
      if (call?.kind === 'shell') return session.sweep();
      return allow(event.event);
    case 'SubagentStop':
      if (event.subagent !== null) session.seen.forgetReader(event.session, event.subagent);
      return allow(event.event);
    case 'Stop':
      return session.sweep();
    case 'SessionEnd':
      return session.sessionEnd();
    default:
      return allow(event.event);
  }
}

/** Claude Code's hook output: a denial as a PreToolUse decision, a briefing as SessionStart context. */
function renderForClaudeCode(r: AgentHookResult): string {
  if (r.decision === 'deny') {
    return `${JSON.stringify({ hookSpecificOutput: { hookEventName: r.event, permissionDecision: 'deny', permissionDecisionReason: `harn-agents: ${r.reason}` } })}\n`;
  }
  if (r.context !== null) return `${JSON.stringify({ hookSpecificOutput: { hookEventName: r.event, additionalContext: r.context } })}\n`;
  return '';
}

export const command = defineCommand({
  name: 'agent-hook',
  run: async (ctx, options: AgentHookOptions) => {
    try {
      return await agentHook(ctx, options);
    } catch (error) {
      // The agent's contract: exit 2 (or a deny) blocks its tool; a failure of ours must not, so it is exit 1.
      if (isHarnError(error)) throw new HarnError(ExitCode.no, `agent-hook ${options.client}: ${error.message}`);
      throw error;
    }
  },
  render: (r) => ({ stdout: renderForClaudeCode(r), stderr: '' }),
  cli: {
    description: "an AI coding agent's hook (reads its payload on stdin): claims files on edit, refuses stale or conflicting edits and git commands that would take others' work",
    arguments: [{ name: '<agent>', help: `the agent whose payload stdin holds (${AGENT_HOOKS.join(', ')})`, words: AGENT_HOOKS }],
    examples: ['harn-agents agent-hook claude-code < payload.json', 'harn-agents hook install --claude-code    # installs it for every event it needs'],
    notes:
      'Installed by `hook install --claude-code` for SessionStart, PreToolUse, PostToolUse, SubagentStop, Stop and SessionEnd\n(`--codex`: the same but SessionEnd).\n' +
      'A refusal is a PreToolUse "deny" decision on stdout (exit 0); a failure of harn-agents is exit 1 and never blocks the agent.\n' +
      'docs/agents.md describes what each event does.\n',
    contextCwd: (options) => options.event.cwd ?? undefined,
    input: ({ args, stdin }) => {
      const client = String(args[0]);
      let event: AgentHookEvent;
      try {
        event = parseAgentEvent(client, stdin());
      } catch (error) {
        if (isHarnError(error)) throw new HarnError(ExitCode.no, `agent-hook ${client}: ${error.message}`);
        throw error;
      }
      return { client, event, process: clientProcess(), host: hostName() };
    },
  },
});

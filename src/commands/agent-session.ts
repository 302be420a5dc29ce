import path from 'node:path';
import type { AgentProcess, AgentRegistry, AgentSession, ReadonlyAgent } from '../core/registry.js';
import type { HarnEvent } from '../core/events.js';
import { fileHash, type SeenStore } from '../store/seen-store.js';

/**
 * The registry side of an AI coding agent's session (`agent-hook`): one agent per session, found by its
 * session id; its claims are ordinary exclusive locks (so every guard, store and Rust reader sees them) that
 * last until the file is committed or the session ends with the file as it found it.
 */

/**
 * A session's silence limit where its process cannot be watched (another machine on PostgreSQL, no /proc):
 * every hook call renews it. On its own machine a session lives exactly as long as its process.
 */
export const SESSION_LEASE_MS = 4 * 60 * 60 * 1000;
/** A claim's lock TTL: far beyond any session, so a claim ends by commit, session end or `release --force`. */
export const CLAIM_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** The lock reason of a claim, and of a claim kept after its session ended. */
export const CLAIM_REASON = 'editing';
export const ORPHAN_REASON = 'uncommitted changes of an ended session';

/** How the session's agent names itself: the client, the session id's start, and its branch or worktree. */
export function sessionAgentName(client: string, session: string, worktree: string | null, branch: string | null): string {
  const where = branch ?? (worktree ? path.basename(worktree) : null);
  return `${client} ${session.slice(0, 8)}${where ? ` (${where})` : ''}`;
}

export function findSessionAgent(registry: AgentRegistry, client: string, session: string): ReadonlyAgent | undefined {
  for (const agent of registry.agents()) {
    const s = agent.meta?.session;
    if (s && s.client === client && s.id === session) return agent;
  }
  return undefined;
}

export const sameProcess = (a: AgentProcess | undefined, b: AgentProcess | null): boolean => a !== undefined && b !== null && a.pid === b.pid && a.start === b.start;

/**
 * The agents that act for one session: its own agent, and the MCP server or with-lock its client process
 * runs (their recorded process is the same). Their locks are the session's own. Another session's agent is
 * never among them, even in the same process (an orchestrator hosting several sessions).
 */
export function ownAgents(registry: AgentRegistry, sessionAgent: number | null, client: AgentProcess | null): Set<number> {
  const own = new Set<number>();
  if (sessionAgent !== null) own.add(sessionAgent);
  if (client === null) return own;
  for (const agent of registry.agents()) {
    if (agent.state === 'active' && !agent.meta?.session && sameProcess(agent.meta?.process, client)) own.add(agent.id);
  }
  return own;
}

export interface EndedSession {
  readonly agent: ReadonlyAgent;
  readonly released: readonly string[];
  readonly kept: readonly string[];
}

/**
 * End a session: its claims on files it left as it found them (same content as when it first claimed them,
 * or still absent) are released; claims on files it changed stay, marked as an ended session's, so nobody
 * sweeps that work into a commit unnoticed. The agent becomes `gone` (never reaped) while any stay.
 */
export function endSession(
  registry: AgentRegistry,
  agent: ReadonlyAgent,
  nowMs: number,
  seen: SeenStore,
  record: (event: HarnEvent) => void,
  cause: 'session-end' | 'process-gone',
  /** Where its files are when it recorded no git worktree (a workspace outside git): the workspace root. */
  root: string,
): EndedSession {
  const worktree = agent.meta?.worktree ?? root;
  const sessionId = agent.meta?.session?.id ?? '';
  const released: string[] = [];
  const kept: string[] = [];
  for (const [lockPath, expiry] of [...agent.lockedPaths]) {
    if (expiry <= nowMs) continue;
    const base = seen.base(sessionId, lockPath);
    const now = lockPath.endsWith('/') ? undefined : fileHash(path.join(worktree, lockPath));
    if (base !== null && now !== undefined && base.hash === now) {
      registry.releaseLock(agent.id, lockPath);
      released.push(lockPath);
    } else {
      registry.setLockReason(agent.id, lockPath, ORPHAN_REASON);
      kept.push(lockPath);
    }
  }
  registry.markGone(agent.id);
  record({ type: 'session-end', ts: nowMs, agent: { id: agent.id, name: agent.name }, cause, released, kept });
  return { agent, released, kept };
}

/**
 * End the sessions of this host whose process is gone (closed, killed, crashed): the next call of anyone
 * who can see those processes does it, not a TTL. A session on another host is left to its lease.
 */
export function endDeadSessions(
  registry: AgentRegistry,
  nowMs: number,
  host: string | (() => string),
  alive: (process: AgentProcess) => boolean,
  seen: SeenStore | (() => SeenStore),
  record: (event: HarnEvent) => void,
  root: string,
): EndedSession[] {
  const ended: EndedSession[] = [];
  // Read only once a session is found: every transaction runs this, and most registries hold none.
  let here: string | undefined;
  const hostHere = () => (here ??= typeof host === 'string' ? host : host());
  // One pass without copying the agents (every transaction runs this); the few to change are changed after.
  const refresh: number[] = [];
  const dead: ReadonlyAgent[] = [];
  for (const agent of registry.agents()) {
    const session: AgentSession | undefined = agent.meta?.session;
    const process = agent.meta?.process;
    if (!session || agent.state !== 'active' || !process || session.host !== hostHere()) continue;
    // Alive on this host: keep its lease from running out while it thinks (a write at most every half lease).
    if (!alive(process)) dead.push(agent);
    else if (nowMs - agent.lastSeenMs > SESSION_LEASE_MS / 2) refresh.push(agent.id);
  }
  for (const id of refresh) registry.heartbeat(id, nowMs);
  for (const agent of dead) ended.push(endSession(registry, agent, nowMs, typeof seen === 'function' ? seen() : seen, record, 'process-gone', root));
  return ended;
}

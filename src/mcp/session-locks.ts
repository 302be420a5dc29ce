import type { Context } from '../commands/context.js';
import { pathHolds, type PathHolds } from '../commands/hold.js';

/**
 * The locks an MCP session holds, as the client was told: what the server renews while the client is
 * connected, and what it gives back when the client cancels a `lock` it was never answered. Only locks the
 * client was told it has are here; a lock that lapsed anyway (broken with `release --force`, reaped, or
 * expired while the server was stopped) is dropped and reported once, never taken again: someone may have
 * used the path meanwhile.
 */

/** A request's id, as the protocol numbers them. */
export type RequestId = string | number;

/** A lock the session lost without releasing it, and who holds the path now (the one shape of a path's holds; none: nobody). */
export type LostLock = PathHolds;

interface Held {
  /** The lock's own TTL, renewed each time: the bound on it only if the server dies. */
  ttlMs: number;
  /** The request that took it: a cancellation of that request (arriving after its answer) gives it back. */
  readonly takenBy: RequestId | undefined;
}

export class SessionLocks {
  /** Path -> what the session holds there. An entry is replaced (not changed) when the path is taken anew. */
  private readonly held = new Map<string, Held>();
  private lost: LostLock[] = [];

  /** Track paths a `lock` granted; returns those the session did not hold before (the ones it just took). */
  granted(paths: readonly string[], ttlMs: number, request: RequestId | undefined): string[] {
    const fresh: string[] = [];
    for (const path of paths) {
      const held = this.held.get(path);
      if (held) held.ttlMs = ttlMs;
      else {
        this.held.set(path, { ttlMs, takenBy: request });
        fresh.push(path);
      }
    }
    return fresh;
  }

  has(path: string): boolean {
    return this.held.has(path);
  }

  /** Stop tracking paths (released, or about to be); returns what they were, to put back if that fails. */
  forget(paths: readonly string[]): Array<readonly [string, Held]> {
    const forgotten: Array<readonly [string, Held]> = [];
    for (const path of paths) {
      const held = this.held.get(path);
      if (held && this.held.delete(path)) forgotten.push([path, held]);
    }
    return forgotten;
  }

  restore(forgotten: ReadonlyArray<readonly [string, Held]>): void {
    for (const [path, held] of forgotten) if (!this.held.has(path)) this.held.set(path, held);
  }

  /** The paths a cancelled request took (answered, but the client gave up on it first): no longer tracked. */
  takenBy(request: RequestId): string[] {
    const paths = [...this.held].filter(([, held]) => held.takenBy === request).map(([path]) => path);
    this.forget(paths);
    return paths;
  }

  /** The shortest TTL among the locks held, if any: renewals come every third of it. */
  shortestTtlMs(): number | undefined {
    let shortest: number | undefined;
    for (const held of this.held.values()) shortest = shortest === undefined ? held.ttlMs : Math.min(shortest, held.ttlMs);
    return shortest;
  }

  /**
   * One store transaction: renew every lock held (each for its own TTL, never re-taking a lapsed one) and
   * heartbeat the agent. Returns the locks lost, also kept for `takeLost`. A store error is thrown.
   */
  async renew(ctx: Context, agent: number): Promise<LostLock[]> {
    const entries = [...this.held];
    const missing = await ctx.store.transact('update', ({ registry, nowMs }) => {
      const gone: LostLock[] = [];
      for (const [path, held] of entries) {
        if (registry.renewLocks(agent, [path], held.ttlMs, nowMs).length === 0) continue;
        gone.push(pathHolds(path, registry.holdersOf(path, nowMs, agent), nowMs));
      }
      registry.heartbeat(agent, nowMs);
      return gone;
    }, { agents: [agent], paths: entries.map(([path]) => path) });
    // A path released or taken anew while the renewal ran is not lost: only the entries renewed count.
    const byPath = new Map(entries);
    const lost = missing.filter((l) => this.held.get(l.path) === byPath.get(l.path));
    this.forget(lost.map((l) => l.path));
    this.lost.push(...lost);
    return lost;
  }

  /** The locks lost since the last call: each is told to the client once, in its next tool result. */
  takeLost(): LostLock[] {
    const lost = this.lost;
    this.lost = [];
    return lost;
  }
}

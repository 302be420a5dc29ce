import { keepAliveIntervalMs } from '../core/keepalive.js';
import { monotonicMs } from '../core/monotonic.js';
import type { AgentRegistry } from '../core/registry.js';
import type { Context } from './context.js';
import { pathHolds, type PathHolds } from './hold.js';

/**
 * "Hold these locks while something runs": the one keeper of an agent's locks for as long as a process holds
 * them (with-lock around its command, the MCP server around its session). It
 * - renews every lock held for its own TTL, every third of the shortest TTL or of the agent timeout
 *   (core/keepalive.ts), a new shorter TTL bringing the next renewal forward;
 * - knows until when each lock is surely held by its own monotonic clock (the renewal's start plus the TTL:
 *   the store's expiry is never earlier), and a timer watches that moment itself, so a renewal stuck on the
 *   store cannot delay noticing a lapse;
 * - never takes a lost lock back: a lock that lapsed by this clock is not renewed, even inside a renewal
 *   already under way, and one the store no longer has (broken, reaped, taken) is dropped;
 * - reports each loss once, at once, through `events.lost`.
 * The clock and the timers are injected (`timers`), so tests drive it without waiting.
 */

/** The lease's clock and timers: a monotonic clock in ms and a one-shot timer. */
export interface LeaseTimers {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: LeaseTimers = {
  now: monotonicMs,
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Node runs a longer timer at once: a far lapse is watched in steps of this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How a lock was lost: `lapsed` (not renewed in time, by this clock) or `lost` (the store no longer has it). */
export type LossCause = 'lapsed' | 'lost';

/**
 * A lock the lease no longer holds: the path's holds now, in the one shape of a path's holds (no holders:
 * nobody, or not known after a lapse), and how it was lost.
 */
export interface LostLock extends PathHolds {
  readonly why: LossCause;
}

export interface LeaseEvents {
  /** Locks lost, each reported once, as soon as the loss is known; they are no longer renewed. */
  lost(locks: readonly LostLock[]): void;
  /** A renewal failed (the store out of reach): the locks stay held until they lapse. */
  failed(error: unknown): void;
  /** A renewal went through. */
  renewed?(): void;
}

export interface LeaseOptions {
  readonly agent: number;
  /** The agent's own timeout: renewals come at least every third of it. */
  readonly agentTimeoutMs: number;
  /** Heartbeat the agent with each renewal, locks held or not (an MCP session's agent lives without locks). */
  readonly heartbeat?: boolean;
  readonly events: LeaseEvents;
  readonly timers?: LeaseTimers;
}

interface Held {
  /** The lock's own TTL, renewed each time. */
  ttlMs: number;
  /** Until when, by the lease's clock, the lock is surely held. */
  surelyHeldUntil: number;
  /** What took it (an MCP request), so that a cancelled request's locks can be given back. */
  readonly tag: unknown;
}

/** A tracked lock as `release` hands it back, for `restore`. */
export type HeldLock = readonly [string, Held];

/** Who holds `path` now, other than `agent`. */
function holdsOf(registry: AgentRegistry, path: string, nowMs: number, agent: number): PathHolds {
  return pathHolds(path, registry.holdersOf(path, nowMs, agent), nowMs);
}

export class Lease {
  /** Path -> the lock held there. An entry is replaced, not changed, when the path is released and taken anew. */
  private readonly held = new Map<string, Held>();
  private readonly timers: LeaseTimers;
  private renewTimer: unknown;
  private renewDueAt = Infinity;
  private lapseTimer: unknown;
  private running: Promise<boolean> = Promise.resolve(true);
  private started = false;
  private stopped = false;

  constructor(
    private readonly ctx: Context,
    private readonly options: LeaseOptions,
  ) {
    this.timers = options.timers ?? systemTimers;
  }

  /** Track locks just granted for `ttlMs`; returns the paths not held before. `tag`: what took them. */
  hold(paths: readonly string[], ttlMs: number, tag?: unknown): string[] {
    // The grant was made before this moment: counting from now errs by the time its answer took to come back.
    const surelyHeldUntil = this.timers.now() + ttlMs;
    const fresh: string[] = [];
    for (const path of paths) {
      const held = this.held.get(path);
      if (held) {
        held.ttlMs = ttlMs;
        held.surelyHeldUntil = surelyHeldUntil;
      } else {
        this.held.set(path, { ttlMs, surelyHeldUntil, tag });
        fresh.push(path);
      }
    }
    this.watchLapse();
    this.schedule();
    return fresh;
  }

  has(path: string): boolean {
    return this.held.has(path);
  }

  /** The paths held, in the order they were taken. */
  paths(): string[] {
    return [...this.held.keys()];
  }

  /** Stop tracking paths (released, or about to be); returns what they were, to `restore` if that fails. */
  release(paths: readonly string[]): HeldLock[] {
    const released: HeldLock[] = [];
    for (const path of paths) {
      const held = this.held.get(path);
      if (held && this.held.delete(path)) released.push([path, held]);
    }
    this.watchLapse();
    return released;
  }

  restore(released: readonly HeldLock[]): void {
    for (const [path, held] of released) if (!this.held.has(path)) this.held.set(path, held);
    this.watchLapse();
  }

  /** Stop tracking the paths `tag` took; returns them. */
  releaseTagged(tag: unknown): string[] {
    const paths = [...this.held].filter(([, held]) => held.tag === tag).map(([path]) => path);
    this.release(paths);
    return paths;
  }

  /** The shortest TTL among the locks held, if any. */
  shortestTtlMs(): number | undefined {
    let shortest: number | undefined;
    for (const held of this.held.values()) shortest = shortest === undefined ? held.ttlMs : Math.min(shortest, held.ttlMs);
    return shortest;
  }

  /** The time between renewals: a third of the shortest TTL held or of the agent timeout (core/keepalive.ts). */
  renewIntervalMs(): number {
    const timeout = this.options.agentTimeoutMs;
    return keepAliveIntervalMs(Math.min(this.shortestTtlMs() ?? Infinity, timeout), timeout);
  }

  /** Renew on the timer from now on, until `stop`. */
  start(): void {
    this.started = true;
    this.schedule();
  }

  /** No more renewals; waits for one under way. What is held stays held in the store (the caller releases it). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.renewTimer);
    this.timers.clearTimeout(this.lapseTimer);
    await this.running;
  }

  /** One renewal now, after any under way: true when the store was reached (a loss is reported, not failed). */
  renew(): Promise<boolean> {
    this.running = this.running.then(() => this.renewOnce());
    return this.running;
  }

  private async renewOnce(): Promise<boolean> {
    this.lapse();
    const entries = [...this.held];
    if (entries.length === 0 && !this.options.heartbeat) return true;
    const { agent } = this.options;
    // The new expiries are counted from a registry time no earlier than this moment: anchoring here errs short.
    const from = this.timers.now();
    let gone: LostLock[];
    try {
      gone = await this.ctx.store.transact('update', ({ registry, nowMs }) => {
        const lost: LostLock[] = [];
        for (const [path, held] of entries) {
          // Lapsed by this clock while the renewal waited for the store: never extended, whatever the store says.
          if (this.timers.now() >= held.surelyHeldUntil) continue;
          if (registry.renewLocks(agent, [path], held.ttlMs, nowMs).length > 0) lost.push({ ...holdsOf(registry, path, nowMs, agent), why: 'lost' });
        }
        if (this.options.heartbeat) registry.heartbeat(agent, nowMs);
        return lost;
      }, { agents: [agent], paths: entries.map(([path]) => path) });
    } catch (error) {
      this.options.events.failed(error);
      return false;
    }
    // Only the entries this renewal covered count: a path released or taken anew meanwhile is not lost.
    const covered = new Map(entries);
    const lost = gone.filter((l) => this.held.get(l.path) === covered.get(l.path));
    for (const l of lost) this.held.delete(l.path);
    for (const [path, held] of entries) {
      if (this.held.get(path) === held && from + held.ttlMs > held.surelyHeldUntil) held.surelyHeldUntil = from + held.ttlMs;
    }
    this.options.events.renewed?.();
    if (lost.length > 0) this.options.events.lost(lost);
    // Any lock this renewal skipped as lapsed is reported now.
    this.lapse();
    return true;
  }

  /** Drop and report every lock past the moment it was surely held until. */
  private lapse(): void {
    const now = this.timers.now();
    const lapsed: LostLock[] = [];
    for (const [path, held] of this.held) if (now >= held.surelyHeldUntil) lapsed.push({ path, holders: [], retry_after_ms: null, why: 'lapsed' });
    for (const l of lapsed) this.held.delete(l.path);
    this.watchLapse();
    if (lapsed.length > 0) this.options.events.lost(lapsed);
  }

  /** A timer at the first moment a lock held could lapse. */
  private watchLapse(): void {
    this.timers.clearTimeout(this.lapseTimer);
    this.lapseTimer = undefined;
    if (this.stopped || this.held.size === 0) return;
    let first = Infinity;
    for (const held of this.held.values()) first = Math.min(first, held.surelyHeldUntil);
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, first - this.timers.now()) + 1);
    this.lapseTimer = this.timers.setTimeout(() => this.lapse(), wait);
  }

  /** The next renewal, a renewal interval from now; sooner if due sooner, never later. */
  private schedule(): void {
    if (!this.started || this.stopped) return;
    const interval = this.renewIntervalMs();
    const due = this.timers.now() + interval;
    if (due >= this.renewDueAt) return;
    this.timers.clearTimeout(this.renewTimer);
    this.renewDueAt = due;
    this.renewTimer = this.timers.setTimeout(() => {
      this.renewDueAt = Infinity;
      void this.renew().finally(() => this.schedule());
    }, interval);
  }
}

/**
 * How often a long-running holder (with-lock, the MCP server) renews its locks and heartbeats: every third
 * of the shorter of the lock TTL and the agent timeout, so two renewals can fail before anything lapses.
 * At least every minute (timers cannot wait longer than 2^31-1 ms, and a 10-year TTL must not turn into a
 * 1 ms busy loop), and not more often than every 50 ms.
 */
export function keepAliveIntervalMs(ttlMs: number, agentTimeoutMs: number): number {
  return Math.min(60_000, Math.max(50, Math.floor(Math.min(ttlMs, agentTimeoutMs) / 3)));
}

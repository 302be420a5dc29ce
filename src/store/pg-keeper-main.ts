import { runKeeper } from './pg-keeper.js';

/**
 * The session keeper's process (dist/lazy/pg-keeper-main.cjs), started by a CLI call (pg-keeper-client.ts)
 * with its socket and the store's URL in its environment, which it then drops. It prints nothing: its output
 * goes nowhere. Any failure ends it, and calls connect directly until another is started.
 */
const socket = process.env.HARN_PG_KEEPER_SOCKET;
const url = process.env.HARN_PG_KEEPER_URL;
const waitMs = Number(process.env.HARN_PG_KEEPER_WAIT_MS);
const idleMs = Number(process.env.HARN_PG_KEEPER_IDLE_MS || 30_000);
delete process.env.HARN_PG_KEEPER_URL;
process.on('uncaughtException', () => process.exit(1));
process.on('unhandledRejection', () => process.exit(1));
if (!socket || !url || !Number.isFinite(waitMs) || !Number.isFinite(idleMs)) process.exit(2);
else {
  process.title = 'harn-agents-pg-keeper';
  runKeeper({ socket, url, waitMs, idleMs, maxSessions: 16 }).catch(() => process.exit(1));
}

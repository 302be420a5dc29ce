import { VERSION } from '../core/version.js';
import type { Duration } from '../core/durations.js';
import { optionalDuration } from '../core/validate.js';
import { nothingShown, defineCommand } from '../commands/command.js';

export interface McpCommandOptions {
  /** The session agent's name (default: the client's name). */
  readonly name?: string;
  /** TTL of the session's locks, as typed (default: --lock-ttl, else the workspace's lock-ttl). */
  readonly ttl?: Duration;
}

/** `mcp`: serve the registry over stdio until the client goes away (src/mcp/server.ts, loaded only here). */
export const command = defineCommand({
  name: 'mcp',
  run: async (ctx, options: McpCommandOptions): Promise<undefined> => {
    const { serveMcp } = await import('./server.js');
    // The command line is this command's only face: its names are the flags.
    await serveMcp(ctx, { name: options.name, ttlMs: optionalDuration(options.ttl, '--ttl'), version: VERSION });
    return undefined;
  },
  render: () => nothingShown,
  cli: {
    description: 'serve the registry to AI agents over the Model Context Protocol (stdio)',
    longLived: true,
    options: [
      { flags: '--name <name>', help: "the session agent's name (default: the client's name)" },
      { flags: '--ttl <duration>', help: "how long the session's locks outlive a server that dies (default: --lock-ttl, else the workspace's lock-ttl); renewed while connected" },
    ],
    examples: ['harn-agents mcp --name claude', 'harn-agents -C /path/to/repo mcp'],
    notes:
      'Registers one agent for the session, heartbeats it and renews its locks while the client is connected,\n' +
      'and releases its locks and unregisters it when the client disconnects (or on SIGTERM, SIGINT, SIGHUP).\n' +
      'Paths are relative to the workspace root. Tools: see docs/mcp.md.\n',
    input: ({ opts }) => ({ name: opts.name as string | undefined, ttl: opts.ttl as string | undefined }),
  },
});

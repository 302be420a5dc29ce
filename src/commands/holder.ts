import { normaliseLockPaths } from '../core/paths.js';
import { pathList } from '../core/validate.js';
import type { Context } from './context.js';
import { defineCommand } from './command.js';
import { cliPaths } from './argv.js';
import { ExitCode } from '../core/errors.js';
import { agentText, expiresText, mcpPaths, NOW_MS, NULLABLE_STRING } from './mcp-schema.js';
import { agentLabel, because, expiresIn, through, type Rendered } from '../render/text.js';
import { escapeForTerminal as esc } from '../render/escape.js';

export interface HolderOptions {
  readonly paths: readonly string[];
}

export interface PathHolder {
  readonly path: string;
  readonly holder: {
    readonly id: number;
    readonly name: string;
    readonly expires_ms: number;
    /** The lock that holds the path: itself, a directory above it, or (for a directory) a path under it. */
    readonly held_path: string;
    readonly reason: string | null;
  } | null;
}

export type HolderResult = readonly PathHolder[];

/** The answer with the registry's time it was given at (what `expires_ms` is counted against). */
export interface HolderAnswer {
  readonly result: HolderResult;
  readonly now_ms: number;
}

/** Who holds each path (after reaping silent agents). */
export async function holder(ctx: Context, options: HolderOptions): Promise<HolderResult> {
  return (await holdersAt(ctx, options)).result;
}

/** `holder`, with the registry's time of the answer (the clock its `expires_ms` are on): what the CLI and MCP show. */
export async function holdersAt(ctx: Context, options: HolderOptions): Promise<HolderAnswer> {
  const paths = normaliseLockPaths(pathList(options.paths, 'paths'), ctx.workspace.cwd, ctx.workspace.pathRoot);
  return ctx.store.transact('query', ({ registry, nowMs }) => ({
    now_ms: nowMs,
    result: paths.map((path) => {
      const hold = registry.holderOf(path, nowMs);
      return {
        path,
        holder: hold ? { id: hold.agent.id, name: hold.agent.name, expires_ms: hold.expiresMs, held_path: hold.path, reason: hold.reason ?? null } : null,
      };
    }),
  }), { paths });
}

/** Every span is counted from the answer's own time (`now_ms`, the registry's clock), never this process's. */
export const renderHolder = (r: HolderAnswer): Rendered => ({
  stdout: r.result
    .map((p) =>
      p.holder
        ? `${esc(p.path)}: ${agentLabel(p.holder)}${through(p.path, p.holder.held_path)}${because(p.holder.reason)}, ${expiresIn(p.holder.expires_ms, r.now_ms)}\n`
        : `${esc(p.path)}: free\n`,
    )
    .join(''),
  stderr: '',
});

export const command = defineCommand({
  name: 'holder',
  // The CLI and the MCP tool show the answer with its time; the library's holder() returns the list.
  run: holdersAt,
  render: renderHolder,
  json: (r) => r.result,
  exitCode: (r) => (r.result.some((p) => p.holder) ? ExitCode.ok : ExitCode.no),
  cli: {
    description: 'show who holds each path; exit 0 when any is held, 1 when none is',
    arguments: [{ name: '<path...>', help: 'files to ask about' }],
    examples: ['harn-agents holder src/a.ts', 'harn-agents holder src/a.ts --json'],
    input: ({ args }) => ({ paths: cliPaths(args[0]) }),
  },
  library: { method: 'holder', input: (paths: readonly string[]): HolderOptions => ({ paths }), run: holder },
  mcp: {
    tool: 'holder',
    description: 'Who holds each path (or null when it is free).',
    properties: (settings) => ({ paths: mcpPaths(settings) }),
    required: ['paths'],
    readOnly: true,
    input: (args) => ({ paths: args.paths as string[] }),
    // The list is wrapped (structuredContent is an object), with the time its expiries are counted from.
    outputSchema: {
      type: 'object',
      properties: {
        result: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              path: { type: 'string' },
              holder: {
                anyOf: [
                  {
                    type: 'object',
                    properties: { id: { type: 'integer' }, name: { type: 'string' }, expires_ms: { type: 'integer' }, held_path: { type: 'string' }, reason: NULLABLE_STRING },
                    required: ['id', 'name', 'expires_ms', 'held_path', 'reason'],
                  },
                  { type: 'null' },
                ],
              },
            },
            required: ['path', 'holder'],
          },
        },
        now_ms: NOW_MS,
      },
      required: ['result', 'now_ms'],
    },
    says: ({ result, now_ms }) =>
      result
        .map((p) =>
          p.holder
            ? `${p.path}: held by ${agentText(p.holder)}${p.holder.held_path !== p.path ? ` through ${p.holder.held_path}` : ''}${p.holder.reason ? ` (reason: ${p.holder.reason})` : ''}, ${expiresText(p.holder.expires_ms, now_ms)}`
            : `${p.path}: free`,
        )
        .join('; '),
  },
});

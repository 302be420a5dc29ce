import { normaliseLockPaths } from '../core/paths.js';
import { pathList } from '../core/validate.js';
import type { Context } from './context.js';
import { defineCommand } from './command.js';
import { cliPaths } from './argv.js';
import { ExitCode } from '../core/errors.js';
import { mcpPaths, NOW_MS } from './mcp-schema.js';
import type { Rendered } from '../render/text.js';
import { holdSays, holdText, pathHolds, PATH_HOLDS_SCHEMA, type PathHolds } from './hold.js';
import { escapeForTerminal as esc } from '../render/escape.js';

export interface HolderOptions {
  readonly paths: readonly string[];
}

/** Each path asked, with every live lock that holds it (none: free). */
export type HolderResult = readonly PathHolds[];

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
    result: paths.map((path) => pathHolds(path, registry.holdersOf(path, nowMs), nowMs)),
  }), { paths });
}

/** Every span is counted from the answer's own time (`now_ms`, the registry's clock), never this process's. */
export const renderHolder = (r: HolderAnswer): Rendered => ({
  stdout: r.result
    .map((p) => (p.holders.length > 0 ? p.holders.map((h) => `${esc(p.path)}: ${holdText(p.path, h, r.now_ms)}\n`).join('') : `${esc(p.path)}: free\n`))
    .join(''),
  stderr: '',
});

export const command = defineCommand({
  name: 'holder',
  // The CLI and the MCP tool show the answer with its time; the library's holder() returns the list.
  run: holdersAt,
  render: renderHolder,
  json: (r) => r.result,
  exitCode: (r) => (r.result.some((p) => p.holders.length > 0) ? ExitCode.ok : ExitCode.no),
  cli: {
    description: 'show who holds each path; exit 0 when any is held, 1 when none is',
    arguments: [{ name: '<path...>', help: 'files, directories, patterns or resources to ask about' }],
    examples: ['harn-agents holder src/a.ts', 'harn-agents holder src/a.ts --json', "harn-agents holder 'src/**/*.ts' @gpu"],
    input: ({ args }) => ({ paths: cliPaths(args[0]) }),
  },
  library: { method: 'holder', input: (paths: readonly string[]): HolderOptions => ({ paths }), run: holder },
  mcp: {
    tool: 'holder',
    description: 'Who holds each path (every holder: shared locks and resources can have several; an empty list when it is free).',
    properties: (settings) => ({ paths: mcpPaths(settings) }),
    required: ['paths'],
    readOnly: true,
    input: (args) => ({ paths: args.paths as string[] }),
    // The list is wrapped (structuredContent is an object), with the time its expiries are counted from.
    outputSchema: {
      type: 'object',
      properties: {
        result: { type: 'array', items: PATH_HOLDS_SCHEMA },
        now_ms: NOW_MS,
      },
      required: ['result', 'now_ms'],
    },
    says: ({ result, now_ms }) =>
      result.map((p) => (p.holders.length > 0 ? `${p.path}: held by ${p.holders.map((h) => holdSays(p.path, h, now_ms)).join(' and by ')}` : `${p.path}: free`)).join('; '),
  },
});

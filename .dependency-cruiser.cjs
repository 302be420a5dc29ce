// The layers of src/ (README.md, Layout), checked by `npm run lint:deps` inside `npm test`. From the bottom:
//   core              pure rules: registry, paths, durations, validation, errors, clock
//   store, render     state (file, PostgreSQL, git discovery) | text primitives (escape, tables, JSON)
//   hooks             git hook and agent settings files
//   commands          use cases with their options, results and renderers
//   api, mcp, cli     the faces: the library, the MCP server, the command line (which also hosts `mcp`)
// A module may import its own layer and the ones below, never one above; nothing may form a cycle. The two
// layers sharing a row do not import each other (store and render; api and mcp); the CLI may import mcp (it
// runs the MCP server as its `mcp` command) but not the library, which is its own entry point.
/** Every layer above `layer`, as a path pattern. */
const above = (...layers) => `^src/(${layers.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', comment: 'an import cycle: split the shared part into a lower module', from: {}, to: { circular: true } },
    { name: 'core-is-the-bottom', severity: 'error', from: { path: '^src/core/' }, to: { path: above('store', 'render', 'hooks', 'commands', 'api', 'mcp', 'cli') } },
    { name: 'store-below-hooks', severity: 'error', from: { path: '^src/store/' }, to: { path: above('render', 'hooks', 'commands', 'api', 'mcp', 'cli') } },
    { name: 'render-is-primitives', severity: 'error', from: { path: '^src/render/' }, to: { path: above('store', 'hooks', 'commands', 'api', 'mcp', 'cli') } },
    { name: 'hooks-below-commands', severity: 'error', from: { path: '^src/hooks/' }, to: { path: above('commands', 'api', 'mcp', 'cli') } },
    { name: 'commands-below-faces', severity: 'error', from: { path: '^src/commands/' }, to: { path: above('api', 'mcp', 'cli') } },
    { name: 'api-is-a-face', severity: 'error', from: { path: '^src/api/' }, to: { path: above('mcp', 'cli') } },
    { name: 'mcp-is-a-face', severity: 'error', from: { path: '^src/mcp/' }, to: { path: above('api', 'cli') } },
    { name: 'cli-is-a-face', severity: 'error', from: { path: '^src/cli/' }, to: { path: above('api') } },
    { name: 'no-unresolvable', severity: 'error', comment: 'an import that does not resolve', from: { path: '^src/' }, to: { couldNotResolve: true } },
  ],
  options: {
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports are edges too: a type from a layer above is still an upward dependency.
    tsPreCompilationDeps: true,
  },
};

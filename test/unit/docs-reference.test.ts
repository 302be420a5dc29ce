import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIBRARY_METHODS } from '../../src/api/index.js';
import { ENVIRONMENT, GLOBAL_OPTIONS, optionName } from '../../src/cli/globals.js';
import { CLI_COMMANDS } from '../../src/cli/program.js';
import { COMMANDS } from '../../src/commands/index.js';

// The reference docs are checked against the declarations (src/commands/<name>.ts), not a list kept here:
// a command, option, environment variable, MCP tool or library method missing from its page fails.

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const cliDoc = read('docs/cli.md');
const mcpDoc = read('docs/mcp.md');
const apiDoc = read('docs/api.md');

/** A command's section of docs/cli.md: from its `### \`name` heading to the next heading of that level. */
function section(name: string): string {
  const start = cliDoc.search(new RegExp('^### `' + name.replace(/[-]/g, '\\-') + '[ `]', 'm'));
  if (start === -1) {
    // `export` and `import` share a section.
    const shared = cliDoc.search(new RegExp('^### .*`' + name + '[ `]', 'm'));
    if (shared === -1) return '';
    return cliDoc.slice(shared, cliDoc.indexOf('\n### ', shared + 1) >>> 0);
  }
  const end = cliDoc.indexOf('\n### ', start + 1);
  return cliDoc.slice(start, end === -1 ? undefined : end);
}

const cliCommands = CLI_COMMANDS.flatMap((c) => (c.cli ? [{ name: c.name, cli: c.cli }] : []));

describe('docs/cli.md documents every command the CLI declares', () => {
  it.each(cliCommands.map((c) => [c.name, c] as const))('%s: a section, and each of its options in it', (name, command) => {
    const text = section(name);
    expect(text, `docs/cli.md has no "### \`${name}" section`).not.toBe('');
    for (const option of command.cli.options ?? []) {
      expect(text, `docs/cli.md, ${name}: option ${optionName(option.flags)} is not documented`).toContain(optionName(option.flags));
    }
  });

  it('every global option and environment variable', () => {
    for (const option of GLOBAL_OPTIONS) expect(cliDoc, `global option ${optionName(option.flags)}`).toContain(`\`${optionName(option.flags)}`);
    for (const name of ENVIRONMENT) expect(cliDoc, `environment variable ${name}`).toContain(name);
  });
});

describe('docs/mcp.md documents every MCP tool', () => {
  it.each(COMMANDS.flatMap((c) => ('mcp' in c && c.mcp ? [c.mcp.tool] : [])))('%s', (tool) => {
    expect(mcpDoc, `docs/mcp.md does not document the tool ${tool}`).toMatch(new RegExp('`' + tool + '[`(]'));
  });
});

describe('docs/api.md documents every library method', () => {
  it.each(LIBRARY_METHODS)('%s', (method) => {
    expect(apiDoc, `docs/api.md does not document registry.${method}`).toContain(`\`${method}(`);
  });
});

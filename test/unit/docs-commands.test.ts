import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';

// docs/cli.md documents every command the CLI has: the list comes from the command declarations, so a new
// command without its section fails here.
describe('docs/cli.md', () => {
  it('has a section for every command', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/cli.md'), 'utf8');
    const headings = doc.split('\n').filter((line) => line.startsWith('### '));
    const missing = COMMANDS.filter((c) => 'cli' in c && c.cli !== undefined)
      .map((c) => c.name)
      .filter((name) => !headings.some((h) => h.includes(`\`${name}`) || h.includes(` ${name}\``) || h.includes(`\`${name.split(' ')[0]}`)));
    expect(missing).toEqual([]);
  });
});

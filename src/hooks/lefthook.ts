import fs from 'node:fs';
import path from 'node:path';
import { beginLine, endLine, hasBlock } from './blocks.js';
import { childKey, firstMeaningful, indentOf, sectionEnd, topKey, yamlLines } from './yaml-text.js';
import { CHECK_COMMAND, HOOK_NAMES, type HookName, type HookStatus } from './types.js';
import { readRepoFile } from './repo-file.js';

/**
 * lefthook: our checks are commands in its own configuration (lefthook.yml), which `lefthook install` and
 * its automatic re-syncs leave alone. pre-push needs `use_stdin: true` to see the refs being pushed.
 */

const CONFIG_NAMES = ['lefthook.yml', '.lefthook.yml', 'lefthook.yaml', '.lefthook.yaml', '.config/lefthook.yml', '.config/lefthook.yaml'];
const OTHER_FORMATS = ['lefthook.toml', '.lefthook.toml', 'lefthook.json', '.lefthook.json', 'lefthook.jsonc', '.lefthook.jsonc'];

/** The configuration file lefthook reads in `top`, or null. */
export function lefthookConfig(top: string): string | null {
  for (const name of [...CONFIG_NAMES, ...OTHER_FORMATS]) if (fs.existsSync(path.join(top, name))) return path.join(top, name);
  return null;
}

export const isLefthookHook = (text: string): boolean => /lefthook/i.test(text);

/** The command's own lines (its name and options), at indent 0, for a `commands:` map. */
const commandLines = (name: HookName): string[] => ['harn-agents:', `  run: ${CHECK_COMMAND[name]}`, ...(name === 'pre-push' ? ['  use_stdin: true'] : [])];

/** What to add by hand: the whole section, for a config that cannot be edited safely. */
export function lefthookManual(file: string): string {
  return `${file}:\n${HOOK_NAMES.map((name) => [`${name}:`, '  commands:', ...commandLines(name).map((l) => `    ${l}`)].join('\n')).join('\n')}`;
}

/** The config with our commands added, or null when it cannot be edited safely. */
export function addToLefthook(text: string): string | null {
  let lines = yamlLines(text);
  if (lines === null) return null;
  for (const name of HOOK_NAMES) {
    const at = topKey(lines, name);
    if (at === null) return null;
    if (at === -1) {
      while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
      lines.push(beginLine(''), `${name}:`, '  commands:', ...commandLines(name).map((l) => `    ${l}`), endLine(''), '');
      continue;
    }
    const end = sectionEnd(lines, at);
    const first = firstMeaningful(lines, at + 1, end);
    if (first === -1) return null;
    const step = indentOf(lines[first] ?? '');
    if (step === 0) return null;
    const commands = childKey(lines, at + 1, end, step, 'commands');
    if (commands === null) return null;
    let block: string[];
    let after: number;
    if (commands === -1) {
      // No commands yet (only jobs, scripts or options): a commands map of our own, first in the section.
      const pad = ' '.repeat(step);
      block = [beginLine(pad), `${pad}commands:`, ...commandLines(name).map((l) => `${pad}${pad}${l}`), endLine(pad)];
      after = at;
    } else {
      const entry = firstMeaningful(lines, commands + 1, end);
      const indent = entry === -1 ? -1 : indentOf(lines[entry] ?? '');
      if (indent <= step) return null;
      const pad = ' '.repeat(indent);
      block = [beginLine(pad), ...commandLines(name).map((l) => `${pad}${l.startsWith('  ') ? ' '.repeat(indent - step) + l.slice(2) : l}`), endLine(pad)];
      after = commands;
    }
    lines = [...lines.slice(0, after + 1), ...block, ...lines.slice(after + 1)];
  }
  return lines.join('\n');
}

export function lefthookStatus(file: string | null, hooksDir: string): HookStatus[] {
  const text = (file ? readRepoFile(file) : null) ?? '';
  return HOOK_NAMES.map((name) => {
    const inConfig = hasBlock(text) && text.includes(CHECK_COMMAND[name]);
    const hook = path.join(hooksDir, name);
    const wired = isLefthookHook(readRepoFile(hook) ?? '');
    return { name, state: inConfig && wired ? 'installed' : 'absent', previous: false };
  });
}


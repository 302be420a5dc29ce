/**
 * Just enough of YAML's block layout to add lines to a hand-written config without a YAML library: find a
 * top-level key, a child key, and the indentation their entries use. Anything unusual (flow style, tabs,
 * anchors on the key, several documents) is reported as unsafe, and the caller prints the lines instead.
 */

const meaningful = (line: string): boolean => line.trim() !== '' && !line.trimStart().startsWith('#');
export const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Lines of a YAML file, or null when its layout is beyond these helpers. */
export function yamlLines(text: string): string[] | null {
  if (text.includes('\t') || text.includes('\0')) return null;
  const lines = text.split('\n');
  if (lines.some((l, i) => (l.startsWith('---') && i > 0 && lines.slice(0, i).some(meaningful)) || l.startsWith('...'))) return null;
  return lines;
}

/** The index of the top-level `key:` line with a block value, -1 when absent, null when it has an inline value. */
export function topKey(lines: readonly string[], key: string): number | null {
  const pattern = new RegExp(`^(['"]?)${key.replace(/[-.]/g, '\\$&')}\\1\\s*:(.*)$`);
  for (let i = 0; i < lines.length; i++) {
    const match = pattern.exec(lines[i] ?? '');
    if (!match) continue;
    const rest = (match[2] ?? '').trim();
    return rest === '' || rest.startsWith('#') ? i : null;
  }
  return -1;
}

/** The index just past the block value of the top-level key at `at` (the next top-level line, or the end). */
export function sectionEnd(lines: readonly string[], at: number): number {
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (meaningful(line) && indentOf(line) === 0 && !line.startsWith('-')) return i;
  }
  return lines.length;
}

/** The first meaningful line in [from, to), or -1. */
export function firstMeaningful(lines: readonly string[], from: number, to: number): number {
  for (let i = from; i < to; i++) if (meaningful(lines[i] ?? '')) return i;
  return -1;
}

/** The last meaningful line in [from, to), or from - 1. */
export function lastMeaningful(lines: readonly string[], from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (meaningful(lines[i] ?? '')) return i;
  return from - 1;
}

/** The child `key:` line (block value) at exactly `indent` within [from, to); -1 absent, null inline value. */
export function childKey(lines: readonly string[], from: number, to: number, indent: number, key: string): number | null {
  const pattern = new RegExp(`^ {${indent}}${key}\\s*:(.*)$`);
  for (let i = from; i < to; i++) {
    const match = pattern.exec(lines[i] ?? '');
    if (!match) continue;
    const rest = (match[1] ?? '').trim();
    return rest === '' || rest.startsWith('#') ? i : null;
  }
  return -1;
}

/**
 * The lines harn-agents adds to files other tools own (a husky script, lefthook.yml, a pre-commit config,
 * a tracked hook): always between a begin and an end marker comment, so uninstall removes exactly them.
 */

export const BEGIN = '# >>> harn-agents';
export const END = '# <<< harn-agents';
/** The begin marker's text when harn-agents created the whole file: uninstall then deletes the file. */
export const CREATED = 'created this file';

export const beginLine = (indent: string, created = false): string =>
  `${indent}${BEGIN} (added by 'harn-agents hook install'${created ? `; ${CREATED}` : ''}; 'harn-agents hook uninstall' removes it)`;
export const endLine = (indent: string): string => `${indent}${END}`;

/** Whether `text` holds one of our blocks. */
export const hasBlock = (text: string): boolean => text.split('\n').some((line) => line.trimStart().startsWith(BEGIN));

/** Whether we created the file holding `text`. */
export const createdByUs = (text: string): boolean =>
  text.split('\n').some((line) => line.trimStart().startsWith(BEGIN) && line.includes(CREATED));

/**
 * `text` without our blocks (marker lines included), or null when a block has no end marker (someone edited
 * it: leave the file alone).
 */
export function removeBlocks(text: string): string | null {
  const out: string[] = [];
  let inside = false;
  for (const line of text.split('\n')) {
    const trimmed = line.trimStart();
    if (!inside && trimmed.startsWith(BEGIN)) inside = true;
    else if (inside && trimmed.startsWith(END)) inside = false;
    else if (!inside) out.push(line);
  }
  return inside ? null : out.join('\n');
}

/** Insert `block` (lines) into `text` after line index `after` (-1: at the top). */
export function insertLines(text: string, after: number, block: readonly string[]): string {
  const lines = text.split('\n');
  lines.splice(after + 1, 0, ...block);
  return lines.join('\n');
}

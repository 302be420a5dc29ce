import stringWidth from 'string-width';

/**
 * A boxed text table (the look of cli-table3's default style) in linear time. cli-table3 itself took 36 s to
 * lay out a 1,000-agent status (its layout is superlinear and slow on multi-line cells:
 * cli-table/cli-table3#68), so status renders with this instead.
 */
export interface BoxTableOptions {
  readonly head: readonly string[];
  /** Each row is one string per column; a cell may hold several lines. */
  readonly rows: ReadonlyArray<readonly string[]>;
  /** Paint a cell (after padding); the default paints nothing. */
  readonly paint?: (text: string, column: number, row: number) => string;
  readonly paintHead?: (text: string) => string;
  readonly paintBorder?: (text: string) => string;
  /** The terminal's width: when the table is wider, `shrink`'s column is narrowed and its lines cut with …. */
  readonly maxWidth?: number;
  /** The column that gives way to `maxWidth` (default: the last). */
  readonly shrink?: number;
}

/** `text` cut to `columns` display columns, with … as the last one when anything was cut. */
function truncate(text: string, columns: number): string {
  if (width(text) <= columns) return text;
  let out = '';
  for (const char of text) {
    if (width(out + char) > columns - 1) break;
    out += char;
  }
  return `${out}…`;
}

// Printable ASCII is one column per character; anything else is measured properly.
const width = (text: string): number => (/^[\x20-\x7e]*$/.test(text) ? text.length : stringWidth(text));

export function renderBoxTable(options: BoxTableOptions): string {
  const { head, rows } = options;
  const paint = options.paint ?? ((text) => text);
  const paintHead = options.paintHead ?? ((text) => text);
  const border = options.paintBorder ?? ((text) => text);
  const cells = rows.map((row) => head.map((_, c) => (row[c] ?? '').split('\n')));
  const widths = head.map((h, c) => Math.max(width(h), ...cells.map((row) => Math.max(...(row[c] ?? ['']).map(width)))));
  const total = widths.reduce((sum, w) => sum + w + 3, 1);
  const shrink = options.shrink ?? head.length - 1;
  if (options.maxWidth !== undefined && total > options.maxWidth && widths[shrink] !== undefined) {
    // Never narrower than its heading or 8 columns: a table a bit too wide beats one that says nothing.
    const narrowed = Math.max(widths[shrink] - (total - options.maxWidth), width(head[shrink] ?? ''), 8);
    widths[shrink] = narrowed;
    for (const row of cells) row[shrink] = (row[shrink] ?? ['']).map((line) => truncate(line, narrowed));
  }
  const rule = (left: string, mid: string, right: string) => border(left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right);
  const pad = (text: string, c: number) => ` ${text}${' '.repeat((widths[c] ?? 0) - width(text))} `;
  const bar = border('│');
  const out: string[] = [rule('┌', '┬', '┐')];
  out.push(bar + head.map((h, c) => paintHead(pad(h, c))).join(bar) + bar);
  cells.forEach((row, r) => {
    out.push(rule('├', '┼', '┤'));
    const height = Math.max(...row.map((lines) => lines.length));
    for (let line = 0; line < height; line++) {
      out.push(bar + row.map((lines, c) => paint(pad(lines[line] ?? '', c), c, r)).join(bar) + bar);
    }
  });
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}

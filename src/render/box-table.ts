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

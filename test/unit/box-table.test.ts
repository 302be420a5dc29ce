import { describe, expect, it } from 'vitest';
import { renderBoxTable } from '../../src/render/box-table.js';

describe('renderBoxTable', () => {
  it('draws cli-table3-style boxes with multi-line cells and wide characters aligned', () => {
    const out = renderBoxTable({ head: ['id', 'name'], rows: [['1', 'editor'], ['22', '日本\nx']] });
    expect(out).toBe(
      [
        '┌────┬────────┐',
        '│ id │ name   │',
        '├────┼────────┤',
        '│ 1  │ editor │',
        '├────┼────────┤',
        '│ 22 │ 日本   │',
        '│    │ x      │',
        '└────┴────────┘',
      ].join('\n'),
    );
  });

  it('paints cells, head and borders without changing the layout', () => {
    const out = renderBoxTable({
      head: ['a'],
      rows: [['x']],
      paint: (t, c, r) => `<${c}${r}>${t}</>`,
      paintHead: (t) => `[${t}]`,
      paintBorder: (t) => t.toUpperCase(),
    });
    expect(out.split('\n')[1]).toBe('│[ a ]│');
    expect(out.split('\n')[3]).toBe('│<00> x </>│');
  });

  it('renders a 10,000-row table with multi-line cells whole', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => [String(i), Array.from({ length: 10 }, (_, j) => `src/${i}/${j}.ts`).join('\n')]);
    const out = renderBoxTable({ head: ['id', 'locks'], rows });
    expect(out.split('\n')).toHaveLength(2 + 10_000 * 11 + 1);
  });
});

import type { HTMLAttributes, Key, ReactNode, TdHTMLAttributes } from 'react';

/** `data-*` attributes: the hooks e2e tests and styles find rows and cells by. */
export type DataAttributes = { [name: `data-${string}`]: string | number | boolean | undefined };

export interface Column<Row> {
  /** The header cell; a column of buttons has none and names itself in `label` for screen readers. */
  header?: ReactNode;
  label?: string;
  /** Figures: header and cells aligned right (`num`). */
  numeric?: boolean;
  headerClassName?: string;
  /** The cells' class, the same for every row or chosen per row. */
  className?: string | ((row: Row) => string | undefined);
  /** Further attributes of a cell (a title for clipped text, a test id). */
  cellProps?: (row: Row) => TdHTMLAttributes<HTMLTableCellElement> & DataAttributes;
  cell: (row: Row) => ReactNode;
}

function classes(...names: Array<string | undefined | false>): string | undefined {
  return names.filter(Boolean).join(' ') || undefined;
}

/**
 * A table of facts: one row per item, one column per fact, headers as column scopes.
 * Columns say what a cell shows; the table writes the markup, so every table reads,
 * aligns and styles the same.
 */
export function DataTable<Row>({
  columns,
  rows,
  rowKey,
  rowProps,
  className,
}: {
  columns: Array<Column<Row>>;
  rows: readonly Row[];
  rowKey: (row: Row, index: number) => Key;
  rowProps?: (row: Row) => HTMLAttributes<HTMLTableRowElement> & DataAttributes;
  /** Classes besides `table` (`hosts-table`, `checks-table`). */
  className?: string;
}) {
  return (
    <table className={classes('table', className)}>
      <thead>
        <tr>
          {columns.map((column, index) => (
            <th key={index} scope="col" className={classes(column.numeric && 'num', column.headerClassName)} aria-label={column.label}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, rowIndex) => (
          <tr key={rowKey(row, rowIndex)} {...rowProps?.(row)}>
            {columns.map((column, index) => (
              <td
                key={index}
                className={classes(
                  column.numeric && 'num',
                  typeof column.className === 'function' ? column.className(row) : column.className,
                )}
                {...column.cellProps?.(row)}
              >
                {column.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

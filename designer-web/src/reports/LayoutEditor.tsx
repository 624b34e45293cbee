// The dashboard builder's layout: each widget a box on the 12-column grid, moved by
// dragging it and resized by dragging its lower right corner (react-grid-layout). Boxes
// keep the places they are given (no compaction), as the dashboard shows them.
//
// data-testid: layout-preview, layout-box-<i>
import { GridLayout, noCompactor, useContainerWidth, type Layout } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import 'react-resizable/css/styles.css';
import { GRID_COLUMNS, layoutChanges } from './dashboard.ts';
import type { Widget } from './types.ts';

/** Row height of the layout editor, in pixels. */
export const LAYOUT_ROW = 28;

export function LayoutEditor(p: {
  widgets: Widget[];
  label: (report: string) => string;
  onChange: (index: number, patch: Pick<Widget, 'x' | 'y' | 'w' | 'h'>) => void;
}) {
  const { width, containerRef, mounted } = useContainerWidth();
  const layout: Layout = p.widgets.map((w, i) => ({ i: String(i), x: w.x, y: w.y, w: w.w, h: w.h, minW: 1, minH: 1, maxW: GRID_COLUMNS }));
  return (
    <div ref={containerRef} data-testid="layout-preview" style={{ minHeight: LAYOUT_ROW * 2 }}>
      {mounted && (
        <GridLayout
          width={width}
          layout={layout}
          gridConfig={{ cols: GRID_COLUMNS, rowHeight: LAYOUT_ROW, margin: [4, 4], containerPadding: [0, 0] }}
          compactor={noCompactor}
          onLayoutChange={(l) => {
            for (const c of layoutChanges(p.widgets, l)) p.onChange(c.index, c.patch);
          }}
        >
          {p.widgets.map((w, i) => (
            <div
              key={String(i)}
              data-testid={`layout-box-${i}`}
              style={{ background: '#e6f4ff', border: '1px solid #91caff', borderRadius: 4, padding: 4, fontSize: 12, overflow: 'hidden', cursor: 'move' }}
            >
              {i + 1}. {p.label(w.report)}
            </div>
          ))}
        </GridLayout>
      )}
    </div>
  );
}

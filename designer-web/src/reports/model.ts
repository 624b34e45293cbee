// The pure model of reports and dashboards, in one import: definitions and run results
// (types.ts), labels and number formats (format.ts), charts, pivots and tables (chart.ts),
// the report designer's draft (draft.ts) with its conditions as rows (conditions.ts) and
// dashboards (dashboard.ts).
export * from './types.ts';
export * from './format.ts';
export * from './chart.ts';
export * from './conditions.ts';
export * from './draft.ts';
export * from './dashboard.ts';

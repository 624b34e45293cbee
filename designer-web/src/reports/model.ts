// The pure model of reports and dashboards, in one import: definitions and run results
// (types.ts), labels and number formats (format.ts), charts, pivots and tables (chart.ts),
// the report designer's draft (draft.ts) with its conditions as rows (conditions.ts), its
// formulas (formula.ts) and its checks (validate.ts), and dashboards (dashboard.ts) with
// their choice filters (dashboardFilters.ts).
export * from './types.ts';
export * from './format.ts';
export * from './chart.ts';
export * from './conditions.ts';
export * from './draft.ts';
export * from './formula.ts';
export * from './validate.ts';
export * from './dashboard.ts';
export * from './dashboardFilters.ts';

// Every chart kind against a real server in Debian's Chromium, with the UI in Chinese (the
// default locale): an administrator saves one report per kind over the CRM's demo service
// orders (through the API) and opens each on the staff report page. The ECharts kinds
// (bar, line, area, pie, funnel, heatmap) draw their series on the canvas, and their
// legends and axes in Chinese (the text the chart draws is recorded as it is drawn); the
// table, pivot and number cards show exactly the run's values under the Chinese labels of
// the report, its fields and their options. On the table and on the pivot, a click on an
// "of which urgent" cell opens the orders list with exactly that cell's orders, not the
// row's. No page raises an error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, launchBrowser, loginPage, startServer, until } from './harness.mjs';

let server;
let browser;
let admin;
/** The service order's field labels and option labels in zh-CN, from its definition. */
let zh;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  admin = await adminApi(server);
  const form = (await admin('/apps/crm/forms/service_order')).body;
  const props = (form.definition ?? form).schema.properties;
  zh = {
    field: (f) => props[f]['x-label']['zh-CN'],
    option: (f, v) => props[f]['x-options']?.[v]?.['zh-CN'],
  };
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const ORDERS = { key: 'orders', agg: 'count', label: { en: 'Orders', 'zh-CN': '工单数' } };
const URGENT = {
  key: 'urgent',
  agg: 'count',
  where: { '==': [{ var: 'priority' }, 'urgent'] },
  label: { en: 'Of which urgent', 'zh-CN': '其中紧急' },
};
const PRIORITIES = ['紧急', '高', '普通', '低'];
const BUCKETS = { month: '月', quarter: '季度' };
const count = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 0 });
const digits = (s) => Number(s.replace(/\D/g, ''));

/** Save a report over the service orders as the administrator; its run as the API gives it. */
async function save(key, def) {
  const put = await admin(`/apps/crm/reports/${key}`, { method: 'PUT', body: { form: 'service_order', ...def } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const run = (await admin(`/apps/crm/reports/${key}/run`, { method: 'POST', body: {} })).body;
  assert.ok(run.rows.length > 0, `${key} has rows`);
  return run;
}

/** An administrator's page in zh-CN that records its errors and, per canvas, the texts of
 * the frame last drawn on it (ECharts draws legends and axis labels on the canvas, not in
 * the DOM; a frame starts by clearing the whole canvas). */
async function adminPage() {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    const { clearRect, fillText } = CanvasRenderingContext2D.prototype;
    CanvasRenderingContext2D.prototype.clearRect = function (x, y, w, h) {
      const c = this.canvas;
      if (x <= 0 && y <= 0 && x + w >= c.clientWidth && y + h >= c.clientHeight) c.drawnTexts = new Set();
      return clearRect.call(this, x, y, w, h);
    };
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
      (this.canvas.drawnTexts ??= new Set()).add(String(text));
      return fillText.call(this, text, ...rest);
    };
  });
  return { page, errors };
}

/** Open a report's page and wait for `part` of it (its chart area, unless given). */
async function openReport(page, key, label, part = 'report-chart') {
  await page.goto(`/apps/crm/reports/${key}`);
  await page.getByTestId(part).waitFor();
  assert.equal(await page.getByTestId('report-title').innerText(), label);
}

/** A dimension value as the page should show it: the option's Chinese label, else as the
 * server sent it (time buckets). */
function dimText(run, col, value) {
  return (col.field && zh.option(col.field, value)) ?? String(value);
}

/** A column's header: the report's label, else the field's Chinese label (with the bucket). */
function headerText(def, col) {
  if (col.kind === 'measure') return def.measures.find((m) => m.key === col.key).label['zh-CN'];
  const dim = def.dimensions.find((d) => (d.key ?? d.field) === col.key || d.field === col.field);
  if (dim.label) return dim.label['zh-CN'];
  return dim.bucket ? `${zh.field(dim.field)} (${BUCKETS[dim.bucket]})` : zh.field(dim.field);
}

/** Poll `read` until it gives `expected` (labels arrive with the form's schema), then
 * assert it, so a mismatch shows the difference. */
async function settles(read, expected, what) {
  let last;
  await until(async () => {
    last = await read();
    return JSON.stringify(last) === JSON.stringify(expected);
  }, what).catch(() => {});
  assert.deepEqual(last, expected, what);
}

/** The rows table under every report shows each row of the run: dimension values in
 * Chinese, measure values equal to the run's, the column headers in Chinese. */
async function assertRowsTable(page, def, run) {
  const cols = [...run.columns.filter((c) => c.kind === 'dimension'), ...run.columns.filter((c) => c.kind === 'measure')];
  const expected = run.rows.map((r) => cols.map((c) => (c.kind === 'dimension' ? dimText(run, c, r.cells[c.key]) : count.format(r.cells[c.key]))));
  await settles(
    () =>
      page.evaluate(
        ({ n, keys }) =>
          Array.from({ length: n }, (_, i) => keys.map((k) => document.querySelector(`[data-testid="report-cell-${i}-${k}"]`)?.textContent ?? null)),
        { n: run.rows.length, keys: cols.map((c) => c.key) },
      ),
    expected,
    'the rows table shows the run',
  );
  const headers = (await page.getByTestId('report-rows').locator('thead th').allInnerTexts()).map((h) => h.trim()).filter(Boolean);
  assert.deepEqual(headers, [...cols.map((c) => headerText(def, c)), '记录数']);
}

/** Coloured pixels on the chart's canvases between the legend (top 40 px) and the
 * heatmap's colour scale (bottom 60 px): the series (axes and text are grey). */
async function colouredPixels(page) {
  return page.locator('[data-testid="report-chart"] canvas').evaluateAll((canvases) =>
    canvases.reduce((n, c) => {
      const scale = c.height / c.clientHeight;
      const top = Math.round(40 * scale);
      const { data } = c.getContext('2d').getImageData(0, top, c.width, c.height - top - Math.round(60 * scale));
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 60) n++;
      return n;
    }, 0),
  );
}

/** The texts of the frames last drawn on the chart's canvases. */
async function drawnTexts(page) {
  return page.locator('[data-testid="report-chart"] canvas').evaluateAll((canvases) => [...new Set(canvases.flatMap((c) => [...(c.drawnTexts ?? [])]))]);
}

/** Open a list drill from a cell and check it lists exactly `expected` orders with `filter`. */
async function assertDrill(page, cell, filter, expected) {
  await page.getByTestId(cell).click();
  await page.waitForURL(/\/forms\/service_order\?filter=/);
  assert.deepEqual(JSON.parse(new URL(page.url()).searchParams.get('filter')), filter);
  await page.getByTestId('list-url-filter').waitFor();
  await page.getByTestId('list-total').waitFor();
  assert.equal(digits(await page.getByTestId('list-total').innerText()), expected);
}

const kindLabels = () => ['calibration', 'inspection', 'installation', 'repair', 'training'].map((v) => zh.option('kind', v));

const ECHARTS = [
  {
    kind: 'bar',
    def: { dimensions: [{ field: 'kind' }], measures: [ORDERS, URGENT] },
    // the categories on the axis, the two measures in the legend
    drawn: () => [...kindLabels(), '工单数', '其中紧急'],
  },
  {
    kind: 'line',
    def: { dimensions: [{ field: 'reported_at', bucket: 'month' }], measures: [ORDERS, URGENT] },
    drawn: () => ['工单数', '其中紧急'],
  },
  {
    kind: 'area',
    def: { dimensions: [{ field: 'reported_at', bucket: 'quarter' }, { field: 'priority' }], measures: [ORDERS], chart: { kind: 'area', stacked: true } },
    // a series per priority, named in the legend
    drawn: () => PRIORITIES,
  },
  {
    kind: 'pie',
    def: { dimensions: [{ field: 'priority', label: { en: 'Priority', 'zh-CN': '优先级' } }], measures: [ORDERS] },
    drawn: () => PRIORITIES,
  },
  {
    kind: 'funnel',
    def: { dimensions: [{ field: 'status' }], measures: [ORDERS] },
    drawn: () => ['reported', 'dispatched', 'accepted', 'on_site', 'resolved'].map((v) => zh.option('status', v)),
  },
  {
    kind: 'heatmap',
    def: { dimensions: [{ field: 'kind' }, { field: 'priority' }], measures: [ORDERS] },
    drawn: () => [...kindLabels(), ...PRIORITIES],
  },
];

for (const c of ECHARTS) {
  test(`the ${c.kind} chart draws its series and its Chinese labels; its rows are the run's`, async () => {
    const key = `e2e_chart_${c.kind}`;
    const label = `图表测试 ${c.kind}`;
    const def = { label: { en: `Chart ${c.kind}`, 'zh-CN': label }, ...c.def, chart: c.def.chart ?? { kind: c.kind } };
    const run = await save(key, def);
    const { page, errors } = await adminPage();
    await openReport(page, key, label);
    assert.equal(await page.getByTestId('report-chart').getAttribute('data-kind'), c.kind);
    assert.equal(await page.getByTestId('report-chart').getByRole('img').getAttribute('aria-label'), `图表:${label}`);
    await page.locator('[data-testid="report-chart"] canvas').first().waitFor();
    await until(async () => (await colouredPixels(page)) > 1000, `the ${c.kind} chart's series drawn`);
    const want = c.drawn();
    assert.ok(want.every((s) => /[\u4e00-\u9fff]/.test(s)), `Chinese labels expected: ${want}`);
    let drawn = [];
    await until(async () => {
      drawn = await drawnTexts(page);
      return want.every((s) => drawn.includes(s));
    }, `the ${c.kind} chart's labels drawn`).catch(() => {});
    assert.deepEqual(want.filter((s) => !drawn.includes(s)), [], `drawn: ${drawn.join(' | ')}`);
    // The options' values are not drawn: their labels replaced them.
    const values = run.columns.filter((col) => col.kind === 'dimension' && zh.option(col.field, run.rows[0].cells[col.key]));
    const raw = [...new Set(run.rows.flatMap((r) => values.map((col) => r.cells[col.key])))];
    assert.deepEqual(raw.filter((v) => drawn.includes(v)), [], `drawn: ${drawn.join(' | ')}`);
    await assertRowsTable(page, def, run);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
}

test('number cards show the run’s values under their Chinese labels', async () => {
  const def = { label: { en: 'Chart number', 'zh-CN': '图表测试 number' }, dimensions: [], measures: [ORDERS, URGENT], chart: { kind: 'number' } };
  const run = await save('e2e_chart_number', def);
  const { page, errors } = await adminPage();
  await openReport(page, 'e2e_chart_number', '图表测试 number');
  assert.equal(await page.getByTestId('report-chart').getAttribute('data-kind'), 'number');
  const card = (k) => page.getByTestId('report-chart').getByTestId(`report-number-${k}`);
  await settles(
    async () => [await card('orders').locator('.ant-statistic-title').innerText(), await card('orders').locator('.ant-statistic-content').innerText()],
    ['工单数', count.format(run.rows[0].cells.orders)],
    'the orders card',
  );
  await settles(
    async () => [await card('urgent').locator('.ant-statistic-title').innerText(), await card('urgent').locator('.ant-statistic-content').innerText()],
    ['其中紧急', count.format(run.rows[0].cells.urgent)],
    'the urgent card',
  );
  assert.ok(run.rows[0].cells.urgent > 0 && run.rows[0].cells.urgent < run.rows[0].cells.orders);
  await assertRowsTable(page, def, run);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a table shows the run in Chinese; its "of which urgent" cell lists exactly the urgent orders', async () => {
  const def = { label: { en: 'Chart table', 'zh-CN': '图表测试 table' }, dimensions: [{ field: 'kind' }], measures: [ORDERS, URGENT], chart: { kind: 'table' } };
  const run = await save('e2e_chart_table', def);
  const { page, errors } = await adminPage();
  // A table draws no chart area: the rows table is the report.
  await openReport(page, 'e2e_chart_table', '图表测试 table', 'report-rows');
  assert.equal(await page.getByTestId('report-chart').count(), 0, 'a table has no chart above it');
  await assertRowsTable(page, def, run);

  // A row where the urgent orders are some of its orders, so the cell's list differs from the row's.
  const i = run.rows.findIndex((r) => r.cells.urgent > 0 && r.cells.urgent < r.rows);
  assert.ok(i >= 0, 'a row with some urgent orders');
  const row = run.rows[i];
  assert.ok(row.drills?.urgent, 'the server sends the urgent cell’s drill');
  await assertDrill(page, `report-cell-${i}-urgent`, row.drills.urgent, row.cells.urgent);
  // The orders cell (a measure over all the row's orders) lists the row's orders.
  await page.goBack();
  await assertDrill(page, `report-cell-${i}-orders`, row.drill, row.cells.orders);
  assert.equal(row.cells.orders, row.rows);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a pivot shows the run in Chinese; its "of which urgent" cell lists exactly the urgent orders', async () => {
  const def = {
    label: { en: 'Chart pivot', 'zh-CN': '图表测试 pivot' },
    dimensions: [{ field: 'kind' }, { field: 'channel' }],
    measures: [ORDERS, URGENT],
    chart: { kind: 'pivot' },
  };
  const run = await save('e2e_chart_pivot', def);
  const { page, errors } = await adminPage();
  await openReport(page, 'e2e_chart_pivot', '图表测试 pivot');
  assert.equal(await page.getByTestId('report-chart').getAttribute('data-kind'), 'pivot');

  // Kinds down, channels across, each channel's two measures under it.
  const kinds = [...new Set(run.rows.map((r) => r.cells.kind))];
  const channels = [...new Set(run.rows.map((r) => r.cells.channel))];
  const at = (k, ch) => run.rows.find((r) => r.cells.kind === k && r.cells.channel === ch);
  const expected = {
    head: [
      [{ text: zh.field('kind'), span: 1 }, ...channels.map((ch) => ({ text: zh.option('channel', ch), span: 2 }))],
      channels.flatMap(() => [{ text: '工单数', span: 1 }, { text: '其中紧急', span: 1 }]),
    ],
    body: kinds.map((k) => [zh.option('kind', k), ...channels.flatMap((ch) => ['orders', 'urgent'].map((m) => (at(k, ch) ? count.format(at(k, ch).cells[m]) : '')))]),
  };
  await settles(
    () =>
      page.getByTestId('report-pivot').evaluate((t) => ({
        head: [...t.tHead.rows].map((r) => [...r.cells].map((c) => ({ text: c.textContent.trim(), span: c.colSpan }))),
        body: [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent.trim())),
      })),
    expected,
    'the pivot shows the run',
  );

  const row = run.rows.find((r) => r.cells.urgent > 0 && r.cells.urgent < r.rows);
  assert.ok(row?.drills?.urgent, 'a cell with some of its row’s orders urgent, and its drill');
  const cell = `pivot-cell-${kinds.indexOf(row.cells.kind)}-${channels.indexOf(row.cells.channel) * 2 + 1}`;
  assert.equal(await page.getByTestId(cell).innerText(), count.format(row.cells.urgent));
  await assertDrill(page, cell, row.drills.urgent, row.cells.urgent);
  assert.deepEqual(errors, []);
  await page.context().close();
});

// Reports and dashboards against a real server in Debian's Chromium: a report's rows drill
// down into the records list with the same count; a service manager's home page shows
// their dashboard and its shared period filter re-runs every widget; at phone width the
// widgets stack; an engineer sees the service-fee measure withheld; an administrator
// builds a report by dragging fields (mouse and keyboard) and a dashboard, and the saved
// JSON is what the UI showed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD, adminApi, DEMO_PASSWORD, dndClicksRestored, launchBrowser, loginApi, loginPage, PHONE, pick, screenshotDir, startServer, until } from './harness.mjs';

let server;
let browser;
let admin;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  admin = await adminApi(server);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Drag with the mouse in small steps (dnd-kit waits for movement), then wait until clicks
 * get through again. With `expect` (a test id), the drop must make it appear: a drop
 * dnd-kit did not register (its pointer sensor now and then misses the first move right
 * after the palette changed) is tried again, at most three times. */
async function drag(page, from, to, expect) {
  for (let attempt = 1; ; attempt++) {
    await page.getByTestId(from).scrollIntoViewIfNeeded();
    const a = await page.getByTestId(from).boundingBox();
    const b = await page.getByTestId(to).boundingBox();
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(a.x + a.width / 2 + 5, a.y + a.height / 2 + 5, { steps: 3 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height - 8, { steps: 12 });
    await page.mouse.up();
    await dndClicksRestored(page);
    if (!expect) return;
    try {
      await page.getByTestId(expect).waitFor({ timeout: 3000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

/** Drag a palette field with the keyboard: Space, `steps` × ArrowDown, Space. */
async function keyboardDrag(page, from, steps) {
  await page.getByTestId(from).focus();
  await page.keyboard.press('Space');
  await page.waitForTimeout(200);
  for (let i = 0; i < steps; i++) {
    await page.keyboard.press('ArrowDown');
    await page.waitForTimeout(300);
  }
  await page.keyboard.press('Space');
  await page.waitForTimeout(300);
}

test('a report row drills down into the records list with the same count', async () => {
  const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en' });
  await page.getByTestId('app-crm').click();
  await page.getByTestId('nav-reports').click();
  await page.getByTestId('report-link-orders_by_status').click();
  await page.getByTestId('report-chart').waitFor();
  await page.getByTestId('report-row-0').waitFor();
  const run = (await admin('/apps/crm/reports/orders_by_status/run', { method: 'POST', body: {} })).body;
  assert.ok(run.rows.length > 0);
  assert.equal(await page.locator('[data-testid^="report-row-"]').count(), run.rows.length);
  const expected = Number((await page.getByTestId('report-drill-0').innerText()).replace(/\D/g, ''));

  // A click on the row (on its status; a click on its "of which urgent" cell would list only
  // the urgent ones, report-charts.test.mjs) lists the row's records.
  await page.getByTestId('report-row-0').getByTestId('report-cell-0-status').click();
  await page.waitForURL(/\/forms\/service_order\?filter=/);
  await page.getByTestId('list-url-filter').waitFor();
  await page.getByTestId('list-total').waitFor();
  assert.equal(Number((await page.getByTestId('list-total').innerText()).replace(/\D/g, '')), expected);

  // Removing the tag lists every record again.
  await page.getByTestId('list-url-filter').locator('.anticon-close').click();
  await page.waitForURL((u) => !u.search.includes('filter='));
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="list-total"]')?.textContent?.replace(/\D/g, '')) > n, expected);
  await page.context().close();
});

test('the home page shows the manager their dashboard; the period filter re-runs each widget', async () => {
  const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm');
  await page.getByTestId('home-dashboards').waitFor();
  await page.getByTestId('home-dashboard-link-service').click();
  await page.getByTestId('dashboard-widget-0').locator('[data-testid="report-number-new_today"]').waitFor();
  await page.getByTestId('dashboard-widget-1').locator('[data-testid="report-number-open_orders"]').waitFor();
  // Every widget but the first ("today and this week", which maps no shared filter).
  const widgets = (await page.locator('[data-testid^="dashboard-widget-"]').count()) - 1;

  const runs = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/run') && r.method() === 'POST') runs.push(JSON.parse(r.postData() ?? '{}'));
  });
  const range = page.getByTestId('dashboard-filter-period').locator('input');
  await range.nth(0).click();
  await range.nth(0).fill('2026-01-01');
  await range.nth(1).fill('2026-03-31');
  await range.nth(1).press('Enter');
  for (let i = 0; i < 100 && runs.length < widgets; i++) await page.waitForTimeout(100);
  assert.ok(runs.length >= widgets, `every widget ran again (${runs.length} of ${widgets})`);
  for (const r of runs)
    assert.deepEqual(r.filter, { and: [{ '>=': [{ var: 'reported_at' }, '2026-01-01'] }, { '<': [{ var: 'reported_at' }, '2026-04-01'] }] });
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(screenshotDir(), 'dashboard.png'), fullPage: true });
  await page.context().close();
});

test('at phone width the widgets stack in one column', async () => {
  const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { viewport: PHONE });
  await page.goto('/apps/crm/dashboards/service');
  await page.getByTestId('dashboard-widget-0').waitFor();
  const boxes = await page.locator('[data-testid^="dashboard-widget-"]').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
  assert.ok(boxes.length > 1);
  const lefts = new Set(boxes.map((b) => Math.round(b.left)));
  assert.equal(lefts.size, 1, 'one column');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `page is ${width}px wide`);
  await page.context().close();
});

test('an engineer sees the service-fee measure withheld, the rest of the report shown', async () => {
  const def = {
    label: { en: 'Fees by priority', 'zh-CN': '按优先级的服务费' },
    form: 'service_order',
    dimensions: [{ field: 'priority' }],
    measures: [
      { key: 'orders', agg: 'count' },
      { key: 'fees', agg: 'sum', field: 'service_fee' },
    ],
    chart: { kind: 'bar' },
  };
  assert.equal((await admin('/apps/crm/reports/e2e_fees', { method: 'PUT', body: def })).status, 200);
  const page = await loginPage(browser, server, 'engineer1', DEMO_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/reports/e2e_fees');
  await page.getByTestId('report-withheld').waitFor();
  assert.match(await page.getByTestId('report-withheld').innerText(), /service_fee|Service fee/);
  const headers = await page.getByTestId('report-rows').locator('th').allInnerTexts();
  assert.ok(!headers.some((h) => /fee/i.test(h)), headers.join('|'));
  await page.context().close();
});

test('an administrator builds a report by dragging fields and saves exactly that', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en', viewport: { width: 1500, height: 1000 } });
  await page.goto('/apps/crm/reports');
  await page.getByTestId('report-new').click();
  await page.getByTestId('new-key').fill('e2e_by_model');
  await page.getByTestId('new-create').click();
  await page.getByTestId('report-designer').waitFor();
  await pick(page, 'report-form', 'service_order', { search: true });
  await page.getByTestId('palette-field-priority').waitFor();

  await keyboardDrag(page, 'palette-field-priority', 1); // → dimensions
  await page.getByTestId('dimension-0').waitFor();
  await drag(page, 'palette-field-labour_hours', 'drop-measures', 'measure-0');
  await page.getByTestId('measure-add-count').click();
  await keyboardDrag(page, 'palette-field-kind', 3); // → filters
  await page.getByTestId('filter-0').waitFor();
  await pick(page, 'filter-value-0', null, { title: 'Repair' });
  await page.getByTestId('palette-expand-device').click();
  await page.getByTestId('palette-expand-device.product').click();
  await drag(page, 'palette-field-device.product.model', 'drop-dimensions', 'dimension-1');
  await pick(page, 'chart-kind', null, { title: 'Heatmap' });
  await page.locator('[data-testid="report-preview"] [data-testid="report-chart"]').waitFor();
  await page.getByTestId('report-save').click();
  await page.getByTestId('report-view').waitFor();

  const saved = (await admin('/apps/crm/reports/e2e_by_model')).body;
  assert.deepEqual(saved.definition ?? saved, {
    form: 'service_order',
    filter: { '==': [{ var: 'kind' }, 'repair'] },
    dimensions: [{ field: 'priority' }, { field: 'device.product.model' }],
    measures: [
      { key: 'labour_hours_sum', agg: 'sum', field: 'labour_hours' },
      { key: 'count', agg: 'count' },
    ],
    chart: { kind: 'heatmap' },
  });
  await page.screenshot({ path: join(screenshotDir(), 'report-designer.png'), fullPage: true });

  // A key the server refuses is shown on the measure.
  await page.getByTestId('measure-settings-1').click();
  await page.getByTestId('measure-key-1').fill('Bad Key');
  await page.getByTestId('measure-issues-1').waitFor();
  await page.context().close();
});

test('an administrator reports on the parts used in service orders, a sub-table’s rows', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en', viewport: { width: 1500, height: 1000 } });
  await page.goto('/apps/crm/reports');
  await page.getByTestId('report-new').click();
  await page.getByTestId('new-key').fill('e2e_parts_used');
  await page.getByTestId('new-create').click();
  await page.getByTestId('report-designer').waitFor();
  await pick(page, 'report-form', 'service_order', { search: true });
  await page.getByTestId('palette-field-priority').waitFor();
  assert.equal(await page.getByTestId('palette-field-parts_used.qty').count(), 0, 'no row columns over the records');
  await pick(page, 'report-rows', 'parts_used');
  await page.getByTestId('palette-field-parts_used.qty').waitFor();
  await page.getByTestId('palette-expand-parts_used.part').click();
  // (The part's fields come with the spare-part form's schema: wait until they are listed.)
  await page.getByTestId('palette-field-parts_used.part.name').waitFor();
  await drag(page, 'palette-field-parts_used.part.name', 'drop-dimensions', 'dimension-0');
  await drag(page, 'palette-field-parts_used.qty', 'drop-measures', 'measure-0');
  await page.locator('[data-testid="report-preview"] [data-testid="report-chart"]').waitFor();
  await page.getByTestId('report-save').click();
  await page.getByTestId('report-view').waitFor();

  const saved = (await admin('/apps/crm/reports/e2e_parts_used')).body;
  assert.deepEqual(saved.definition ?? saved, {
    form: 'service_order',
    rows: 'parts_used',
    dimensions: [{ field: 'parts_used.part.name' }],
    measures: [{ key: 'parts_used_qty_sum', agg: 'sum', field: 'parts_used.qty' }],
    chart: { kind: 'bar' },
  });
  // The run adds up the quantities of every order's rows, by part.
  const run = (await admin('/apps/crm/reports/e2e_parts_used/run', { method: 'POST', body: {} })).body;
  const orders = (await admin('/apps/crm/forms/service_order/records?limit=1000&fields=parts_used')).body.items;
  const used = orders.flatMap((o) => o.data.parts_used ?? []).reduce((n, r) => n + (r.qty ?? 0), 0);
  const counted = run.rows.reduce((n, r) => n + (r.cells.parts_used_qty_sum ?? 0), 0);
  assert.ok(used > 0, 'the demo orders use parts');
  assert.equal(counted, used);
  await page.context().close();
});

test('an administrator builds a dashboard: a widget mapped to the period filter, placed on the grid', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/dashboards/e2e_dash/design');
  await page.getByTestId('dashboard-builder').waitFor();
  await page.getByTestId('dashboard-label-en').fill('E2E dashboard');
  await page.getByTestId('dashboard-add-filter').click();
  await pick(page, 'dashboard-add-widget', 'Orders by month', { search: true });
  await pick(page, 'dashboard-add-widget', 'Open service', { search: true });
  await page.getByTestId('widget-x-1').fill('6');
  await page.getByTestId('widget-x-1').press('Tab');
  await page.getByTestId('widget-y-1').fill('0');
  await page.getByTestId('widget-y-1').press('Tab');
  await page.getByTestId('widget-w-1').fill('4');
  await page.getByTestId('widget-w-1').press('Tab');
  await page.getByTestId('widget-right-1').click(); // x 7
  await pick(page, 'widget-filter-0-period', null, { title: 'Reported at (reported_at)' });
  await page.getByTestId('dashboard-save').click();
  await page.getByTestId('dashboard-view').waitFor();
  const saved = (await admin('/apps/crm/dashboards/e2e_dash')).body;
  assert.deepEqual((saved.definition ?? saved).widgets, [
    { report: 'orders_by_month', x: 0, y: 0, w: 6, h: 4, filters: { period: 'reported_at' } },
    { report: 'open_orders', x: 7, y: 0, w: 4, h: 4 },
  ]);
  await page.context().close();
});

test('dashboard widgets are moved and resized by dragging them in the layout', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/dashboards/e2e_drag/design');
  await page.getByTestId('dashboard-builder').waitFor();
  await page.getByTestId('dashboard-label-en').fill('E2E drag');
  await pick(page, 'dashboard-add-widget', 'Orders by month', { search: true });
  await pick(page, 'dashboard-add-widget', 'Open service', { search: true });
  const num = async (id) => Number(await page.getByTestId(id).inputValue());
  const before = { w0: await num('widget-w-0'), h0: await num('widget-h-0'), x1: await num('widget-x-1'), y1: await num('widget-y-1') };
  const grid = await page.getByTestId('layout-preview').boundingBox();
  const col = (grid.width + 4) / 12; // 12 columns, 4 px apart
  const row = 28 + 4;
  const drag = async (from, dx, dy) => {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    for (let s = 1; s <= 8; s++) await page.mouse.move(from.x + (dx * s) / 8, from.y + (dy * s) / 8);
    await page.mouse.up();
  };
  // the lower right corner of the first box: two columns wider, two rows taller
  const handle = await page.locator('[data-testid="layout-box-0"] .react-resizable-handle').boundingBox();
  await drag({ x: handle.x + handle.width / 2, y: handle.y + handle.height / 2 }, 2 * col, 2 * row);
  await until(async () => (await num('widget-w-0')) === Math.min(12, before.w0 + 2), 'the width follows the drag');
  assert.equal(await num('widget-h-0'), before.h0 + 2);
  // the second box, taken by its middle: three rows further down
  const box = await page.getByTestId('layout-box-1').boundingBox();
  await drag({ x: box.x + box.width / 2, y: box.y + box.height / 2 }, 0, 3 * row);
  await until(async () => (await num('widget-y-1')) === before.y1 + 3, 'the row follows the drag');
  assert.equal(await num('widget-x-1'), before.x1);
  await page.getByTestId('dashboard-save').click();
  await page.getByTestId('dashboard-view').waitFor();
  const saved = (await admin('/apps/crm/dashboards/e2e_drag')).body;
  const widgets = (saved.definition ?? saved).widgets;
  assert.equal(widgets[0].w, Math.min(12, before.w0 + 2));
  assert.equal(widgets[0].h, before.h0 + 2);
  assert.equal(widgets[1].y, before.y1 + 3);
  await page.context().close();
});

/** Click a drawn bar of the ECharts canvas inside `scope`: find a coloured pixel. */
async function clickABar(page, scope) {
  const canvas = page.locator(`${scope} canvas`).first();
  await canvas.waitFor();
  await page.waitForTimeout(800); // the entry animation
  const spot = await canvas.evaluate((c) => {
    const ctx = c.getContext('2d');
    const { data, width, height } = ctx.getImageData(0, 0, c.width, c.height);
    const scale = c.width / c.getBoundingClientRect().width;
    const px = (x, y) => data.slice((y * width + x) * 4, (y * width + x) * 4 + 4);
    const coloured = (x, y) => {
      const [r, g, b, a] = px(x, y);
      return a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 60;
    };
    // The tallest run of coloured pixels below the legend: the middle of a bar.
    let best = null;
    for (let x = Math.floor(width * 0.08); x < width * 0.97; x++) {
      let run = 0;
      for (let y = Math.floor(height * 0.2); y < height; y++) {
        run = coloured(x, y) ? run + 1 : 0;
        if (run > 0 && (!best || run > best.run)) best = { x, y: y - Math.floor(run / 2), run };
      }
    }
    if (!best) return null;
    // The horizontal middle of that bar.
    let [l, r] = [best.x, best.x];
    while (l > 0 && coloured(l - 1, best.y)) l--;
    while (r < width - 1 && coloured(r + 1, best.y)) r++;
    return { x: (l + r) / 2 / scale, y: best.y / scale };
  });
  assert.ok(spot, 'a bar is drawn');
  await canvas.click({ position: { x: spot.x, y: spot.y } });
}

test('an admin builds a bar chart of orders by month and priority by dragging, adds it to a dashboard, and a manager drills from a bar to the orders', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en', viewport: { width: 1500, height: 1000 } });
  await page.goto('/apps/crm/reports');
  await page.getByTestId('report-new').click();
  await page.getByTestId('new-key').fill('e2e_month_priority');
  await page.getByTestId('new-create').click();
  await page.getByTestId('report-designer').waitFor();
  await pick(page, 'report-form', 'service_order', { search: true });
  await page.getByTestId('palette-field-reported_at').waitFor();
  await drag(page, 'palette-field-reported_at', 'drop-dimensions', 'dimension-0');
  await pick(page, 'dimension-bucket-0', null, { title: 'month' });
  await drag(page, 'palette-field-priority', 'drop-dimensions', 'dimension-1');
  await page.getByTestId('measure-add-count').click();
  await pick(page, 'chart-kind', null, { title: 'Bar' });
  await page.getByTestId('report-label-en').fill('Orders by month and priority');
  await page.locator('[data-testid="report-preview"] [data-testid="report-chart"]').waitFor();
  await page.getByTestId('report-save').click();
  await page.getByTestId('report-view').waitFor();
  const saved = (await admin('/apps/crm/reports/e2e_month_priority')).body.definition;
  assert.deepEqual(saved.dimensions, [{ field: 'reported_at', bucket: 'month' }, { field: 'priority' }]);
  assert.deepEqual(saved.measures.map((m) => m.agg), ['count']);
  assert.equal(saved.chart.kind, 'bar');

  // On a dashboard for the service managers.
  await page.goto('/apps/crm/dashboards/e2e_story/design');
  await page.getByTestId('dashboard-builder').waitFor();
  await page.getByTestId('dashboard-label-en').fill('Monthly orders');
  await pick(page, 'dashboard-roles', 'service_manager', { search: true });
  await pick(page, 'dashboard-add-widget', 'Orders by month and priority', { search: true });
  await page.getByTestId('dashboard-save').click();
  await page.getByTestId('dashboard-view').waitFor();
  const dash = (await admin('/apps/crm/dashboards/e2e_story')).body.definition;
  assert.deepEqual(dash.roles, ['service_manager']);
  assert.equal(dash.widgets[0].report, 'e2e_month_priority');
  await page.context().close();

  // The manager finds it among their dashboards and drills from a bar.
  const manager = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en', viewport: { width: 1400, height: 900 } });
  await manager.getByTestId('app-crm').click();
  await manager.getByTestId('home-dashboards').waitFor();
  // The dashboard is for the service managers: their home page links to it.
  await manager.getByTestId('home-dashboard-link-e2e_story').click();
  await manager.waitForURL(/\/dashboards\/e2e_story$/);
  await manager.getByTestId('dashboard-widget-0').waitFor();
  await clickABar(manager, '[data-testid="dashboard-widget-0"]');
  await manager.waitForURL(/\/forms\/service_order\?filter=/);
  const filter = JSON.parse(new URL(manager.url()).searchParams.get('filter'));
  await manager.getByTestId('list-total').waitFor();
  const shown = Number((await manager.getByTestId('list-total').innerText()).replace(/\D/g, ''));
  // The bar's row in the manager's own run has this filter; its count is the list's.
  const mgr = await loginApi(server, 'manager_east', DEMO_PASSWORD);
  const run = (await mgr('/apps/crm/reports/e2e_month_priority/run', { method: 'POST', body: {} })).body;
  const row = run.rows.find((r) => JSON.stringify(r.drill) === JSON.stringify(filter));
  assert.ok(row, `the clicked bar is a row of the report: ${JSON.stringify(filter)}`);
  assert.equal(shown, row.rows);
  assert.ok(row.rows > 0);
  await manager.context().close();
});

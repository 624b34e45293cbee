// A dashboard's choice filters against a real server in Debian's Chromium: a service
// manager picks a priority on the service dashboard, every widget that maps the filter runs
// again with `in` over its priority field and the open-orders card counts only those
// orders; at phone width the filters wrap inside the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD, launchBrowser, loginApi, loginPage, PHONE, pick, startServer, until } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const URGENT = { in: [{ var: 'priority' }, ['urgent']] };
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
/** Is `part` the filter, or one of the parts it ANDs? */
const carries = (filter, part) => same(filter, part) || (Array.isArray(filter?.and) && filter.and.some((p) => same(p, part)));

/** The number a dashboard's number card shows (digits only; a dash is 0). */
async function cardNumber(page, key) {
  const text = await page.locator(`[data-testid="dashboard-grid"] [data-testid="report-number-${key}"] .ant-statistic-content`).innerText();
  return Number(text.replace(/\D/g, '') || 0);
}

test('choosing a priority re-runs every widget that maps it with the chosen value', async () => {
  const mgr = await loginApi(server, 'manager_east', DEMO_PASSWORD);
  const dash = (await mgr('/apps/crm/dashboards/service')).body;
  const def = dash.definition ?? dash;
  assert.deepEqual(
    def.filters.map((f) => [f.key, f.type]),
    [
      ['period', 'date_range'],
      ['priority', 'select'],
      ['team', 'select'],
    ],
  );
  // The reports of the widgets the manager sees that apply the priority filter.
  const mapping = new Set(def.widgets.filter((w) => w.filters?.priority).map((w) => w.report));
  assert.ok(mapping.has('open_orders'), 'the open-orders card maps the priority');

  const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm');
  await page.getByTestId('home-dashboards').waitFor();
  await page.getByTestId('home-dashboard-link-service').click();
  await page.waitForURL(/\/dashboards\/service$/);
  await page.locator('[data-testid="dashboard-grid"] [data-testid="report-number-open_orders"]').waitFor();
  await page.getByTestId('dashboard-filter-priority').waitFor();
  const before = { open: await cardNumber(page, 'open_orders'), urgent: await cardNumber(page, 'open_urgent') };

  // Only the runs sent from now on (every widget sent its first one when it appeared).
  const runs = [];
  let armed = false;
  page.on('request', (r) => {
    const m = /\/reports\/([^/]+)\/run$/.exec(new URL(r.url()).pathname);
    if (armed && m && r.method() === 'POST') runs.push({ report: m[1], filter: JSON.parse(r.postData() ?? '{}').filter });
  });
  const answered = page.waitForResponse(
    (r) => r.url().endsWith('/reports/open_orders/run') && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('"urgent"'),
  );
  armed = true;
  await pick(page, 'dashboard-filter-priority', 'Urgent', { exact: true });

  await until(() => [...mapping].every((report) => runs.some((r) => r.report === report && carries(r.filter, URGENT))), 'every widget mapping the priority ran again');
  for (const r of runs) {
    assert.ok(mapping.has(r.report), `${r.report} does not map the priority and ran again`);
    assert.ok(carries(r.filter, URGENT), `${r.report} ran with ${JSON.stringify(r.filter)}`);
  }

  // The card shows the count the filtered run answered: the open orders that are urgent.
  const run = await (await answered).json();
  const after = Number(run.rows[0]?.cells.open_orders ?? 0);
  await until(async () => (await cardNumber(page, 'open_orders')) === after, `the card shows ${after}`);
  assert.ok(after <= before.open, `${after} open urgent orders of ${before.open} open ones`);
  assert.equal(after, before.urgent, 'as many as the card counted urgent before');
  // The choice stays shown.
  assert.match(await page.getByTestId('dashboard-filter-priority').innerText(), /Urgent/);
  await page.context().close();
});

test('at phone width the shared filters wrap inside the page', async () => {
  const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en', viewport: PHONE });
  await page.goto('/apps/crm/dashboards/service');
  await page.getByTestId('dashboard-filter-team').waitFor();
  await page.getByTestId('dashboard-widget-0').waitFor();
  const boxes = await page
    .locator('[data-testid="dashboard-filter-period"], [data-testid="dashboard-filter-priority"], [data-testid="dashboard-filter-team"]')
    .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
  assert.equal(boxes.length, 3);
  for (const b of boxes) assert.ok(b.left >= 0 && b.right <= PHONE.width, `a filter at ${b.left}–${b.right}`);
  assert.ok(new Set(boxes.map((b) => Math.round(b.top))).size > 1, 'the filters wrap onto more than one line');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `page is ${width}px wide`);
  await page.context().close();
});

// Every CRM role's home page, in zh-CN, against a real server in Debian's Chromium: one
// demo user of each role (director, service manager, engineer, customer service, sales,
// compliance, finance) logs in; the home page links every dashboard the CRM package
// names for their role (seed-apps/medical-device-crm/dashboards/*.json), under its
// Chinese label; each of those dashboards opens with every widget the user may see
// drawn — a chart, cards or rows, no error — and nothing fails in the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEMO_PASSWORD, launchBrowser, loginApi, loginPage, startServer, until } from './harness.mjs';

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

const DIR = fileURLToPath(new URL('../../seed-apps/medical-device-crm/dashboards/', import.meta.url));
const PACKAGE = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ key: f.slice(0, -5), ...JSON.parse(readFileSync(DIR + f, 'utf8')) }));

const USERS = [
  ['director', 'service_director'],
  ['manager_east', 'service_manager'],
  ['engineer1', 'engineer'],
  ['cs1', 'customer_service'],
  ['sales1', 'sales'],
  ['compliance1', 'compliance'],
  ['finance1', 'finance'],
];

/** Wait until every widget of the open dashboard has drawn (or failed); the failures. */
async function widgetsDrawn(page, count) {
  for (let i = 0; i < count; i++) {
    const widget = page.locator(`[data-testid="dashboard-grid"] [data-testid="dashboard-widget-${i}"]`);
    await widget.waitFor();
    await until(
      async () => (await widget.locator('[data-testid="report-chart"], [data-testid="report-rows"]').count()) > 0 || (await widget.locator(`[data-testid="widget-error-${i}"]`).count()) > 0,
      `widget ${i} drawn`,
      30000,
    );
    assert.equal(await widget.locator(`[data-testid="widget-error-${i}"]`).count(), 0, `widget ${i}: ${await widget.innerText()}`);
  }
}

for (const [user, role] of USERS) {
  test(`${user} (${role}) finds every dashboard of their role on the home page, each drawn`, async () => {
    const expected = PACKAGE.filter((d) => d.roles.includes(role));
    assert.ok(expected.length > 0, `the package has a dashboard for ${role}`);
    const call = await loginApi(server, user, DEMO_PASSWORD);
    const page = await loginPage(browser, server, user, DEMO_PASSWORD);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/apps/crm');
    await page.getByTestId('home-dashboards').waitFor();
    for (const d of expected) {
      const link = page.getByTestId(`home-dashboard-link-${d.key}`);
      await link.waitFor();
      assert.match(await link.innerText(), new RegExp(d.label['zh-CN']));
    }
    for (const d of expected) {
      // The widgets this user may see: the server's answer for them.
      const mine = await call(`/apps/crm/dashboards/${d.key}`);
      assert.equal(mine.status, 200, `${d.key}: ${JSON.stringify(mine.body)}`);
      const widgets = (mine.body.definition ?? mine.body).widgets;
      assert.ok(widgets.length > 0, d.key);
      await page.goto(`/apps/crm/dashboards/${d.key}`);
      await page.getByTestId('dashboard-grid').waitFor();
      await widgetsDrawn(page, widgets.length);
    }
    assert.deepEqual(errors, []);
    await page.context().close();
  });
}

// A scheduled report delivery designed in the browser: an admin creates a flow on the CRM
// with a schedule trigger (no form), adds a report node running `orders_by_status` as
// `service_manager` into `vars.by_status`, and a notify node to the service directors whose
// body lists the rows (`{{#each vars.by_status.body.rows}}…{{/each}}`); start → report →
// notify → end; publishes without errors, and the stored definition (through the API) has
// the report node with exactly those settings.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, connect, launchBrowser, loginPage, pick, startServer, until } from './harness.mjs';

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

const BODY = '{{#each vars.by_status.body.rows}}{{this.cells.status}}: {{this.cells.orders}}\n{{/each}}';

test('admin designs a scheduled report delivery with a report node and publishes it', async () => {
  const adminCall = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const edgeCount = () => page.locator('.react-flow__edge').count();

  // New flow
  await page.goto('/apps/crm/flows');
  await page.getByTestId('flow-new').click();
  await page.getByTestId('flow-new-key').fill('weekly_orders');
  await page.getByTestId('flow-new-label-zh').fill('每周工单状态');
  await page.getByTestId('flow-new-label-en').fill('Weekly orders by status');
  await page.getByTestId('flow-new-create').click();
  await page.waitForURL('**/apps/crm/flows/weekly_orders');
  await page.getByTestId('flow-canvas').waitFor();
  await page.getByTestId('flow-node-start').waitFor();

  // Trigger: every Monday at 8, no form
  await page.getByTestId('flow-trigger-panel').waitFor();
  await pick(page, 'flow-trigger-type', 'On a schedule');
  await page.getByTestId('flow-trigger-cron').fill('0 8 * * 1');
  const form = page.getByTestId('flow-trigger-form');
  await form.hover();
  await form.locator('.ant-select-clear').click();
  await until(async () => !/\(/.test(await form.innerText()), 'the form cleared');

  // The report node: the palette offers it; its panel picks the report, the role, the name
  await page.getByTestId('flow-palette-report').click();
  await page.getByTestId('flow-node-report_1').waitFor();
  await page.getByTestId('flow-node-panel').waitFor();
  assert.equal(await page.getByTestId('flow-prop-id').inputValue(), 'report_1');
  assert.equal(await page.getByTestId('flow-node-report_1').getAttribute('data-type'), 'report');
  await pick(page, 'flow-prop-report', '(orders_by_status)', { search: 'orders_by_status' });
  await pick(page, 'flow-prop-as-role', '(service_manager)', { search: 'service_manager' });
  await page.getByTestId('flow-prop-name').fill('by_status');
  // the notify body that lists the rows, with the report's columns
  await until(
    async () => /vars\.by_status\.body\.rows.*this\.cells\.status.*this\.cells\.orders/s.test((await page.getByTestId('flow-prop-report-template').textContent()) ?? ''),
    'the rows template',
  );
  await until(async () => /orders_by_status/.test(await page.getByTestId('flow-node-report_1').innerText()), 'the node summary');

  // The notify node to the service directors, listing the rows
  await page.getByTestId('flow-palette-notify').click();
  await page.getByTestId('flow-node-notify_1').waitFor();
  await until(async () => (await page.getByTestId('flow-prop-id').inputValue()) === 'notify_1', 'the notify panel');
  await pick(page, 'flow-prop-to-kind', 'Role', { exact: true });
  await pick(page, 'flow-prop-to', '(service_director)', { search: 'service_director' });
  await page.getByTestId('flow-prop-title').fill('Orders by status');
  await page.getByTestId('flow-prop-body').fill(BODY);

  // start → report → (ok) notify → end
  await connect(page, 'flow-handle-start-out', 'flow-handle-report_1-in');
  await until(async () => (await edgeCount()) === 1, 'edge 1');
  await connect(page, 'flow-handle-report_1-ok', 'flow-handle-notify_1-in');
  await until(async () => (await edgeCount()) === 2, 'edge 2');
  await connect(page, 'flow-handle-notify_1-out', 'flow-handle-end-in');
  await until(async () => (await edgeCount()) === 3, 'edge 3');
  await until(async () => (await page.getByTestId('flow-lint').count()) === 0, 'no client hints');

  await page.getByTestId('flow-save').click();
  await until(async () => (await page.getByTestId('flow-dirty').count()) === 0, 'draft saved');
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();
  assert.equal(await page.getByTestId('flow-errors').count(), 0);

  // The stored definition
  const stored = await adminCall('/apps/crm/flows/weekly_orders');
  assert.equal(stored.status, 200);
  assert.equal(stored.body.published_version, 1);
  const def = stored.body.definition;
  assert.deepEqual(def.trigger, { type: 'schedule', cron: '0 8 * * 1' });
  const byId = Object.fromEntries(def.nodes.map((n) => [n.id, n]));
  assert.deepEqual(Object.keys(byId).sort(), ['end', 'notify_1', 'report_1', 'start']);
  assert.deepEqual(byId.report_1, {
    id: 'report_1',
    type: 'report',
    report: 'orders_by_status',
    as_role: 'service_manager',
    name: 'by_status',
  });
  assert.deepEqual(byId.notify_1, {
    id: 'notify_1',
    type: 'notify',
    to: { role: 'service_director' },
    title: 'Orders by status',
    body: BODY,
  });
  assert.deepEqual(
    def.edges.map((e) => JSON.stringify(e)).sort(),
    [
      { from: 'start', to: 'report_1' },
      { from: 'report_1', to: 'notify_1' },
      { from: 'notify_1', to: 'end' },
    ]
      .map((e) => JSON.stringify(e))
      .sort(),
  );
  for (const id of Object.keys(byId)) assert.equal(typeof def.layout[id]?.x, 'number', `layout of ${id}`);
  assert.deepEqual(pageErrors, []);
});

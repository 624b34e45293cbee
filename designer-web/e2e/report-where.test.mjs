// A measure's condition ("count where…") in the report designer against a real server in
// Debian's Chromium: an administrator builds "count where priority is Urgent" with the
// visual condition editor, the saved JSON Logic is exactly that comparison and the
// preview's number is the server's; a condition the visual editor cannot show
// (`hours_between`) is shown as JSON and saved back unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, launchBrowser, loginPage, pick, startServer } from './harness.mjs';

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

const URGENT = { '==': [{ var: 'priority' }, 'urgent'] };

test('an administrator builds "count where priority is Urgent" without typing JSON', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en', viewport: { width: 1500, height: 1000 } });
  await page.goto('/apps/crm/reports');
  await page.getByTestId('report-new').click();
  await page.getByTestId('new-key').fill('e2e_urgent');
  await page.getByTestId('new-create').click();
  await page.getByTestId('report-designer').waitFor();
  await pick(page, 'report-form', 'service_order', { search: true });
  await page.getByTestId('palette-field-priority').waitFor();

  await page.getByTestId('measure-add-count').click();
  await page.getByTestId('measure-0').waitFor();
  await page.getByTestId('measure-settings-0').click();
  await page.getByTestId('measure-key-0').fill('urgent');
  await page.getByTestId('measure-settings-0').click();

  await page.getByTestId('measure-where-0-add').click();
  await pick(page, 'measure-where-0-field-0', '(priority)', { search: 'priority' });
  // A select field offers its options as the value.
  await pick(page, 'measure-where-0-value-0', 'Urgent', { exact: true });
  await pick(page, 'chart-kind', null, { title: 'Number' });

  // "Edit as JSON" shows what the rows say; back to the visual editor keeps it.
  await page.getByTestId('measure-where-0-to-json').click();
  assert.deepEqual(JSON.parse(await page.getByTestId('measure-where-0-json').inputValue()), URGENT);
  await page.getByTestId('measure-where-0-to-visual').click();
  await page.getByTestId('measure-where-0-value-0').waitFor();
  assert.match(await page.getByTestId('measure-where-0-value-0').innerText(), /Urgent/);

  const card = page.locator('[data-testid="report-preview"] [data-testid="report-number-urgent"]');
  await card.waitFor();
  await page.getByTestId('report-save').click();
  await page.getByTestId('report-view').waitFor();

  const saved = (await admin('/apps/crm/reports/e2e_urgent')).body;
  const def = saved.definition ?? saved;
  assert.equal(def.form, 'service_order');
  assert.deepEqual(def.measures, [{ key: 'urgent', agg: 'count', where: URGENT }]);

  const run = (await admin('/apps/crm/reports/e2e_urgent/run', { method: 'POST', body: {} })).body;
  const expected = run.rows[0].cells.urgent;
  assert.equal(typeof expected, 'number');
  await page.waitForFunction(
    (n) => {
      const el = document.querySelector('[data-testid="report-preview"] [data-testid="report-number-urgent"]');
      return el !== null && /\d/.test(el.textContent ?? '') && Number((el.textContent ?? '').replace(/\D/g, '')) === n;
    },
    expected,
  );
  await page.context().close();
});

test('a condition the visual editor cannot show is shown as JSON and saved back unchanged', async () => {
  const sla = {
    or: [
      { and: [{ '==': [{ var: 'priority' }, 'urgent'] }, { '<=': [{ hours_between: [{ var: 'reported_at' }, { var: 'resolved_at' }] }, 4] }] },
      { '!=': [{ var: 'priority' }, 'urgent'] },
    ],
  };
  const def = {
    form: 'service_order',
    dimensions: [{ field: 'priority' }],
    measures: [
      { key: 'in_sla', agg: 'share', where: sla },
      { key: 'urgent', agg: 'count', where: URGENT },
    ],
    chart: { kind: 'table' },
  };
  assert.equal((await admin('/apps/crm/reports/e2e_sla', { method: 'PUT', body: def })).status, 200);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en', viewport: { width: 1500, height: 1000 } });
  await page.goto('/apps/crm/reports/e2e_sla/design');
  await page.getByTestId('measure-where-0-complex').waitFor();
  assert.deepEqual(JSON.parse(await page.getByTestId('measure-where-0-json').inputValue()), sla);
  assert.equal(await page.getByTestId('measure-where-0-to-visual').count(), 0);
  // The other measure's condition is shown as rows.
  assert.match(await page.getByTestId('measure-where-1-value-0').innerText(), /Urgent/);
  await page.locator('[data-testid="report-preview"] [data-testid="report-rows"]').waitFor();
  await page.getByTestId('report-save').click();
  await page.getByTestId('report-view').waitFor();
  const saved = (await admin('/apps/crm/reports/e2e_sla')).body;
  assert.deepEqual(saved.definition ?? saved, def);
  await page.context().close();
});

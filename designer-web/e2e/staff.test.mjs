// The staff app against a real server in Debian's Chromium: a customer-service user files
// a service order (server validation shown on the right field), finds it by filter and
// exports it; an engineer never sees contract amounts or service fees; screenshots.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, DEMO_PASSWORD, PHONE, adminApi, closeSelect, launchBrowser, loginPage, openSelect, pick, screenshotDir, startServer } from './harness.mjs';

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

function fieldError(page, key) {
  return page.locator(`[data-field="${key}"] .ant-form-item-explain-error`);
}

test('customer service files a service order, sees the server error on the field, finds and exports it', async () => {
  const customer = (await admin('/apps/crm/forms/customer/records?limit=1&fields=name')).body.items[0];
  const page = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en' });
  await page.getByTestId('app-crm').click();
  await page.getByTestId('form-service_order').click();
  await page.getByTestId('list-total').waitFor();
  await page.getByTestId('list-new').click();

  await pick(page, 'field-customer', customer.data.name.slice(0, 4), { search: true });
  await page.getByTestId('field-fault_code').fill('E2E-7731');
  // fault_description is required: leave it out so the server refuses the write.
  await page.getByTestId('record-save').click();
  await fieldError(page, 'fault_description').waitFor();
  assert.match(await fieldError(page, 'fault_description').innerText(), /required/);
  assert.equal(await fieldError(page, 'fault_code').count(), 0, 'only the failing field is marked');

  await page.getByTestId('field-fault_description').fill('E2E: screen stays dark after power-on');
  await page.getByTestId('record-save').click();
  await page.waitForURL(/\/records\/\d+$/);
  const id = Number(/\/records\/(\d+)$/.exec(page.url())[1]);
  const stored = (await admin(`/apps/crm/forms/service_order/records/${id}`)).body;
  assert.equal(stored.data.fault_code, 'E2E-7731');
  assert.equal(stored.data.customer, customer.id);
  assert.equal(stored.created_by, 'cs1');
  assert.match(stored.data.serial, /^SO-\d{8}-\d{4}$/);

  // History shows the creation with field-level values.
  await page.getByTestId('tab-history').click();
  await page.getByTestId('history').getByText('E2E-7731').waitFor();

  // Find it by filter.
  await page.getByTestId('record-back').click();
  await page.getByTestId('filter-add').click();
  await pick(page, 'filter-field-0', 'Fault code', { search: true });
  await page.getByTestId('filter-value-0').fill('E2E-77');
  await page.getByTestId('filter-apply').click();
  await page.getByTestId(`record-link-${id}`).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="list-total"]')?.textContent?.startsWith('1 '));
  assert.equal(await page.locator('[data-testid^="record-link-"]').count(), 1);

  // Export the filtered list as CSV.
  await page.getByTestId('list-export').hover();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines.length, 2, `one header and one record:\n${csv}`);
  assert.ok(lines[1].startsWith(`${id},`), `the exported row is the record: ${lines[1]}`);
  await page.context().close();
});

test('an engineer cannot see contract amounts or service fees anywhere in the UI', async () => {
  const contract = (await admin('/apps/crm/forms/contract/records?limit=1')).body.items[0];
  const amount = contract.data.amount;
  assert.equal(typeof amount, 'number');
  const order = (await admin('/apps/crm/forms/service_order/records?limit=1&filter=' + encodeURIComponent(JSON.stringify({ '==': [{ var: 'engineer' }, 'engineer1'] })))).body.items[0];

  const page = await loginPage(browser, server, 'engineer1', DEMO_PASSWORD);
  const bodies = [];
  page.on('response', async (r) => {
    if (r.url().includes('/api/v1/')) bodies.push(await r.text().catch(() => ''));
  });
  const visible = async () => page.locator('body').innerText();
  const amountTexts = [String(amount), amount.toLocaleString('zh-CN', { minimumFractionDigits: 2 })];

  // Contract list with every column the engineer may choose switched on.
  await page.goto('/apps/crm/forms/contract');
  await page.getByTestId('list-total').waitFor();
  await page.getByTestId('list-columns-button').click();
  const choices = await page.getByTestId('list-columns').innerText();
  assert.doesNotMatch(choices, /合同金额/);
  await page.getByTestId('list-columns').locator('input[type=checkbox]:not(:checked)').evaluateAll((els) => els.forEach((e) => e.click()));
  await page.getByTestId('list-table').locator('tbody tr.ant-table-row').first().waitFor();
  // Filter field choices do not offer it either.
  await page.getByTestId('filter-add').click();
  const { dropdown, options } = await openSelect(page, 'filter-field-0');
  await options.first().waitFor();
  const filterChoices = await dropdown.innerText();
  assert.doesNotMatch(filterChoices, /合同金额/);
  await closeSelect(page, 'filter-field-0');

  // The contract record form and its history.
  await page.goto(`/apps/crm/forms/contract/records/${contract.id}`);
  await page.getByTestId('record-title').waitFor();
  await page.locator('[data-field="contract_no"]').waitFor();
  let text = await visible();
  assert.doesNotMatch(text, /合同金额/);
  for (const a of amountTexts) assert.ok(!text.includes(a), `amount ${a} on the contract page`);
  await page.getByTestId('tab-history').click();
  await page.getByTestId('history').waitFor();
  text = await visible();
  for (const a of amountTexts) assert.ok(!text.includes(a), `amount ${a} in the history`);

  // The engineer's own service order: no service fee field.
  await page.goto(`/apps/crm/forms/service_order/records/${order.id}`);
  await page.locator('[data-field="fault_description"]').waitFor();
  text = await visible();
  assert.doesNotMatch(text, /服务费/);
  assert.equal(await page.locator('[data-field="service_fee"]').count(), 0);
  assert.equal(await page.locator('[data-field="amount"]').count(), 0);

  // Its printed service report: no fee, neither its label nor its value.
  const fee = order.data.service_fee;
  const [report] = await Promise.all([page.context().waitForEvent('page'), page.getByTestId('record-print').click()]);
  await report.waitForLoadState();
  const printed = await report.locator('body').innerText();
  assert.match(printed, /服务报告单/);
  assert.match(printed, new RegExp(order.data.serial));
  assert.doesNotMatch(printed, /服务费/);
  if (typeof fee === 'number') assert.ok(!printed.includes(fee.toFixed(2)), `fee ${fee} on the printed report`);
  await report.close();

  // Their home dashboard and the service-order list, each widget and row loaded.
  await page.goto('/apps/crm');
  await page.getByTestId('home-dashboards').waitFor();
  await page.getByTestId('home-dashboard-link-engineer').click();
  await page.getByTestId('dashboard-widget-0').waitFor();
  await page.waitForLoadState('networkidle');
  text = await visible();
  assert.doesNotMatch(text, /服务费|合同金额/);
  await page.goto('/apps/crm/forms/service_order');
  await page.getByTestId('list-total').waitFor();
  await page.locator('[data-testid^="record-link-"]').first().waitFor();
  text = await visible();
  assert.doesNotMatch(text, /服务费|合同金额/);

  // Nothing the browser received carried the values either.
  const all = bodies.join('\n');
  assert.ok(!all.includes('"amount"'), 'no amount key in any API response');
  assert.ok(!all.includes('"service_fee"'), 'no service_fee key in any API response');
  await page.context().close();
});

test('screenshots of a CRM list and a service order at desktop and phone width', async () => {
  const dir = screenshotDir();
  for (const [name, viewport] of [
    ['desktop', { width: 1366, height: 900 }],
    ['phone', PHONE],
  ]) {
    const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { viewport });
    await page.goto('/apps/crm/forms/service_order');
    if (name === 'phone') {
      // At phone width the list is cards (no table), nothing wider than the screen, and
      // the sort menu stands in for the column headers.
      await page.locator('[data-testid^="list-card-"]').nth(3).waitFor();
      assert.equal(await page.getByTestId('list-table').count(), 0);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the list is ${overflow}px wider than the phone`);
      const answered = page.waitForResponse((r) => r.url().includes('/records/query') && JSON.parse(r.request().postData() ?? '{}').sort !== undefined);
      await pick(page, 'list-sort', null, { nth: 2 });
      const response = await answered;
      const sortKey = JSON.parse(response.request().postData()).sort;
      assert.match(sortKey, /^-[a-z_]+$/, 'the third option sorts by the first sortable column, descending');
      const ids = (await response.json()).items.map((r) => `list-card-${r.id}`);
      await page.waitForFunction((first) => document.querySelector('[data-testid^="list-card-"]')?.getAttribute('data-testid') === first, ids[0]);
      const shown = await page.locator('[data-testid^="list-card-"]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-testid')));
      assert.deepEqual(shown, ids, 'cards in the order the server sorted');
      assert.ok(await page.locator(`[data-testid="${ids[0]}"] [data-field="${sortKey.slice(1)}"]`).count(), 'the sorted column is on the card');
      await page.evaluate(() => window.scrollTo(0, 0));
    } else {
      await page.getByTestId('list-table').locator('tbody tr.ant-table-row').nth(3).waitFor();
    }
    await page.screenshot({ path: join(dir, `crm-list-${name}.png`), fullPage: name === 'desktop' });
    await page.locator('[data-testid^="record-link-"]').first().click();
    await page.locator('[data-field="fault_description"]').waitFor();
    await page.screenshot({ path: join(dir, `crm-service-order-${name}.png`), fullPage: true });
    if (name === 'phone') {
      // Nothing wider than the phone: the form reflows into one column.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`);
    }
    await page.context().close();
  }
});

test('an engineer edits own order: read-only fields, a sub-table row, a photo and a signature', async () => {
  const page = await loginPage(browser, server, 'engineer1', DEMO_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/forms/service_order');
  await page.locator('[data-testid^="record-link-"]').first().click();
  await page.waitForURL(/\/records\/\d+$/);
  const id = Number(/\/records\/(\d+)$/.exec(page.url())[1]);
  const before = (await admin(`/apps/crm/forms/service_order/records/${id}`)).body;
  assert.equal(before.data.engineer, 'engineer1');

  // Fields outside the engineer's write list are shown read-only; the form has no create.
  await page.locator('[data-field="customer"]').waitFor();
  assert.ok(await page.locator('[data-field="customer"] .ant-select-disabled').count(), 'customer is read-only');
  assert.equal(await page.getByTestId('field-cause').isDisabled(), false);

  // Hold the photo upload in flight while typing elsewhere: when it lands it must add the
  // photo without undoing what was typed meanwhile.
  let release;
  const held = new Promise((r) => (release = r));
  await page.route('**/api/v1/files?*', async (route) => {
    await held;
    await route.continue();
  });
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  await page.getByTestId('field-photos').locator('input[type=file]').setInputFiles({ name: 'board.png', mimeType: 'image/png', buffer: png });
  await page.getByTestId('field-cause').fill('E2E: worn power board');
  release();
  await page.getByTestId('field-photos').getByText('board.png').waitFor();
  await page.unroute('**/api/v1/files?*');
  assert.equal(await page.getByTestId('field-cause').inputValue(), 'E2E: worn power board', 'typing survives the upload');

  const rows = before.data.parts_used?.length ?? 0;
  await page.getByTestId('field-parts_used-add').click();
  const part = (await admin('/apps/crm/forms/spare_part/records?limit=1')).body.items[0];
  await pick(page, `field-parts_used.${rows}.part`, part.data.part_number, { search: true });
  await page.getByTestId(`field-parts_used.${rows}.qty`).fill('2');
  await page.getByTestId(`field-parts_used.${rows}.unit_cost`).fill('10.5');

  // Draw a stroke. The page may still be settling (a dropdown closing, the file list
  // growing), so scroll the pad into view, take its box then, and draw again if the
  // stroke did not land on the canvas (Save stays disabled until it does).
  const canvas = page.getByTestId('field-customer_signature').locator('canvas');
  const saveSignature = page.getByTestId('field-customer_signature').getByRole('button', { name: 'Save' });
  for (let attempt = 0; attempt < 5 && !(await saveSignature.isEnabled()); attempt++) {
    await canvas.scrollIntoViewIfNeeded();
    await page.waitForTimeout(200);
    const box = await canvas.boundingBox();
    await page.mouse.move(box.x + 20, box.y + 30);
    await page.mouse.down();
    await page.mouse.move(box.x + 120, box.y + 90, { steps: 8 });
    await page.mouse.move(box.x + 200, box.y + 40, { steps: 8 });
    await page.mouse.up();
  }
  await saveSignature.click();
  await page.getByTestId('field-customer_signature').getByText('signature.png').waitFor();

  await page.getByTestId('record-reason').fill('on-site visit');
  const [saved] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/records/${id}`)),
    page.getByTestId('record-save').click(),
  ]);
  assert.equal(saved.status(), 200, `save answered ${saved.status()}: ${await saved.text()}`);
  await page.getByText('Saved').waitFor();

  const after = (await admin(`/apps/crm/forms/service_order/records/${id}`)).body;
  assert.equal(after.data.cause, 'E2E: worn power board');
  assert.deepEqual(after.data.parts_used[rows], { part: part.id, qty: 2, unit_cost: 10.5 });
  assert.equal(after.data.customer, before.data.customer, 'read-only fields unchanged');
  assert.ok(after.data.photos.some((f) => f.name === 'board.png' && /^[0-9a-f]{64}$/.test(f.sha256)));
  assert.equal(after.data.customer_signature.content_type, 'image/png');
  const expectedCost = after.data.parts_used.reduce((s, r) => s + r.qty * (r.unit_cost ?? 0), 0);
  assert.ok(Math.abs(after.data.parts_cost - expectedCost) < 1e-6, 'the server recomputed parts_cost');
  const history = (await admin(`/apps/crm/forms/service_order/records/${id}/history`)).body.items;
  assert.equal(history.at(-1).reason, 'on-site visit');
  assert.equal(history.at(-1).actor, 'engineer1');
  await page.context().close();
});

test('CSV import: a dry run lists per-row errors, a fixed file imports all rows', async () => {
  const adminPage = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await adminPage.goto('/apps/crm/forms/customer');
  await adminPage.getByTestId('list-total').waitFor();
  const before = Number((await adminPage.getByTestId('list-total').innerText()).match(/\d+/)[0]);
  await adminPage.getByTestId('list-import').click();
  const bad = 'name,customer_type\nE2E Import Hospital,hospital\nE2E Broken,spaceship\n,clinic\n';
  await adminPage.locator('.ant-modal input[type=file]').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await adminPage.getByTestId('import-check').click();
  await adminPage.getByTestId('import-errors').waitFor();
  const errors = await adminPage.getByTestId('import-errors').locator('tbody tr').allInnerTexts();
  assert.ok(errors.some((r) => /^2\s+customer_type/.test(r)), `row 2 customer_type: ${errors.join(' | ')}`);
  assert.ok(errors.some((r) => /^3\s+name/.test(r)), `row 3 name: ${errors.join(' | ')}`);
  // Importing the bad file writes nothing.
  await adminPage.getByTestId('import-run').click();
  await adminPage.getByTestId('import-message').getByText(/nothing was imported/).waitFor();
  const good = 'name,customer_type\nE2E Import Hospital,hospital\nE2E Import Clinic,clinic\n';
  await adminPage.locator('.ant-modal input[type=file]').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await adminPage.getByTestId('import-check').click();
  await adminPage.getByTestId('import-message').getByText('Check passed: 2 rows').waitFor();
  await adminPage.getByTestId('import-run').click();
  await adminPage.getByTestId('import-message').getByText('Imported 2 rows').waitFor();
  await adminPage.keyboard.press('Escape');
  await adminPage.waitForFunction((n) => document.querySelector('[data-testid="list-total"]')?.textContent?.includes(String(n + 2)), before);
  const api = await adminApi(server);
  const found = (await api(`/apps/crm/forms/customer/records?total=true&filter=${encodeURIComponent(JSON.stringify({ starts_with: [{ var: 'name' }, 'E2E Import'] }))}`)).body;
  assert.equal(found.total, 2);
  await adminPage.context().close();
});

test('a sales rep creates a customer: the owner defaults to them, so it stays in their rows', async () => {
  const page = await loginPage(browser, server, 'sales1', DEMO_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/forms/customer/new');
  await page.locator('[data-field="owner"]').waitFor();
  await page.getByTestId('field-name').fill('E2E 新客户医院');
  await pick(page, 'field-customer_type', 'Hospital', { search: true });
  await page.getByTestId('record-save').click();
  await page.waitForURL(/\/records\/\d+$/);
  const id = Number(/\/records\/(\d+)$/.exec(page.url())[1]);
  const stored = (await admin(`/apps/crm/forms/customer/records/${id}`)).body;
  assert.equal(stored.data.owner, 'sales1');
  await page.context().close();
});

test('follow-up through the UI: a manager starts the flow, customer service records satisfaction 70, the order goes to second handling', async () => {
  const manager = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en' });
  await manager.goto('/apps/crm/forms/service_order');
  await manager.locator('[data-testid^="record-link-"]').first().click();
  await manager.waitForURL(/\/records\/\d+$/);
  const id = Number(/\/records\/(\d+)$/.exec(manager.url())[1]);
  await manager.getByTestId('tab-flows').click();
  await manager.getByTestId('start-flow-follow_up').click();
  await manager.getByTestId('record-flows').locator('[data-testid^="record-instance-"]').first().waitFor();
  // The record's flows tab draws the running instance where it stands: at the call.
  const graph = manager.getByTestId('record-flows').locator('[data-testid^="record-instance-graph-"]').first();
  await graph.locator('[data-testid="flow-node-call"][data-current="true"]').waitFor();
  assert.equal(await graph.locator('[data-current="true"]').count(), 1);
  await manager.context().close();

  const cs = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en' });
  await cs.goto('/tasks');
  const row = cs.locator('[data-testid^="task-link-"]').filter({ hasText: 'Call the customer' }).first();
  await row.click();
  await cs.getByTestId('task-record').waitFor();
  await cs.getByTestId('field-satisfaction').fill('70');
  await cs.getByTestId('task-comment').fill('customer unhappy with response time');
  await cs.getByTestId('task-done').click();
  await cs.getByTestId('task-closed').waitFor();
  await cs.context().close();

  // satisfaction < 80 starts the second-handling flow, which reopens the order.
  for (let i = 0; i < 50; i++) {
    const rec = (await admin(`/apps/crm/forms/service_order/records/${id}`)).body;
    if (rec.data.status === 'second_handling') {
      assert.equal(rec.data.satisfaction, 70);
      assert.equal(rec.data.second_handling, true);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail('the order did not go to second handling');
});

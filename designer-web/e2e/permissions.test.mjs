// The permission editor against a real server in Debian's Chromium: an administrator
// hides one device field from engineers, the saved role changes exactly that way, the
// engineer stops receiving the field, and the explain panel explains a denial; a
// sub-table column is hidden the same way (a `deny_read` entry "table.column").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, DEMO_PASSWORD, adminApi, launchBrowser, loginApi, loginPage, openSelect, pick, startServer } from './harness.mjs';

let server;
let browser;
let asAdmin;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  asAdmin = await adminApi(server);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Log in through the API as `username`; returns a GET helper with that session. */
async function userApi(username, password) {
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200, `login ${username}`);
  const cookie = res.headers.get('set-cookie').split(';')[0];
  return async (path) => {
    const r = await fetch(`${server.url}/api/v1${path}`, { headers: { cookie } });
    return { status: r.status, body: await r.json() };
  };
}

test('hiding a device field from engineers, then explaining a denial', async () => {
  const FIELD = 'asset_number';
  const before = await asAdmin('/apps/crm/roles/engineer');
  assert.equal(before.status, 200);
  assert.deepEqual(before.body.permissions.device.read, ['*']);
  assert.equal(before.body.permissions.device.deny_read, undefined);

  const engineer = await userApi('engineer1', DEMO_PASSWORD);
  const seen = await engineer('/apps/crm/forms/device/records?limit=1');
  assert.equal(seen.status, 200);
  assert.ok(FIELD in seen.body.items[0].data, 'the engineer reads the field before the change');

  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm');
  await page.getByTestId('nav-permissions').click();
  await page.waitForURL('**/apps/crm/permissions');

  await pick(page, 'perm-role', '(engineer)', { search: 'engineer' });
  // The matrix shows the role's actions.
  assert.equal(await page.getByTestId('perm-action-device-read').isChecked(), true);
  assert.equal(await page.getByTestId('perm-action-device-delete').isChecked(), false);
  assert.equal(await page.getByTestId('perm-save').isDisabled(), true);

  await pick(page, 'perm-field-form', '(device)', { search: 'device' });
  await page.getByTestId(`perm-read-${FIELD}`).waitFor();
  assert.equal(await page.getByTestId(`perm-read-${FIELD}`).isChecked(), true);
  // Writable fields are ticked; write needs read.
  assert.equal(await page.getByTestId('perm-write-status').isChecked(), true);
  assert.equal(await page.getByTestId(`perm-write-${FIELD}`).isChecked(), false);
  assert.equal(await page.getByTestId('perm-rows').innerText(), 'Custom filter (JSON Logic)');

  await page.getByTestId(`perm-read-${FIELD}`).uncheck();
  assert.equal(await page.getByTestId(`perm-read-${FIELD}`).isChecked(), false);
  await page.getByTestId('perm-save').click();
  await page.getByText('Saved', { exact: true }).waitFor(); // (not the "Unsaved changes" tag)
  await page.waitForFunction(() => document.querySelector('[data-testid="perm-save"]')?.disabled === true);

  // Exactly that change: deny_read gains the field, nothing else moved.
  const afterSave = await asAdmin('/apps/crm/roles/engineer');
  const expected = structuredClone(before.body);
  expected.permissions.device.deny_read = [FIELD];
  assert.deepEqual(afterSave.body, expected);

  // The engineer no longer receives the field (the policy epoch moved).
  const now = await engineer('/apps/crm/forms/device/records?limit=1');
  assert.equal(now.status, 200);
  assert.ok(now.body.items.length > 0);
  assert.ok(!(FIELD in now.body.items[0].data), 'the field is gone for the engineer');
  assert.ok('serial_number' in now.body.items[0].data, 'other fields are still there');

  // Explain: engineer1 may not read contract amounts.
  await pick(page, 'explain-user', '(engineer1)', { search: 'engineer1' });
  await pick(page, 'explain-form', '(contract)', { search: 'contract' });
  await pick(page, 'explain-action', '(read)', { search: 'read' });
  await pick(page, 'explain-field', '(amount)', { search: 'amount' });
  await page.getByTestId('explain-run').click();
  const result = page.getByTestId('explain-result');
  await result.waitFor();
  assert.equal(await result.getAttribute('data-allowed'), 'false');
  const text = await result.innerText();
  assert.match(text, /Denied/);
  assert.match(text, /engineer/);
  assert.match(text, /field\/contract\/amount/);

  // And the field just hidden: denied too, by the new deny rule.
  await pick(page, 'explain-form', '(device)', { search: 'device' });
  await pick(page, 'explain-field', `(${FIELD})`, { search: FIELD });
  await page.getByTestId('explain-run').click();
  await page.waitForFunction((f) => document.querySelector('[data-testid="explain-result"]')?.textContent?.includes(f), FIELD);
  assert.equal(await page.getByTestId('explain-result').getAttribute('data-allowed'), 'false');
  assert.match(await page.getByTestId('explain-result').innerText(), new RegExp(`field/device/${FIELD}`));

  // Put the role back (the next test reads it fresh).
  const restored = await asAdmin('/apps/crm/roles/engineer', { method: 'PUT', body: before.body });
  assert.equal(restored.status, 200);
  await page.context().close();
});

test('hiding a sub-table column from engineers saves a deny_read "table.column"', async () => {
  const COLUMN = 'parts_used.unit_cost';
  const before = await asAdmin('/apps/crm/roles/engineer');
  assert.equal(before.status, 200);
  assert.deepEqual(before.body.permissions.service_order.deny_read, ['service_fee']);
  const engineer = await userApi('engineer1', DEMO_PASSWORD);
  const columnsSeen = async () => {
    const r = await engineer('/apps/crm/forms/service_order');
    assert.equal(r.status, 200);
    return Object.keys(r.body.definition.schema.properties.parts_used.items.properties);
  };
  assert.ok((await columnsSeen()).includes('unit_cost'), 'the engineer sees the column before the change');

  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/permissions');

  // Customer service has the column denied already, and may not write the table at all:
  // the column shows unreadable, its write toggle is disabled, the other columns readable.
  await pick(page, 'perm-role', '(customer_service)', { search: 'customer_service' });
  await pick(page, 'perm-field-form', '(service_order)', { search: 'service_order' });
  await page.getByTestId(`perm-read-${COLUMN}`).waitFor();
  assert.equal(await page.getByTestId(`perm-read-${COLUMN}`).isChecked(), false);
  assert.equal(await page.getByTestId(`perm-write-${COLUMN}`).isDisabled(), true);
  assert.equal(await page.getByTestId('perm-read-parts_used.qty').isChecked(), true);
  assert.equal(await page.getByTestId('perm-write-parts_used.qty').isChecked(), false);
  // "All read" covers the columns too: ticking it makes the denied column readable.
  assert.equal(await page.getByTestId('perm-read-all').isChecked(), false);
  await page.getByTestId('perm-read-all').check();
  assert.equal(await page.getByTestId(`perm-read-${COLUMN}`).isChecked(), true);
  await page.getByTestId('perm-revert').click();
  assert.equal(await page.getByTestId(`perm-read-${COLUMN}`).isChecked(), false);

  // Engineers read and write the table, so every column is ticked.
  await pick(page, 'perm-role', '(engineer)', { search: 'engineer' });
  await pick(page, 'perm-field-form', '(service_order)', { search: 'service_order' });
  await page.getByTestId(`perm-read-${COLUMN}`).waitFor();
  assert.equal(await page.getByTestId(`perm-read-${COLUMN}`).isChecked(), true);
  assert.equal(await page.getByTestId(`perm-write-${COLUMN}`).isChecked(), true);
  assert.equal(await page.getByTestId(`perm-read-${COLUMN}`).isDisabled(), false);

  await page.getByTestId(`perm-read-${COLUMN}`).uncheck();
  assert.equal(await page.getByTestId(`perm-write-${COLUMN}`).isChecked(), false, 'write needs read');
  // The table itself keeps its ticks.
  assert.equal(await page.getByTestId('perm-read-parts_used').isChecked(), true);
  await page.getByTestId('perm-save').click();
  await page.getByText('Saved', { exact: true }).waitFor(); // (not the "Unsaved changes" tag)
  await page.waitForFunction(() => document.querySelector('[data-testid="perm-save"]')?.disabled === true);

  // Exactly that change: deny_read gains "table.column"; read and write are untouched.
  const afterSave = await asAdmin('/apps/crm/roles/engineer');
  const expected = structuredClone(before.body);
  expected.permissions.service_order.deny_read = ['service_fee', COLUMN];
  assert.deepEqual(afterSave.body, expected);

  // The engineer's definition of the form no longer has the column.
  const columns = await columnsSeen();
  assert.ok(!columns.includes('unit_cost'), 'the column is gone for the engineer');
  assert.ok(columns.includes('qty'), 'other columns are still there');

  const restored = await asAdmin('/apps/crm/roles/engineer', { method: 'PUT', body: before.body });
  assert.equal(restored.status, 200);
  await page.context().close();
});

test('a bad filter is refused before saving; a server 422 is shown next to the row scope', async () => {
  const before = await asAdmin('/apps/crm/roles/engineer');
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/permissions');
  await pick(page, 'perm-role', '(engineer)', { search: 'engineer' });
  await pick(page, 'perm-field-form', '(service_order)', { search: 'service_order' });
  const filter = page.getByTestId('perm-rows-filter');
  assert.match(await filter.inputValue(), /\$user\.id/);

  await filter.fill('{"==": [');
  await page.getByTestId('perm-rows-filter-error').waitFor();
  assert.equal(await page.getByTestId('perm-save').isDisabled(), true);

  // Valid JSON naming a field the form does not have: the server refuses it.
  await filter.fill('{"==": [{"var": "no_such_field"}, {"var": "$user.id"}]}');
  await page.getByTestId('perm-save').click();
  await page.getByTestId('perm-rows-errors').waitFor();
  assert.match(await page.getByTestId('perm-rows-errors').innerText(), /\/permissions\/service_order\/rows/);
  assert.match(await page.getByTestId('perm-save-error').innerText(), /no_such_field|field/);
  // Nothing was written.
  assert.deepEqual((await asAdmin('/apps/crm/roles/engineer')).body, before.body);

  // Ticking an action on a form the role does not use, then saving, adds just that entry.
  await page.getByTestId('perm-revert').click();
  await page.getByTestId('perm-action-complaint-read').check();
  await page.getByTestId('perm-save').click();
  await page.getByText('Saved', { exact: true }).first().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="perm-save"]')?.disabled === true);
  const saved = (await asAdmin('/apps/crm/roles/engineer')).body;
  assert.deepEqual(saved, { ...before.body, permissions: { ...before.body.permissions, complaint: { actions: ['read'] } } });
  await asAdmin('/apps/crm/roles/engineer', { method: 'PUT', body: before.body });
  await page.context().close();
});

test('creating and deleting a role', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/permissions');
  await page.getByTestId('perm-new-role').click();
  await page.getByTestId('perm-new-key').fill('auditor_e2e');
  await page.getByTestId('perm-new-label-zh').fill('审计');
  await page.getByTestId('perm-new-label-en').fill('Audit');
  await page.getByTestId('perm-new-submit').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="perm-role"]')?.textContent?.includes('auditor_e2e'));
  const created = await asAdmin('/apps/crm/roles/auditor_e2e');
  assert.equal(created.status, 200);
  assert.deepEqual(created.body, { key: 'auditor_e2e', label: { 'zh-CN': '审计', en: 'Audit' }, permissions: {} });

  await page.getByTestId('perm-delete-role').click();
  await page.getByTestId('perm-delete-confirm').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="perm-role"]')?.textContent?.includes('auditor_e2e'));
  assert.equal((await asAdmin('/apps/crm/roles/auditor_e2e')).status, 404);
  await page.context().close();
});

test('someone who is not an administrator is shown the server refusal', async () => {
  const page = await loginPage(browser, server, 'engineer1', DEMO_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/permissions');
  await page.getByTestId('perm-load-error').waitFor();
  assert.match(await page.getByTestId('perm-load-error').innerText(), /403/);
  assert.equal(await page.getByTestId('perm-save').count(), 0);
  await page.context().close();
});

test('a user holding two roles acts as one of them: its rows with its fields', async () => {
  // sales1 alone reads the contracts of their customers, with amounts.
  const user = await asAdmin('/admin/users/sales1');
  assert.deepEqual(user.body.roles, { crm: ['sales'] });
  const alone = await loginApi(server, 'sales1', DEMO_PASSWORD);
  const contract = (await alone('/apps/crm/forms/contract/records?limit=1')).body.items[0];
  assert.equal(typeof contract.data.amount, 'number');
  // As sales and engineer, whose rows differ: engineers read every contract but no amount,
  // so no amount shows anywhere (one mask per request, on the safe side)…
  const set = await asAdmin('/admin/users/sales1/roles', { method: 'PUT', body: { crm: ['engineer', 'sales'] } });
  assert.equal(set.status, 200);
  try {
    const page = await loginPage(browser, server, 'sales1', DEMO_PASSWORD, { locale: 'en' });
    const recordPage = `/apps/crm/forms/contract/records/${contract.id}`;
    await page.goto(recordPage);
    await page.locator('[data-field="contract_no"]').waitFor();
    assert.equal(await page.locator('[data-field="amount"]').count(), 0, 'no amount with both roles');

    // …until they act as sales: the app's requests carry the role, the amount is back.
    const choose = async (label) => {
      await page.goto('/apps/crm');
      const { dropdown } = await openSelect(page, 'role-switch');
      const option = dropdown.locator('.ant-select-item-option').filter({ hasText: new RegExp(`^${label}$`) });
      await Promise.all([page.waitForEvent('load'), option.click()]);
      await page.getByTestId('role-switch').waitFor();
      assert.match(await page.getByTestId('role-switch').innerText(), new RegExp(label));
    };
    await choose('sales');
    await page.goto(recordPage);
    await page.locator('[data-field="amount"]').waitFor();
    // Acting as sales, only their customers' contracts are listed.
    await page.goto('/apps/crm/forms/contract');
    await page.getByTestId('list-total').waitFor();
    const salesTotal = Number((await page.getByTestId('list-total').innerText()).split(' ')[0]);
    const everyContract = (await asAdmin('/apps/crm/forms/contract/records?limit=1&total=true')).body.total;
    assert.ok(salesTotal > 0 && salesTotal < everyContract, `${salesTotal} of ${everyContract}`);

    // Back to all their roles: the amount goes again.
    await choose('All my roles');
    await page.goto(recordPage);
    await page.locator('[data-field="contract_no"]').waitFor();
    assert.equal(await page.locator('[data-field="amount"]').count(), 0);
    await page.context().close();
  } finally {
    const restored = await asAdmin('/admin/users/sales1/roles', { method: 'PUT', body: user.body.roles });
    assert.equal(restored.status, 200);
  }
});

// Saved views of the staff list against a real server in Debian's Chromium: a service
// manager filters, sorts and picks columns, saves that as a view, finds it again after a
// reload and from a fresh list, updates and deletes it; an administrator shares a view that
// customer service then uses at phone width. The records shown are checked against the
// API's answer for the same filter and sort; a view showing system columns (created by,
// updated at) keeps and restores them. No screenshots.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, DEMO_PASSWORD, PHONE, adminApi, launchBrowser, loginApi, loginPage, pick, startServer } from './harness.mjs';

const LIST = '/apps/crm/forms/service_order';
const VIEWS = '/apps/crm/forms/service_order/views';

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

/** Record ids on the page, in the order shown (table rows or cards). */
function shownIds(page) {
  return page.locator('[data-testid^="record-link-"]').evaluateAll((links) => links.map((a) => Number(a.getAttribute('data-testid').slice('record-link-'.length))));
}

/** Wait until the page shows exactly `ids`, in order. */
async function waitForIds(page, ids) {
  await page.waitForFunction(
    (want) => JSON.stringify([...document.querySelectorAll('[data-testid^="record-link-"]')].map((a) => Number(a.getAttribute('data-testid').slice(12)))) === want,
    JSON.stringify(ids),
  );
  assert.deepEqual(await shownIds(page), ids);
}

/** Column headers of the table, without the `#` column. */
async function headers(page) {
  const texts = await page.getByTestId('list-table').locator('thead th').allInnerTexts();
  return texts.map((s) => s.trim()).filter((s) => s && s !== '#');
}

test('a service manager saves a filtered, sorted view with chosen columns, finds it after a reload, updates and deletes it', async () => {
  const me = await loginApi(server, 'manager_east', DEMO_PASSWORD);
  const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en' });
  await page.goto(LIST);
  await page.getByTestId('list-total').waitFor();
  assert.match(await page.getByTestId('list-view').innerText(), /All records/);

  // Filter: priority is high.
  await page.getByTestId('filter-add').click();
  await pick(page, 'filter-field-0', 'Priority', { exact: true });
  await pick(page, 'filter-value-0', 'High', { exact: true });
  await page.getByTestId('filter-apply').click();
  // Columns: add "Reported at", drop "Channel".
  await page.getByTestId('list-columns-button').click();
  await page.getByTestId('list-columns').getByLabel('Reported at').check();
  await page.getByTestId('list-columns').getByLabel('Channel').uncheck();
  await page.getByTestId('list-title').click();
  // Sort: newest report first (two clicks on the header: ascending, then descending).
  const reportedAt = page.getByTestId('list-table').locator('thead th').filter({ hasText: 'Reported at' });
  await reportedAt.click();
  await reportedAt.click();
  await pick(page, 'page-size', '50 per page', { exact: true });

  const filter = { '==': [{ var: 'priority' }, 'high'] };
  const columns = ['serial', 'kind', 'priority', 'status', 'customer', 'reported_at'];
  const expected = (await me(`${LIST}/records/query`, { method: 'POST', body: { filter, sort: '-reported_at', limit: 50, fields: columns, total: true } })).body;
  const ids = expected.items.map((r) => r.id);
  assert.ok(expected.total > 50, `more high-priority orders (${expected.total}) than one page`);
  await waitForIds(page, ids);
  assert.deepEqual(await headers(page), ['Order number', 'Kind', 'Priority', 'Status', 'Customer', 'Reported at']);

  // Save as view: the dialog shows what the view keeps; staff get no "shared" box.
  await page.getByTestId('list-view-save').click();
  await page.getByTestId('view-dialog').waitFor();
  assert.equal(await page.getByTestId('view-shared').count(), 0, 'only administrators share views');
  assert.equal(await page.getByTestId('view-spec-filter').innerText(), 'Priority equals High');
  assert.equal(await page.getByTestId('view-spec-sort').innerText(), 'Reported at descending');
  assert.equal(await page.getByTestId('view-spec-page-size').innerText(), '50');
  await page.getByTestId('view-name').fill('E2E high priority, newest first');
  await page.getByTestId('view-submit').click();
  await page.getByTestId('view-dialog').waitFor({ state: 'detached' });
  await page.waitForURL(/[?&]view=\d+/);
  // The manager's own views (the CRM package ships shared ones too).
  const mine = async () => (await me(VIEWS)).body.items.filter((v) => !v.shared);
  const saved = await mine();
  assert.equal(saved.length, 1);
  const view = saved[0];
  assert.equal(view.name, 'E2E high priority, newest first');
  assert.equal(view.owner, 'manager_east');
  assert.equal(view.shared, false);
  assert.deepEqual(view.spec, { filter, sort: '-reported_at', columns, page_size: 50 });
  assert.equal(new URL(page.url()).searchParams.get('view'), String(view.id));
  assert.equal(await page.getByTestId('list-view-modified').count(), 0);

  // The same name again: the server's conflict lands on the name field.
  await page.getByTestId('list-view-save').click();
  await page.getByTestId('view-name').fill('E2E high priority, newest first');
  await page.getByTestId('view-submit').click();
  await page.getByTestId('view-error-name').waitFor();
  assert.match(await page.getByTestId('view-error-name').innerText(), /taken/);
  await page.locator('.ant-modal').getByRole('button', { name: 'Cancel' }).click();
  await page.getByTestId('view-dialog').waitFor({ state: 'detached' });
  assert.equal((await mine()).length, 1);

  // Reload: the URL keeps the view.
  await page.reload();
  await waitForIds(page, ids);
  assert.match(await page.getByTestId('list-view').innerText(), /E2E high priority, newest first/);

  // A fresh list (all records, and a different column choice), then pick the view.
  await page.goto(LIST);
  const all = (await me(`${LIST}/records/query`, { method: 'POST', body: { limit: 1, total: true } })).body.total;
  await page.waitForFunction((n) => document.querySelector('[data-testid="list-total"]')?.textContent === `${n} records`, all);
  assert.match(await page.getByTestId('list-view').innerText(), /All records/);
  assert.equal(await page.getByTestId('filter-row-0').count(), 0);
  await page.getByTestId('list-columns-button').click();
  await page.getByTestId('list-columns').getByLabel('Reported at').uncheck();
  await page.getByTestId('list-title').click();
  assert.ok(!(await headers(page)).includes('Reported at'));

  const query = page.waitForRequest((r) => r.url().endsWith('/records/query') && JSON.parse(r.postData() ?? '{}').sort === '-reported_at');
  await pick(page, 'list-view', 'E2E high priority, newest first', { exact: true });
  const sent = JSON.parse((await query).postData());
  assert.deepEqual({ filter: sent.filter, sort: sent.sort, fields: sent.fields, limit: sent.limit }, { filter, sort: '-reported_at', fields: columns, limit: 50 });
  await waitForIds(page, ids);
  assert.equal(await page.getByTestId('list-total').innerText(), `${expected.total} records`);
  assert.deepEqual(await headers(page), ['Order number', 'Kind', 'Priority', 'Status', 'Customer', 'Reported at']);
  assert.equal(await page.getByTestId('filter-row-0').count(), 1, 'the view filter is in the builder');
  assert.equal(new URL(page.url()).searchParams.get('view'), String(view.id));
  assert.equal(await page.getByTestId('list-view-update').count(), 0, 'nothing to update yet');

  // Sort by order number instead: the view is modified, and its owner may update it.
  await page.getByTestId('list-table').locator('thead th').filter({ hasText: 'Order number' }).click();
  await page.getByTestId('list-view-modified').waitFor();
  await page.getByTestId('list-view-update').click();
  assert.equal(await page.getByTestId('view-name').inputValue(), 'E2E high priority, newest first');
  assert.equal(await page.getByTestId('view-spec-sort').innerText(), 'Order number ascending');
  await page.getByTestId('view-submit').click();
  await page.getByTestId('view-dialog').waitFor({ state: 'detached' });
  await page.getByTestId('list-view-modified').waitFor({ state: 'detached' });
  const updated = await mine();
  assert.equal(updated.length, 1);
  assert.deepEqual(updated[0].spec, { filter, sort: 'serial', columns, page_size: 50 });
  assert.equal(updated[0].id, view.id);

  // Delete it, after confirming.
  await page.getByTestId('list-view-delete').click();
  await page.getByTestId('list-view-delete-confirm').click();
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('view'));
  assert.deepEqual(await mine(), []);
  assert.match(await page.getByTestId('list-view').innerText(), /All records/);
  await page.waitForFunction((n) => document.querySelector('[data-testid="list-total"]')?.textContent === `${n} records`, all);
  await page.context().close();
});

test('an administrator shares a view; customer service uses it at phone width but may not change it', async () => {
  // The administrator shares a view from the UI, and one with a two-key sort (the column
  // headers sort by one key) through the API.
  const adminPage = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await adminPage.goto(LIST);
  await adminPage.getByTestId('list-total').waitFor();
  await adminPage.getByTestId('filter-add').click();
  await pick(adminPage, 'filter-field-0', 'Status', { exact: true });
  await pick(adminPage, 'filter-value-0', 'Closed', { exact: true });
  await adminPage.getByTestId('filter-apply').click();
  await adminPage.getByTestId('list-view-save').click();
  await adminPage.getByTestId('view-name').fill('E2E closed orders');
  await adminPage.getByTestId('view-shared').check();
  await adminPage.getByTestId('view-submit').click();
  await adminPage.getByTestId('view-dialog').waitFor({ state: 'detached' });
  const shared = (await admin(VIEWS)).body.items.find((v) => v.name === 'E2E closed orders');
  assert.equal(shared?.shared, true, 'saved as shared');
  assert.deepEqual(shared.spec.filter, { '==': [{ var: 'status' }, 'closed'] });
  await adminPage.context().close();

  const twoKeys = (
    await admin(VIEWS, {
      method: 'POST',
      body: { name: 'E2E urgent first', shared: true, spec: { sort: 'priority,-reported_at', columns: ['serial', 'priority', 'reported_at'], page_size: 20 } },
    })
  ).body;
  assert.ok(twoKeys.id, JSON.stringify(twoKeys));

  const cs = await loginApi(server, 'cs1', DEMO_PASSWORD);
  const page = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en', viewport: PHONE });
  await page.goto(LIST);
  await page.locator('[data-testid^="list-card-"]').first().waitFor();
  await pick(page, 'list-view', 'E2E urgent first · Shared', { exact: true });
  const expected = (await cs(`${LIST}/records/query`, { method: 'POST', body: { sort: 'priority,-reported_at', limit: 20, fields: ['serial', 'priority', 'reported_at'] } })).body;
  await waitForIds(page, expected.items.map((r) => r.id));
  // Each card shows the view's columns; the sort menu names both keys.
  const first = page.getByTestId(`list-card-${expected.items[0].id}`);
  assert.deepEqual(await first.locator('[data-field]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-field'))), ['serial', 'priority', 'reported_at']);
  assert.equal(await page.getByTestId('list-sort').innerText(), 'Priority ascending, Reported at descending');
  // Shared views are the administrators' to change.
  assert.equal(await page.getByTestId('list-view-delete').count(), 0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the list with its view picker is ${overflow}px wider than the phone`);

  // Changing the sort marks the view modified, but there is no update for a shared view.
  await pick(page, 'list-sort', 'Order number descending', { exact: true });
  await page.getByTestId('list-view-modified').waitFor();
  assert.equal(await page.getByTestId('list-view-update').count(), 0);
  // Revert goes back to the view.
  await page.getByTestId('list-view-revert').click();
  await waitForIds(page, expected.items.map((r) => r.id));
  assert.equal(await page.getByTestId('list-view-modified').count(), 0);

  // Save the changed list as an own view, starting from the shared one: the list keeps
  // what it shows and the URL names the new view, which its owner may delete.
  await pick(page, 'list-sort', 'Order number descending', { exact: true });
  await page.getByTestId('list-view-modified').waitFor();
  await page.getByTestId('list-view-save').click();
  await page.getByTestId('view-name').fill('E2E newest order numbers');
  await page.getByTestId('view-submit').click();
  await page.getByTestId('view-dialog').waitFor({ state: 'detached' });
  const own = (await cs(VIEWS)).body.items.find((v) => v.name === 'E2E newest order numbers');
  assert.deepEqual(own?.spec, { sort: '-serial', columns: ['serial', 'priority', 'reported_at'], page_size: 20 });
  await page.waitForURL((u) => u.searchParams.get('view') === String(own.id));
  const bySerial = (await cs(`${LIST}/records/query`, { method: 'POST', body: { sort: '-serial', limit: 20, fields: ['serial'] } })).body;
  await waitForIds(page, bySerial.items.map((r) => r.id));
  assert.equal(await page.getByTestId('list-sort').innerText(), 'Order number descending');
  assert.equal(await page.getByTestId('list-view-modified').count(), 0);
  await page.getByTestId('list-view-delete').click();
  await page.getByTestId('list-view-delete-confirm').click();
  await page.waitForURL((u) => !u.searchParams.has('view'));
  assert.equal((await cs(VIEWS)).body.items.some((v) => v.id === own.id), false);

  // Another user's shared view may be used but not changed through the API either.
  const denied = await cs(`${VIEWS}/${twoKeys.id}`, { method: 'DELETE' });
  assert.equal(denied.status, 403);
  await page.context().close();
});

test('a saved view keeps the system columns it shows and brings them back', async () => {
  const me = await loginApi(server, 'manager_east', DEMO_PASSWORD);
  const page = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en' });
  await page.goto(LIST);
  await page.getByTestId('list-total').waitFor();
  const own = await headers(page);
  assert.ok(own.length > 0);

  // Show who created each order and when it last changed; sort by the latter.
  await page.getByTestId('list-columns-button').click();
  const query = page.waitForRequest((r) => r.url().endsWith('/records/query') && JSON.parse(r.postData() ?? '{}').sort === '_updated_at');
  await page.getByTestId('list-columns').getByLabel('Created by', { exact: true }).check();
  await page.getByTestId('list-columns').getByLabel('Updated at', { exact: true }).check();
  await page.getByTestId('list-title').click();
  assert.deepEqual(await headers(page), [...own, 'Created by', 'Updated at']);
  await page.getByTestId('list-table').locator('thead th').filter({ hasText: 'Updated at' }).click();
  // System columns come with every record: the list asks only for the form's fields.
  const sent = JSON.parse((await query).postData());
  assert.ok(sent.fields.length > 0 && sent.fields.every((k) => !k.startsWith('_')), JSON.stringify(sent.fields));
  const expected = (await me(`${LIST}/records/query`, { method: 'POST', body: { sort: '_updated_at', limit: 20, fields: sent.fields } })).body;
  await waitForIds(page, expected.items.map((r) => r.id));
  const firstRow = page.getByTestId('list-table').locator('tbody tr.ant-table-row').first();
  const cells = await firstRow.locator('td').allInnerTexts();
  assert.equal(cells[cells.length - 2].trim(), expected.items[0].created_by);
  assert.ok(cells[cells.length - 1].trim().length > 0, 'the update time is shown');

  // Save as a view: the dialog names the system columns, the spec keeps them.
  await page.getByTestId('list-view-save').click();
  await page.getByTestId('view-dialog').waitFor();
  const tags = page.getByTestId('view-spec-columns').locator('[data-column]');
  const tagged = await tags.evaluateAll((els) => els.map((e) => [e.getAttribute('data-column'), e.textContent.trim()]));
  assert.deepEqual(tagged.slice(-2), [
    ['_created_by', 'Created by'],
    ['_updated_at', 'Updated at'],
  ]);
  assert.equal(await page.getByTestId('view-spec-sort').innerText(), 'Updated at ascending');
  await page.getByTestId('view-name').fill('E2E with system columns');
  await page.getByTestId('view-submit').click();
  await page.getByTestId('view-dialog').waitFor({ state: 'detached' });
  await page.waitForURL(/[?&]view=\d+/);
  const view = (await me(VIEWS)).body.items.find((v) => v.name === 'E2E with system columns');
  assert.ok(view, 'the view is saved');
  assert.deepEqual(view.spec.columns.slice(-2), ['_created_by', '_updated_at']);
  assert.equal(view.spec.sort, '_updated_at');

  // A fresh list with the system columns switched off again…
  await page.goto(LIST);
  await page.getByTestId('list-total').waitFor();
  await page.getByTestId('list-columns-button').click();
  await page.getByTestId('list-columns').getByLabel('Created by', { exact: true }).uncheck();
  await page.getByTestId('list-columns').getByLabel('Updated at', { exact: true }).uncheck();
  await page.getByTestId('list-title').click();
  assert.deepEqual(await headers(page), own);

  // …and the view brings them back, after a reload too.
  await pick(page, 'list-view', 'E2E with system columns', { exact: true });
  await waitForIds(page, expected.items.map((r) => r.id));
  assert.deepEqual(await headers(page), [...own, 'Created by', 'Updated at']);
  assert.equal(await page.getByTestId('list-view-modified').count(), 0);
  await page.reload();
  await waitForIds(page, expected.items.map((r) => r.id));
  assert.deepEqual(await headers(page), [...own, 'Created by', 'Updated at']);

  assert.equal((await me(`${VIEWS}/${view.id}`, { method: 'DELETE' })).status, 204);
  await page.context().close();
});

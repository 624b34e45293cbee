// The approval acceptance story in Chromium against a real server: an admin draws a
// two-step approval flow with a condition (urgent service orders: the service director,
// then finance; approved → status dispatched → a copy to the initiator), previews the
// copy's message on a real record (as themselves and as an engineer, who may not read the
// service fee), and publishes. Customer service files an urgent order in the staff app;
// the director and then finance approve from their inboxes; the order is dispatched,
// and the copy shows under customer service's "CC'd to me".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, connect, DEMO_PASSWORD, launchBrowser, loginPage, pick, startServer, until } from './harness.mjs';

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

/** Approve, from the user's inbox, their one open task titled `title` on `order`. */
async function approveFromInbox(user, order, title, comment) {
  const page = await loginPage(browser, server, user, DEMO_PASSWORD, { locale: 'en' });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/tasks');
  const row = page.locator('[data-testid^="task-row-"]', { hasText: title });
  await row.first().waitFor();
  assert.equal(await row.count(), 1, `${user} has one "${title}" task`);
  await row.click();
  await page.waitForURL('**/tasks/*');
  await page.getByTestId('task-title').getByText(title).waitFor();
  // The task shows the order as this node may see it (a read-only field keeps its value).
  const field = page.locator('[data-testid="task-record"] [data-field="fault_description"]');
  await field.waitFor();
  const shown = await field.evaluate((el) => el.querySelector('textarea, input')?.value ?? el.innerText);
  assert.equal(shown, order.fault);
  await page.getByTestId('task-comment').fill(comment);
  await page.getByTestId('task-approve').click();
  await page.getByTestId('task-closed').waitFor();
  assert.match(await page.getByTestId('task-status').innerText(), /Approved/);
  assert.deepEqual(errors, []);
  await page.close();
}

test('a two-step approval drawn by the admin: customer service files, director and finance approve, a copy comes back', async () => {
  const admin = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await page.goto('/apps/crm/flows');
  await page.getByTestId('flow-new').click();
  await page.getByTestId('flow-new-key').fill('urgent_approval');
  await page.getByTestId('flow-new-label-zh').fill('紧急工单审批');
  await page.getByTestId('flow-new-label-en').fill('Urgent order approval');
  await pick(page, 'flow-new-form', '(service_order)', { search: 'service_order' });
  await page.getByTestId('flow-new-create').click();
  await page.waitForURL('**/apps/crm/flows/urgent_approval');
  await page.getByTestId('flow-trigger-panel').waitFor();

  // The condition: only urgent orders.
  await pick(page, 'flow-trigger-cond-var', '(record.priority)', { search: 'record.priority' });
  await pick(page, 'flow-trigger-cond-value', 'Urgent');
  await page.getByTestId('flow-trigger-cond-add').click();
  await page.getByTestId('flow-trigger-cond-current').getByText('Priority equals Urgent').waitFor();

  // Step 1: the service director; step 2: finance.
  for (const [id, zh, en, who] of [
    ['approval_1', '总监审批', 'Director approval', 'director'],
    ['approval_2', '财务审批', 'Finance approval', 'finance1'],
  ]) {
    await page.getByTestId('flow-palette-approval').click();
    await page.getByTestId(`flow-node-${id}`).waitFor();
    await page.getByTestId('flow-prop-label-zh').fill(zh);
    await page.getByTestId('flow-prop-label-en').fill(en);
    await pick(page, 'flow-prop-assignee-kind', 'User');
    await pick(page, 'flow-prop-assignee', `(${who})`, { search: who });
  }
  await page.getByTestId('flow-palette-update_record').click();
  await page.getByTestId('flow-node-update_record_1').waitFor();
  await pick(page, 'flow-prop-set-field', 'Status (status)', { search: '(status)' });
  await pick(page, 'flow-prop-set-value', 'Dispatched');
  await page.getByTestId('flow-prop-set-add').click();
  await page.getByTestId('flow-prop-set-row-status').waitFor();

  // A copy to the initiator, its message previewed on a real order.
  await page.getByTestId('flow-palette-cc').click();
  await page.getByTestId('flow-node-cc_1').waitFor();
  await page.getByTestId('flow-prop-body').fill('Order {{record.serial}} approved by {{task.by}}; fee {{record.service_fee}}');
  const sample = (await admin('/apps/crm/forms/service_order/records?limit=1&sort=-_id&filter=' + encodeURIComponent(JSON.stringify({ '!=': [{ var: 'service_fee' }, null] })))).body.items[0];
  assert.ok(sample, 'a demo order with a service fee');
  await pick(page, 'flow-preview-record', `#${sample.id})`, { search: sample.data.serial });
  await page.getByTestId('flow-preview-run').click();
  const mine = page.getByTestId('flow-preview-result-body');
  await mine.waitFor();
  assert.equal(await mine.innerText(), `Order ${sample.data.serial} approved by admin; fee ${sample.data.service_fee}`);
  await pick(page, 'flow-preview-as', '(engineer1)', { search: 'engineer1' });
  await page.getByTestId('flow-preview-run').click();
  await page.getByTestId('flow-preview-error-body').waitFor();
  assert.match(await page.getByTestId('flow-preview-error-body').innerText(), /record\.service_fee/);
  assert.equal(await page.getByTestId('flow-preview-result-body').count(), 0);
  // Keep the published message free of the fee.
  await page.getByTestId('flow-prop-body').fill('Order {{record.serial}} approved by {{task.by}}');

  // Connect: start → manager; approved → director; approved → update → cc → end;
  // rejected (either step) → end.
  const edges = [
    ['flow-handle-start-out', 'flow-handle-approval_1-in'],
    ['flow-handle-approval_1-approved', 'flow-handle-approval_2-in'],
    ['flow-handle-approval_1-rejected', 'flow-handle-end-in'],
    ['flow-handle-approval_2-approved', 'flow-handle-update_record_1-in'],
    ['flow-handle-approval_2-rejected', 'flow-handle-end-in'],
    ['flow-handle-update_record_1-out', 'flow-handle-cc_1-in'],
    ['flow-handle-cc_1-out', 'flow-handle-end-in'],
  ];
  for (const [i, [from, to]] of edges.entries()) {
    await connect(page, from, to);
    await until(async () => (await page.locator('.react-flow__edge').count()) === i + 1, `edge ${i + 1}`);
  }
  await page.getByTestId('flow-save').click();
  await until(async () => (await page.getByTestId('flow-dirty').count()) === 0, 'draft saved');
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();
  assert.equal(await page.getByTestId('flow-errors').count(), 0);

  const def = (await admin('/apps/crm/flows/urgent_approval')).body.definition;
  const byId = Object.fromEntries(def.nodes.map((n) => [n.id, n]));
  assert.deepEqual(byId.approval_1.assignee, { user: 'director' });
  assert.deepEqual(byId.approval_2.assignee, { user: 'finance1' });
  assert.deepEqual(byId.cc_1, { id: 'cc_1', type: 'cc', to: { initiator: true }, body: 'Order {{record.serial}} approved by {{task.by}}' });
  assert.deepEqual(def.trigger.condition, { '==': [{ var: 'record.priority' }, 'urgent'] });

  // Customer service files an urgent order in the staff app.
  const customer = (await admin('/apps/crm/forms/customer/records?limit=1&fields=name')).body.items[0];
  const cs = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en' });
  const csErrors = [];
  cs.on('pageerror', (e) => csErrors.push(e.message));
  await cs.goto('/apps/crm/forms/service_order/new');
  await pick(cs, 'field-customer', customer.data.name.slice(0, 4), { search: true });
  await pick(cs, 'field-priority', 'Urgent');
  const fault = 'E2E approval: ventilator alarms during self-test';
  await cs.getByTestId('field-fault_description').fill(fault);
  await cs.getByTestId('record-save').click();
  await cs.waitForURL(/\/records\/\d+$/);
  const id = Number(/\/records\/(\d+)$/.exec(cs.url())[1]);
  const order = { id, fault };
  const instance = await until(async () => (await admin(`/flow-instances?flow=urgent_approval&record=${id}`)).body.items?.[0], 'the instance');
  assert.equal(instance.initiator, 'cs1');

  // The director, then finance, approve from their inboxes; finance's task only exists
  // once the director has approved.
  await until(async () => (await admin(`/flow-instances/${instance.id}`)).body.positions?.includes('approval_1'), 'at the director');
  await approveFromInbox('director', order, 'Director approval', 'Agreed, send someone today.');
  await until(async () => (await admin(`/flow-instances/${instance.id}`)).body.positions?.includes('approval_2'), 'at finance');
  await approveFromInbox('finance1', order, 'Finance approval', 'Cost approved.');

  // The order is dispatched; the instance completed with both decisions in its history.
  await until(async () => (await admin(`/apps/crm/forms/service_order/records/${id}`)).body.data.status === 'dispatched', 'dispatched');
  const done = await until(async () => {
    const d = (await admin(`/flow-instances/${instance.id}`)).body;
    return d.instance.status === 'completed' ? d : null;
  }, 'completed');
  const decided = done.history.filter((h) => h.action === 'approved').map((h) => [h.node, h.actor]);
  assert.deepEqual(decided, [
    ['approval_1', 'director'],
    ['approval_2', 'finance1'],
  ]);
  assert.ok(done.history.some((h) => h.action === 'copied' && h.node === 'cc_1'));

  // Customer service: the order page shows the new status, and the copy is under "CC'd to me".
  await cs.reload();
  await cs.locator('[data-field="status"]').getByText('Dispatched').waitFor();
  await cs.goto('/tasks');
  await cs.getByTestId('inbox-tab-cc').click();
  const copy = cs.getByTestId(`cc-row-${instance.id}`);
  await copy.waitFor();
  assert.equal(await copy.getAttribute('data-status'), 'completed');
  // The flow's label arrives with the app's flow list, after the row.
  await until(async () => /Urgent order approval/.test(await copy.innerText()), "the flow's label in the copy row");
  assert.match(await cs.getByTestId('inbox-tab-cc').innerText(), /\(1\)/);
  await cs.getByTestId('inbox-tab-messages').click();
  await cs.locator('[data-testid^="message-row-"]', { hasText: `approved by finance1` }).first().waitFor();
  await cs.getByTestId(`inbox-tab-cc`).click();
  await cs.getByTestId(`cc-link-${instance.id}`).click();
  await cs.waitForURL(`**/flow-instances/${instance.id}`);
  await cs.locator('[data-testid="instance-status"][data-status="completed"]').waitFor();
  assert.deepEqual(csErrors, []);
  assert.deepEqual(pageErrors, []);
});

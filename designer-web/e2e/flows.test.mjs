// Flows against a real server in Chromium: an admin designs an "urgent order" flow on the
// CRM (trigger on service_order with priority == urgent; start → approval by the director
// → approved: set status "dispatched" → end; rejected → end), hits the server's publish
// checks (shown on the node), fixes them by connecting the nodes, publishes, and the stored
// definition is checked through the API. Then an urgent order is created through the API,
// the director finds the task in /tasks, approves it with a comment, and the API shows the
// order dispatched and the instance completed; the instance page shows the history.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, adminApi, closeSelect, connect, DEMO_PASSWORD, launchBrowser, loginPage, openSelect, pick, ROOT, screenshotDir, startServer, until } from './harness.mjs';

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

async function edgeCount(page) {
  return page.locator('.react-flow__edge').count();
}

test('admin designs and publishes a flow; the director approves its task', async () => {
  const adminCall = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  // New flow
  await page.goto('/apps/crm/flows');
  await page.getByTestId('flow-new').click();
  await page.getByTestId('flow-new-key').fill('urgent_dispatch');
  await page.getByTestId('flow-new-label-zh').fill('紧急工单派工');
  await page.getByTestId('flow-new-label-en').fill('Urgent dispatch');
  await pick(page, 'flow-new-form', '(service_order)', { search: 'service_order' });
  await page.getByTestId('flow-new-create').click();
  await page.waitForURL('**/apps/crm/flows/urgent_dispatch');
  await page.getByTestId('flow-canvas').waitFor();
  await page.getByTestId('flow-node-start').waitFor();
  await page.getByTestId('flow-node-end').waitFor();

  // Trigger: record created on service_order, when priority is urgent
  await page.getByTestId('flow-trigger-panel').waitFor();
  assert.match(await page.getByTestId('flow-trigger-type').innerText(), /A record is created/);
  assert.match(await page.getByTestId('flow-trigger-form').innerText(), /service_order/);
  await pick(page, 'flow-trigger-cond-var', '(record.priority)', { search: 'record.priority' });
  await pick(page, 'flow-trigger-cond-value', 'Urgent');
  await page.getByTestId('flow-trigger-cond-add').click();
  await page.getByTestId('flow-trigger-cond-current').getByText('Priority equals Urgent').waitFor();

  // An approval by the director
  await page.getByTestId('flow-palette-approval').click();
  await page.getByTestId('flow-node-approval_1').waitFor();
  await page.getByTestId('flow-node-panel').waitFor();
  await page.getByTestId('flow-prop-label-zh').fill('总监审批');
  await page.getByTestId('flow-prop-label-en').fill('Director approval');
  await pick(page, 'flow-prop-assignee-kind', 'User');
  await pick(page, 'flow-prop-assignee', '(director)', { search: 'director' });

  // Update the record: status = dispatched
  await page.getByTestId('flow-palette-update_record').click();
  await page.getByTestId('flow-node-update_record_1').waitFor();
  await pick(page, 'flow-prop-set-field', 'Status (status)', { search: '(status)' });
  await pick(page, 'flow-prop-set-value', 'Dispatched');
  await page.getByTestId('flow-prop-set-add').click();
  await page.getByTestId('flow-prop-set-row-status').waitFor();

  // Publishing the unconnected graph: the server's errors land on the nodes and in a list
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-errors').waitFor();
  const pointers = await page.locator('[data-testid^="flow-error-"]').evaluateAll((els) => els.map((e) => e.dataset.pointer));
  assert.ok(pointers.length > 0, 'the server reported problems');
  await page.locator('[data-testid="flow-node-approval_1"][data-errors]').waitFor();
  await page.getByTestId('flow-node-approval_1').click();
  await page.getByTestId('flow-node-errors').waitFor();

  // Connect: start → approval; approved → update → end; rejected → end
  await connect(page, 'flow-handle-start-out', 'flow-handle-approval_1-in');
  await until(async () => (await edgeCount(page)) === 1, 'edge 1');
  await connect(page, 'flow-handle-approval_1-approved', 'flow-handle-update_record_1-in');
  await until(async () => (await edgeCount(page)) === 2, 'edge 2');
  await connect(page, 'flow-handle-approval_1-rejected', 'flow-handle-end-in');
  await until(async () => (await edgeCount(page)) === 3, 'edge 3');
  await connect(page, 'flow-handle-update_record_1-out', 'flow-handle-end-in');
  await until(async () => (await edgeCount(page)) === 4, 'edge 4');

  await page.getByTestId('flow-save').click();
  await until(async () => (await page.getByTestId('flow-dirty').count()) === 0, 'draft saved');
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();
  assert.equal(await page.getByTestId('flow-errors').count(), 0);

  // The stored definition
  const stored = await adminCall('/apps/crm/flows/urgent_dispatch');
  assert.equal(stored.status, 200);
  assert.equal(stored.body.published_version, 1);
  const def = stored.body.definition;
  assert.equal(def.key, 'urgent_dispatch');
  assert.deepEqual(def.label, { 'zh-CN': '紧急工单派工', en: 'Urgent dispatch' });
  assert.deepEqual(def.trigger, {
    type: 'record_created',
    form: 'service_order',
    condition: { '==': [{ var: 'record.priority' }, 'urgent'] },
  });
  const byId = Object.fromEntries(def.nodes.map((n) => [n.id, n]));
  assert.deepEqual(Object.keys(byId).sort(), ['approval_1', 'end', 'start', 'update_record_1']);
  assert.deepEqual(byId.approval_1, {
    id: 'approval_1',
    type: 'approval',
    label: { 'zh-CN': '总监审批', en: 'Director approval' },
    assignee: { user: 'director' },
    mode: 'any',
  });
  assert.deepEqual(byId.update_record_1, { id: 'update_record_1', type: 'update_record', set: { status: 'dispatched' } });
  const edges = def.edges.map((e) => JSON.stringify(e)).sort();
  assert.deepEqual(
    edges,
    [
      { from: 'start', to: 'approval_1' },
      { from: 'approval_1', to: 'update_record_1', outcome: 'approved' },
      { from: 'approval_1', to: 'end', outcome: 'rejected' },
      { from: 'update_record_1', to: 'end' },
    ]
      .map((e) => JSON.stringify(e))
      .sort(),
  );
  for (const id of Object.keys(byId)) assert.equal(typeof def.layout[id]?.x, 'number', `layout of ${id}`);
  assert.deepEqual(pageErrors, []);

  // An urgent order, created through the API as admin, starts the flow
  const customers = await adminCall('/apps/crm/forms/customer/records?limit=1');
  assert.equal(customers.status, 200);
  const customer = customers.body.items[0].id;
  const created = await adminCall('/apps/crm/forms/service_order/records', {
    method: 'POST',
    body: { data: { kind: 'repair', priority: 'urgent', customer, fault_description: 'Screen stays black (flow e2e)' } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const order = created.body.id;
  const instance = await until(async () => {
    const r = await adminCall(`/flow-instances?flow=urgent_dispatch&record=${order}`);
    const items = Array.isArray(r.body) ? r.body : r.body?.items;
    return items?.[0];
  }, 'the instance');
  assert.equal(instance.status, 'running');
  // A normal-priority order does not start it
  const normal = await adminCall('/apps/crm/forms/service_order/records', {
    method: 'POST',
    body: { data: { kind: 'repair', priority: 'normal', customer, fault_description: 'Not urgent (flow e2e)' } },
  });
  assert.equal(normal.status, 201);

  // The director approves in the browser
  const director = await loginPage(browser, server, 'director', DEMO_PASSWORD, { locale: 'en' });
  const directorErrors = [];
  director.on('pageerror', (e) => directorErrors.push(e.message));
  await director.goto('/tasks');
  const row = director.locator('[data-testid^="task-row-"]').first();
  await row.waitFor();
  assert.equal(await director.locator('[data-testid^="task-row-"]').count(), 1);
  assert.match(await director.getByTestId('inbox-tab-open').innerText(), /1/);
  assert.match(await row.innerText(), /Director approval/);
  await row.click();
  await director.waitForURL('**/tasks/*');
  await director.getByTestId('task-title').getByText('Director approval').waitFor();
  await director.locator('[data-testid="task-record"] [data-field="priority"]').waitFor();
  await director.getByTestId('task-comment').fill('Go ahead, urgent.');
  await director.getByTestId('task-approve').click();
  await director.getByTestId('task-closed').waitFor();
  assert.match(await director.getByTestId('task-status').innerText(), /Approved/);

  // The order is dispatched and the instance completed
  await until(async () => {
    const r = await adminCall(`/apps/crm/forms/service_order/records/${order}`);
    return r.body?.data?.status === 'dispatched';
  }, 'status dispatched');
  const done = await until(async () => {
    const r = await adminCall(`/flow-instances/${instance.id}`);
    return r.body?.instance?.status === 'completed' ? r.body : null;
  }, 'instance completed');
  assert.ok(done.history.length >= 3);

  // The instance page shows the status, the graph and the history
  await director.getByTestId('task-instance-link').click();
  await director.waitForURL(`**/flow-instances/${instance.id}`);
  await director.locator('[data-testid="instance-status"][data-status="completed"]').waitFor();
  await director.getByTestId('instance-history').waitFor();
  const steps = await director.locator('[data-testid^="instance-step-"]').count();
  assert.equal(steps, done.history.length);
  assert.match(await director.getByTestId('instance-history').innerText(), /director/);
  // the closed tab now lists the task; the assignment message can be marked read
  await director.goto('/tasks');
  await director.getByTestId('inbox-tab-closed').click();
  await director.locator('[data-testid="inbox-tasks-closed"] [data-testid^="task-row-"]').first().waitFor();
  await director.getByTestId('inbox-tab-messages').click();
  const unread = director.locator('[data-testid^="message-row-"][data-unread="true"]');
  await unread.first().waitFor();
  const before = await unread.count();
  await director.locator('[data-testid^="message-read-"]').first().click();
  await until(async () => (await unread.count()) === before - 1, 'message read');
  assert.deepEqual(directorErrors, []);

  // Another urgent order: the admin sees it waiting at the approval and cancels it
  const second = await adminCall('/apps/crm/forms/service_order/records', {
    method: 'POST',
    body: { data: { kind: 'repair', priority: 'urgent', status: 'reported', customer, fault_description: 'Second (flow e2e)' } },
  });
  assert.equal(second.status, 201);
  const running = await until(async () => {
    const r = await adminCall(`/flow-instances?flow=urgent_dispatch&record=${second.body.id}`);
    const items = Array.isArray(r.body) ? r.body : r.body?.items;
    return items?.[0];
  }, 'the second instance');
  await until(async () => (await adminCall(`/flow-instances/${running.id}`)).body?.positions?.includes('approval_1'), 'waiting at the approval');
  await page.goto(`/flow-instances/${running.id}`);
  await page.locator('[data-testid="instance-status"][data-status="running"]').waitFor();
  await page.locator('[data-testid="flow-node-approval_1"][data-current="true"]').waitFor();
  await page.getByTestId('instance-cancel').click();
  await page.getByTestId('instance-stop-reason').fill('filed twice');
  await page.locator('.ant-popconfirm .ant-btn-primary').click();
  await page.locator('[data-testid="instance-status"][data-status="cancelled"]').waitFor();
  const cancelled = (await adminCall(`/flow-instances/${running.id}`)).body;
  assert.equal(cancelled.instance.status, 'cancelled');
  // The reason asked in the confirmation is the history's last line.
  assert.equal(cancelled.history.at(-1).action, 'cancelled');
  assert.equal(cancelled.history.at(-1).detail.error, 'filed twice');
  // The second order was filed as reported, so the CRM's dispatch flow also runs: it waits
  // at the urgent dispatch task with a 2-hour deadline, and its instance page shows the
  // armed timer at that node with the due time the API gives.
  const dispatch = await until(async () => {
    const r = await adminCall(`/flow-instances?flow=service_dispatch&record=${second.body.id}`);
    const items = Array.isArray(r.body) ? r.body : r.body?.items;
    if (!items?.[0]) return null;
    const d = await adminCall(`/flow-instances/${items[0].id}`);
    return d.body?.timers?.length ? d.body : null;
  }, 'the dispatch deadline armed');
  assert.equal(dispatch.timers[0].node, 'dispatch_urgent');
  await page.goto(`/flow-instances/${dispatch.instance.id}`);
  const timer = page.getByTestId('instance-timer-dispatch_urgent');
  await timer.waitFor();
  assert.equal(await timer.getAttribute('data-due'), dispatch.timers[0].due_at);
  assert.match(await timer.innerText(), /Dispatch \(urgent\)/);
  assert.deepEqual(pageErrors, []);
});

test('branch edges: server errors on an edge, default and condition from the edge panel', async () => {
  const adminCall = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/apps/crm/flows');
  await page.getByTestId('flow-new').click();
  await page.getByTestId('flow-new-key').fill('triage');
  await page.getByTestId('flow-new-label-en').fill('Triage');
  await pick(page, 'flow-new-form', '(service_order)', { search: 'service_order' });
  await page.getByTestId('flow-new-create').click();
  await page.waitForURL('**/apps/crm/flows/triage');
  await page.getByTestId('flow-node-start').click();
  await page.getByTestId('flow-palette-branch').click();
  await page.getByTestId('flow-node-branch_1').waitFor();
  await page.getByTestId('flow-palette-task').click();
  await page.getByTestId('flow-node-task_1').waitFor();
  await pick(page, 'flow-prop-assignee-kind', 'Member field of the record');
  await pick(page, 'flow-prop-assignee', '(engineer)', { search: 'engineer' });
  await pick(page, 'flow-prop-editable', '(status)', { search: '(status)' });

  await connect(page, 'flow-handle-start-out', 'flow-handle-branch_1-in');
  await until(async () => (await edgeCount(page)) === 1, 'edge 1');
  await connect(page, 'flow-handle-branch_1-out', 'flow-handle-task_1-in'); // first out of a branch: default
  await until(async () => (await edgeCount(page)) === 2, 'edge 2');
  await connect(page, 'flow-handle-branch_1-out', 'flow-handle-end-in');
  await until(async () => (await edgeCount(page)) === 3, 'edge 3');
  await connect(page, 'flow-handle-task_1-out', 'flow-handle-end-in');
  await until(async () => (await edgeCount(page)) === 4, 'edge 4');

  // The branch → end edge has neither condition nor default: the server points at it
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-errors').waitFor();
  const err = page.locator('[data-testid^="flow-error-"][data-pointer="/edges/2/when"]');
  await err.waitFor();
  await err.locator('a').first().click();
  await page.getByTestId('flow-edge-panel').waitFor();
  await page.getByTestId('flow-edge-errors').waitFor();
  // make it the default (the other edge loses the flag) …
  await page.getByTestId('flow-prop-edge-kind').getByText('Default').click();
  await page.getByTestId('flow-publish').click();
  // … now the branch → task edge lacks a condition
  const err2 = page.locator('[data-testid^="flow-error-"][data-pointer="/edges/1/when"]');
  await err2.waitFor();
  await err2.locator('a').first().click();
  await page.getByTestId('flow-edge-panel').waitFor();
  await pick(page, 'flow-prop-when-var', '(record.priority)', { search: 'record.priority' });
  await pick(page, 'flow-prop-when-op', 'is one of');
  await pick(page, 'flow-prop-when-value', 'Urgent');
  await pick(page, 'flow-prop-when-value', 'High');
  await page.getByTestId('flow-prop-when-add').click();
  await page.getByTestId('flow-prop-when-current').getByText('Priority is one of Urgent, High').waitFor();
  // A second condition, and "any of" instead of "all of": the edge holds when either does.
  await pick(page, 'flow-prop-when-var', '(record.kind)', { search: 'record.kind' });
  await pick(page, 'flow-prop-when-op', 'equals');
  await pick(page, 'flow-prop-when-value', 'Repair');
  await page.getByTestId('flow-prop-when-add').click();
  await page.getByTestId('flow-prop-when-join').getByText('Any of').click();
  await page.getByTestId('flow-prop-when-current').getByText('or', { exact: true }).waitFor();
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();

  const def = (await adminCall('/apps/crm/flows/triage')).body.definition;
  assert.deepEqual(def.edges, [
    { from: 'start', to: 'branch_1' },
    { from: 'branch_1', to: 'task_1', when: { or: [{ in: [{ var: 'record.priority' }, ['urgent', 'high']] }, { '==': [{ var: 'record.kind' }, 'repair'] }] } },
    { from: 'branch_1', to: 'end', default: true },
    { from: 'task_1', to: 'end' },
  ]);
  const task = def.nodes.find((n) => n.id === 'task_1');
  assert.deepEqual(task.assignee, { field: 'engineer' });
  assert.deepEqual(task.editable, ['status']);
  assert.deepEqual(pageErrors, []);
});

test('the CRM dispatch flow opens in the designer (screenshot for docs/)', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/flows/service_dispatch');
  await page.getByTestId('flow-canvas').waitFor();
  for (const id of ['start', 'urgent', 'dispatch_urgent', 'dispatch', 'tell_engineer', 'end']) {
    await page.getByTestId(`flow-node-${id}`).waitFor();
  }
  // The package's flows are laid out top-down (designer-web/scripts/relayout-flows.mjs).
  await page.getByTestId('flow-node-urgent').click();
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(screenshotDir(), 'flow-designer.png') });
  await page.context().close();
});

// The CRM's flows that use the newer features load and save back unchanged: order_guard
// (before_write, query, reject), warranty_renewal (date_field, assignee customer.owner),
// qualification_review (update_record on another record).
const crmFlow = (key) => JSON.parse(readFileSync(join(ROOT, 'seed-apps', 'medical-device-crm', 'flows', `${key}.json`), 'utf8'));

for (const key of ['order_guard', 'warranty_renewal', 'qualification_review']) {
  test(`the CRM flow ${key} saves back unchanged`, async () => {
    const adminCall = await adminApi(server);
    const file = crmFlow(key);
    const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`/apps/crm/flows/${key}`);
    await page.getByTestId('flow-canvas').waitFor();
    for (const n of file.nodes) await page.getByTestId(`flow-node-${n.id}`).waitFor();
    // no guard warnings on a valid flow; click every node (its panel opens, nothing changes)
    assert.equal(await page.locator('[data-guard-warning]').count(), 0);
    for (const n of file.nodes) {
      await page.getByTestId(`flow-node-${n.id}`).click();
      await page.getByTestId('flow-node-panel').waitFor();
    }
    await page.getByTestId('flow-settings').click();
    await page.getByTestId('flow-trigger-panel').waitFor();
    assert.equal(await page.getByTestId('flow-dirty').count(), 0, 'nothing changed by looking');

    const put = page.waitForResponse((r) => r.url().endsWith(`/api/v1/apps/crm/flows/${key}/draft`) && r.request().method() === 'PUT');
    await page.getByTestId('flow-save').click();
    const res = await put;
    assert.equal(res.status(), 200, await res.text());
    assert.deepEqual(res.request().postDataJSON(), file);

    const stored = await adminCall(`/apps/crm/flows/${key}`);
    assert.equal(stored.status, 200);
    assert.equal(typeof stored.body.draft, 'object');
    assert.deepEqual(stored.body.draft, file);
    assert.deepEqual(pageErrors, []);
    await page.context().close();
  });
}

test('the date trigger and the reference assignee show in the panels', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/flows/warranty_renewal');
  await page.getByTestId('flow-trigger-panel').waitFor();
  assert.match(await page.getByTestId('flow-trigger-type').innerText(), /On a date field/);
  await until(async () => /warranty_end/.test(await page.getByTestId('flow-trigger-field').innerText()), 'date field shown');
  assert.equal(await page.getByTestId('flow-trigger-offset').inputValue(), '-30');
  // only date / datetime fields are offered
  const { options } = await openSelect(page, 'flow-trigger-field');
  await options.first().waitFor();
  const texts = await options.allInnerTexts();
  assert.ok(texts.some((x) => x.includes('(warranty_end)')));
  assert.ok(!texts.some((x) => x.includes('(serial_number)')));
  await closeSelect(page, 'flow-trigger-field');
  await page.getByTestId('flow-node-renew').click();
  await until(async () => /customer\.owner/.test(await page.getByTestId('flow-prop-assignee').innerText()), 'customer.owner shown');
  const assignee = await openSelect(page, 'flow-prop-assignee');
  await assignee.options.filter({ hasText: '(customer.owner)' }).first().waitFor();
  await closeSelect(page, 'flow-prop-assignee');
  assert.equal(await page.getByTestId('flow-dirty').count(), 0);
  await page.context().close();
});

test('a department-head recipient shows in the panel and is picked from the list', async () => {
  const adminCall = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/flows/sla_register');
  await page.getByTestId('flow-trigger-panel').waitFor();
  await page.getByTestId('flow-node-tell').click();
  await until(async () => /Department head/.test(await page.getByTestId('flow-prop-to-kind').innerText()), 'the kind shown');
  await until(async () => /initiator's head/.test(await page.getByTestId('flow-prop-to').innerText()), "the initiator's head shown");
  // the choices: the initiator's, the record's, and member / department fields of the form
  const { options } = await openSelect(page, 'flow-prop-to');
  await options.first().waitFor();
  const texts = await options.allInnerTexts();
  assert.ok(texts.some((x) => x.includes("record's department")), texts.join(' | '));
  assert.ok(texts.some((x) => x.includes('(engineer)')), texts.join(' | '));
  assert.ok(!texts.some((x) => x.includes('(fault_description)')), texts.join(' | '));
  await closeSelect(page, 'flow-prop-to');
  await pick(page, 'flow-prop-to', '(engineer)');
  await page.getByTestId('flow-save').click();
  await until(async () => (await page.getByTestId('flow-dirty').count()) === 0, 'draft saved');
  const stored = await adminCall('/apps/crm/flows/sla_register');
  assert.equal(stored.status, 200);
  const draft = stored.body.draft ?? stored.body.definition;
  const tell = draft.nodes.find((n) => n.id === 'tell');
  assert.deepEqual(tell.to, { head_of: { field: 'engineer' } }, JSON.stringify(stored.body).slice(0, 400));
  await page.context().close();
});

test('a guard built in the designer refuses a sales order for a customer without qualifications', async () => {
  const adminCall = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const MESSAGE = 'E2E guard: this customer has no qualification at all';
  // (guards run in flow key order: this one before order_guard)
  await page.goto('/apps/crm/flows');
  await page.getByTestId('flow-new').click();
  await page.getByTestId('flow-new-key').fill('e2e_customer_guard');
  await page.getByTestId('flow-new-label-en').fill('Customer has qualifications');
  await pick(page, 'flow-new-form', '(sales_order)', { search: 'sales_order' });
  await page.getByTestId('flow-new-create').click();
  await page.waitForURL('**/apps/crm/flows/e2e_customer_guard');
  await page.getByTestId('flow-node-start').waitFor();

  // Trigger: before a write of sales_order
  await page.getByTestId('flow-trigger-panel').waitFor();
  await pick(page, 'flow-trigger-type', 'Before a write');
  await page.getByTestId('flow-trigger-guard-help').waitFor();

  // A node a guard may not use is marked; delete it again
  await page.getByTestId('flow-palette-task').click();
  await page.locator('[data-testid="flow-node-task_1"][data-guard-warning="true"]').waitFor();
  await page.getByTestId('flow-node-guard-warning').waitFor();
  await page.getByTestId('flow-prop-delete').click();
  await page.locator('.ant-popconfirm .ant-btn-primary').click();
  await until(async () => (await page.getByTestId('flow-node-task_1').count()) === 0, 'task removed');

  // Query: qualifications of the order's customer
  await page.getByTestId('flow-node-start').click();
  await page.getByTestId('flow-palette-query').click();
  await page.getByTestId('flow-node-query_1').waitFor();
  await pick(page, 'flow-prop-form', '(qualification)', { search: 'qualification' });
  await page.getByTestId('flow-prop-name').fill('quals');
  await page.getByTestId('flow-prop-limit').fill('1');
  await pick(page, 'flow-prop-filter-var', '(customer)', { search: 'customer' });
  await page.getByTestId('flow-prop-filter-from-context').click();
  await pick(page, 'flow-prop-filter-value-var', '(record.customer)', { search: 'record.customer' });
  await page.getByTestId('flow-prop-filter-add').click();
  await page.getByTestId('flow-prop-filter-current').getByText('Customer equals Customer').waitFor();

  // Branch, reject
  await page.getByTestId('flow-palette-branch').click();
  await page.getByTestId('flow-node-branch_1').waitFor();
  await page.getByTestId('flow-palette-reject').click();
  await page.getByTestId('flow-node-reject_1').waitFor();
  await page.getByTestId('flow-prop-message').fill(MESSAGE);
  assert.equal(await page.getByTestId('flow-handle-reject_1-out').count(), 0, 'nothing leaves a reject');
  assert.equal(await page.locator('[data-guard-warning]').count(), 0);

  await connect(page, 'flow-handle-start-out', 'flow-handle-query_1-in');
  await until(async () => (await edgeCount(page)) === 1, 'edge 1');
  await connect(page, 'flow-handle-query_1-out', 'flow-handle-branch_1-in');
  await until(async () => (await edgeCount(page)) === 2, 'edge 2');
  await connect(page, 'flow-handle-branch_1-out', 'flow-handle-end-in'); // first: the default
  await until(async () => (await edgeCount(page)) === 3, 'edge 3');
  await connect(page, 'flow-handle-branch_1-out', 'flow-handle-reject_1-in');
  await until(async () => (await edgeCount(page)) === 4, 'edge 4');

  // The branch → reject edge lacks its condition: the server says so, the edge panel fixes it
  await page.getByTestId('flow-publish').click();
  const err = page.locator('[data-testid^="flow-error-"][data-pointer="/edges/3/when"]');
  await err.waitFor();
  await err.locator('a').first().click();
  await page.getByTestId('flow-edge-panel').waitFor();
  await pick(page, 'flow-prop-when-var', '(vars.quals)', { search: 'vars.quals' });
  await pick(page, 'flow-prop-when-op', 'is empty');
  await page.getByTestId('flow-prop-when-add').click();
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();

  const def = (await adminCall('/apps/crm/flows/e2e_customer_guard')).body.definition;
  assert.deepEqual(def.trigger, { type: 'before_write', form: 'sales_order' });
  const byId = Object.fromEntries(def.nodes.map((n) => [n.id, n]));
  assert.deepEqual(byId.query_1, {
    id: 'query_1',
    type: 'query',
    form: 'qualification',
    name: 'quals',
    limit: 1,
    filter: { '==': [{ var: 'customer' }, { var: 'record.customer' }] },
  });
  assert.deepEqual(byId.reject_1, { id: 'reject_1', type: 'reject', message: MESSAGE });
  assert.deepEqual(def.edges, [
    { from: 'start', to: 'query_1' },
    { from: 'query_1', to: 'branch_1' },
    { from: 'branch_1', to: 'end', default: true },
    { from: 'branch_1', to: 'reject_1', when: { '!': { var: 'vars.quals' } } },
  ]);

  // A new customer without any qualification: its sales order is refused
  const cust = await adminCall('/apps/crm/forms/customer/records', { method: 'POST', body: { data: { name: 'E2E Guard Hospital', customer_type: 'hospital' } } });
  assert.equal(cust.status, 201, JSON.stringify(cust.body));
  const order = await adminCall('/apps/crm/forms/sales_order/records', { method: 'POST', body: { data: { customer: cust.body.id } } });
  assert.equal(order.status, 422, JSON.stringify(order.body));
  const guard = order.body.details.find((d) => d.rule === 'guard');
  assert.ok(guard, JSON.stringify(order.body));
  assert.equal(guard.pointer, '/data');
  assert.ok(guard.message.includes(MESSAGE), guard.message);
  assert.ok(guard.message.includes('e2e_customer_guard'), guard.message);
  const none = await adminCall(`/apps/crm/forms/sales_order/records?limit=200`);
  assert.ok(!none.body.items.some((r) => r.data.customer === cust.body.id), 'nothing written');
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test('task actions: the director transfers an approval, the manager returns it to triage', async () => {
  const adminCall = await adminApi(server);
  const flow = {
    key: 'complaint_review', label: { 'zh-CN': '投诉复核', en: 'Complaint review' },
    trigger: { type: 'record_created', form: 'complaint' },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'triage', type: 'task', label: { 'zh-CN': '分诊', en: 'Triage' }, assignee: { user: 'cs1' } },
      { id: 'review', type: 'approval', label: { 'zh-CN': '复核', en: 'Review' }, assignee: { user: 'director' } },
      { id: 'end', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'triage' }, { from: 'triage', to: 'review' },
      { from: 'review', to: 'end', outcome: 'approved' }, { from: 'review', to: 'end', outcome: 'rejected' },
    ],
  };
  const pub = await adminCall('/apps/crm/flows/complaint_review/publish', { method: 'POST', body: flow });
  assert.equal(pub.status, 201, JSON.stringify(pub.body));
  const customer = (await adminCall('/apps/crm/forms/customer/records?limit=1')).body.items[0];
  const rec = await adminCall('/apps/crm/forms/complaint/records', { method: 'POST', body: { data: { kind: 'complaint', customer: customer.id, description: 'E2E: slow response' } } });
  assert.equal(rec.status, 201, JSON.stringify(rec.body));
  const instanceOf = async () => (await adminCall(`/flow-instances?record=${rec.body.id}&flow=complaint_review`)).body.items[0];
  const taskOf = async () => {
    const inst = await instanceOf();
    const d = (await adminCall(`/flow-instances/${inst.id}`)).body;
    return d;
  };
  await until(async () => (await instanceOf())?.id, 'the instance');

  // cs1 triages (done) through the API; the director gets the review.
  const cs = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en' });
  await cs.goto('/tasks');
  await cs.getByText('Triage').first().click();
  await cs.waitForURL(/\/tasks\/\d+$/);
  await cs.getByTestId('task-done').click();
  await cs.getByTestId('task-closed').waitFor();
  await cs.context().close();

  const page = await loginPage(browser, server, 'director', DEMO_PASSWORD, { locale: 'en' });
  await page.goto('/tasks');
  await page.getByText('Review').first().click();
  await page.waitForURL(/\/tasks\/\d+$/);
  // Transfer to manager_east with a comment.
  await page.getByTestId('task-comment').fill('East region, please');
  await page.getByTestId('task-transfer').click();
  await pick(page, 'task-action-target', 'manager_east', { search: 'manager_east' });
  await page.getByTestId('task-action-confirm').click();
  await page.getByTestId('task-closed').waitFor();
  assert.match(await page.getByTestId('task-status').innerText(), /Transferred/);
  await page.context().close();

  // manager_east returns it to the triage step.
  const mgr = await loginPage(browser, server, 'manager_east', DEMO_PASSWORD, { locale: 'en' });
  await mgr.goto('/tasks');
  await mgr.getByText('Review').first().click();
  await mgr.waitForURL(/\/tasks\/\d+$/);
  await mgr.getByTestId('task-return').click();
  await pick(mgr, 'task-action-target', 'Triage');
  await mgr.getByTestId('task-action-confirm').click();
  await mgr.getByTestId('task-closed').waitFor();
  assert.match(await mgr.getByTestId('task-status').innerText(), /Returned/);
  await mgr.context().close();

  const d = await until(async () => {
    const x = await taskOf();
    return x.history.some((h) => h.action === 'returned') && x.positions.includes('triage') ? x : null;
  }, 'the instance back at triage');
  const actions = d.history.map((h) => h.action);
  assert.ok(actions.includes('transferred') && actions.includes('returned'), actions.join(','));
  const transferred = d.history.find((h) => h.action === 'transferred');
  assert.equal(transferred.detail.to, 'manager_east');
  assert.equal(transferred.detail.comment, 'East region, please');
});

// (added at the end, with its own import, while the helpers above are being reworked;
// ES imports are hoisted, so this is the same as importing it at the top)
import { loginApi } from './harness.mjs';

test('flow versions: a second version published from the designer, both listed, the diff names the changed node', async () => {
  const adminCall = await adminApi(server);
  // Version 1 through the API: a manual flow with one task
  const v1 = {
    key: 'e2e_versions',
    label: { 'zh-CN': '版本测试', en: 'Versions test' },
    trigger: { type: 'manual', form: 'service_order' },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'check', type: 'task', label: { 'zh-CN': '检查', en: 'Check' }, assignee: { user: 'director' } },
      { id: 'end', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'check' },
      { from: 'check', to: 'end' },
    ],
    layout: { start: { x: 0, y: 0 }, check: { x: 0, y: 150 }, end: { x: 0, y: 300 } },
  };
  const pub = await adminCall('/apps/crm/flows/e2e_versions/publish', { method: 'POST', body: v1 });
  assert.equal(pub.status, 201, JSON.stringify(pub.body));

  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/apps/crm/flows/e2e_versions');
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();

  // Version 2 in the designer: the task's label changes, the trigger becomes "a record is deleted"
  await page.getByTestId('flow-node-check').click();
  await page.getByTestId('flow-node-panel').waitFor();
  await page.getByTestId('flow-prop-label-en').fill('Check twice');
  await page.getByTestId('flow-prop-label-zh').fill('复查');
  await page.getByTestId('flow-settings').click();
  await page.getByTestId('flow-trigger-panel').waitFor();
  await pick(page, 'flow-trigger-type', 'A record is deleted');
  await page.getByTestId('flow-trigger-deleted-help').waitFor();
  assert.match(await page.getByTestId('flow-trigger-form').innerText(), /service_order/);
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText('Version 2').waitFor();
  assert.equal(await page.getByTestId('flow-errors').count(), 0);
  const stored = (await adminCall('/apps/crm/flows/e2e_versions')).body;
  assert.equal(stored.published_version, 2);
  assert.deepEqual(stored.definition.trigger, { type: 'record_deleted', form: 'service_order' });
  const versions = (await adminCall('/apps/crm/flows/e2e_versions/versions')).body.items;
  assert.deepEqual(versions.map((v) => v.version).sort(), [1, 2]);

  // The versions panel lists both (newest first, with the author)
  await page.getByTestId('flow-versions-open').click();
  await page.getByTestId('flow-version-row-2').waitFor();
  const rows = await page.locator('[data-testid^="flow-version-row-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
  assert.deepEqual(rows, ['flow-version-row-2', 'flow-version-row-1']);
  assert.match(await page.getByTestId('flow-version-meta-2').innerText(), /admin/);
  // version 2 against version 1: the changed node by id, what changed on it, the trigger
  await page.getByTestId('flow-version-diff-prev-2').click();
  const changed = page.getByTestId('flow-diff-node-check');
  await changed.waitFor();
  assert.match(await changed.innerText(), /check/);
  assert.match(await changed.innerText(), /label/);
  assert.match(await page.getByTestId('flow-diff-trigger').innerText(), /Started by hand → A record is deleted/);
  assert.equal(await page.getByTestId('flow-diff-nodes-added').count(), 0);
  assert.equal(await page.getByTestId('flow-diff-edges-removed').count(), 0);
  // the draft is what was just published: no difference to version 2
  await page.getByTestId('flow-version-diff-draft-2').click();
  await page.locator('[data-testid="flow-diff"][data-empty="true"]').waitFor();

  // Version 1 opened read-only: its graph with the old label
  await page.getByTestId('flow-version-view-1').click();
  const viewer = page.getByTestId('flow-version-viewer');
  await viewer.waitFor();
  assert.match(await viewer.getByTestId('flow-version-trigger').innerText(), /Started by hand · service_order/);
  const oldNode = viewer.getByTestId('flow-version-graph').getByTestId('flow-node-check');
  await oldNode.waitFor();
  assert.match(await oldNode.innerText(), /Check/);
  assert.doesNotMatch(await oldNode.innerText(), /twice/);
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test('a staff user finds the flow instances they started under "Initiated by me"', async () => {
  const cs = await loginApi(server, 'cs1', DEMO_PASSWORD);
  const customer = (await cs('/apps/crm/forms/customer/records?limit=1')).body.items[0].id;
  const created = await cs('/apps/crm/forms/service_order/records', {
    method: 'POST',
    body: { data: { kind: 'repair', priority: 'normal', status: 'reported', customer, fault_description: 'Initiated by me (flow e2e)' } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const order = created.body.id;
  // filing a reported order starts the CRM's dispatch flow, with cs1 as the initiator
  const mine = await until(async () => {
    const r = await cs('/flow-instances?initiator=me');
    return r.body.items.some((i) => i.record === order && i.flow === 'service_dispatch') ? r.body.items : null;
  }, "cs1's instances");
  assert.ok(mine.every((i) => i.initiator === 'cs1'));
  const dispatch = mine.find((i) => i.record === order && i.flow === 'service_dispatch');

  const page = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/tasks');
  await page.getByTestId('inbox-tab-initiated').click();
  assert.match(await page.getByTestId('inbox-tab-initiated').innerText(), new RegExp(`Initiated by me \\(${mine.length}\\)`));
  const row = page.getByTestId(`initiated-row-${dispatch.id}`);
  await row.waitFor();
  await until(async () => /Service order dispatch/.test(await row.innerText()), 'the flow label');
  assert.match(await row.innerText(), new RegExp(`#${order}`));
  assert.match(await row.innerText(), /Running/);
  assert.equal(await row.getAttribute('data-status'), 'running');
  // exactly cs1's instances, newest first (the API's order)
  const ids = await page
    .locator('[data-testid="inbox-initiated"] [data-testid^="initiated-row-"]')
    .evaluateAll((els) => els.map((e) => Number(e.dataset.testid.slice('initiated-row-'.length))));
  assert.deepEqual(ids, mine.slice(0, 20).map((i) => i.id));
  // each links to its instance page
  await page.getByTestId(`initiated-link-${dispatch.id}`).click();
  await page.waitForURL(`**/flow-instances/${dispatch.id}`);
  await page.locator('[data-testid="instance-status"][data-status="running"]').waitFor();
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

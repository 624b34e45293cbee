// Deadlines in the flow designer and the inbox's reject / transfer / return, in Chromium
// against a real server.
//
// 1. An admin opens a complaint flow (version 1 published through the API: a review
//    approval, then a follow-up task) and, in the review node's side panel, switches a
//    deadline on (24 hours, remind by default), makes it 2 days escalating to the service
//    managers' role and publishes; then 36 hours auto-rejecting (the escalation target
//    goes away) and publishes; gives the follow-up task 90 minutes with a reminder (a task
//    is not offered auto-approve / auto-reject). Switching the review back to escalate
//    without naming anyone: the server refuses and its message shows on the node; naming
//    manager_east fixes it. After each publish the node's `deadline` in the published
//    definition is exactly what the panel shows; a reload shows it again in the panel;
//    switching the task's deadline off removes it.
// 2. A complaint flow whose review approval sets the complaint "closed" (with the
//    reviewer's comment as the investigation) when rejected and "investigating" when
//    approved. The director opens the task from /tasks, writes a comment and rejects: the
//    task closes as rejected with the comment, it moves to the closed tab, and the API shows
//    the rejected path taken (the complaint closed with the comment, the instance completed,
//    the approved branch never ran).
// 3. (What flows.test.mjs's transfer / return test does not look at.) A triage task (cs1)
//    then a review with a 48-hour deadline (director). The director transfers the review to
//    compliance1 with a comment: it leaves the director's open tasks, compliance1 finds it
//    in their inbox with the same deadline, and returns it to "Triage" (the only earlier
//    step offered); cs1 finds a new triage task in their inbox and finishes it, and the
//    review comes back to the director.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, closeSelect, DEMO_PASSWORD, launchBrowser, loginApi, loginPage, openSelect, pick, startServer, until } from './harness.mjs';

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

// The flow worker is busy with the demo data's own flows for a while after start.
const FLOW_WAIT = 45000;

/** The node with this id in the flow's published definition (and the version). */
async function publishedNode(adminCall, flow, id) {
  const r = await adminCall(`/apps/crm/flows/${flow}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { version: r.body.published_version, node: r.body.definition.nodes.find((n) => n.id === id) };
}

/** Publish in the designer and wait for the toolbar to show `version`. */
async function publish(page, version) {
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText(`Version ${version}`).waitFor();
  assert.equal(await page.getByTestId('flow-errors').count(), 0);
}

/** What the open deadline panel shows: amount, unit, action, and the escalation target. */
async function shownDeadline(page) {
  const to = page.getByTestId('flow-prop-deadline-to');
  return {
    amount: await page.getByTestId('flow-prop-deadline-amount').inputValue(),
    unit: await page.getByTestId('flow-prop-deadline-unit').innerText(),
    action: await page.getByTestId('flow-prop-deadline-action').innerText(),
    to: (await to.count()) ? [await page.getByTestId('flow-prop-deadline-to-kind').innerText(), await to.innerText()] : null,
  };
}

async function aCustomer(adminCall) {
  const r = await adminCall('/apps/crm/forms/customer/records?limit=1');
  assert.equal(r.status, 200);
  return r.body.items[0].id;
}

/** The one instance of `flow` on `record`, once it exists. */
async function instanceOf(adminCall, flow, record) {
  return until(async () => (await adminCall(`/flow-instances?flow=${flow}&record=${record}`)).body.items?.[0], `the ${flow} instance`, FLOW_WAIT);
}

/** `user`'s open task of this instance, once it exists (through the API, as `user`). */
async function openTaskOf(userCall, instance, user) {
  return until(async () => (await userCall('/tasks?status=open')).body.items?.find((t) => t.instance === instance), `${user}'s task`, FLOW_WAIT);
}

/** The ids of the open tasks the inbox lists, once the list shows all of `userCall`'s
 * open tasks (the API's). */
async function openRowsShown(page, userCall) {
  const items = (await userCall('/tasks?status=open')).body.items;
  const table = page.getByTestId('inbox-tasks-open');
  const rows = table.locator('[data-testid^="task-row-"]');
  await until(
    async () =>
      (await table.locator('.ant-spin-spinning').count()) === 0 &&
      (await rows.count()) === Math.min(items.length, 20) &&
      (items.length > 0 || (await table.locator('.ant-empty').count()) > 0),
    'the open tasks listed',
  );
  return rows.evaluateAll((els) => els.map((e) => Number(e.dataset.testid.slice('task-row-'.length))));
}

test('deadline controls of an approval and a task node round-trip through publishing', async () => {
  const adminCall = await adminApi(server);
  const v1 = {
    key: 'e2e_deadlines',
    label: { 'zh-CN': '时限测试', en: 'Deadlines test' },
    trigger: { type: 'manual', form: 'complaint' },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'review', type: 'approval', label: { 'zh-CN': '复核', en: 'Review' }, assignee: { role: 'service_director' } },
      { id: 'fix', type: 'task', label: { 'zh-CN': '整改', en: 'Fix' }, assignee: { user: 'cs1' } },
      { id: 'end', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'review' },
      { from: 'review', to: 'fix', outcome: 'approved' },
      { from: 'review', to: 'end', outcome: 'rejected' },
      { from: 'fix', to: 'end' },
    ],
    layout: { start: { x: 0, y: 0 }, review: { x: 0, y: 150 }, fix: { x: 0, y: 300 }, end: { x: 0, y: 450 } },
  };
  const pub = await adminCall('/apps/crm/flows/e2e_deadlines/publish', { method: 'POST', body: v1 });
  assert.equal(pub.status, 201, JSON.stringify(pub.body));

  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/apps/crm/flows/e2e_deadlines');
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();

  // The review has no deadline yet; switching it on gives 24 hours, remind.
  await page.getByTestId('flow-node-review').click();
  await page.getByTestId('flow-node-panel').waitFor();
  const toggle = page.getByTestId('flow-prop-deadline');
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  assert.equal(await page.getByTestId('flow-prop-deadline-amount').count(), 0);
  await toggle.click();
  await page.getByTestId('flow-prop-deadline-amount').waitFor();
  assert.equal(await toggle.getAttribute('aria-checked'), 'true');
  assert.deepEqual(await shownDeadline(page), { amount: '24', unit: 'hours', action: 'Remind the assignees', to: null });
  // an approval offers all four actions
  const actions = await openSelect(page, 'flow-prop-deadline-action');
  await actions.options.first().waitFor();
  assert.deepEqual(await actions.options.allInnerTexts(), ['Remind the assignees', 'Escalate', 'Approve automatically', 'Reject automatically']);
  await closeSelect(page, 'flow-prop-deadline-action');

  // 2 days, escalate to the service managers' role.
  await page.getByTestId('flow-prop-deadline-amount').fill('2');
  await pick(page, 'flow-prop-deadline-unit', 'days', { exact: true });
  await pick(page, 'flow-prop-deadline-action', 'Escalate', { exact: true });
  await pick(page, 'flow-prop-deadline-to-kind', 'Role', { exact: true });
  await pick(page, 'flow-prop-deadline-to', '(service_manager)', { search: 'service_manager' });
  assert.deepEqual(await shownDeadline(page), { amount: '2', unit: 'days', action: 'Escalate', to: ['Role', 'Service manager (service_manager)'] });
  await publish(page, 2);
  let review = await publishedNode(adminCall, 'e2e_deadlines', 'review');
  assert.equal(review.version, 2);
  assert.deepEqual(review.node.deadline, { days: 2, action: 'escalate', to: { role: 'service_manager' } });
  assert.deepEqual(review.node.assignee, { role: 'service_director' }, 'the assignee is untouched');

  // 36 hours, reject automatically: the escalation target goes away.
  await pick(page, 'flow-prop-deadline-action', 'Reject automatically', { exact: true });
  assert.equal(await page.getByTestId('flow-prop-deadline-to').count(), 0);
  await page.getByTestId('flow-prop-deadline-amount').fill('36');
  await pick(page, 'flow-prop-deadline-unit', 'hours', { exact: true });
  assert.deepEqual(await shownDeadline(page), { amount: '36', unit: 'hours', action: 'Reject automatically', to: null });
  await publish(page, 3);
  review = await publishedNode(adminCall, 'e2e_deadlines', 'review');
  assert.equal(review.version, 3);
  assert.deepEqual(review.node.deadline, { hours: 36, action: 'auto_reject' });

  // The follow-up task: 90 minutes, remind; a task has no automatic decisions.
  await page.getByTestId('flow-node-fix').click();
  await until(async () => /Fix/.test(await page.getByTestId('flow-node-panel').innerText()), "the task's panel");
  assert.equal(await page.getByTestId('flow-prop-deadline').getAttribute('aria-checked'), 'false');
  await page.getByTestId('flow-prop-deadline').click();
  const taskActions = await openSelect(page, 'flow-prop-deadline-action');
  await taskActions.options.first().waitFor();
  assert.deepEqual(await taskActions.options.allInnerTexts(), ['Remind the assignees', 'Escalate']);
  await closeSelect(page, 'flow-prop-deadline-action');
  await pick(page, 'flow-prop-deadline-unit', 'minutes', { exact: true });
  await page.getByTestId('flow-prop-deadline-amount').fill('90');

  // Back to escalate on the review, naming nobody: the server refuses, on the node.
  await page.getByTestId('flow-node-review').click();
  await until(async () => /Review/.test(await page.getByTestId('flow-node-panel').innerText()), "the review's panel");
  assert.deepEqual(await shownDeadline(page), { amount: '36', unit: 'hours', action: 'Reject automatically', to: null });
  await pick(page, 'flow-prop-deadline-action', 'Escalate', { exact: true });
  await page.getByTestId('flow-prop-deadline-to-kind').waitFor();
  assert.equal(await page.getByTestId('flow-prop-deadline-to').count(), 0, 'no target chosen yet');
  await page.getByTestId('flow-publish').click();
  const error = page.locator('[data-testid^="flow-error-"][data-pointer="/nodes/1/deadline/to"]');
  await error.waitFor();
  assert.equal(await page.locator('[data-testid^="flow-error-"]').count(), 1, await page.getByTestId('flow-errors').innerText());
  await page.locator('[data-testid="flow-node-review"][data-errors]').waitFor();
  const onNode = page.getByTestId('flow-node-errors');
  await onNode.waitFor();
  assert.match(await onNode.innerText(), /\/nodes\/1\/deadline\/to/);
  assert.match(await onNode.innerText(), /escalate needs to \(an assignee\)/);
  assert.equal((await publishedNode(adminCall, 'e2e_deadlines', 'review')).version, 3, 'nothing published');
  assert.match(await page.getByTestId('flow-version').innerText(), /Version 3/);

  // Escalate to manager_east: published, the errors gone.
  await pick(page, 'flow-prop-deadline-to-kind', 'User', { exact: true });
  await pick(page, 'flow-prop-deadline-to', '(manager_east)', { search: 'manager_east' });
  await publish(page, 4);
  assert.equal(await page.getByTestId('flow-node-errors').count(), 0);
  assert.equal(await page.locator('[data-testid="flow-node-review"][data-errors]').count(), 0);
  review = await publishedNode(adminCall, 'e2e_deadlines', 'review');
  assert.equal(review.version, 4);
  assert.deepEqual(review.node.deadline, { hours: 36, action: 'escalate', to: { user: 'manager_east' } });
  const fix = await publishedNode(adminCall, 'e2e_deadlines', 'fix');
  assert.deepEqual(fix.node.deadline, { minutes: 90, action: 'remind' });
  const v4 = (await adminCall('/apps/crm/flows/e2e_deadlines/versions/4')).body;
  const v4Review = (v4.definition ?? v4).nodes.find((n) => n.id === 'review');
  assert.deepEqual(v4Review.deadline, { hours: 36, action: 'escalate', to: { user: 'manager_east' } });

  // A reload shows what was published.
  await page.reload();
  await page.getByTestId('flow-version').getByText('Version 4').waitFor();
  await page.getByTestId('flow-node-review').click();
  await page.getByTestId('flow-prop-deadline-amount').waitFor();
  await until(async () => /manager_east/.test(await page.getByTestId('flow-prop-deadline-to').innerText()), 'the escalation target shown');
  assert.deepEqual(await shownDeadline(page), { amount: '36', unit: 'hours', action: 'Escalate', to: ['User', '李主管 (manager_east)'] });
  await page.getByTestId('flow-node-fix').click();
  await until(async () => /Fix/.test(await page.getByTestId('flow-node-panel').innerText()), "the task's panel");
  assert.deepEqual(await shownDeadline(page), { amount: '90', unit: 'minutes', action: 'Remind the assignees', to: null });
  assert.equal(await page.getByTestId('flow-dirty').count(), 0, 'nothing changed by looking');

  // Switching the task's deadline off removes it from the definition.
  await page.getByTestId('flow-prop-deadline').click();
  await until(async () => (await page.getByTestId('flow-prop-deadline-amount').count()) === 0, 'the deadline fields hidden');
  await publish(page, 5);
  const fix5 = await publishedNode(adminCall, 'e2e_deadlines', 'fix');
  assert.equal(fix5.version, 5);
  assert.equal('deadline' in fix5.node, false, JSON.stringify(fix5.node));
  assert.deepEqual((await publishedNode(adminCall, 'e2e_deadlines', 'review')).node.deadline, { hours: 36, action: 'escalate', to: { user: 'manager_east' } });
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test('the director rejects a complaint from the inbox; the flow takes the rejected path', async () => {
  const adminCall = await adminApi(server);
  const flow = {
    key: 'e2e_complaint_decision',
    label: { 'zh-CN': '投诉裁定', en: 'Complaint decision' },
    trigger: { type: 'record_created', form: 'complaint', condition: { '==': [{ var: 'record.batch' }, 'E2E-REJECT'] } },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'review', type: 'approval', label: { 'zh-CN': '投诉复核', en: 'Complaint review' }, assignee: { user: 'director' } },
      { id: 'investigate', type: 'update_record', set: { status: 'investigating' } },
      { id: 'close', type: 'update_record', set: { status: 'closed', investigation: { var: 'task.comment' } } },
      { id: 'end', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'review' },
      { from: 'review', to: 'investigate', outcome: 'approved' },
      { from: 'review', to: 'close', outcome: 'rejected' },
      { from: 'investigate', to: 'end' },
      { from: 'close', to: 'end' },
    ],
  };
  const pub = await adminCall('/apps/crm/flows/e2e_complaint_decision/publish', { method: 'POST', body: flow });
  assert.equal(pub.status, 201, JSON.stringify(pub.body));
  const description = 'E2E reject: the display flickers after the update';
  const rec = await adminCall('/apps/crm/forms/complaint/records', {
    method: 'POST',
    body: { data: { kind: 'complaint', customer: await aCustomer(adminCall), description, batch: 'E2E-REJECT', status: 'open' } },
  });
  assert.equal(rec.status, 201, JSON.stringify(rec.body));
  const instance = await instanceOf(adminCall, 'e2e_complaint_decision', rec.body.id);
  const directorCall = await loginApi(server, 'director', DEMO_PASSWORD);
  const task = await openTaskOf(directorCall, instance.id, 'director');
  assert.equal(task.node, 'review');

  const page = await loginPage(browser, server, 'director', DEMO_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/tasks');
  const row = page.locator(`[data-testid="inbox-tasks-open"] [data-testid="task-row-${task.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Complaint review/);
  assert.match(await row.innerText(), /Complaint decision/);
  await row.click();
  await page.waitForURL(`**/tasks/${task.id}`);
  await page.getByTestId('task-title').getByText('Complaint review').waitFor();
  assert.match(await page.getByTestId('task-status').innerText(), /Open/);
  const field = page.locator('[data-testid="task-record"] [data-field="description"]');
  await field.waitFor();
  assert.equal(await field.evaluate((el) => el.querySelector('textarea, input')?.value ?? el.innerText), description);

  const comment = 'Not a product fault: the customer skipped the firmware update.';
  await page.getByTestId('task-comment').fill(comment);
  await page.getByTestId('task-reject').click();
  const closed = page.getByTestId('task-closed');
  await closed.waitFor();
  assert.match(await page.getByTestId('task-status').innerText(), /^Rejected$/);
  assert.match(await closed.innerText(), /This task is closed: Rejected/);
  assert.ok((await closed.innerText()).includes(comment), await closed.innerText());
  assert.match(await closed.innerText(), /director/);
  assert.equal(await page.getByTestId('task-approve').count(), 0);
  assert.equal(await page.getByTestId('task-reject').count(), 0);

  // The API: the task rejected with the comment; the rejected branch closed the complaint
  // with the comment as the investigation; the approved branch never ran.
  const stored = (await directorCall(`/tasks/${task.id}`)).body.task;
  assert.equal(stored.status, 'rejected');
  assert.equal(stored.comment, comment);
  assert.equal(stored.completed_by, 'director');
  const done = await until(async () => {
    const d = (await adminCall(`/flow-instances/${instance.id}`)).body;
    return d.instance.status !== 'running' ? d : null;
  }, 'the instance ended', FLOW_WAIT);
  assert.equal(done.instance.status, 'completed', JSON.stringify(done.instance));
  const complaint = (await adminCall(`/apps/crm/forms/complaint/records/${rec.body.id}`)).body.data;
  assert.equal(complaint.status, 'closed');
  assert.equal(complaint.investigation, comment);
  const decision = done.history.find((h) => h.node === 'review' && h.action === 'rejected');
  assert.ok(decision, JSON.stringify(done.history));
  assert.equal(decision.actor, 'director');
  assert.equal(decision.detail.comment, comment);
  const nodes = new Set(done.history.map((h) => h.node));
  assert.ok(nodes.has('close'), JSON.stringify(done.history));
  assert.ok(!nodes.has('investigate'), JSON.stringify(done.history));
  assert.ok(!done.history.some((h) => h.action === 'approved'));

  // The inbox: gone from the open tasks, listed under the closed ones as rejected.
  await page.goto('/tasks');
  await page.getByTestId('inbox-tab-closed').click();
  const closedRow = page.locator(`[data-testid="inbox-tasks-closed"] [data-testid="task-row-${task.id}"]`);
  await closedRow.waitFor();
  assert.match(await closedRow.innerText(), /Rejected/);
  await page.getByTestId('inbox-tab-open').click();
  assert.ok(!(await openRowsShown(page, directorCall)).includes(task.id));
  // The instance page shows it completed.
  await page.goto(`/flow-instances/${instance.id}`);
  await page.locator('[data-testid="instance-status"][data-status="completed"]').waitFor();
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test('a transferred review shows in the new assignee\'s inbox with its deadline; returning it gives triage a new task', async () => {
  const adminCall = await adminApi(server);
  const flow = {
    key: 'e2e_complaint_handover',
    label: { 'zh-CN': '投诉交接', en: 'Complaint handover' },
    trigger: { type: 'record_created', form: 'complaint', condition: { '==': [{ var: 'record.batch' }, 'E2E-HANDOVER'] } },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'triage', type: 'task', label: { 'zh-CN': '分诊', en: 'Triage' }, assignee: { user: 'cs1' } },
      { id: 'review', type: 'approval', label: { 'zh-CN': '复核', en: 'Review' }, assignee: { user: 'director' }, deadline: { hours: 48, action: 'remind' } },
      { id: 'end', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'triage' },
      { from: 'triage', to: 'review' },
      { from: 'review', to: 'end', outcome: 'approved' },
      { from: 'review', to: 'end', outcome: 'rejected' },
    ],
  };
  const pub = await adminCall('/apps/crm/flows/e2e_complaint_handover/publish', { method: 'POST', body: flow });
  assert.equal(pub.status, 201, JSON.stringify(pub.body));
  const rec = await adminCall('/apps/crm/forms/complaint/records', {
    method: 'POST',
    body: { data: { kind: 'complaint', customer: await aCustomer(adminCall), description: 'E2E handover: noisy pump', batch: 'E2E-HANDOVER' } },
  });
  assert.equal(rec.status, 201, JSON.stringify(rec.body));
  const instance = await instanceOf(adminCall, 'e2e_complaint_handover', rec.body.id);
  const csCall = await loginApi(server, 'cs1', DEMO_PASSWORD);
  const directorCall = await loginApi(server, 'director', DEMO_PASSWORD);
  const complianceCall = await loginApi(server, 'compliance1', DEMO_PASSWORD);
  const triage1 = await openTaskOf(csCall, instance.id, 'cs1');
  assert.equal((await csCall(`/tasks/${triage1.id}/complete`, { method: 'POST', body: { outcome: 'done' } })).status, 200);
  const review1 = await openTaskOf(directorCall, instance.id, 'director');
  assert.equal(review1.node, 'review');
  assert.ok(review1.due_at, 'the review has a deadline');

  // The director transfers the review to compliance1 with a comment.
  const director = await loginPage(browser, server, 'director', DEMO_PASSWORD, { locale: 'en' });
  const directorErrors = [];
  director.on('pageerror', (e) => directorErrors.push(e.message));
  await director.goto('/tasks');
  await director.locator(`[data-testid="inbox-tasks-open"] [data-testid="task-row-${review1.id}"]`).click();
  await director.waitForURL(`**/tasks/${review1.id}`);
  await director.getByTestId('task-title').getByText('Review').waitFor();
  const handover = 'Compliance should look at this one';
  await director.getByTestId('task-comment').fill(handover);
  await director.getByTestId('task-transfer').click();
  await pick(director, 'task-action-target', '(compliance1)', { search: 'compliance1' });
  await director.getByTestId('task-action-confirm').click();
  await director.getByTestId('task-closed').waitFor();
  assert.match(await director.getByTestId('task-status').innerText(), /^Transferred$/);
  // no longer among the director's open tasks; under the closed ones
  await director.goto('/tasks');
  await director.getByTestId('inbox-tab-closed').click();
  await director.locator(`[data-testid="inbox-tasks-closed"] [data-testid="task-row-${review1.id}"]`).waitFor();
  await director.getByTestId('inbox-tab-open').click();
  assert.ok(!(await openRowsShown(director, directorCall)).includes(review1.id));
  assert.deepEqual(directorErrors, []);
  await director.context().close();

  // compliance1 finds it in their inbox, with the same deadline, and returns it to triage.
  const review2 = await openTaskOf(complianceCall, instance.id, 'compliance1');
  assert.notEqual(review2.id, review1.id);
  assert.equal(review2.node, 'review');
  assert.equal(review2.kind, 'approval');
  assert.equal(review2.due_at, review1.due_at, 'the deadline travels with the task');
  const compliance = await loginPage(browser, server, 'compliance1', DEMO_PASSWORD, { locale: 'en' });
  const complianceErrors = [];
  compliance.on('pageerror', (e) => complianceErrors.push(e.message));
  await compliance.goto('/tasks');
  const row = compliance.locator(`[data-testid="inbox-tasks-open"] [data-testid="task-row-${review2.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Review/);
  assert.match(await row.innerText(), /Complaint handover/);
  await row.click();
  await compliance.waitForURL(`**/tasks/${review2.id}`);
  await compliance.getByTestId('task-title').getByText('Review').waitFor();
  await compliance.getByTestId('task-comment').fill('Needs the lot number first');
  await compliance.getByTestId('task-return').click();
  const steps = await openSelect(compliance, 'task-action-target');
  await steps.options.first().waitFor();
  assert.deepEqual(await steps.options.allInnerTexts(), ['Triage']);
  await closeSelect(compliance, 'task-action-target');
  await pick(compliance, 'task-action-target', 'Triage', { exact: true });
  await compliance.getByTestId('task-action-confirm').click();
  await compliance.getByTestId('task-closed').waitFor();
  assert.match(await compliance.getByTestId('task-status').innerText(), /^Returned$/);
  assert.deepEqual(complianceErrors, []);
  await compliance.context().close();

  // cs1 finds a new triage task in their inbox and finishes it; the review is back with the director.
  const triage2 = await openTaskOf(csCall, instance.id, 'cs1');
  assert.notEqual(triage2.id, triage1.id);
  assert.equal(triage2.node, 'triage');
  const cs = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en' });
  const csErrors = [];
  cs.on('pageerror', (e) => csErrors.push(e.message));
  await cs.goto('/tasks');
  await cs.locator(`[data-testid="inbox-tasks-open"] [data-testid="task-row-${triage2.id}"]`).click();
  await cs.waitForURL(`**/tasks/${triage2.id}`);
  await cs.getByTestId('task-title').getByText('Triage').waitFor();
  await cs.getByTestId('task-done').click();
  await cs.getByTestId('task-closed').waitFor();
  assert.match(await cs.getByTestId('task-status').innerText(), /^Done$/);
  assert.deepEqual(csErrors, []);
  await cs.context().close();

  const review3 = await openTaskOf(directorCall, instance.id, 'director');
  assert.ok(![review1.id, review2.id].includes(review3.id));
  const d = (await adminCall(`/flow-instances/${instance.id}`)).body;
  assert.deepEqual(d.positions, ['review']);
  const transferred = d.history.find((h) => h.action === 'transferred');
  assert.equal(transferred.actor, 'director');
  assert.equal(transferred.detail.to, 'compliance1');
  assert.equal(transferred.detail.comment, handover);
  const returned = d.history.find((h) => h.action === 'returned');
  assert.equal(returned.actor, 'compliance1');
  assert.equal(returned.node, 'review');
  assert.deepEqual(returned.detail, { to: 'triage', comment: 'Needs the lot number first' });
});

// Approval flows drawn top-down, DingTalk / Feishu style, against a real server in
// Chromium: an admin draws start → approval → end on the CRM, inserts a second approval on
// the approval → end edge with the "+" in its middle, gives it an assignee, lays the graph
// out top-down and saves; the stored draft (through the API) has the approval chain wired
// with its outcomes and a layout that runs straight down one column.
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

test('an approval inserted with the "+" on an edge, then the flow laid out top-down', async () => {
  const adminCall = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const edgeCount = () => page.locator('.react-flow__edge').count();

  // A new flow on service orders
  await page.goto('/apps/crm/flows');
  await page.getByTestId('flow-new').click();
  await page.getByTestId('flow-new-key').fill('two_step_approval');
  await page.getByTestId('flow-new-label-zh').fill('两级审批');
  await page.getByTestId('flow-new-label-en').fill('Two-step approval');
  await pick(page, 'flow-new-form', '(service_order)', { search: 'service_order' });
  await page.getByTestId('flow-new-create').click();
  await page.waitForURL('**/apps/crm/flows/two_step_approval');
  await page.getByTestId('flow-node-start').waitFor();
  await page.getByTestId('flow-node-end').waitFor();

  // start → approval → end (approved)
  await page.getByTestId('flow-palette-approval').click();
  await page.getByTestId('flow-node-approval_1').waitFor();
  await connect(page, 'flow-handle-start-out', 'flow-handle-approval_1-in');
  await until(async () => (await edgeCount()) === 1, 'edge 1');
  await connect(page, 'flow-handle-approval_1-approved', 'flow-handle-end-in');
  await until(async () => (await edgeCount()) === 2, 'edge 2');

  // Every edge has its "+"; the one on approval_1 → end inserts a second approval there
  await page.getByTestId('flow-edge-insert-start-approval_1').waitFor();
  await page.getByTestId('flow-edge-insert-approval_1-end').click();
  await page.getByTestId('flow-insert-kind-approval').click();
  await page.getByTestId('flow-node-approval_2').waitFor();
  await until(async () => (await edgeCount()) === 3, 'edge 3');
  assert.equal(await page.getByTestId('flow-edge-insert-approval_1-end').count(), 0);
  await page.getByTestId('flow-edge-insert-approval_1-approval_2').waitFor();
  await page.getByTestId('flow-edge-insert-approval_2-end').waitFor();
  // the new node is selected: its panel is open
  await page.getByTestId('flow-node-panel').waitFor();
  assert.equal(await page.getByTestId('flow-prop-id').inputValue(), 'approval_2');
  await page.getByTestId('flow-prop-label-en').fill('Director approval');
  await pick(page, 'flow-prop-assignee-kind', 'User');
  await pick(page, 'flow-prop-assignee', '(director)', { search: 'director' });

  // Top-down, save
  await page.getByTestId('flow-layout-topdown').click();
  await page.getByTestId('flow-dirty').waitFor();
  await page.getByTestId('flow-save').click();
  await until(async () => (await page.getByTestId('flow-dirty').count()) === 0, 'draft saved');

  // The stored draft
  const stored = await adminCall('/apps/crm/flows/two_step_approval');
  assert.equal(stored.status, 200);
  const def = stored.body.draft;
  assert.ok(def && typeof def === 'object', 'a draft is stored');
  const byId = Object.fromEntries(def.nodes.map((n) => [n.id, n]));
  assert.deepEqual(Object.keys(byId).sort(), ['approval_1', 'approval_2', 'end', 'start']);
  assert.equal(byId.approval_2.type, 'approval');
  assert.deepEqual(byId.approval_2.assignee, { user: 'director' });
  assert.deepEqual(byId.approval_2.label, { 'zh-CN': '审批', en: 'Director approval' });
  const edges = def.edges.map((e) => JSON.stringify(e)).sort();
  assert.deepEqual(
    edges,
    [
      { from: 'start', to: 'approval_1' },
      { from: 'approval_1', to: 'approval_2', outcome: 'approved' },
      { from: 'approval_2', to: 'end', outcome: 'approved' },
    ]
      .map((e) => JSON.stringify(e))
      .sort(),
  );
  const chain = ['start', 'approval_1', 'approval_2', 'end'].map((id) => def.layout[id]);
  for (let i = 1; i < chain.length; i++) {
    assert.ok(chain[i].y > chain[i - 1].y, `row ${i} is below row ${i - 1}: ${JSON.stringify(chain)}`);
    assert.equal(chain[i].x, chain[0].x, `one column: ${JSON.stringify(chain)}`);
  }
  assert.deepEqual(pageErrors, []);
});

test('a "+" on a flow laid out top-down lays it out again with the new node in its row', async () => {
  const adminCall = await adminApi(server);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  // The CRM's qualification review: review → approved: approve → customer_valid → end;
  // rejected: reject → tell_submitter → end
  await page.goto('/apps/crm/flows/qualification_review');
  await page.getByTestId('flow-node-customer_valid').waitFor();
  await page.getByTestId('flow-layout-topdown').click();
  await page.getByTestId('flow-dirty').waitFor();
  await page.getByTestId('flow-edge-insert-approve-customer_valid').click();
  await page.getByTestId('flow-insert-kind-notify').click();
  await page.getByTestId('flow-node-notify_1').waitFor();
  assert.equal(await page.getByTestId('flow-prop-id').inputValue(), 'notify_1');
  await page.getByTestId('flow-save').click();
  await until(async () => (await page.getByTestId('flow-dirty').count()) === 0, 'draft saved');

  const def = (await adminCall('/apps/crm/flows/qualification_review')).body.draft;
  const edges = def.edges.map((e) => JSON.stringify(e));
  assert.ok(edges.includes(JSON.stringify({ from: 'approve', to: 'notify_1' })), edges.join());
  assert.ok(edges.includes(JSON.stringify({ from: 'notify_1', to: 'customer_valid' })), edges.join());
  assert.ok(!edges.includes(JSON.stringify({ from: 'approve', to: 'customer_valid' })), edges.join());
  const at = def.layout;
  // the approved path is one column; the rows moved down to make room for the new node
  assert.equal(at.notify_1.x, at.approve.x);
  assert.equal(at.customer_valid.x, at.approve.x);
  assert.equal(at.approve.y, at.reject.y);
  assert.equal(at.notify_1.y, at.tell_submitter.y);
  assert.ok(at.approve.y < at.notify_1.y && at.notify_1.y < at.customer_valid.y && at.customer_valid.y < at.end.y, JSON.stringify(at));
  assert.deepEqual(pageErrors, []);
});

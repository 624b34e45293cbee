// Publishing a flow whose task goes to a role nobody holds yet, in Chromium against a real
// server. The admin opens the flow (a draft saved through the API) and publishes: the
// server refuses, the message names the node's assignee, and the designer offers to
// publish anyway; doing so publishes version 1 and shows the warning. Once a user holds
// the role, the next publish goes through without a word.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, launchBrowser, loginPage, startServer } from './harness.mjs';

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

test('a role nobody holds refuses the publish until the admin publishes anyway or staffs it', async () => {
  const adminCall = await adminApi(server);
  const role = await adminCall('/apps/crm/roles/e2e_auditors', {
    method: 'PUT',
    body: { key: 'e2e_auditors', label: { 'zh-CN': '审计', en: 'Auditors' }, permissions: { complaint: { actions: ['read'], rows: 'all', read: ['*'] } } },
  });
  assert.equal(role.status, 200, JSON.stringify(role.body));
  const def = {
    key: 'e2e_unstaffed',
    label: { 'zh-CN': '无人角色', en: 'Unstaffed role' },
    trigger: { type: 'manual', form: 'complaint' },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'audit', type: 'task', label: { 'zh-CN': '审计', en: 'Audit' }, assignee: { role: 'e2e_auditors' } },
      { id: 'end', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'audit' },
      { from: 'audit', to: 'end' },
    ],
    layout: { start: { x: 0, y: 0 }, audit: { x: 0, y: 150 }, end: { x: 0, y: 300 } },
  };
  const draft = await adminCall('/apps/crm/flows/e2e_unstaffed/draft', { method: 'PUT', body: def });
  assert.equal(draft.status, 200, JSON.stringify(draft.body));

  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/apps/crm/flows/e2e_unstaffed');
  await page.getByTestId('flow-node-audit').waitFor();

  // Refused: the message points at the task's assignee, nothing is published.
  await page.getByTestId('flow-publish').click();
  const error = page.getByTestId('flow-error-0');
  await error.waitFor();
  assert.equal(await error.getAttribute('data-pointer'), '/nodes/1/assignee/role');
  assert.match(await error.innerText(), /e2e_auditors/);
  assert.equal(await page.getByTestId('flow-error-1').count(), 0);
  assert.equal((await adminCall('/apps/crm/flows/e2e_unstaffed')).body.published_version ?? null, null);

  // Publish anyway: version 1, with the warning.
  await page.getByTestId('flow-publish-anyway').click();
  await page.getByTestId('flow-version').getByText('Version 1').waitFor();
  assert.equal(await page.getByTestId('flow-errors').count(), 0);
  const warnings = page.getByTestId('flow-publish-warnings');
  await warnings.waitFor();
  assert.match(await warnings.innerText(), /e2e_auditors/);
  const published = await adminCall('/apps/crm/flows/e2e_unstaffed');
  assert.equal(published.body.published_version, 1);
  assert.deepEqual(published.body.definition.nodes[1].assignee, { role: 'e2e_auditors' });

  // Someone holds the role now: the next publish has nothing to say.
  const user = await adminCall('/admin/users', { method: 'POST', body: { username: 'e2e_auditor', display_name: 'E2E Auditor', password: 'auditor-password-1' } });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  const roles = await adminCall('/admin/users/e2e_auditor/roles', { method: 'PUT', body: { crm: ['e2e_auditors'] } });
  assert.equal(roles.status, 200, JSON.stringify(roles.body));
  await page.getByTestId('flow-node-audit').click();
  await page.getByTestId('flow-node-panel').waitFor();
  await page.getByTestId('flow-prop-label-en').fill('Audit it');
  await page.getByTestId('flow-publish').click();
  await page.getByTestId('flow-version').getByText('Version 2').waitFor();
  assert.equal(await page.getByTestId('flow-errors').count(), 0);
  assert.equal(await page.getByTestId('flow-publish-warnings').count(), 0);
  assert.equal(await page.getByTestId('flow-publish-anyway').count(), 0);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

// The form designer against a real server in Chromium: create a form, drag fields from
// the palette with the mouse, reorder with the keyboard, edit properties, add a show/hide
// rule, try it in the preview, get a server error shown on its field, fix it, save,
// publish, and check the stored definition through the API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ADMIN_PASSWORD, DEMO_PASSWORD, adminApi, dndClicksRestored, launchBrowser, loginPage, pick, screenshotDir, startServer } from './harness.mjs';

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

/** Mouse drag as dnd-kit needs it: press, move in steps, release (then wait until clicks
 * get through again). */
async function drag(page, source, target, { dy = 'bottom' } = {}) {
  const a = await source.boundingBox();
  const b = await target.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 2 + 10, a.y + a.height / 2 + 5, { steps: 3 });
  const y = dy === 'bottom' ? b.y + b.height - 16 : b.y + b.height / 2;
  await page.mouse.move(b.x + b.width / 2, y, { steps: 12 });
  await page.mouse.up();
  await dndClicksRestored(page);
}

async function canvasOrder(page) {
  return page.locator('[data-testid^="canvas-field-"]').evaluateAll((els) => els.map((e) => e.dataset.testid.slice('canvas-field-'.length)));
}

test('admin designs, checks, saves and publishes a new form', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/apps/crm/design');
  await page.getByTestId('designer-form-service_order').waitFor();

  // New form
  await page.getByTestId('designer-new-form').click();
  await page.getByTestId('new-form-key').fill('site_visit');
  await page.getByTestId('new-form-label-zh').fill('现场拜访');
  await page.getByTestId('new-form-label-en').fill('Site visit');
  await page.getByTestId('new-form-create').click();
  await page.waitForURL('**/apps/crm/design/site_visit');
  const canvas = page.getByTestId('canvas-root');
  await canvas.waitFor();

  // Drag four fields from the palette with the mouse
  for (const type of ['text', 'select', 'number', 'long_text']) {
    await drag(page, page.getByTestId(`palette-${type}`), canvas);
    await page.getByTestId(`canvas-field-${type}_1`).waitFor();
  }
  assert.deepEqual(await canvasOrder(page), ['text_1', 'select_1', 'number_1', 'long_text_1']);

  // Reorder with the keyboard: the number goes above the select
  await page.getByTestId('canvas-field-number_1').focus();
  await page.keyboard.press('Space');
  await page.waitForTimeout(200);
  await page.keyboard.press('ArrowUp');
  await page.waitForTimeout(300);
  await page.keyboard.press('Space');
  await page.waitForTimeout(300);
  assert.deepEqual(await canvasOrder(page), ['text_1', 'number_1', 'select_1', 'long_text_1']);

  // Properties
  await page.getByTestId('canvas-field-text_1').click();
  await page.getByTestId('prop-key').fill('contact_name');
  await page.getByTestId('prop-label-zh').fill('联系人');
  await page.getByTestId('prop-label-en').fill('Contact');
  await page.getByTestId('prop-required').click();

  await page.getByTestId('canvas-field-select_1').click();
  await page.getByTestId('prop-key').fill('outcome');
  await page.getByTestId('prop-label-zh').fill('结果');
  await page.getByTestId('prop-label-en').fill('Outcome');
  await page.getByTestId('prop-option-value-0').fill('pending');
  await page.getByTestId('prop-option-zh-0').fill('待跟进');
  await page.getByTestId('prop-option-en-0').fill('Pending');
  await page.getByTestId('prop-option-value-1').fill('issue_found');
  await page.getByTestId('prop-option-zh-1').fill('发现问题');
  await page.getByTestId('prop-option-en-1').fill('Issue found');
  await page.getByTestId('prop-required').click();

  await page.getByTestId('canvas-field-number_1').click();
  await page.getByTestId('prop-key').fill('attendees');
  await page.getByTestId('prop-label-en').fill('Attendees');
  await page.getByTestId('prop-minimum').fill('1');

  await page.getByTestId('canvas-field-long_text_1').click();
  await page.getByTestId('prop-key').fill('issue');
  await page.getByTestId('prop-label-zh').fill('问题描述');
  await page.getByTestId('prop-label-en').fill('Issue');

  // Show the issue only when the outcome is "issue found"
  await pick(page, 'rule-field', 'Outcome (outcome)');
  await pick(page, 'rule-value', 'Issue found');
  await page.getByTestId('rule-add').click();
  await page.getByTestId('rule-current').getByText('Issue found').waitFor();
  assert.equal(await page.getByTestId('canvas-field-issue').getByTestId('canvas-rule-mark').count(), 1);

  // Preview: hidden until the select says so
  await page.getByTestId('designer-tab-preview').click();
  const preview = page.getByTestId('designer-preview');
  await preview.locator('[data-field="outcome"]').waitFor();
  assert.equal(await preview.locator('[data-field="issue"]').count(), 0);
  await pick(page, 'field-outcome', 'Issue found');
  await preview.locator('[data-field="issue"]').waitFor();
  await pick(page, 'field-outcome', 'Pending');
  await preview.locator('[data-field="issue"]').waitFor({ state: 'detached' });

  // A server error on a field: a negative maximum length is refused by the server
  await page.getByTestId('canvas-field-contact_name').click();
  await page.getByTestId('designer-tab-props').click();
  await page.getByTestId('prop-maxLength').fill('-1');
  await page.getByTestId('designer-save').click();
  await page.getByTestId('designer-errors').waitFor();
  const fieldErr = page.getByTestId('field-errors-contact_name');
  await fieldErr.waitFor();
  assert.match(await fieldErr.innerText(), /minimum of 0/);
  await page.getByTestId('prop-errors').waitFor();
  // fix it and save
  await page.getByTestId('prop-maxLength').fill('100');
  await page.getByTestId('designer-save').click();
  await page.getByTestId('designer-errors').waitFor({ state: 'detached' });
  await page.getByTestId('designer-dirty').waitFor({ state: 'detached' });
  assert.equal(await fieldErr.count(), 0);

  await page.getByTestId('designer-publish').click();
  await page.getByText('Published version 1').waitFor();

  // Undo / redo (buttons and keyboard) change the draft and come back
  await page.getByTestId('canvas-root').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+z');
  await page.getByTestId('designer-dirty').waitFor();
  await page.getByTestId('designer-redo').click();
  await page.getByTestId('designer-dirty').waitFor({ state: 'detached' });

  // The stored definition
  const api = await adminApi(server);
  const res = await api('/apps/crm/forms/site_visit');
  assert.equal(res.status, 200);
  assert.equal(res.body.published_version, 1);
  const def = res.body.definition;
  const props = def.schema.properties;
  assert.deepEqual(Object.keys(props), ['contact_name', 'outcome', 'attendees', 'issue']);
  assert.deepEqual(
    Object.fromEntries(Object.entries(props).map(([k, p]) => [k, [p.type, p['x-type']]])),
    {
      contact_name: ['string', 'text'],
      outcome: ['string', 'select'],
      attendees: ['number', 'number'],
      issue: ['string', 'long_text'],
    },
  );
  assert.deepEqual(props.contact_name['x-label'], { 'zh-CN': '联系人', en: 'Contact' });
  assert.equal(props.contact_name.maxLength, 100);
  assert.deepEqual(props.outcome.enum, ['pending', 'issue_found']);
  assert.deepEqual(props.outcome['x-options'], {
    pending: { 'zh-CN': '待跟进', en: 'Pending' },
    issue_found: { 'zh-CN': '发现问题', en: 'Issue found' },
  });
  assert.equal(props.attendees.minimum, 1);
  assert.deepEqual(def.schema.required, ['contact_name', 'outcome']);
  assert.equal(def.schema.additionalProperties, false);
  assert.deepEqual(def.layout, {
    type: 'VerticalLayout',
    elements: [
      { type: 'Control', scope: '#/properties/contact_name' },
      { type: 'Control', scope: '#/properties/attendees' },
      { type: 'Control', scope: '#/properties/outcome' },
      {
        type: 'Control',
        scope: '#/properties/issue',
        rule: { effect: 'SHOW', condition: { '==': [{ var: 'outcome' }, 'issue_found'] } },
      },
    ],
  });

  // The versions tab lists version 1 and the draft equals it
  await page.getByTestId('designer-tab-versions').click();
  await page.getByTestId('version-row-1').waitFor();
  await page.getByTestId('designer-diff').getByText('No differences').waitFor();
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test('a staff user fills the designed form: server error on the field, the rule, filter and export', async () => {
  // Runs after the first test published site_visit on this server.
  const api = await adminApi(server);
  const role = {
    key: 'visitor',
    label: { 'zh-CN': '拜访员', en: 'Visitor' },
    permissions: { site_visit: { actions: ['create', 'read', 'export'], rows: 'own', read: ['*'], write: ['*'] } },
  };
  assert.equal((await api('/apps/crm/roles/visitor', { method: 'PUT', body: role })).status, 200);
  const roles = await api('/admin/users/cs1/roles', { method: 'PUT', body: { crm: ['customer_service', 'visitor'] } });
  assert.equal(roles.status, 200, JSON.stringify(roles.body));

  const page = await loginPage(browser, server, 'cs1', DEMO_PASSWORD, { locale: 'en' });
  await page.getByTestId('app-crm').click();
  await page.getByTestId('form-site_visit').click();
  await page.getByTestId('list-new').click();
  await page.getByTestId('field-contact_name').fill('Dr. Wang E2E');
  await page.getByTestId('field-attendees').fill('3');
  // The long text only shows for "Issue found".
  assert.equal(await page.locator('[data-field="issue"]').count(), 0);
  // outcome is required: the server refuses and the message lands on that field.
  await page.getByTestId('record-save').click();
  const outcomeError = page.locator('[data-field="outcome"] .ant-form-item-explain-error');
  await outcomeError.waitFor();
  assert.match(await outcomeError.innerText(), /required/);
  assert.equal(await page.locator('[data-field="contact_name"] .ant-form-item-explain-error').count(), 0);

  await pick(page, 'field-outcome', 'Issue found');
  await page.getByTestId('field-issue').fill('Cable worn');
  await page.getByTestId('record-save').click();
  await page.waitForURL(/\/records\/\d+$/);
  const id = Number(/\/records\/(\d+)$/.exec(page.url())[1]);
  const stored = (await api(`/apps/crm/forms/site_visit/records/${id}`)).body;
  assert.deepEqual(stored.data, { contact_name: 'Dr. Wang E2E', attendees: 3, outcome: 'issue_found', issue: 'Cable worn' });

  await page.getByTestId('record-back').click();
  await page.getByTestId('filter-add').click();
  await pick(page, 'filter-field-0', 'Contact');
  await page.getByTestId('filter-value-0').fill('Wang E2E');
  await page.getByTestId('filter-apply').click();
  await page.getByTestId(`record-link-${id}`).waitFor();
  assert.equal(await page.locator('[data-testid^="record-link-"]').count(), 1);
  await page.getByTestId('list-export').hover();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
  assert.equal(csv.length, 2, csv.join('\n'));
  assert.match(csv[1], /Dr\. Wang E2E/);
  await page.context().close();
});

test('an existing form loads into the designer and saves back unchanged', async () => {
  const api = await adminApi(server);
  const before = (await api('/apps/crm/forms/service_order')).body;
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/design/service_order');
  await page.getByTestId('canvas-field-parts_used.qty').waitFor();
  // Screenshot for the docs: groups, columns, a selected select field with its options.
  await page.getByTestId('canvas-field-priority').click();
  await page.getByTestId('prop-option-value-0').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(screenshotDir(), 'designer.png') });
  await page.getByTestId('canvas-field-resolution').click();
  await page.getByTestId('designer-save').click();
  await page.getByText('Draft saved').waitFor();
  const after = (await api('/apps/crm/forms/service_order')).body;
  assert.deepEqual(after.draft, before.draft ?? before.definition);
  await page.context().close();
});

test('groups, columns and sub-table columns by mouse; palette by keyboard', async () => {
  const api = await adminApi(server);
  const base = {
    key: 'nesting',
    label: { 'zh-CN': '嵌套', en: 'Nesting' },
    schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {}, additionalProperties: false },
    layout: { type: 'VerticalLayout', elements: [] },
  };
  assert.equal((await api('/apps/crm/forms/nesting/draft', { method: 'PUT', body: base })).status, 200);
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await page.goto('/apps/crm/design/nesting');
  const canvas = page.getByTestId('canvas-root');
  await canvas.waitFor();

  await drag(page, page.getByTestId('palette-group'), canvas);
  const group = page.locator('[data-kind="group"]').first();
  await group.waitFor();
  const groupId = (await group.getAttribute('data-testid')).slice('canvas-container-'.length);
  await drag(page, page.getByTestId('palette-row'), page.getByTestId(`canvas-drop-${groupId}`), { dy: 'middle' });
  const row = page.locator('[data-kind="row"]').first();
  await row.waitFor();
  const rowId = (await row.getAttribute('data-testid')).slice('canvas-container-'.length);
  await drag(page, page.getByTestId('palette-text'), page.getByTestId(`canvas-drop-${rowId}`), { dy: 'middle' });
  await page.getByTestId('canvas-field-text_1').waitFor();
  await drag(page, page.getByTestId('palette-date'), page.getByTestId(`canvas-drop-${rowId}`), { dy: 'middle' });
  await page.getByTestId('canvas-field-date_1').waitFor();

  await drag(page, page.getByTestId('palette-sub_table'), canvas);
  await page.getByTestId('canvas-field-sub_table_1').waitFor();
  await drag(page, page.getByTestId('palette-integer'), page.getByTestId('canvas-drop-sub_table_1'), { dy: 'middle' });
  await page.getByTestId('canvas-field-sub_table_1.integer_1').waitFor();

  // Keyboard: Enter on a palette item adds it after the selection (nothing selected: at the end)
  await page.getByTestId('canvas-root').click({ position: { x: 5, y: 5 } });
  await page.getByTestId('palette-boolean').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('canvas-field-boolean_1').waitFor();

  await page.getByTestId('designer-save').click();
  await page.getByTestId('designer-dirty').waitFor({ state: 'detached' });
  const def = (await api('/apps/crm/forms/nesting')).body.draft;
  assert.deepEqual(def.layout.elements.map((e) => e.type), ['Group', 'Control', 'Control']);
  assert.deepEqual(def.layout.elements[0].elements, [
    {
      type: 'HorizontalLayout',
      elements: [
        { type: 'Control', scope: '#/properties/text_1' },
        { type: 'Control', scope: '#/properties/date_1' },
      ],
    },
  ]);
  assert.deepEqual(Object.keys(def.schema.properties.sub_table_1.items.properties), ['integer_1']);
  assert.equal(def.schema.properties.boolean_1.type, 'boolean');
  await page.context().close();
});

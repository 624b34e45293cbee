// The designer's property editors for the field kinds with settings of their own, in
// Chromium against a real server: a default, a reference target and its display field, a
// serial-number pattern, a computed formula, number limits and a required-when rule built
// visually; the preview shows errors on their fields; the published definition and
// records written through the API carry it all; a second version's difference names what
// changed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, launchBrowser, loginPage, pick, startServer } from './harness.mjs';

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

/** Create a new form in the designer and wait for its canvas. */
async function newForm(page, key, zh, en) {
  await page.goto('/apps/crm/design');
  await page.getByTestId('designer-new-form').click();
  await page.getByTestId('new-form-key').fill(key);
  await page.getByTestId('new-form-label-zh').fill(zh);
  await page.getByTestId('new-form-label-en').fill(en);
  await page.getByTestId('new-form-create').click();
  await page.waitForURL(`**/apps/crm/design/${key}`);
  await page.getByTestId('canvas-root').waitFor();
}

/** The published definition of `form`, once the publish has landed. */
async function published(api, form) {
  for (let i = 0; i < 50; i++) {
    const def = (await api(`/apps/crm/forms/${form}`)).body.definition;
    if (def) return def;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** Add a field of `type` from the palette by keyboard (Enter) and select it. */
async function add(page, type) {
  await page.getByTestId(`palette-${type}`).focus();
  await page.keyboard.press('Enter');
  const field = page.getByTestId(`canvas-field-${type}_1`);
  await field.waitFor();
  await field.click();
}

test('defaults, references, serial numbers, formulas and limits set in the panel reach the server', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await newForm(page, 'visit_log', '拜访记录', 'Visit log');

  await add(page, 'text');
  await page.getByTestId('prop-key').fill('title');
  await page.getByTestId('prop-label-en').fill('Title');
  await page.getByTestId('prop-default').fill('Routine visit');

  await add(page, 'reference');
  await page.getByTestId('prop-key').fill('customer');
  await page.getByTestId('prop-label-en').fill('Customer');
  await pick(page, 'prop-ref-form', '(customer)', { search: 'customer' });
  await pick(page, 'prop-ref-display', '(name)', { search: 'name' });

  await add(page, 'serial');
  await page.getByTestId('prop-key').fill('no');
  await page.getByTestId('prop-label-en').fill('No.');
  await page.getByTestId('prop-serial').fill('V-{yyyyMMdd}-{000}');

  await add(page, 'number');
  await page.getByTestId('prop-key').fill('hours');
  await page.getByTestId('prop-label-en').fill('Hours');
  await page.getByTestId('prop-minimum').fill('0');
  await page.getByTestId('prop-maximum').fill('24');

  await add(page, 'computed');
  await page.getByTestId('prop-key').fill('minutes');
  await page.getByTestId('prop-label-en').fill('Minutes');
  await page.getByTestId('prop-formula').fill('{"*": [{"var": "hours"}, 60]}');

  // The preview checks the record the way the server will, on the field: the title is
  // required; the number input keeps to its limits.
  await page.getByTestId('canvas-field-title').click();
  await page.getByTestId('prop-required').click();
  // Required-when, built visually: the customer is required for an annual check.
  await page.getByTestId('canvas-field-customer').click();
  await pick(page, 'reqwhen-field', '(title)', { search: 'title' });
  await page.getByTestId('reqwhen-value').fill('Annual check');
  await page.getByTestId('reqwhen-add').click();
  await page.getByTestId('reqwhen-editor').getByText('Annual check').waitFor();
  await page.getByTestId('designer-tab-preview').click();
  const preview = page.getByTestId('designer-preview');
  // The default shows in the preview's new record.
  const title = preview.locator('[data-field="title"]');
  assert.equal(await title.locator('input').inputValue(), 'Routine visit');
  await title.locator('input').fill('');
  await title.locator('.ant-form-item-explain-error').waitFor();
  await title.locator('input').fill('Annual check');
  await title.locator('.ant-form-item-explain-error').waitFor({ state: 'detached' });
  // …and now the customer is required, on its field.
  await preview.locator('[data-field="customer"] .ant-form-item-explain-error').waitFor();
  await title.locator('input').fill('Quick call');
  await preview.locator('[data-field="customer"] .ant-form-item-explain-error').waitFor({ state: 'detached' });
  const hours = preview.locator('[data-field="hours"] input');
  await hours.fill('30');
  await hours.press('Tab');
  assert.equal(await hours.getAttribute('aria-valuemax'), '24');
  assert.equal(await hours.inputValue(), '24', 'the input keeps to the maximum');

  await page.getByTestId('designer-tab-props').click();
  await page.getByTestId('designer-save').click();
  await page.getByTestId('designer-dirty').waitFor({ state: 'detached' });
  await page.getByTestId('designer-publish').click();
  const api = await adminApi(server);
  const def = await published(api, 'visit_log');
  assert.ok(def, 'published');
  const p = def.schema.properties;
  assert.equal(p.title.default, 'Routine visit');
  assert.deepEqual(p.customer['x-ref'], { form: 'customer', display: 'name' });
  assert.equal(p.no['x-serial'], 'V-{yyyyMMdd}-{000}');
  assert.deepEqual(p.minutes['x-formula'], { '*': [{ var: 'hours' }, 60] });
  assert.equal(p.hours.maximum, 24);

  // The server numbers the record and computes the formula; it refuses the limit.
  const customer = (await api('/apps/crm/forms/customer/records?limit=1')).body.items[0];
  const made = await api('/apps/crm/forms/visit_log/records', { method: 'POST', body: { data: { title: 'x', customer: customer.id, hours: 2 } } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.match(made.body.data.no, /^V-\d{8}-001$/);
  assert.equal(made.body.data.minutes, 120);
  const refused = await api('/apps/crm/forms/visit_log/records', { method: 'POST', body: { data: { title: 'y', hours: 30 } } });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.details[0].pointer, '/data/hours');
  // The required-when rule holds on the server too (JSON Schema if/then).
  const annual = await api('/apps/crm/forms/visit_log/records', { method: 'POST', body: { data: { title: 'Annual check' } } });
  assert.equal(annual.status, 422, JSON.stringify(annual.body));
  assert.ok(annual.body.details.some((d) => d.pointer === '/data/customer' || /customer/.test(d.message)), JSON.stringify(annual.body));
  const quick = await api('/apps/crm/forms/visit_log/records', { method: 'POST', body: { data: { title: 'Quick call' } } });
  assert.equal(quick.status, 201, JSON.stringify(quick.body));

  // A second version: the difference between the two names the field and what changed.
  await page.getByTestId('canvas-field-hours').click();
  await page.getByTestId('prop-label-en').fill('Hours on site');
  await page.getByTestId('designer-save').click();
  await page.getByTestId('designer-dirty').waitFor({ state: 'detached' });
  await page.getByTestId('designer-publish').click();
  await page.getByTestId('designer-tab-versions').click();
  await page.getByTestId('version-row-2').waitFor();
  await page.getByTestId('version-diff-prev-2').click();
  const changed = page.getByTestId('designer-diff').getByTestId('diff-changed');
  await changed.waitFor();
  assert.match(await changed.innerText(), /hours: label/);
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test('every field type of the palette, added by keyboard, publishes as the server accepts it', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  await newForm(page, 'all_types', '全部类型', 'All types');
  const types = (await page.locator('[data-testid^="palette-"]').evaluateAll((els) => els.map((e) => e.dataset.testid.slice('palette-'.length)))).filter(
    (t) => !['group', 'row'].includes(t),
  );
  assert.ok(types.length >= 22, types.join(', '));
  for (const type of types) {
    await page.getByTestId('canvas-root').click({ position: { x: 5, y: 5 } });
    await page.getByTestId(`palette-${type}`).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId(`canvas-field-${type}_1`).waitFor();
  }
  // A reference needs its target.
  await page.getByTestId('canvas-field-reference_1').click();
  await pick(page, 'prop-ref-form', '(customer)', { search: 'customer' });
  await pick(page, 'prop-ref-display', '(name)', { search: 'name' });
  await page.getByTestId('designer-save').click();
  await page.getByTestId('designer-dirty').waitFor({ state: 'detached' });
  await page.getByTestId('designer-publish').click();
  const api = await adminApi(server);
  const def = await published(api, 'all_types');
  assert.ok(def, `published: ${await page.getByTestId('designer-errors').innerText().catch(() => '')}`);
  const kinds = Object.values(def.schema.properties).map((p) => p['x-type']);
  for (const type of types) assert.ok(kinds.includes(type), `${type} in ${kinds.join(', ')}`);
  await page.context().close();
});

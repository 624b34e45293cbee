// Changing a field's type in the form designer against a real server in Chromium: an
// administrator turns a published text field into long text in the draft (the panel says
// every setting was kept), turns a select into a number (the panel names the dropped
// options), saves, and the stored draft has the new types and kept settings while the
// published version is untouched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, adminApi, launchBrowser, loginPage, pick, startServer } from './harness.mjs';

const FORM = '/apps/crm/forms/type_change';

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

const label = (en, zh) => ({ 'zh-CN': zh, en });

const definition = {
  key: 'type_change',
  label: label('Type change', '类型变更'),
  schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      note: {
        type: 'string',
        'x-type': 'text',
        'x-label': label('Note', '备注'),
        'x-help': label('Keep it short', '简要说明'),
        maxLength: 200,
      },
      outcome: {
        type: 'string',
        'x-type': 'select',
        'x-label': label('Outcome', '结果'),
        enum: ['won', 'lost'],
        'x-options': { won: label('Won', '赢单'), lost: label('Lost', '丢单') },
      },
    },
    required: ['note'],
    additionalProperties: false,
  },
  layout: {
    type: 'VerticalLayout',
    elements: [
      { type: 'Control', scope: '#/properties/note' },
      { type: 'Control', scope: '#/properties/outcome' },
    ],
  },
};

test('an administrator changes draft field types in the designer; the saved draft has them', async () => {
  const saved = await admin(`${FORM}/draft`, { method: 'PUT', body: definition });
  assert.ok(saved.status < 300, JSON.stringify(saved.body));
  const published = await admin(`${FORM}/publish`, { method: 'POST' });
  assert.equal(published.status, 201, JSON.stringify(published.body));

  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/apps/crm/design/type_change');
  await page.getByTestId('canvas-field-note').click();
  await page.getByTestId('designer-field-panel').waitFor();

  // Text → long text: everything kept, and the panel says so.
  await pick(page, 'prop-type', 'Long text', { exact: true });
  const notice = page.getByTestId('prop-type-notice');
  await notice.waitFor();
  assert.match(await notice.innerText(), /Changed from Text to Long text/);
  assert.match(await notice.innerText(), /Every setting was kept/);
  await page.getByTestId('canvas-field-note').getByText('Long text').waitFor();
  assert.equal(await page.getByTestId('prop-maxLength').inputValue(), '200');
  assert.equal(await page.getByTestId('prop-label-en').inputValue(), 'Note');
  assert.equal(await page.getByTestId('prop-help-en').inputValue(), 'Keep it short');
  assert.equal(await page.getByTestId('prop-required').getAttribute('aria-checked'), 'true');

  // Select → number: the options go, and the panel names them.
  await page.getByTestId('canvas-field-outcome').click();
  await pick(page, 'prop-type', 'Number', { exact: true });
  const dropped = page.getByTestId('prop-type-dropped');
  await dropped.waitFor();
  assert.deepEqual(await dropped.locator('li').evaluateAll((els) => els.map((e) => e.dataset.setting)), ['options']);
  assert.match(await dropped.innerText(), /Options/);
  assert.equal(await page.getByTestId('prop-options').count(), 0);
  await page.getByTestId('prop-minimum').waitFor();

  await page.getByTestId('designer-save').click();
  await page.getByTestId('designer-dirty').waitFor({ state: 'detached' });

  // The stored draft has the new types; the published version is as it was.
  const res = await admin(FORM);
  assert.equal(res.status, 200);
  const props = res.body.draft.schema.properties;
  assert.deepEqual(props.note, {
    type: 'string',
    'x-type': 'long_text',
    'x-label': label('Note', '备注'),
    'x-help': label('Keep it short', '简要说明'),
    maxLength: 200,
  });
  assert.deepEqual(props.outcome, { type: 'number', 'x-type': 'number', 'x-label': label('Outcome', '结果') });
  assert.deepEqual(res.body.draft.schema.required, ['note']);
  assert.deepEqual(res.body.draft.layout, definition.layout);
  assert.equal(res.body.published_version, 1);
  assert.equal(res.body.definition.schema.properties.note['x-type'], 'text');
  assert.equal(res.body.definition.schema.properties.outcome['x-type'], 'select');
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

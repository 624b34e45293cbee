// Login, app home, language switch — against a real server in Debian's Chromium.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, DEMO_PASSWORD, launchBrowser, loginPage, startServer } from './harness.mjs';

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

test('a wrong password is refused with a message, the right one logs in', async () => {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  await page.goto('/');
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill('wrong-password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').waitFor();
  await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('app-crm').waitFor();
  await context.close();
});

test('an engineer sees the CRM home in zh-CN by default and can switch to English', async () => {
  const page = await loginPage(browser, server, 'engineer1', DEMO_PASSWORD);
  await page.getByTestId('app-crm').click();
  await page.getByTestId('form-service_order').waitFor();
  assert.equal(await page.getByTestId('form-service_order').innerText(), '服务工单');
  // Engineers may not design forms.
  assert.equal(await page.getByTestId('nav-design').count(), 0);
  await page.getByTestId('locale-switch').hover();
  await page.getByText('English').click();
  await page.getByText('Service order', { exact: true }).waitFor();
  await page.context().close();
});

test('the API reference opens offline at /api-docs/ with the platform and the app documents', async () => {
  const page = await loginPage(browser, server, 'admin', ADMIN_PASSWORD, { locale: 'en' });
  // Nothing may come from outside this server.
  const outside = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) outside.push(r.url());
  });
  await page.goto('/api-docs/');
  await page.getByText('Formwork platform API').first().waitFor({ timeout: 30000 });
  await page.getByText('/apps/{app}/forms/{form}/records/{id}/print').first().waitFor();
  // The app's own document is one of the choices, generated from its forms.
  const choices = await page.locator('select').first().locator('option').allInnerTexts();
  assert.ok(choices.some((c) => /App: crm/.test(c)), choices.join(', '));
  assert.deepEqual(outside, [], 'no request leaves the server');
  await page.context().close();
});

// Page-load figures for the closing note and docs/benchmarks.md: bundle sizes per route
// (from the Vite manifest) and first-load times of the staff app and the designer on
// localhost, in Debian's Chromium against a real server with the CRM demo data.
//
//   cd designer-web && npm run build && node bench/pageload.mjs [ROWS]
//
// With ROWS (e.g. 100000) it also imports that many records into a bench form and times
// the list page on it: first load (with the total) and paging forward.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ADMIN_PASSWORD, DEMO_PASSWORD, adminApi, launchBrowser, startServer } from '../e2e/harness.mjs';

const ROWS = Number(process.argv[2] ?? 0);

const dist = join(import.meta.dirname, '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

function closure(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const i of manifest[key]?.imports ?? []) closure(i, seen);
  return seen;
}
function size(keys) {
  let raw = 0;
  let gz = 0;
  for (const k of keys) {
    const files = [manifest[k].file, ...(manifest[k].css ?? [])];
    for (const f of files) {
      const buf = readFileSync(join(dist, f));
      raw += statSync(join(dist, f)).size;
      gz += gzipSync(buf).length;
    }
  }
  return `${(raw / 1024).toFixed(0)} KiB (${(gz / 1024).toFixed(0)} KiB gzip)`;
}
const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const base = closure(entry);
console.log('bundle sizes (JS + CSS)');
console.log(`  staff app (entry + its imports): ${size(base)}`);
for (const k of Object.keys(manifest).filter((k) => manifest[k].isDynamicEntry)) {
  const extra = [...closure(k)].filter((x) => !base.has(x));
  console.log(`  + ${k.replace(/^src\//, '')} route: ${size(extra)}`);
}

const server = await startServer();
const browser = await launchBrowser();
try {
  async function measure(label, username, password, path, ready) {
    const times = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      // Log in through the API so the measured load is the page itself, cold cache.
      const r = await page.request.post('/api/v1/auth/login', { data: { username, password } });
      if (!r.ok()) throw new Error(`login ${r.status()}`);
      const t0 = Date.now();
      await page.goto(path);
      await page.locator(ready).first().waitFor();
      times.push(Date.now() - t0);
      await context.close();
    }
    times.sort((a, b) => a - b);
    console.log(`  ${label}: median ${times[2]} ms (min ${times[0]}, max ${times[4]}) over 5 cold loads`);
  }
  console.log('first load to usable page (cold browser cache, localhost)');
  await measure('login page', 'nobody', 'x', '/', '[data-testid="login-username"]').catch(async () => {
    const context = await browser.newContext({ baseURL: server.url });
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto('/');
    await page.getByTestId('login-username').waitFor();
    console.log(`  login page: ${Date.now() - t0} ms`);
    await context.close();
  });
  await measure('staff list (service orders, 20 rows)', 'manager_east', DEMO_PASSWORD, '/apps/crm/forms/service_order', 'tr.ant-table-row');
  await measure('staff record (service order form)', 'manager_east', DEMO_PASSWORD, '/apps/crm/forms/service_order/new', '[data-field="fault_description"]');
  await measure('designer (service_order)', 'admin', ADMIN_PASSWORD, '/apps/crm/design/service_order', '[data-testid="canvas-root"]');
  if (ROWS > 0) await bigList(ROWS);
} finally {
  await browser.close();
  await server.stop();
}

async function bigList(rows) {
  const api = await adminApi(server);
  const def = {
    key: 'bench_item',
    label: { en: 'Bench item', 'zh-CN': '基准' },
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', 'x-type': 'text', 'x-label': { en: 'Name' }, 'x-indexed': true },
        qty: { type: 'integer', 'x-type': 'integer', 'x-label': { en: 'Qty' } },
        status: { type: 'string', 'x-type': 'select', 'x-label': { en: 'Status' }, enum: ['open', 'closed'], 'x-options': { open: { en: 'Open' }, closed: { en: 'Closed' } }, 'x-indexed': true },
      },
    },
  };
  const pub = await api('/apps/crm/forms/bench_item/publish', { method: 'POST', body: def });
  if (pub.status !== 201) throw new Error(`publish: ${JSON.stringify(pub.body)}`);
  const lines = ['name,qty,status'];
  for (let i = 1; i <= rows; i++) lines.push(`item ${i},${i % 97},${i % 3 ? 'open' : 'closed'}`);
  const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const { csrf_token } = await login.json();
  const t0 = Date.now();
  const imp = await fetch(`${server.url}/api/v1/apps/crm/forms/bench_item/records/import?format=csv`, {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf_token, 'content-type': 'text/csv' },
    body: lines.join('\n'),
  });
  if (imp.status !== 201) throw new Error(`import: ${imp.status} ${await imp.text()}`);
  console.log(`list over ${rows} records (imported in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  await page.request.post('/api/v1/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } });
  let t = Date.now();
  await page.goto('/apps/crm/forms/bench_item');
  await page.getByTestId('list-total').waitFor();
  await page.locator('tr.ant-table-row').first().waitFor();
  console.log(`  first load with total (${await page.getByTestId('list-total').innerText()}): ${Date.now() - t} ms`);
  const pages = [];
  for (let i = 0; i < 10; i++) {
    const first = await page.locator('[data-testid^="record-link-"]').first().innerText();
    t = Date.now();
    await page.getByTestId('page-next').click();
    await page.waitForFunction((f) => document.querySelector('[data-testid^="record-link-"]')?.textContent !== f, first);
    pages.push(Date.now() - t);
  }
  pages.sort((a, b) => a - b);
  console.log(`  next page: median ${pages[5]} ms, max ${pages[9]} ms (10 pages of 20)`);
  await context.close();
}

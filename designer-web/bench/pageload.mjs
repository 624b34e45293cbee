// Page-load figures for the closing note and docs/benchmarks.md: bundle sizes per route
// (from the Vite manifest) and first-load times of the staff app and the designer on
// localhost, in Debian's Chromium against a real server with the CRM demo data.
//
//   cd designer-web && npm run build && node bench/pageload.mjs
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ADMIN_PASSWORD, DEMO_PASSWORD, launchBrowser, startServer } from '../e2e/harness.mjs';

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
} finally {
  await browser.close();
  await server.stop();
}

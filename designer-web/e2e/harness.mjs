// End-to-end test harness: a real `formwork serve` (SQLite file in a temp dir, the CRM
// package and its small demo data) and Debian's Chromium driven by playwright-core.
//
// FORMWORK_BIN names the server binary (the Makefile passes the one it built).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const ADMIN_PASSWORD = 'e2e-admin-password';
export const DEMO_PASSWORD = 'e2e-demo-password';
const BIN =
  process.env.FORMWORK_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? '', '.cache/formwork/target'), 'debug/formwork');

/** Start a server with the CRM loaded. Returns {url, stop()}. */
export async function startServer() {
  if (!existsSync(BIN)) throw new Error(`formwork binary not found at ${BIN}; build it first (cargo build -p formwork)`);
  const dir = mkdtempSync(join(tmpdir(), 'formwork-e2e-'));
  const env = {
    ...process.env,
    FORMWORK_DATABASE__URL: `sqlite://${join(dir, 'formwork.db')}`,
    FORMWORK_STORAGE__FILES_DIR: join(dir, 'files'),
    FORMWORK_SERVER__PORT: '0',
    FORMWORK_SERVER__WEB_DIR: join(ROOT, 'designer-web', 'dist'),
    FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FORMWORK_DEMO_PASSWORD: DEMO_PASSWORD,
    // Tests log in many times from one address.
    FORMWORK_AUTH__MAX_FAILURES_PER_ADDRESS: '1000',
  };
  const crm = join(ROOT, 'seed-apps', 'medical-device-crm');
  execFileSync(BIN, ['app', 'import', crm], { env, cwd: dir, stdio: 'pipe' });
  execFileSync(BIN, ['demo-data', crm, '--scale', 'small', '--if-empty'], { env, cwd: dir, stdio: 'pipe' });
  const child = spawn(BIN, ['serve'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${log}`)), 30000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on('exit', (code) => fail(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    url,
    dir,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch Debian's Chromium headless with the flags this machine needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A new page (own cookies) logged in as `username`. Locale zh-CN unless given. */
export async function loginPage(browser, server, username, password, { viewport = DESKTOP, locale } = {}) {
  const context = await browser.newContext({ viewport, baseURL: server.url });
  if (locale) await context.addInitScript((l) => localStorage.setItem('formwork.locale', l), locale);
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto('/');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('current-user').waitFor();
  return page;
}

/** Call the API as admin from Node (real HTTP), for setup and for checking saved JSON. */
export async function adminApi(server) {
  return loginApi(server, 'admin', ADMIN_PASSWORD);
}

/** Call the API as `username` from Node (real HTTP). */
export async function loginApi(server, username, password) {
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`${username} login: ${res.status}`);
  const cookie = res.headers.get('set-cookie').split(';')[0];
  const { csrf_token } = await res.json();
  return async (path, { method = 'GET', body } = {}) => {
    const r = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { cookie, 'x-csrf-token': csrf_token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
}

/** Where screenshots for docs/ go. */
export function screenshotDir() {
  const d = join(ROOT, 'docs', 'screenshots');
  mkdirSync(d, { recursive: true });
  return d;
}

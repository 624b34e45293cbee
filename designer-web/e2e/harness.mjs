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
    FORMWORK_AUDIT__SIGNING_KEY: join(dir, 'audit-signing.key'),
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

// ---------------------------------------------------------------------------------------
// antd Select helpers.
//
// antd keeps a dropdown in the DOM while it animates closed (and afterwards, hidden), so
// "any open dropdown" can be the one of the select picked just before, and a click can
// land on an option that is about to disappear (Playwright keeps retrying that element
// while it stays attached). These helpers only look at the dropdown that belongs to the
// select just opened: its combobox input names the listbox (`aria-controls` =
// `<id>_list`) and the dropdown contains that listbox. After a pick they wait until that
// dropdown is hidden, closing it if it stays open, so the next action never races it.

const CLOSE_WAIT = 2000;

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The select root with this test id and its combobox input. */
function selectParts(page, testId) {
  const select = page.getByTestId(testId);
  // The test id is on the select's root (antd passes data-* there); accept it on the
  // input itself too.
  const input = select.locator('input[role="combobox"]').or(page.locator(`input[role="combobox"][data-testid="${testId}"]`));
  return { select, input };
}

/** The dropdown of the select whose input has this id (antd: listbox `<id>_list`). */
function dropdownOf(page, inputId) {
  return page.locator('.ant-select-dropdown').filter({ has: page.locator(`[id="${inputId}_list"]`) });
}

async function isMultiple(select) {
  return select.evaluate(
    (el) => !!(el.classList.contains('ant-select-multiple') || el.closest('.ant-select-multiple') || el.querySelector('.ant-select-multiple')),
  );
}

async function expanded(input) {
  return (await input.getAttribute('aria-expanded')) === 'true';
}

/** Poll `fn` until it returns true (→ true) or `ms` pass (→ false). */
async function poll(fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Open the antd Select with this test id (typing `search` into it if given) and return
 * `{select, input, dropdown, options}`: `dropdown` is that select's own dropdown and
 * `options` its options (only the rendered ones: long lists are virtual, so search).
 */
export async function openSelect(page, testId, { search } = {}) {
  const { select, input } = selectParts(page, testId);
  await input.waitFor({ state: 'attached' });
  if (!(await expanded(input))) await select.click();
  // The input names its listbox once the dropdown is open.
  await page.waitForFunction(
    (id) => {
      const root = document.querySelector(`[data-testid="${id}"]`);
      const el = root?.matches('input[role="combobox"]') ? root : root?.querySelector('input[role="combobox"]');
      return el?.getAttribute('aria-expanded') === 'true' && !!el.getAttribute('aria-controls');
    },
    testId,
  );
  const inputId = await input.getAttribute('id');
  if (search) await input.pressSequentially(search);
  const dropdown = dropdownOf(page, inputId);
  return { select, input, dropdown, options: dropdown.locator('.ant-select-item-option') };
}

/**
 * Close the antd Select with this test id if its dropdown is open, and wait until the
 * dropdown is hidden (its closing animation over). A single select's own click toggles
 * it; Escape closes a multiple one (antd stops the key there while the list is open, so
 * a dialog around it stays); moving the focus away closes any.
 */
export async function closeSelect(page, testId) {
  const { select, input } = selectParts(page, testId);
  if (!(await input.count())) return; // the select went away with its dropdown
  const inputId = await input.getAttribute('id');
  const dropdown = dropdownOf(page, inputId);
  const multiple = await isMultiple(select);
  // Look before each action: a blind click on a closed select would open it again.
  for (let attempt = 0; attempt < 4 && (await expanded(input)); attempt++) {
    const focused = await input.evaluate((el) => el === document.activeElement);
    if (attempt < 2 && !multiple) await select.click();
    else if (attempt < 2 && focused) await input.press('Escape');
    else await input.press('Tab');
    await poll(async () => !(await expanded(input)), CLOSE_WAIT);
  }
  if (await expanded(input)) throw new Error(`the dropdown of ${testId} does not close`);
  await dropdown.waitFor({ state: 'hidden' });
}

/**
 * Pick an option of the antd Select with this test id: the first option containing
 * `text` (`exact`: showing exactly `text`; `title`: with this title attribute; `nth`: the
 * nth such option instead of the first), after typing `search` if given (`search: true`
 * types `text`). Only that select's own dropdown is considered; the option must be
 * visible and stable before the click; afterwards the dropdown is closed (a multiple
 * select, which stays open on purpose, too) and hidden, so the next action does not race
 * it. Pick a multiple select's values one call each.
 */
export async function pick(page, testId, text, { search, exact = false, title, nth } = {}) {
  const { select, input, dropdown, options } = await openSelect(page, testId, { search: search === true ? text : search });
  let option = options;
  if (title !== undefined) option = dropdown.locator(`.ant-select-item-option[title="${title.replace(/["\\]/g, '\\$&')}"]`);
  if (text !== undefined && text !== null) option = option.filter({ hasText: exact ? new RegExp(`^${escapeRegExp(text)}$`) : text });
  option = nth === undefined ? option.first() : option.nth(nth);
  const multiple = await isMultiple(select);
  // (evaluateAll: no waiting when the option is gone)
  const selected = async () => (await option.evaluateAll((els) => els.some((e) => e.classList.contains('ant-select-item-option-selected')))) === true;
  // Click (the click itself waits for a visible, stable option); if the list moved under
  // the click (refiltering) and nothing was chosen, click again.
  for (let attempt = 0; ; attempt++) {
    await option.waitFor({ state: 'visible' });
    await option.click();
    const done = multiple
      ? await poll(selected, CLOSE_WAIT)
      : await poll(async () => !(await expanded(input)) || (await selected()), CLOSE_WAIT);
    if (done) break;
    if (attempt >= 2) throw new Error(`${testId}: clicking the option ${text ?? title ?? nth} chose nothing`);
  }
  await closeSelect(page, testId);
}

/**
 * After a mouse drag with dnd-kit: wait until clicks reach the page again. Once a drag
 * has started, dnd-kit's pointer sensor stops every click on the document (a capture
 * listener, so the drop does not also click what lies under it) and removes that
 * listener only 50 ms after the drop, so a click right after a drop is silently lost.
 * The probe is a click on a throwaway element that stops there.
 */
export async function dndClicksRestored(page) {
  await page.waitForFunction(() => {
    const probe = document.createElement('div');
    let passed = false;
    probe.addEventListener('click', (e) => {
      passed = true;
      e.stopPropagation();
    });
    document.body.append(probe);
    probe.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    probe.remove();
    return passed;
  });
}

/** Poll `fn` every 200 ms until it returns something truthy (returned), or fail after `ms`
 * naming `what`. */
export async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Draw a flow-canvas edge the way React Flow wants it: hover the source handle, press,
 * move to the target handle, hover it, release. */
export async function connect(page, sourceHandle, targetHandle) {
  await page.getByTestId(sourceHandle).hover();
  await page.mouse.down();
  const b = await page.getByTestId(targetHandle).boundingBox();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.getByTestId(targetHandle).hover();
  await page.mouse.up();
}

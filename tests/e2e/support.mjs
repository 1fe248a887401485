// Shared by the end-to-end tests: how Chromium is launched here and how to wait for the app.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

export const READY_MS = 60_000; // first wasm load + IndexedDB replica

export const LAUNCH = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
};

// Browsers in Vietnamese, as the cadres' are: the app's language on a device's first start is the
// browser's, and headless Chromium says "en-US" whatever `--lang` asks. Every context the tests
// open gets `locale: 'vi-VN'` unless it names its own (the English tests say 'en-US').
const launch = chromium.launch.bind(chromium);
chromium.launch = async (options) => {
  const browser = await launch(options);
  const newContext = browser.newContext.bind(browser);
  browser.newContext = (contextOptions = {}) => newContext({ locale: 'vi-VN', ...contextOptions });
  return browser;
};
const launchPersistentContext = chromium.launchPersistentContext.bind(chromium);
chromium.launchPersistentContext = (dir, options = {}) => launchPersistentContext(dir, { locale: 'vi-VN', ...options });

/** The app sets body[data-ready=1] once its local replica is loaded. */
export async function waitReady(page) {
  await page.waitForFunction(() => document.body && document.body.dataset.ready === '1', null, {
    timeout: READY_MS,
  });
}

/** Waits until the service worker is active and controls this page (needed before going offline). */
export async function waitServiceWorker(page) {
  assert.ok(await page.evaluate(() => 'serviceWorker' in navigator), 'service workers are available');
  let timer;
  await Promise.race([
    page.evaluate(() => navigator.serviceWorker.ready.then(() => true)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`navigator.serviceWorker.ready not resolved after ${READY_MS} ms (is /sw.js registered?)`)), READY_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  // The worker claims the page as it activates (sw.js); a document whose navigation began before
  // that (the tests navigate right after signing in) can miss the claim and stays uncontrolled
  // until its next load — as a person's would until they reload. Seen in about one full run in
  // three, each time with the worker active: give the claim a few seconds, then reload once.
  const controlled = () => page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10_000 });
  if (!(await controlled().then(() => true, () => false))) {
    console.error('[support] service worker active but the page is not controlled after 10 s: reloading once');
    await page.reload();
    await waitReady(page);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: READY_MS });
  }
  const script = await page.evaluate(() => navigator.serviceWorker.controller.scriptURL);
  assert.equal(new URL(script).pathname, '/sw.js', 'the controlling service worker is /sw.js');
}

/** The password `.ci/test` gives every test account. */
export const PASSWORD = process.env.DANVAN_E2E_PASSWORD || 'mật khẩu thử nghiệm';

/** The sign-in form's labels, per language of the interface. */
export const SIGN_IN = {
  vi: { username: 'Tên đăng nhập', password: 'Mật khẩu', button: 'Đăng nhập' },
  en: { username: 'Username', password: 'Password', button: 'Sign in' },
};

/** Signs in through the sign-in page, as a person would, and waits for the model list. */
export async function signIn(page, base, username, password = PASSWORD, labels = SIGN_IN.vi) {
  await page.goto(base + '/');
  await waitReady(page);
  await page.getByLabel(labels.username).fill(username);
  await page.getByLabel(labels.password).fill(password);
  await page.getByRole('button', { name: labels.button, exact: true }).click();
  await page.waitForFunction(() => location.pathname === '/' && !document.querySelector('#password'), null, { timeout: 30_000 });
}

/** Polls `fn` until it returns a truthy value; returns that value or throws with `what`. */
export async function eventually(what, fn, timeout = 10_000, interval = 100) {
  const deadline = Date.now() + timeout;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` +
        (lastErr ? ` (last error: ${lastErr.message})` : ` (last value: ${JSON.stringify(last)})`));
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Forwards the page's errors to the test output so a failure says what broke in the app. */
export function watch(page, tag) {
  page.on('pageerror', (e) => console.error(`[${tag}] page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.error(`[${tag}] console.${m.type()}: ${m.text()}`);
  });
  return page;
}


/** The context's first page (or a new one), with the suite's timeouts and its console watched. */
export async function newPage(context, tag) {
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(READY_MS);
  return watch(context.pages()[0] || (await context.newPage()), tag);
}

/** Asks for a sync now (the badge) and waits until it says everything is synced. */
export async function synced(page, timeout = 30_000) {
  await page.locator('#sync-status').click();
  await eventually('synced', async () => (await page.locator('#sync-status').getAttribute('data-state')) === 'synced', timeout);
}

/** Every uncaught error of the page, to assert there was none. */
export function collectErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Registers a model with the form (the signed-in cadre's unit) and waits until it is saved;
 * `items` replaces some of the form's values by control id (e.g. `{ resources: '…' }`). */
export async function register(page, name, items = {}) {
  await page.getByRole('link', { name: 'Thêm', exact: true }).click();
  const values = {
    name, situation: 'Nhiều hộ chưa có nước sạch.', goals: 'Đưa nước sạch về 40 hộ.', content: 'Vận động góp công, góp ống.',
    area: 'Thôn Nà Pồng.', forces: 'Chi hội Phụ nữ, Đoàn Thanh niên.', resources: 'Nhân dân đóng góp.', start_date: '2025-03-01',
    sustainability: 'Tổ tự quản duy trì.', owner_name: 'Chi hội Phụ nữ thôn Nà Pồng', ...items,
  };
  for (const [id, v] of Object.entries(values)) await page.locator(`#${id}`).fill(v);
  await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
  await page.locator('#indicator-0-name').fill('Hộ có nước sạch');
  await page.locator('#indicator-0-target').fill('40');
  await page.getByRole('button', { name: 'Lưu mô hình' }).click();
  await page.locator('#save-status').waitFor();
}

/** The list shows a card with this name (after the replica has loaded it). */
export async function listed(page, name) {
  await page.getByRole('link', { name: 'Mô hình', exact: true }).click();
  await page.getByText(name).first().waitFor({ timeout: 30_000 });
}

/** Takes a step from the model's page (with a reason if given) and waits for the new status. */
export async function takeStep(page, label, status, reason) {
  await page.locator('.lifecycle-actions .buttons').getByRole('button', { name: label, exact: true }).click();
  if (reason) await page.getByLabel(/Lý do|Ghi chú/).fill(reason);
  await page.locator('#confirm-step').click();
  await eventually(`status ${status}`, async () => (await page.locator('.badge.status').innerText()).trim() === status);
}

/** Opens a model from the list by its name. */
export async function openModel(page, name) {
  await page.getByRole('link', { name: 'Mô hình', exact: true }).click();
  await page.getByRole('link', { name }).click();
  await page.locator('h1', { hasText: name }).waitFor();
}

export function unique(prefix) {
  return `${prefix} ${Math.random().toString(36).slice(2, 8)}`;
}

/** Starts the danvan-server binary `server` with `args`; resolves with `{ child, url }` once it
 * prints the URL it listens at (http or https). */
export function startServer(server, args) {
  const child = spawn(server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    const onData = (chunk) => {
      out += chunk;
      const m = out.match(/running at (https?:\/\/\S+?)\/?\s/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { out += c; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${out}`)); });
  });
}

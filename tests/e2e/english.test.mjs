// The English interface (issue 16, "English, second"): a browser set to English starts in English
// on a phone, and every screen a cadre and an administrator reach speaks English — the static
// shell before the wasm, the sign-in, the list, the form with a refused save's messages (the
// domain's, translated), a model's page, settings (sizes in English conventions), the reports,
// import and contest pages (the on-demand module) — offline too; the language is changed back and
// forth in Settings; a browser in Vietnamese (or French) starts in Vietnamese.
//
// "Speaks English" is checked by reading the page's visible text after removing what is data
// (units', people's and the test's own records' names): no Vietnamese letter may remain.
//
// Its own server and organisation (DANVAN_SERVER_BIN, DANVAN_DIST): the shared test server holds
// other tests' records, named in Vietnamese.
//
//   DANVAN_SERVER_BIN=… DANVAN_DIST=… node --test tests/e2e/english.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { LAUNCH, PASSWORD, SIGN_IN, eventually, signIn, startServer, waitReady, waitServiceWorker, watch } from './support.mjs';

const SERVER = process.env.DANVAN_SERVER_BIN;
const DIST = process.env.DANVAN_DIST;
let BASE;
const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, locale: 'en-US' };
const LAPTOP = { viewport: { width: 1280, height: 800 }, locale: 'en-GB' };
mkdirSync(SHOTS, { recursive: true });

// Data, not interface: the test organisation's unit names and the accounts' names (.ci/e2e).
const UNITS = readFileSync(new URL('./units.csv', import.meta.url), 'utf8')
  .split('\n').slice(1).map((l) => l.split(',')[1]).filter(Boolean);
const PEOPLE = ['Quản trị tỉnh', 'Cán bộ A', 'Cán bộ B', 'Cán bộ C', 'Người bình xét'];
// The language chooser names each language in itself, in both languages.
const CHOOSER = ['Ngôn ngữ · Language', 'Tiếng Việt'];
const DATA = [...UNITS, ...PEOPLE, ...CHOOSER, 'Dân vận khéo'].sort((a, b) => b.length - a.length);
const VIETNAMESE = /[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]/i;

/** The lines of the page's visible text that still hold Vietnamese once data is removed. */
async function vietnameseLeft(page, scope = 'body') {
  let text = await page.locator(scope).first().innerText();
  for (const d of DATA) text = text.split(d).join('');
  return text.split('\n').map((l) => l.trim()).filter((l) => VIETNAMESE.test(l));
}

async function assertEnglish(page, what, scope) {
  const left = await vietnameseLeft(page, scope);
  assert.deepEqual(left, [], `${what}: Vietnamese left on screen:\n${left.join('\n')}`);
}

function signInEnglish(page, username) {
  return signIn(page, BASE, username, PASSWORD, SIGN_IN.en);
}

let browser;
let server;
before(async () => {
  if (!SERVER || !DIST) return;
  const work = mkdtempSync(join(tmpdir(), 'danvan-english-'));
  const database = join(work, 'english.sqlite3');
  const cli = (...args) => execFileSync(SERVER, ['--database', database, ...args], { input: PASSWORD + '\n', stdio: ['pipe', 'ignore', 'inherit'] });
  cli('import-units', new URL('./units.csv', import.meta.url).pathname);
  cli('create-admin', '--username', 'quantri', '--unit', 'CB', '--name', 'Quản trị tỉnh');
  cli('create-user', '--username', 'canbo.a', '--unit', 'BANBO', '--role', 'can_bo', '--name', 'Cán bộ A');
  cli('create-user', '--username', 'binhxet', '--unit', 'HA', '--role', 'binh_xet', '--name', 'Người bình xét');
  server = await startServer(SERVER, ['--addr', '127.0.0.1:0', '--database', database, '--dist', DIST]);
  BASE = server.url.replace(/\/+$/, '');
  browser = await chromium.launch(LAUNCH);
});
after(async () => {
  await browser?.close();
  server?.child.kill();
});

test('a phone set to English: the shell, sign-in, list, form, model page and settings speak English, offline too', { skip: !SERVER || !DIST, timeout: 240_000 }, async () => {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    watch(page, 'english');
    // The static shell's sign-in form, before the wasm (assets/shell.js), is English already.
    await page.route('**/*.wasm', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue().catch(() => {});
    });
    await page.goto(BASE + '/');
    await page.locator('.shell-sign-in h1', { hasText: 'Sign in' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await assertEnglish(page, 'the static shell');
    await page.unroute('**/*.wasm');

    await signInEnglish(page, 'canbo.a');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    for (const name of ['Models', 'Add', 'Library', 'Reports', 'Settings']) {
      await page.getByRole('link', { name, exact: true }).waitFor();
    }
    await assertEnglish(page, 'the list');
    await page.screenshot({ path: join(SHOTS, 'en1-phone-list.png') });

    // The form, and a refused save: the domain's messages in English.
    await page.getByRole('link', { name: 'Add', exact: true }).click();
    await page.locator('#name').waitFor();
    await assertEnglish(page, 'the empty form');
    await page.locator('form.model-form button[type=submit]').click();
    await page.locator('#form-errors').waitFor();
    await assertEnglish(page, 'the refused save');
    await page.screenshot({ path: join(SHOTS, 'en2-phone-refused-save.png') });

    const name = `Clean water for Na Pong ${Date.now().toString(36)}`;
    const values = {
      name, situation: 'Many households lack clean water.', goals: 'Clean water for 40 households.',
      content: 'Households give labour and pipes.', area: 'Na Pong hamlet.', forces: "Women's union, youth union.",
      resources: 'Contributions of the people.', start_date: '2025-03-01', sustainability: 'A self-managed group keeps it going.',
      owner_name: "Na Pong women's branch",
    };
    for (const [id, v] of Object.entries(values)) await page.locator(`#${id}`).fill(v);
    await page.getByRole('button', { name: 'Add indicator' }).click();
    await page.locator('#indicator-0-name').fill('Households with clean water');
    await page.locator('#indicator-0-target').fill('40');
    await page.getByRole('button', { name: 'Save model' }).click();
    await page.locator('#save-status', { hasText: 'Saved on this device' }).waitFor({ timeout: 15_000 });
    await assertEnglish(page, "the model's page");
    // Dates as English writes them.
    assert.match(await page.locator('main').innerText(), /1 Mar 2025/);
    await page.screenshot({ path: join(SHOTS, 'en3-phone-model.png') });
    // A lifecycle step, confirmed: the new status and the history in English.
    await page.locator('.lifecycle-actions .buttons').getByRole('button', { name: 'Start', exact: true }).click();
    await page.locator('#confirm-step').click();
    await eventually('status In progress', async () => !/Registered/.test(await page.locator('.badge.status').innerText()));
    await assertEnglish(page, "the model's page after a step");

    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.locator('#language').waitFor();
    await eventually('the storage line', async () => /Using .* of /.test(await page.locator('#storage-usage').innerText()));
    assert.doesNotMatch(await page.locator('#storage-usage').innerText(), /\d,\d/, 'decimals with a point in English');
    await assertEnglish(page, 'settings');
    await page.screenshot({ path: join(SHOTS, 'en4-phone-settings.png'), fullPage: true });

    // Offline, the catalogue comes from the service worker's cache: still English after a reload.
    await waitServiceWorker(page);
    await context.setOffline(true);
    await page.reload();
    await waitReady(page);
    await page.getByRole('link', { name: 'Models', exact: true }).waitFor();
    await assertEnglish(page, 'settings, offline');
    await context.setOffline(false);

    // Back to Vietnamese in Settings, and to English again.
    await page.locator('#language').selectOption('vi');
    await page.getByRole('link', { name: 'Cài đặt', exact: true }).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    await page.locator('#language').selectOption('en');
    await page.getByRole('link', { name: 'Settings', exact: true }).waitFor({ timeout: 30_000 });
  } finally {
    await context.close();
  }
});

test('an administrator in English: administration, reports, contests and import', { skip: !SERVER || !DIST, timeout: 240_000 }, async () => {
  const context = await browser.newContext(LAPTOP);
  try {
    const page = await context.newPage();
    watch(page, 'english-admin');
    await signInEnglish(page, 'quantri');
    await page.getByRole('link', { name: 'Administration', exact: true }).click();
    await page.locator('main h1').waitFor();
    await assertEnglish(page, 'administration', 'main');

    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.locator('section.page.report').waitFor({ timeout: 60_000 });
    await assertEnglish(page, 'reports', 'main');
    await page.screenshot({ path: join(SHOTS, 'en5-laptop-reports.png') });

    await page.getByRole('link', { name: 'Contests', exact: true }).click();
    await page.locator('#create-contest').waitFor({ timeout: 30_000 });
    await assertEnglish(page, 'contests', 'main');
    // A new contest: every tab but the printed document speaks English; its name is the record's
    // (Vietnamese by default, as printed on the results), so it is data here.
    await page.locator('#create-contest').click();
    await page.getByRole('tab', { name: 'Setup' }).waitFor({ timeout: 30_000 });
    let contestName = await page.locator('main h1').innerText();
    for (const d of DATA) contestName = contestName.split(d).join('');
    // The scoring tab is a judge's; the print tab shows the administrative document (Vietnamese).
    const tabs = (await page.getByRole('tab').allInnerTexts()).map((t) => t.trim());
    assert.ok(tabs.includes('Results') && tabs.includes('Teams') && tabs.includes('Print and export'), tabs.join(', '));
    for (const tab of tabs.filter((t) => t !== 'Print and export')) {
      await page.getByRole('tab', { name: tab }).click();
      await page.waitForTimeout(300);
      const left = (await vietnameseLeft(page, 'main')).filter((l) => !l.includes(contestName));
      assert.deepEqual(left, [], `contest tab ${tab}: Vietnamese left on screen:\n${left.join('\n')}`);
    }
    await page.getByRole('tab', { name: 'Setup' }).click();
    await page.screenshot({ path: join(SHOTS, 'en6-laptop-contest-setup.png'), fullPage: true });

    await page.getByRole('link', { name: 'Models', exact: true }).click();
    await page.locator('#import-link').click();
    await page.locator('main h1').waitFor({ timeout: 30_000 });
    await eventually('the import page', async () => (await page.locator('main input[type=file]').count()) > 0, 30_000);
    await assertEnglish(page, 'the import page', 'main');
    await page.screenshot({ path: join(SHOTS, 'en7-laptop-import.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('a reviewer in English: the review queue', { skip: !SERVER || !DIST, timeout: 120_000 }, async () => {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    watch(page, 'english-review');
    await signInEnglish(page, 'binhxet');
    await page.getByRole('link', { name: 'Review', exact: true }).click();
    await page.locator('main h1').waitFor();
    await assertEnglish(page, 'the review queue', 'main');
    await page.screenshot({ path: join(SHOTS, 'en8-phone-review.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('a browser in Vietnamese, or in a language the app does not speak, starts in Vietnamese', { skip: !SERVER || !DIST, timeout: 120_000 }, async () => {
  for (const locale of ['vi-VN', 'fr-FR']) {
    const context = await browser.newContext({ ...PHONE, locale });
    try {
      const page = await context.newPage();
      await page.goto(BASE + '/');
      await waitReady(page);
      await page.getByRole('button', { name: 'Đăng nhập', exact: true }).waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi', locale);
    } finally {
      await context.close();
    }
  }
});

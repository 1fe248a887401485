// Accounts in the browser: signing in, working offline while the session ends, signing in again
// without losing anything, signing out (with the warning when work is unsynced), what another
// unit sees, and an administrator inviting a new cadre who joins by the link.
//
// Needs the accounts `.ci/test` makes (DANVAN_E2E_PASSWORD) and, to end a session from outside
// as an operator would, the server binary and its database (DANVAN_SERVER_BIN, DANVAN_E2E_DATABASE).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, PASSWORD, READY_MS, eventually, newPage, signIn, waitReady, waitServiceWorker, watch } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SERVER = process.env.DANVAN_SERVER_BIN;
const DATABASE = process.env.DANVAN_E2E_DATABASE;
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const SYNC_MS = 30_000;

let browser;
before(async () => { browser = await chromium.launch(LAUNCH); });
after(async () => { await browser?.close(); });

function suffix() {
  return Math.random().toString(36).slice(2, 8);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Saves a screenshot of every open page of `contexts` when `body` fails. */
async function withShots(name, contexts, body) {
  try {
    await body();
  } catch (e) {
    for (const [i, p] of contexts().flatMap((c) => c.pages()).entries()) {
      try { await shot(p, `FAILED-${name}-${i}`); } catch { /* closed */ }
    }
    throw e;
  }
}

async function syncState(page) {
  return page.locator('#sync-status').getAttribute('data-state');
}

async function waitSyncState(page, state, timeout = SYNC_MS) {
  await eventually(`sync state ${state}`, async () => (await syncState(page)) === state, timeout);
}

/** Registers a model through the form (the unit is the cadre's own, preselected). */
async function register(page, name) {
  await page.getByRole('link', { name: 'Thêm', exact: true }).click();
  await page.locator('#name').waitFor({ state: 'visible' });
  const values = {
    name, situation: 'Thực trạng.', goals: 'Mục tiêu.', content: 'Cách làm.', area: 'Địa bàn.',
    forces: 'Lực lượng.', resources: 'Nguồn lực.', start_date: '2025-02-01', sustainability: 'Duy trì.',
    owner_name: 'Chi hội Phụ nữ',
  };
  for (const [id, v] of Object.entries(values)) await page.locator(`#${id}`).fill(v);
  await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
  await page.locator('#indicator-0-name').fill('Số hộ tham gia');
  await page.locator('#indicator-0-unit').fill('hộ');
  await page.locator('#indicator-0-target').fill('40');
  await page.getByRole('button', { name: 'Lưu mô hình' }).click();
  await page.waitForFunction(() => (document.querySelector('#save-status')?.textContent || '').includes('Đã lưu'), null, { timeout: 15_000 });
}

async function list(page) {
  await page.getByRole('link', { name: 'Mô hình', exact: true }).click();
  await page.waitForFunction(() => location.pathname === '/');
}

function card(page, name) {
  return page.locator('article.model-card').filter({ hasText: name });
}

/** What the operator does when a phone is lost: end every session of the user. */
function signOutEverywhere(username) {
  return execFileSync(SERVER, ['--database', DATABASE, 'sign-out', '--username', username], { encoding: 'utf8' });
}

async function idbCount(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('danvan');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('docs');
      const count = tx.objectStore('docs').count();
      count.onsuccess = () => resolve(count.result);
      count.onerror = () => reject(count.error);
    };
  }));
}

test('signed in once, a cadre works offline through an ended session and loses nothing', { skip: !SERVER || !DATABASE, timeout: 300_000 }, async () => {
  const online = `Mô hình có mạng ${suffix()}`;
  const offline = `Mô hình làm khi mất sóng ${suffix()}`;
  const ctx = await browser.newContext(PHONE);
  const others = [];
  try {
    await withShots('session', () => [ctx, ...others], async () => {
      const page = await newPage(ctx, 'c');
      await page.goto(BASE + '/mo-hinh/moi');
      await waitReady(page);
      // Nobody signed in yet: every address shows the sign-in page.
      await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
      await page.getByLabel('Tên đăng nhập').fill('canbo.c');
      await page.getByLabel('Mật khẩu').fill('không phải mật khẩu');
      await page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
      await page.getByText('Sai tên đăng nhập hoặc mật khẩu.').waitFor();
      await shot(page, 'f1-phone-sign-in-error');
      await signIn(page, BASE, 'canbo.c');
      await waitServiceWorker(page);
      await register(page, online);
      await waitSyncState(page, 'synced');

      // Offline for a while: a new model and an edit.
      await ctx.setOffline(true);
      await register(page, offline);
      await list(page);
      await card(page, offline).waitFor();

      // Meanwhile the session is ended on the server (lost phone reported, password reset…).
      assert.match(signOutEverywhere('canbo.c'), /canbo\.c/);
      // A running server honours a revocation made from the command line within 5 s.
      await new Promise((r) => setTimeout(r, 5_500));
      await ctx.setOffline(false);
      await page.locator('#sync-status').click();
      await waitSyncState(page, 'signed-out');
      const banner = page.locator('.session-banner');
      await banner.waitFor();
      assert.match(await banner.innerText(), /giữ trên máy này/);
      await card(page, offline).waitFor();
      assert.match(await page.locator('#sync-status').innerText(), /Chưa đăng nhập · 1 thay đổi đang chờ/);
      await shot(page, 'f2-phone-session-ended');

      // Signing in again (only as the same user) syncs what was done offline.
      await banner.getByRole('link', { name: 'Đăng nhập lại' }).click();
      await page.getByRole('heading', { name: 'Đăng nhập lại' }).waitFor();
      assert.equal(await page.getByLabel('Tên đăng nhập').inputValue(), 'canbo.c');
      await page.getByLabel('Mật khẩu').fill(PASSWORD);
      await page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
      await page.waitForFunction(() => location.pathname === '/');
      await waitSyncState(page, 'synced');
      assert.equal(await page.locator('.session-banner').count(), 0);

      // The district's reviewer sees both; a cadre of another commune sees neither.
      const reviewerCtx = await browser.newContext(DESKTOP);
      others.push(reviewerCtx);
      const reviewer = await newPage(reviewerCtx, 'reviewer');
      await signIn(reviewer, BASE, 'binhxet');
      await card(reviewer, offline).waitFor({ timeout: SYNC_MS });
      await card(reviewer, online).waitFor();
      await reviewer.getByRole('link', { name: 'Thêm', exact: true }).click();
      await reviewer.getByText('chỉ có quyền xem và bình xét').waitFor();
      const otherCtx = await browser.newContext(DESKTOP);
      others.push(otherCtx);
      const other = await newPage(otherCtx, 'a');
      await signIn(other, BASE, 'canbo.a');
      await waitSyncState(other, 'synced');
      assert.equal(await card(other, offline).count(), 0, 'another commune does not receive it');
      assert.equal(await card(other, online).count(), 0);

      // Signing out once everything is synced removes this user's data from the phone.
      await page.getByRole('link', { name: 'Cài đặt' }).click();
      await page.locator('#account-name').waitFor();
      await page.getByRole('button', { name: 'Đăng xuất' }).click();
      await page.getByText('Mọi thay đổi đã được đồng bộ').waitFor();
      await page.locator('#confirm-sign-out').click();
      await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
      assert.equal(await idbCount(page), 0, 'the replica is empty');
      assert.equal(await page.evaluate(() => localStorage.getItem('danvan.account')), null);
    });
  } finally {
    for (const c of others) await c.close();
    await ctx.close();
  }
});

test('signing out with unsynced work names what would be lost', { timeout: 180_000 }, async () => {
  const name = `Chưa kịp đồng bộ ${suffix()}`;
  const ctx = await browser.newContext(PHONE);
  try {
    await withShots('sign-out', () => [ctx], async () => {
      const page = await newPage(ctx, 'sign-out');
      await signIn(page, BASE, 'canbo.b');
      await waitServiceWorker(page);
      await ctx.setOffline(true);
      await register(page, name);
      await page.getByRole('link', { name: 'Cài đặt' }).click();
      await page.getByRole('button', { name: 'Đăng xuất' }).click();
      const unsynced = page.locator('#unsynced');
      await unsynced.waitFor();
      assert.match(await unsynced.innerText(), new RegExp(name));
      assert.match(await page.locator('#confirm-sign-out').innerText(), /Vẫn đăng xuất và bỏ 1 thay đổi/);
      await shot(page, 'f3-phone-sign-out-warning');
      // Not confirmed: still signed in, the model still here and syncs once online.
      await page.getByRole('button', { name: 'Hủy' }).click();
      await ctx.setOffline(false);
      await page.getByRole('button', { name: 'Đồng bộ ngay' }).click();
      await waitSyncState(page, 'synced');
      await page.getByRole('button', { name: 'Đăng xuất' }).click();
      await page.getByText('Mọi thay đổi đã được đồng bộ').waitFor();
    });
  } finally {
    await ctx.close();
  }
});

test('a returning cadre sees her list before the app runs, and no other user of the phone ever does', { timeout: 180_000 }, async () => {
  const name = `Màn hình đầu ${suffix()}`;
  const ctx = await browser.newContext(PHONE);
  // From the first moment of every page load: the cards the page holds before the app is up.
  await ctx.addInitScript(() => {
    window.__early = null;
    new MutationObserver(() => {
      if (window.__early || document.body?.dataset.ready) return;
      const cards = [...document.querySelectorAll('article.model-card h2')].map((h) => h.textContent.trim());
      const main = document.querySelector('#app main');
      if (cards.length) window.__early = { cards, inert: main.inert, busy: main.getAttribute('aria-busy'), shell: document.body.dataset.shell };
    }).observe(document, { childList: true, subtree: true });
  });
  const KEY = 'danvan.first-screen';
  try {
    await withShots('first-screen', () => [ctx], async () => {
      const page = await newPage(ctx, 'first-screen');
      await signIn(page, BASE, 'canbo.b');
      await register(page, name);
      await list(page);
      await card(page, name).waitFor();
      // Kept once the browser is idle after the list was drawn.
      await eventually('the first screen kept', async () => (await page.evaluate((k) => localStorage.getItem(k) || '', KEY)).includes(name));
      await page.reload();
      await waitReady(page);
      const early = await page.evaluate(() => window.__early);
      assert.ok(early, 'the shell painted the list before the app ran');
      assert.ok(early.cards.includes(name), `the kept list holds the new model: ${early.cards}`);
      assert.deepEqual([early.inert, early.busy, early.shell], [true, 'true', 'first-screen'], 'inert and busy until the app takes over');
      // The app's own list replaced it, and it can be used.
      assert.equal(await page.evaluate(() => document.querySelector('#app main').inert), false);
      await card(page, name).getByRole('link', { name }).click();
      await page.locator('h1', { hasText: name }).waitFor();

      // Signing out removes it with the user's other data: the next start shows the sign-in form.
      await waitSyncState(page, 'synced');
      await page.getByRole('link', { name: 'Cài đặt' }).click();
      await page.getByRole('button', { name: 'Đăng xuất' }).click();
      await page.getByText('Mọi thay đổi đã được đồng bộ').waitFor();
      await page.locator('#confirm-sign-out').click();
      await page.locator('#username').waitFor();
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), KEY), null);
      await page.reload();
      await page.locator('#username').waitFor();
      assert.equal(await page.evaluate(() => window.__early), null);

      // Another user of the same phone: a copy left under someone else's name (written here by
      // hand, as a modified page could) is never painted for her.
      await signIn(page, BASE, 'canbo.a');
      await list(page);
      await eventually('her own first screen kept', async () => (await page.evaluate((k) => localStorage.getItem(k) || '', KEY)).includes('"owner":"canbo.a"'));
      await page.evaluate((k) => {
        const copy = JSON.parse(localStorage.getItem(k));
        localStorage.setItem(k, JSON.stringify({ ...copy, owner: 'canbo.b', main: '<section class="page list-page"><div class="cards"><article class="model-card"><h2>Của người khác</h2></article></div></section>' }));
      }, KEY);
      await page.reload();
      await waitReady(page);
      assert.equal(await page.evaluate(() => window.__early), null, 'nothing painted from another user\'s copy');
      await shot(page, 'first-screen-other-user');
    });
  } finally {
    await ctx.close();
  }
});

test('an administrator invites a new cadre, who joins from the link on their phone', { timeout: 180_000 }, async () => {
  const username = `moi.${suffix()}`;
  const adminCtx = await browser.newContext(DESKTOP);
  const phoneCtx = await browser.newContext(PHONE);
  try {
    await withShots('invite', () => [adminCtx, phoneCtx], async () => {
      const admin = await newPage(adminCtx, 'admin');
      await signIn(admin, BASE, 'quantri');
      await admin.getByRole('link', { name: 'Quản trị' }).click();
      await admin.getByRole('heading', { name: 'Người dùng', exact: true }).waitFor({ timeout: SYNC_MS });
      await admin.getByLabel('Tên đăng nhập').fill(username);
      await admin.getByLabel('Họ tên').fill('Lường Thị Mới');
      await admin.getByLabel('Đơn vị', { exact: true }).selectOption('TRUONGSON');
      await admin.getByLabel('Vai trò').selectOption('can_bo');
      await admin.getByRole('button', { name: 'Tạo tài khoản và lời mời' }).click();
      const card = admin.locator('.invitation');
      await card.waitFor();
      const link = await admin.locator('#invitation-url').inputValue();
      assert.ok(link.startsWith(`${BASE}/moi#`), link);
      assert.ok(await admin.locator('.invitation img.qr').evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code renders');
      await admin.locator('table.users').getByText(username).waitFor();
      await shot(admin, 'g1-desktop-admin-invitation');

      const phone = await newPage(phoneCtx, 'invited');
      await phone.goto(link);
      await waitReady(phone);
      await phone.locator('#invited-username').waitFor();
      assert.equal(await phone.locator('#invited-username').innerText(), username);
      await phone.getByLabel('Mật khẩu mới').fill('mật khẩu mới của tôi');
      await phone.getByLabel('Nhập lại mật khẩu').fill('mật khẩu khác hẳn');
      await phone.getByRole('button', { name: 'Đặt mật khẩu và đăng nhập' }).click();
      await phone.getByText('Hai lần nhập mật khẩu không khớp.').waitFor();
      await phone.getByLabel('Nhập lại mật khẩu').fill('mật khẩu mới của tôi');
      await shot(phone, 'g2-phone-invitation');
      await phone.getByRole('button', { name: 'Đặt mật khẩu và đăng nhập' }).click();
      await phone.waitForFunction(() => location.pathname === '/');
      await waitSyncState(phone, 'synced');
      // The new cadre registers for their own commune.
      await phone.getByRole('link', { name: 'Thêm', exact: true }).click();
      await phone.locator('#unit').waitFor();
      assert.equal(await phone.locator('#unit').inputValue(), 'TRUONGSON');
      await shot(phone, 'g3-phone-new-cadre-form');

      // The administrator gives the new cadre a second role: reviewer of the district.
      const row = admin.locator('table.users tr').filter({ hasText: username });
      await row.getByRole('button', { name: 'Sửa vai trò' }).click();
      await admin.getByRole('button', { name: 'Thêm vai trò' }).click();
      await admin.locator('#grant-1-unit').selectOption('HA');
      await admin.locator('#grant-1-role').selectOption('binh_xet');
      await admin.getByRole('button', { name: 'Lưu vai trò' }).click();
      await eventually('both roles listed', async () => {
        const text = await row.innerText();
        return text.includes('Cán bộ — Xã Trường Sơn') && text.includes('Bình xét — Huyện ủy Hà Quảng');
      });
      await shot(admin, 'g4-desktop-roles-edited');

      // The link worked once.
      const again = await newPage(await browser.newContext(PHONE), 'again');
      await again.goto(link);
      await waitReady(again);
      await again.getByText('Lời mời không còn hiệu lực').waitFor();
      await again.context().close();
    });
  } finally {
    await adminCtx.close();
    await phoneCtx.close();
  }
});

test('the province administrator edits the criteria for individuals; a reviewer signing in gets them', { timeout: 120_000 }, async () => {
  const adminCtx = await browser.newContext(DESKTOP);
  const reviewerCtx = await browser.newContext(DESKTOP);
  try {
    await withShots('criteria', () => [adminCtx, reviewerCtx], async () => {
      const admin = await newPage(adminCtx, 'admin');
      await signIn(admin, BASE, 'quantri');
      await admin.getByRole('link', { name: 'Quản trị' }).click();
      const field = admin.locator('#criteria-ca_nhan');
      await field.waitFor({ timeout: SYNC_MS });
      assert.match(await field.inputValue(), /Gương mẫu, cùng gia đình thực hiện tốt chủ trương, chính sách \| 10/);
      const editor = admin.locator('.criteria-admin .field', { has: field });
      await field.fill('Gương mẫu trong gia đình | 0\nCó sáng kiến\nCó sáng kiến');
      await editor.getByRole('button', { name: 'Lưu bộ tiêu chí' }).click();
      await editor.locator('.error').getByText('Dòng 1: điểm tối đa phải là số nguyên từ 1 đến 100.').waitFor();
      assert.match(await editor.locator('.error').innerText(), /Dòng 3: tiêu chí “Có sáng kiến” bị lặp/);
      await field.fill('Gương mẫu trong gia đình | 20\nCó sáng kiến được áp dụng');
      await editor.getByRole('button', { name: 'Lưu bộ tiêu chí' }).click();
      await editor.getByText('Đã lưu').waitFor();
      await shot(admin, 'g5-desktop-criteria');

      // A reviewer's device receives the sets with the profile.
      const reviewer = await newPage(reviewerCtx, 'reviewer');
      await signIn(reviewer, BASE, 'binhxet');
      const sets = await reviewer.evaluate(async () => {
        const token = JSON.parse(localStorage.getItem('danvan.account')).token;
        const res = await fetch('/api/session', { headers: { authorization: `Bearer ${token}` } });
        return (await res.json()).criteria;
      });
      const individual = sets.find((s) => s.owner_kind === 'ca_nhan').criteria.map((c) => [c.label, c.max]);
      assert.deepEqual(individual, [['Gương mẫu trong gia đình', 20], ['Có sáng kiến được áp dụng', 10]]);
      assert.equal(sets.find((s) => s.owner_kind === 'tap_the').criteria.length, 8, 'collectives keep the defaults');
    });
  } finally {
    await adminCtx.close();
    await reviewerCtx.close();
  }
});

// Nothing typed or photographed is lost (issue 11, section 4):
// - a form draft restored after a reload writes only what was typed: a colleague's change to
//   another item, synced meanwhile, survives (and the restored form shows it);
// - signing out names the photos not uploaded yet and never takes the quiet path while any wait;
// - a model the server refuses is flagged and kept, while the round goes on for everything else
//   (other models, photos) and the badge does not turn into an error with a growing backoff.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, READY_MS, eventually, newPage, signIn, synced, waitReady } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
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

/** Runs `body`; on failure saves a screenshot of every page of `contexts`. */
async function withShots(name, contexts, body) {
  try {
    await body();
  } catch (e) {
    for (const [i, p] of contexts.flatMap((c) => c.pages()).entries()) {
      try { await shot(p, `FAILED-${name}-${i}`); } catch { /* closed */ }
    }
    throw e;
  }
}

/** Registers a model through the form; returns its id (from the detail page's address). */
async function register(page, name, owner = 'Chi hội Phụ nữ') {
  await page.getByRole('link', { name: 'Thêm', exact: true }).click();
  await page.locator('#name').waitFor({ state: 'visible' });
  const values = {
    name, situation: 'Thực trạng.', goals: 'Mục tiêu ban đầu.', content: 'Cách làm.', area: 'Địa bàn.',
    forces: 'Lực lượng.', resources: 'Nguồn lực.', start_date: '2025-02-01', sustainability: 'Duy trì.',
    owner_name: owner,
  };
  for (const [id, v] of Object.entries(values)) await page.locator(`#${id}`).fill(v);
  await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
  await page.locator('#indicator-0-name').fill('Số hộ tham gia');
  await page.locator('#indicator-0-unit').fill('hộ');
  await page.locator('#indicator-0-target').fill('40');
  await page.getByRole('button', { name: 'Lưu mô hình' }).click();
  await page.waitForFunction(() => (document.querySelector('#save-status')?.textContent || '').includes('Đã lưu'), null, { timeout: 15_000 });
  return decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
}

async function badge(page) {
  return page.locator('#sync-status').innerText();
}

/** A small photo (PNG drawn in the page). */
async function image(page) {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 240;
    const g = c.getContext('2d');
    g.fillStyle = '#2a6';
    g.fillRect(0, 0, 320, 240);
    g.fillStyle = '#fff';
    g.fillRect(40, 40, 100 + Math.random() * 100, 80);
    return c.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

/** On a model's page: adds an activity log entry with one photo and saves it. */
async function addEntryWithPhoto(page, text) {
  await page.locator('#add-journal').click();
  await page.locator('#journal-text').fill(text);
  await page.locator('#journal-photo').setInputFiles({ name: 'anh.png', mimeType: 'image/png', buffer: await image(page) });
  await page.locator('#journal-photos img').waitFor();
  await page.locator('#save-journal').click();
  await page.locator('.journal-entry img').waitFor();
}

test('a draft restored after a reload keeps a colleague\'s change to another item', { timeout: 240_000 }, async () => {
  const name = `Đường hoa thôn Cốc Lùng ${suffix()}`;
  const ctxA = await browser.newContext(PHONE);
  const ctxB = await browser.newContext(DESKTOP);
  await withShots('draft-base', [ctxA, ctxB], async () => {
    const a = await newPage(ctxA, 'draft-A');
    const b = await newPage(ctxB, 'draft-B');
    await signIn(a, BASE, 'canbo.a');
    const id = await register(a, name, 'Chi hội Phụ nữ thôn');
    await synced(a);
    await signIn(b, BASE, 'canbo.b');
    await eventually('the model reaches B', async () => {
      if (await b.getByRole('link', { name }).count()) return true;
      await b.locator('#sync-status').click();
      return false;
    }, SYNC_MS);

    // A opens the edit form, types in one item, and the page reloads (battery, crash, swipe).
    const edit = `/mo-hinh/${encodeURIComponent(id)}/sua`;
    await a.goto(BASE + edit);
    await waitReady(a);
    await a.locator('#goals').fill('Mục tiêu do A sửa: 30 hộ trồng hoa.');
    await a.reload();
    await waitReady(a);
    await a.locator('#goals').waitFor({ timeout: READY_MS });
    assert.equal(await a.locator('#goals').inputValue(), 'Mục tiêu do A sửa: 30 hộ trồng hoa.', 'typed text restored');

    // Meanwhile B changes another item and syncs; A's device receives it.
    await b.goto(BASE + edit);
    await waitReady(b);
    await b.locator('#owner_name').fill('Đoàn Thanh niên thôn (B sửa)');
    await b.getByRole('button', { name: 'Lưu mô hình' }).click();
    await b.waitForFunction(() => (document.querySelector('#save-status')?.textContent || '').includes('Đã lưu'));
    await synced(b);
    await synced(a);

    // A's form reopens once more after B's change has arrived: the restored draft shows B's
    // value where A typed nothing, and A's text where A typed.
    // `synced(a)` can see the badge of A's round before B's save; the change has arrived once a
    // reloaded form shows it (reloading again until then).
    await eventually('A\'s reloaded form shows the colleague\'s change', async () => {
      await a.reload();
      await waitReady(a);
      await a.locator('#goals').waitFor({ timeout: READY_MS });
      return (await a.locator('#owner_name').inputValue()) === 'Đoàn Thanh niên thôn (B sửa)';
    }, 60_000);
    await a.getByText('Đã khôi phục nội dung đang nhập dở').waitFor();
    assert.equal(await a.locator('#goals').inputValue(), 'Mục tiêu do A sửa: 30 hộ trồng hoa.');
    assert.equal(await a.locator('#owner_name').inputValue(), 'Đoàn Thanh niên thôn (B sửa)', 'the form shows the colleague\'s change');
    await shot(a, 'n1-phone-draft-restored-with-colleague-change');

    await a.getByRole('button', { name: 'Lưu mô hình' }).click();
    await a.waitForFunction(() => (document.querySelector('#save-status')?.textContent || '').includes('Đã lưu'));
    // The page's lower part follows its first screen: read it once its last line is there.
    await a.locator('.detail-page .bookkeeping').waitFor();
    const detail = await a.locator('main').innerText();
    assert.ok(detail.includes('Đoàn Thanh niên thôn (B sửa)'), `B's change survives A's save:\n${detail}`);
    assert.ok(!detail.includes('Chi hội Phụ nữ thôn'), 'the old value is not written back');
    assert.ok(detail.includes('Mục tiêu do A sửa: 30 hộ trồng hoa.'));

    // And on B's device after both sync.
    await synced(a);
    await synced(b);
    await b.goto(BASE + `/mo-hinh/${encodeURIComponent(id)}`);
    await waitReady(b);
    await eventually('both changes on B', async () => {
      const text = await b.locator('main').innerText();
      return text.includes('Đoàn Thanh niên thôn (B sửa)') && text.includes('Mục tiêu do A sửa: 30 hộ trồng hoa.');
    }, SYNC_MS);
  }).finally(async () => {
    await ctxA.close();
    await ctxB.close();
  });
});

test('signing out names the photos not uploaded yet and never says all is synced while one waits', { timeout: 240_000 }, async () => {
  const name = `Camera đầu ngõ ${suffix()}`;
  const ctx = await browser.newContext(PHONE);
  await withShots('sign-out-photos', [ctx], async () => {
    const page = await newPage(ctx, 'sign-out-photos');
    await signIn(page, BASE, 'canbo.b');
    await register(page, name);
    await synced(page);
    // The photo server is unreachable (a cut link that lets the small sync requests through).
    const blockPhotos = (route) => route.abort('connectionreset');
    await ctx.route('**/api/photos/**', blockPhotos);
    await addEntryWithPhoto(page, 'Lắp camera ở đầu ngõ 3.');
    await synced(page);
    await eventually('the photo waits', async () => /1 ảnh chờ gửi/.test(await badge(page)), SYNC_MS);

    await page.getByRole('link', { name: 'Cài đặt' }).click();
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    const photos = page.locator('#unsent-photos');
    await photos.waitFor();
    assert.match(await photos.innerText(), new RegExp(`${name}: 1 ảnh chưa gửi lên máy chủ`));
    assert.equal(await page.getByText('Mọi thay đổi đã được đồng bộ').count(), 0, 'no quiet path while a photo waits');
    assert.equal(await page.locator('#unsynced').count(), 0, 'the model itself is synced');
    assert.match(await page.locator('#confirm-sign-out').innerText(), /Vẫn đăng xuất và bỏ 1 ảnh/);
    await shot(page, 'n2-phone-sign-out-photo-waiting');

    // Not confirmed: the photo goes up once the link is back; then the quiet question.
    await page.getByRole('button', { name: 'Hủy' }).click();
    await ctx.unroute('**/api/photos/**', blockPhotos);
    await page.getByRole('button', { name: 'Đồng bộ ngay' }).click();
    await eventually('the photo is uploaded', async () => !/ảnh chờ gửi/.test(await badge(page)), SYNC_MS);
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.getByText('Mọi thay đổi đã được đồng bộ').waitFor();
    assert.equal(await page.locator('#unsent-photos').count(), 0);
  }).finally(() => ctx.close());
});

/** The stored record of a document in this page's IndexedDB, as plain values. */
async function readRecord(page, id) {
  return page.evaluate((id) => new Promise((resolve, reject) => {
    const open = indexedDB.open('danvan');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('docs').objectStore('docs').get(id);
      get.onsuccess = () => resolve({ id: get.result.id, doc: Array.from(get.result.doc) });
      get.onerror = () => reject(get.error);
    };
  }), id);
}

/** Puts a document into this page's IndexedDB as an unsynced local change. */
async function putUnsynced(page, record) {
  await page.evaluate((r) => new Promise((resolve, reject) => {
    const open = indexedDB.open('danvan');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction(['docs', 'pending'], 'readwrite');
      tx.objectStore('docs').put({ id: r.id, doc: new Uint8Array(r.doc), sync: null, dirty: true });
      tx.objectStore('pending').put(r.id, r.id);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    };
  }), record);
}

test('a model the server refuses is flagged and kept while the rest syncs, photos included', { timeout: 300_000 }, async () => {
  const foreign = `Mô hình của xã Trường Sơn ${suffix()}`;
  const name = `Tủ sách thôn ${suffix()}`;
  const ctxC = await browser.newContext(DESKTOP);
  const ctxA = await browser.newContext(PHONE);
  await withShots('refused', [ctxA, ctxC], async () => {
    // A model of another commune ends up on A's device as an unsynced change (as when a cadre
    // registered it before moving between communes): the server refuses it from A.
    const c = await newPage(ctxC, 'refused-C');
    await signIn(c, BASE, 'canbo.c');
    const foreignId = await register(c, foreign);
    const record = await readRecord(c, foreignId);
    const a = await newPage(ctxA, 'refused-A');
    await signIn(a, BASE, 'canbo.a');
    const syncs = [];
    a.on('request', (r) => { if (r.url().endsWith('/api/sync')) syncs.push(Date.now()); });
    await putUnsynced(a, record);
    await a.reload();
    await waitReady(a);
    await a.goto(BASE + `/mo-hinh/${encodeURIComponent(foreignId)}`);
    await waitReady(a);
    await a.locator('#sync-status').click();
    await eventually('the refusal is flagged on the page', async () => /Máy chủ chưa nhận thay đổi của mô hình này/.test(await a.locator('main').innerText()), SYNC_MS);
    await eventually('and in the badge', async () => /1 mô hình máy chủ chưa nhận/.test(await badge(a)), SYNC_MS);
    assert.notEqual(await a.locator('#sync-status').getAttribute('data-state'), 'error', 'a refused model is not a failed round');
    await shot(a, 'n3-phone-refused-model-flagged');

    // Found from the list and Settings, though the list shows only A's own commune.
    await a.goto(BASE + '/');
    await waitReady(a);
    await a.locator('#refused-note').waitFor();
    await a.getByRole('link', { name: 'Cài đặt' }).click();
    await eventually('named in Settings', async () => (await a.locator('#refused-models').innerText()).includes(foreign), SYNC_MS);
    await shot(a, 'n3b-phone-settings-refused-list');

    // A's own work goes on: a new model with a photo reaches the server, photo included.
    await a.getByRole('link', { name: 'Mô hình', exact: true }).click();
    await register(a, name);
    await addEntryWithPhoto(a, 'Khai trương tủ sách, 120 đầu sách.');
    await a.locator('#sync-status').click();
    await eventually('the photo is uploaded', async () => {
      const text = await badge(a);
      return !/ảnh chờ gửi/.test(text) && (await a.locator('.journal-entry .pending-photo').count()) === 0;
    }, SYNC_MS);
    assert.match(await badge(a), /1 mô hình máy chủ chưa nhận/);
    assert.notEqual(await a.locator('#sync-status').getAttribute('data-state'), 'error');
    await shot(a, 'n4-phone-own-model-synced-beside-refused');

    // No backoff growing to minutes, no retry storm either: after the last trigger, the loop
    // waits for its normal period (60 s) and retries nothing in between.
    const quietFrom = Date.now();
    await new Promise((r) => setTimeout(r, 12_000));
    const retries = syncs.filter((t) => t > quietFrom);
    assert.deepEqual(retries, [], `no failure retries while idle: ${retries.length} requests`);

    // The refused model is still on the device, with its content.
    await a.goto(BASE + `/mo-hinh/${encodeURIComponent(foreignId)}`);
    await waitReady(a);
    await eventually('kept', async () => (await a.locator('main').innerText()).includes(foreign), SYNC_MS);

    // A colleague receives A's model with its photo (the server has both).
    const b = await newPage(await browser.newContext(DESKTOP), 'refused-B');
    try {
      await signIn(b, BASE, 'canbo.b');
      await eventually('model reaches B', async () => {
        if (await b.getByRole('link', { name }).count()) return true;
        await b.locator('#sync-status').click();
        return false;
      }, SYNC_MS);
      await b.getByRole('link', { name }).click();
      await eventually('photo shown on B', async () => b.locator('.journal-entry img').evaluate((img) => img.complete && img.naturalWidth > 0).catch(() => false), SYNC_MS);
    } finally {
      await b.context().close();
    }
  }).finally(async () => {
    await ctxA.close();
    await ctxC.close();
  });
});

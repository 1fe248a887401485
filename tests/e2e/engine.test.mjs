// The document engine (automerge) is a module of its own, loaded in the background: the app's
// first-load wasm holds none of it, the list and the forms work before it arrives, and a save
// made while it cannot load says so and loses nothing typed.
//
//   DANVAN_URL=… DANVAN_DIST=dist node --test tests/e2e/engine.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { LAUNCH, eventually, signIn, waitReady, watch } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const DIST = process.env.DANVAN_DIST;
const TEST_MS = 240_000;
mkdirSync(new URL('./screenshots/', import.meta.url), { recursive: true });

let browser;
before(async () => {
  browser = await chromium.launch(LAUNCH);
});
after(async () => {
  await browser?.close();
});

test('automerge is in the engine module, not in the app\'s first-load wasm', { skip: !DIST }, () => {
  const app = readdirSync(DIST).find((f) => /^danvan-[0-9a-f]+_bg\.wasm$/.test(f));
  assert.ok(app, 'the app\'s wasm is in dist');
  const appWasm = readFileSync(join(DIST, app));
  const engineWasm = readFileSync(join(DIST, 'danvan-engine_bg.wasm'));
  // automerge's own messages, and the change messages the engine writes into documents.
  for (const text of ['automerge', 'invalid change', 'sửa mô hình', 'ghi nhật ký']) {
    assert.ok(engineWasm.includes(Buffer.from(text)), `the engine holds “${text}”`);
    assert.ok(!appWasm.includes(Buffer.from(text)), `the app's first-load wasm does not hold “${text}”`);
  }
});

test('every snippet index.html preloads has the bytes its integrity names, and none is an inline snippet', { skip: !DIST }, () => {
  // The three wasm modules share one snippets folder: an inline snippet (numbered per module) of
  // one could overwrite another's, and the browser then blocks it (ARCHITECTURE, "client").
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const links = [...html.matchAll(/<link[^>]*href="?(\/snippets\/[^" >]+)"?[^>]*integrity="?sha384-([^" >]+)"?[^>]*>/g)];
  assert.ok(links.length >= 3, 'the snippets are preloaded with their integrity');
  for (const [, href, integrity] of links) {
    assert.ok(!/\/inline\d+\.js$/.test(href), `${href} is a module file, not an inline snippet`);
    const digest = createHash('sha384').update(readFileSync(join(DIST, href))).digest('base64');
    assert.equal(digest, integrity, `${href} has the bytes index.html's integrity names`);
  }
});

test('a device with an account starts its app even when the early fetch of its wasm fails', { timeout: TEST_MS }, async () => {
  // The static shell fetches and compiles the app's wasm early on a device with an account
  // (assets/shell.js, window.danvanWasm); when that fails, the loader must still start the app.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    watch(page, 'early-wasm');
    await signIn(page, BASE, 'canbo.a');
    assert.ok(await page.locator('script[data-wasm]').count(), 'the hook named the wasm for the shell');
    let wasmRequests = 0;
    await context.route(/\/danvan-[0-9a-f]+_bg\.wasm$/, (route) => {
      wasmRequests += 1;
      return wasmRequests === 1 ? route.abort() : route.continue();
    });
    await page.reload();
    await waitReady(page);
    await page.locator('p.count').waitFor();
    assert.equal(wasmRequests, 2, 'the early fetch failed, the loader fetched the wasm again');
    assert.equal(await page.evaluate(() => typeof window.danvanWasm), 'object', 'the shell began the early compile');
  } finally {
    await context.close();
  }
});

test('the list and the forms work before the engine arrives; a save without it keeps what was typed', { timeout: TEST_MS }, async () => {
  // No service worker: requests it would answer from its cache never reach the route below.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    watch(page, 'engine');
    await signIn(page, BASE, 'canbo.a');
    const name = `Mô hình trước động cơ ${Date.now().toString(36)}`;
    const id = await registerModel(page, name);

    // The engine cannot load (a broken update, or a first visit cut short): every request for it fails.
    let engineRequests = 0;
    await context.route('**/danvan-engine*', (route) => {
      engineRequests += 1;
      return route.abort();
    });
    await page.goto(BASE + '/');
    await waitReady(page);
    await page.locator('article.model-card', { hasText: name }).first().waitFor({ state: 'visible', timeout: 10_000 });
    assert.ok(engineRequests > 0, 'the app asked for the engine in the background');
    // Search works on what the app holds.
    await page.locator('input[type="search"]').first().fill(name.slice(0, 20));
    await page.locator('article.model-card', { hasText: name }).first().waitFor({ state: 'visible' });

    await page.goto(`${BASE}/mo-hinh/${encodeURIComponent(id)}/sua`);
    await waitReady(page);
    await page.locator('#name').waitFor({ state: 'visible' });
    const renamed = `${name} (đã sửa)`;
    await page.locator('#name').fill(renamed);
    await page.getByRole('button', { name: 'Lưu mô hình' }).click();
    const alert = page.locator('.save-error');
    await alert.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await alert.innerText(), /Phần lưu dữ liệu của ứng dụng chưa tải được/);
    assert.equal(await page.locator('#name').inputValue(), renamed, 'what was typed is still in the form');

    // The engine can load again: the same click saves, without a reload.
    await context.unroute('**/danvan-engine*');
    await page.getByRole('button', { name: 'Lưu mô hình' }).click();
    await page.waitForFunction(() => (document.querySelector('#save-status')?.textContent || '').includes('Đã lưu'), null, { timeout: 15_000 });
    await eventually('the new name on the model page', async () => (await page.locator('h1').allInnerTexts()).some((t) => t.trim() === renamed));
  } catch (e) {
    for (const p of context.pages()) await p.screenshot({ path: `screenshots/FAILED-engine.png`, fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await context.close();
  }
});

// Registers a model through the form (every item filled, one indicator); returns its id.
async function registerModel(page, name) {
    await page.goto(BASE + '/mo-hinh/moi');
    await waitReady(page);
    const texts = {
      name,
      situation: 'Đường thôn lầy lội mỗi mùa mưa.',
      goals: 'Bê tông hóa 2 km đường thôn.',
      content: 'Vận động nhân dân hiến đất, góp ngày công.',
      area: 'Thôn Nà Pồng, xã Bản Bo.',
      forces: 'Chi bộ thôn chủ trì; các đoàn thể phối hợp.',
      resources: 'Nhân dân đóng góp 60%, ngân sách xã 40%.',
      start_date: '2025-01-15',
      end_date: '2025-12-31',
      evaluation_date: '2026-01-15',
      sustainability: 'Duy trì bằng quy ước thôn.',
      owner_name: 'Chi bộ thôn Nà Pồng',
      year: '2025',
    };
    for (const [id, value] of Object.entries(texts)) await page.locator(`#${id}`).fill(value);
    for (const [id, value] of Object.entries({ owner_kind: 'tap_the', field: 'kinh_te', unit: 'BANBO', level: 'co_so' })) {
      await page.locator(`#${id}`).selectOption({ value });
    }
    await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
    await page.locator('#indicator-0-name').fill('Số km đường được bê tông hóa');
    await page.locator('#indicator-0-unit').fill('km');
    await page.locator('#indicator-0-target').fill('2');
    await page.getByRole('button', { name: 'Lưu mô hình' }).click();
    await page.waitForFunction(() => /^\/mo-hinh\/[^/]+$/.test(location.pathname) && location.pathname !== '/mo-hinh/moi', null, { timeout: 15_000 });
    return decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
}

test('models cached by an older version are read again from their documents and cached anew', { timeout: TEST_MS }, async () => {
  // An app update can change how models are cached (stop 31: JSON → a format byte and postcard).
  // The first start after it must still show every model — read again by the engine — and not
  // an old entry read as something else, nor say there are no models while it reads them.
  // No service worker: the engine's requests must reach the route below.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    watch(page, 'old-cache');
    await signIn(page, BASE, 'canbo.a');
    const name = `Mô hình bộ nhớ cũ ${Date.now().toString(36)}`;
    const id = await registerModel(page, name);
    const cached = () => page.evaluate((id) => new Promise((resolve, reject) => {
      const open = indexedDB.open('danvan');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const get = open.result.transaction('models').objectStore('models').get(id);
        get.onsuccess = () => { open.result.close(); resolve(get.result ? Array.from(get.result.model.slice(0, 1)) : null); };
        get.onerror = () => reject(get.error);
      };
    }), id);
    await eventually('the new model cached', async () => (await cached())?.[0] === 0xc1);
    // Every cached model rewritten as the version before stop 31 kept it: its JSON's UTF-8 (here
    // with another name, so showing the old entry would be seen).
    const rewritten = await page.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open('danvan');
      open.onsuccess = () => {
        const tx = open.result.transaction('models', 'readwrite');
        const store = tx.objectStore('models');
        let count = 0;
        store.openCursor().onsuccess = (e) => {
          const cursor = e.target.result;
          if (!cursor) return;
          const json = JSON.stringify({ schema: 1, id: cursor.value.id, name: 'Tên trong bộ nhớ cũ' });
          cursor.update({ ...cursor.value, model: new TextEncoder().encode(json) });
          count += 1;
          cursor.continue();
        };
        tx.oncomplete = () => { open.result.close(); resolve(count); };
        tx.onerror = () => reject(tx.error);
      };
      open.onerror = () => reject(open.error);
    }));
    assert.ok(rewritten >= 1);
    // The engine held back a moment, as on a slow phone: the list says it is opening the models.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await context.route('**/danvan-engine*', async (route) => { await held; await route.continue(); });
    await page.goto(BASE + '/');
    await waitReady(page);
    const empty = page.locator('section.page .empty');
    await empty.waitFor({ state: 'visible' });
    assert.match(await empty.innerText(), /Đang mở [\d.]+ mô hình trên thiết bị này/);
    assert.equal(await page.locator('article.model-card').count(), 0);
    await page.screenshot({ path: new URL('./screenshots/old-cache-opening.png', import.meta.url).pathname });
    release();
    await page.locator('article.model-card', { hasText: name }).first().waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await page.locator('article.model-card', { hasText: 'Tên trong bộ nhớ cũ' }).count(), 0, 'no old entry is shown');
    await eventually('the model cached anew', async () => (await cached())?.[0] === 0xc1, 20_000);
    await page.screenshot({ path: new URL('./screenshots/old-cache.png', import.meta.url).pathname });
  } finally {
    await context.close();
  }
});

// End-to-end tests of the danvan PWA against a running server.
//
//   cd tests/e2e && npm install && DANVAN_URL=http://127.0.0.1:8765 node --test app.test.mjs
//
// Uses the system Chromium (env CHROMIUM, default /usr/bin/chromium); playwright-core never
// downloads a browser. Screenshots are written to tests/e2e/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, READY_MS, eventually, newPage, signIn, waitReady, waitServiceWorker, watch } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });



const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

const SYNC_MS = 30_000;
const TEST_MS = 240_000;

let browser;

before(async () => {
  browser = await chromium.launch(LAUNCH);
});

after(async () => {
  await browser?.close();
});

// ---------------------------------------------------------------------------------------------
// helpers

/** Lower-case and strip Vietnamese diacritics ("Dân vận khéo" → "dan van kheo"), đ → d. */
function fold(s) {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase();
}

/** A random suffix that keeps model names unique across reruns against the same server. */
function suffix() {
  return Math.random().toString(36).slice(2, 8) + Date.now().toString(36).slice(-4);
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The label text exactly, optionally followed by a required marker ("*", "(bắt buộc)"). */
function labelRe(label) {
  return new RegExp(`^\\s*${escapeRe(label)}(?![^\\s*(])`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Runs a test body; on failure saves a screenshot of every open page before rethrowing. */
async function withFailureShots(name, pages, body) {
  try {
    await body();
  } catch (e) {
    for (const [i, p] of pages().entries()) {
      try {
        if (!p.isClosed()) await shot(p, `FAILED-${name}-${i}`);
      } catch { /* ignore */ }
    }
    throw e;
  }
}

async function open(page, path) {
  await page.goto(BASE + path);
  await waitReady(page);
}

async function syncState(page) {
  return page.locator('#sync-status').getAttribute('data-state');
}

async function waitSyncState(page, states, timeout) {
  const wanted = Array.isArray(states) ? states : [states];
  await eventually(
    `#sync-status data-state in ${wanted.join('/')}`,
    async () => wanted.includes(await syncState(page)),
    timeout,
  );
}

async function pathname(page) {
  return new URL(page.url()).pathname;
}

/**
 * Finds a form control by its visible label, checks it is the control with `id` and that a
 * visible `<label for=id>` exists.
 */
async function control(page, label, id) {
  const loc = page.getByLabel(labelRe(label));
  await loc.waitFor({ state: 'visible' });
  assert.equal(await loc.getAttribute('id'), id, `control labelled "${label}" has id "${id}"`);
  assert.ok(await page.locator(`label[for="${id}"]`).isVisible(), `label[for=${id}] is visible`);
  return loc;
}

// The form's controls in order: [label, id, kind].
const FORM = [
  ['Tên mô hình', 'name', 'text'],
  ['Thực trạng, lý do', 'situation', 'text'],
  ['Mục tiêu, tiêu chí', 'goals', 'text'],
  ['Nội dung, cách thức thực hiện', 'content', 'text'],
  ['Địa bàn, đối tượng vận động', 'area', 'text'],
  ['Lực lượng chủ trì, phối hợp', 'forces', 'text'],
  ['Nguồn lực', 'resources', 'text'],
  ['Ngày bắt đầu', 'start_date', 'text'],
  ['Ngày kết thúc dự kiến', 'end_date', 'text'],
  ['Ngày đánh giá', 'evaluation_date', 'text'],
  ['Khả năng duy trì, nhân rộng', 'sustainability', 'text'],
  ['Loại chủ thể', 'owner_kind', 'select'],
  ['Tên chủ thể thực hiện', 'owner_name', 'text'],
  ['Lĩnh vực', 'field', 'select'],
  ['Đơn vị đăng ký', 'unit', 'select'],
  ['Cấp đăng ký', 'level', 'select'],
  ['Năm đăng ký', 'year', 'text'],
];

/** A complete, valid model. */
function sampleModel(name) {
  return {
    values: {
      name,
      situation: 'Đường thôn lầy lội mỗi mùa mưa, rác thải chưa được thu gom tập trung.',
      goals: 'Bê tông hóa 2 km đường thôn; 100% hộ phân loại rác tại nguồn.',
      content: 'Vận động nhân dân hiến đất, góp ngày công; tổ chức ra quân thu gom rác hằng tháng.',
      area: 'Thôn Nà Pồng, xã Bản Bo; 120 hộ đồng bào dân tộc Mông, Dao.',
      forces: 'Chi bộ thôn chủ trì; Mặt trận, Hội Phụ nữ, Đoàn Thanh niên phối hợp.',
      resources: 'Nhân dân đóng góp 60%, ngân sách xã hỗ trợ 40%.',
      start_date: '2025-01-15',
      end_date: '2025-12-31',
      evaluation_date: '2026-01-15',
      sustainability: 'Duy trì bằng quy ước thôn; nhân rộng ra 5 thôn lân cận.',
      owner_kind: 'tap_the',
      owner_name: 'Chi bộ thôn Nà Pồng',
      field: 'kinh_te',
      unit: 'BANBO',
      level: 'co_so',
      year: '2025',
    },
    indicators: [{ name: 'Số km đường được bê tông hóa', unit: 'km', target: '2', achieved: '1,5' }],
  };
}

/** Fills the given form values (only the keys present) through the labelled controls. */
async function fillForm(page, values) {
  for (const [label, id, kind] of FORM) {
    if (!(id in values)) continue;
    const loc = await control(page, label, id);
    if (kind === 'select') {
      await loc.selectOption({ value: values[id] });
    } else {
      await loc.fill(values[id]);
    }
  }
}

/** Makes sure indicator rows 0..n-1 exist (clicking "Thêm chỉ tiêu") and fills the given ones. */
async function fillIndicators(page, indicators) {
  for (const [i, ind] of indicators.entries()) {
    if ((await page.locator(`#indicator-${i}-name`).count()) === 0) {
      await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
      await page.locator(`#indicator-${i}-name`).waitFor({ state: 'visible' });
    }
    const labels = { name: 'Tên chỉ tiêu', unit: 'Đơn vị tính', target: 'Mục tiêu', achieved: 'Đạt được' };
    for (const [key, label] of Object.entries(labels)) {
      const id = `indicator-${i}-${key}`;
      const text = (await page.locator(`label[for="${id}"]`).innerText()).trim();
      assert.match(text, labelRe(label), `label of #${id}`);
      if (key in ind) await page.locator(`#${id}`).fill(ind[key]);
    }
  }
}

async function submit(page) {
  await page.getByRole('button', { name: 'Lưu mô hình' }).click();
}

/** After a successful save: on /mo-hinh/<id> with h1 = name and "Đã lưu"; returns the id. */
async function expectSavedDetail(page, name, expectedId) {
  await page.waitForFunction(
    () => /^\/mo-hinh\/[^/]+$/.test(location.pathname) && location.pathname !== '/mo-hinh/moi',
    null,
    { timeout: 15_000 },
  );
  const id = decodeURIComponent((await pathname(page)).split('/')[2]);
  if (expectedId) assert.equal(id, expectedId, 'stays on the same model');
  await expectDetailTitle(page, name);
  await page.waitForFunction(
    () => (document.querySelector('#save-status')?.textContent || '').includes('Đã lưu'),
    null,
    { timeout: 10_000 },
  );
  return id;
}

async function expectDetailTitle(page, name) {
  await eventually(`h1 "${name}"`, async () => {
    const titles = (await page.locator('h1').allInnerTexts()).map((t) => t.trim());
    return titles.includes(name);
  });
}

/** Opens the new-model form from the list (client-side link, works offline). */
async function openNewForm(page) {
  await page.getByRole('link', { name: 'Thêm mô hình' }).first().click();
  await page.waitForFunction(() => location.pathname === '/mo-hinh/moi', null, { timeout: 10_000 });
  await page.locator('#name').waitFor({ state: 'visible' });
}

async function createModel(page, name) {
  const m = sampleModel(name);
  await fillForm(page, m.values);
  await fillIndicators(page, m.indicators);
  await submit(page);
  return expectSavedDetail(page, name);
}

function card(page, name) {
  return page.locator('article.model-card').filter({ has: page.locator('a', { hasText: name }) });
}

async function waitCard(page, name, timeout = 10_000) {
  await card(page, name).first().waitFor({ state: 'visible', timeout });
}

/**
 * Two cadres of Bản Bo on two devices (pages `a`, `b`): `a` registers a model named `name`, both
 * hold it, then both devices go offline. Returns the model's id.
 */
async function sharedModelOffline(a, b, name) {
  await signIn(a, BASE, 'canbo.a');
  await signIn(b, BASE, 'canbo.b');
  await open(a, '/mo-hinh/moi');
  const id = await createModel(a, name);
  await waitSyncState(a, 'synced', SYNC_MS);
  await open(b, '/');
  await waitCard(b, name, SYNC_MS);
  await a.context().setOffline(true);
  await b.context().setOffline(true);
  return id;
}

// ---------------------------------------------------------------------------------------------
// scenarios

test('offline create survives reload, syncs when online and reaches a second device', { timeout: TEST_MS }, async () => {
  const name = `Dân vận khéo đường thôn sạch đẹp ${suffix()}`;
  const ctxA = await browser.newContext(PHONE);
  let ctxB;
  try {
    const a = await newPage(ctxA, 'A');
    let b;
    await withFailureShots('offline-sync', () => [a, b].filter(Boolean), async () => {
      await signIn(a, BASE, 'canbo.a');
      await open(a, '/');
      await a.locator('#sync-status').waitFor({ state: 'visible' });
      await waitServiceWorker(a);

      // --- offline: create a model
      await ctxA.setOffline(true);
      await waitSyncState(a, ['offline', 'pending'], 10_000);
      await openNewForm(a);
      const id = await createModel(a, name);
      assert.ok(id.length > 0);
      await a.locator('#sync-status').waitFor({ state: 'visible' });
      assert.ok(['offline', 'pending'].includes(await syncState(a)), 'sync status is offline or pending after an offline save');
      await shot(a, 'a1-phone-offline-detail');

      // --- still offline: the shell comes from the service worker, the model from IndexedDB
      await a.goto(BASE + '/');
      await waitReady(a);
      await a.reload();
      await waitReady(a);
      await waitCard(a, name);
      assert.ok(['offline', 'pending'].includes(await syncState(a)), 'still offline/pending after reload');
      await shot(a, 'a2-phone-offline-list-after-reload');

      await a.goto(`${BASE}/mo-hinh/${encodeURIComponent(id)}`);
      await waitReady(a);
      await expectDetailTitle(a, name);

      // --- back online: the change is pushed
      await ctxA.setOffline(false);
      await waitSyncState(a, 'synced', SYNC_MS);
      assert.match(await a.locator('#sync-status').innerText(), /Đã đồng bộ/);
      await shot(a, 'a3-phone-synced');

      // --- a second device (fresh storage) pulls it
      ctxB = await browser.newContext(DESKTOP);
      b = await newPage(ctxB, 'B');
      await signIn(b, BASE, 'canbo.b');
      await open(b, '/');
      await waitCard(b, name, SYNC_MS);
      await shot(b, 'a4-desktop-list');

      const query = fold(name);
      assert.notEqual(query, name.toLowerCase(), 'the query really has no diacritics');
      await (await control(b, 'Tìm kiếm', 'search')).fill(query);
      await waitCard(b, name);
      await eventually('exactly one card after searching the unique name', async () =>
        (await b.locator('article.model-card').count()) === 1);
      await shot(b, 'a5-desktop-search');
    });
  } finally {
    await ctxB?.close();
    await ctxA.close();
  }
});

test('invalid input shows field errors and keeps everything typed', { timeout: TEST_MS }, async () => {
  const name = `Mô hình "Dân vận khéo" kiểm tra lỗi ${suffix()}`;
  const situation = 'Nhiều hộ chưa tham gia phân loại rác.\nCần vận động bền bỉ.';
  const ctx = await browser.newContext(PHONE);
  try {
    const page = await newPage(ctx, 'form');
    await withFailureShots('validation', () => [page], async () => {
      await signIn(page, BASE, 'canbo.a');
      await open(page, '/mo-hinh/moi');
      await page.locator('#name').waitFor({ state: 'visible' });

      await fillForm(page, { name, situation });
      await fillIndicators(page, [{ name: 'Số hộ phân loại rác', target: '-5' }]);
      await submit(page);

      await page.locator('#form-errors').waitFor({ state: 'visible' });
      await page.locator('#goals-error').waitFor({ state: 'visible' });
      assert.match(await page.locator('#goals-error').innerText(), /\S/);
      assert.ok(await page.locator('#goals-error').evaluate((el) => el.tagName === 'P' && el.classList.contains('field-error')));
      await page.locator('#indicator-0-target-error').waitFor({ state: 'visible' });
      assert.match(await page.locator('#indicator-0-target-error').innerText(), /không được âm/);
      assert.equal(await page.locator('#name-error').count(), 0, 'a valid name shows no error');

      // nothing lost, nothing saved
      assert.equal(await page.locator('#name').inputValue(), name);
      assert.equal(await page.locator('#situation').inputValue(), situation);
      assert.equal(await page.locator('#indicator-0-name').inputValue(), 'Số hộ phân loại rác');
      assert.equal(await page.locator('#indicator-0-target').inputValue(), '-5');
      assert.equal(await pathname(page), '/mo-hinh/moi');
      await shot(page, 'b1-phone-form-errors');

      // fix everything but put the end date before the start date
      const m = sampleModel(name);
      const { name: _n, situation: _s, ...rest } = m.values;
      await fillForm(page, { ...rest, start_date: '2025-03-01', end_date: '2025-01-15' });
      await fillIndicators(page, [{ target: '5', unit: 'hộ', achieved: '3' }]);
      await submit(page);
      await page.locator('#end_date-error').waitFor({ state: 'visible' });
      assert.match(await page.locator('#end_date-error').innerText(),
        /Ngày kết thúc dự kiến không được trước ngày bắt đầu\./);
      assert.equal(await page.locator('#indicator-0-target-error').count(), 0, 'fixed target error is gone');
      assert.equal(await page.locator('#goals-error').count(), 0, 'fixed goals error is gone');
      assert.equal(await pathname(page), '/mo-hinh/moi');
      assert.equal(await page.locator('#name').inputValue(), name);

      // fix the date and save
      await fillForm(page, { end_date: '2025-12-31' });
      await submit(page);
      await expectSavedDetail(page, name);
      await shot(page, 'b2-phone-saved-after-fix');
    });
  } finally {
    await ctx.close();
  }
});

test('an edit persists across reload', { timeout: TEST_MS }, async () => {
  const tag = suffix();
  const oldName = `Mô hình bản gốc ${tag}`;
  const newName = `Mô hình đã chỉnh sửa ${tag}`;
  const ctx = await browser.newContext(DESKTOP);
  try {
    const page = await newPage(ctx, 'edit');
    await withFailureShots('edit', () => [page], async () => {
      await signIn(page, BASE, 'canbo.a');
      await open(page, '/mo-hinh/moi');
      await page.locator('#name').waitFor({ state: 'visible' });
      const id = await createModel(page, oldName);

      await open(page, `/mo-hinh/${encodeURIComponent(id)}/sua`);
      const nameInput = await control(page, 'Tên mô hình', 'name');
      await eventually('edit form prefilled with the old name', async () => (await nameInput.inputValue()) === oldName);
      assert.equal(await page.locator('#indicator-0-name').inputValue(), 'Số km đường được bê tông hóa');
      await nameInput.fill(newName);
      await submit(page);
      await expectSavedDetail(page, newName, id);

      await page.reload();
      await waitReady(page);
      await expectDetailTitle(page, newName);
      const titles = (await page.locator('h1').allInnerTexts()).map((t) => t.trim());
      assert.ok(!titles.includes(oldName), 'old name is gone');

      await open(page, '/');
      await waitCard(page, newName);
      assert.equal(await card(page, oldName).count(), 0, 'no card with the old name');
      await shot(page, 'c1-desktop-after-edit');
    });
  } finally {
    await ctx.close();
  }
});

test('data survives a browser restart (persistent profile, relaunched offline)', { timeout: TEST_MS }, async () => {
  const name = `Mô hình lưu bền ${suffix()}`;
  const dir = mkdtempSync(join(tmpdir(), 'danvan-e2e-profile-'));
  try {
    // first run: online, install the service worker, create a model
    let ctx = await chromium.launchPersistentContext(dir, { ...LAUNCH, ...PHONE });
    try {
      const page = await newPage(ctx, 'persist-1');
      await withFailureShots('persist-1', () => [page], async () => {
        await signIn(page, BASE, 'canbo.a');
        await open(page, '/');
        await waitServiceWorker(page);
        await openNewForm(page);
        await createModel(page, name);
        // let the sync finish so the browser closes in a quiet state (the model is local either way)
        await waitSyncState(page, 'synced', SYNC_MS);
      });
    } finally {
      await ctx.close();
    }

    // second run: same profile, no network at all
    ctx = await chromium.launchPersistentContext(dir, { ...LAUNCH, ...PHONE });
    try {
      await ctx.setOffline(true);
      const page = await newPage(ctx, 'persist-2');
      await withFailureShots('persist-2', () => [page], async () => {
        await open(page, '/');
        await waitCard(page, name, 15_000);
        assert.equal(await syncState(page), 'offline');
        await shot(page, 'd1-phone-after-restart-offline');
      });
    } finally {
      await ctx.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two devices edit the same model offline; after sync both edits are kept', { timeout: TEST_MS }, async () => {
  const name = `Tổ xe ôm tự quản ${suffix()}`;
  const ctxA = await browser.newContext(PHONE);
  const ctxB = await browser.newContext(DESKTOP);
  try {
    const a = await newPage(ctxA, 'conflict-A');
    const b = await newPage(ctxB, 'conflict-B');
    await withFailureShots('conflict', () => [a, b], async () => {
      const id = await sharedModelOffline(a, b, name);
      // Both change different items of the same model.
      await open(a, `/mo-hinh/${encodeURIComponent(id)}/sua`);
      await (await control(a, 'Tên chủ thể thực hiện', 'owner_name')).fill('Hội Cựu chiến binh xã');
      await submit(a);
      await expectSavedDetail(a, name, id);
      await open(b, `/mo-hinh/${encodeURIComponent(id)}/sua`);
      await (await control(b, 'Địa bàn, đối tượng vận động', 'area')).fill('Thôn Nà Pồng và thôn Cốc Lùng.');
      await (await control(b, 'Nguồn lực', 'resources')).fill('Nhân dân góp 500 ngày công.');
      await submit(b);
      await expectSavedDetail(b, name, id);

      // Back online, each syncs; then each pulls the other's change.
      await ctxA.setOffline(false);
      await ctxB.setOffline(false);
      for (const p of [a, b, a, b]) {
        await p.locator('#sync-status').click();
        await waitSyncState(p, 'synced', SYNC_MS);
      }
      for (const p of [a, b]) {
        await open(p, `/mo-hinh/${encodeURIComponent(id)}`);
        await eventually('both edits on the detail page', async () => {
          const text = await p.locator('main').innerText();
          return text.includes('Hội Cựu chiến binh xã') && text.includes('Thôn Nà Pồng và thôn Cốc Lùng.') && text.includes('Nhân dân góp 500 ngày công.');
        }, SYNC_MS);
      }
      await shot(b, 'e1-desktop-merged-edits');
    });
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('the same item changed on two devices offline keeps both values until one is chosen', { timeout: TEST_MS }, async () => {
  const name = `Tuyến hẻm xanh ${suffix()}`;
  const ctxA = await browser.newContext(PHONE);
  const ctxB = await browser.newContext(DESKTOP);
  try {
    const a = await newPage(ctxA, 'same-item-A');
    const b = await newPage(ctxB, 'same-item-B');
    await withFailureShots('same-item', () => [a, b], async () => {
      const id = await sharedModelOffline(a, b, name);
      // Both rename the owner differently.
      for (const [p, owner] of [[a, 'Chi hội Phụ nữ khu phố 3'], [b, 'Chi đoàn khu phố 3']]) {
        await open(p, `/mo-hinh/${encodeURIComponent(id)}/sua`);
        await (await control(p, 'Tên chủ thể thực hiện', 'owner_name')).fill(owner);
        await submit(p);
        await expectSavedDetail(p, name, id);
      }
      await ctxA.setOffline(false);
      await ctxB.setOffline(false);
      for (const p of [a, b, a]) {
        await p.locator('#sync-status').click();
        await waitSyncState(p, 'synced', SYNC_MS);
      }

      // Neither value is lost: the page lists both and lets the cadre keep one.
      await open(a, `/mo-hinh/${encodeURIComponent(id)}`);
      const conflict = a.locator('.conflicts');
      await conflict.waitFor({ timeout: SYNC_MS });
      const text = await conflict.innerText();
      assert.ok(text.includes('Chi hội Phụ nữ khu phố 3') && text.includes('Chi đoàn khu phố 3'), text);
      await shot(a, 'e2-phone-conflict');
      await conflict.locator('li').filter({ hasText: 'Chi đoàn khu phố 3' }).getByRole('button', { name: 'Giữ giá trị này' }).click();
      await conflict.waitFor({ state: 'detached' });
      await a.locator('#sync-status').click();
      await waitSyncState(a, 'synced', SYNC_MS);
      await b.locator('#sync-status').click();
      await waitSyncState(b, 'synced', SYNC_MS);
      await open(b, `/mo-hinh/${encodeURIComponent(id)}`);
      await eventually('B shows the kept value and no conflict', async () =>
        (await b.locator('main').innerText()).includes('Chi đoàn khu phố 3') && (await b.locator('.conflicts').count()) === 0, SYNC_MS);

      // The history says who changed what.
      await b.locator('.revisions summary').click();
      const history = await b.locator('#revisions').innerText();
      assert.match(history, /Tên chủ thể thực hiện/);
      assert.match(history, /chọn giá trị khi có xung đột/);
      await shot(b, 'e3-desktop-history');
    });
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('a model saved in one tab appears in the other tab at once, offline', { timeout: TEST_MS }, async () => {
  const name = `Bồn hoa thay điểm rác ${suffix()}`;
  const ctx = await browser.newContext(DESKTOP);
  try {
    const first = await newPage(ctx, 'tab-1');
    const second = watch(await ctx.newPage(), 'tab-2');
    await withFailureShots('tabs', () => [first, second], async () => {
      await signIn(first, BASE, 'canbo.a');
      await open(second, '/');
      await open(first, '/');
      await waitServiceWorker(first);
      await ctx.setOffline(true);
      await openNewForm(first);
      await createModel(first, name);
      // No reload and no network: the other tab learns of it through the shared storage.
      await waitCard(second, name, 10_000);
    });
  } finally {
    await ctx.close();
  }
});

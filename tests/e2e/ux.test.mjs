// What a new user stumbled on (issue 16, "What a new user stumbles on today"), checked on a 360 px
// phone: the save notice is said once (not after every reload), the history shows dates as people
// write them and what was added inside a text, the settings page formats sizes in Vietnamese and
// answers "Đồng bộ ngay" offline, and a refused save's error summary is not hidden under the
// sticky header and its links are big enough to tap; the list's chrome leaves the first cards on
// a phone's screen (filters behind "Bộ lọc"), and its search finds a word of a model's narrative,
// name matches first.
//
//   DANVAN_URL=… node --test tests/e2e/ux.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { LAUNCH, eventually, register, signIn, synced, waitReady, watch } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const LAPTOP = { viewport: { width: 1280, height: 800 } };
mkdirSync(SHOTS, { recursive: true });

let browser;
before(async () => {
  browser = await chromium.launch(LAUNCH);
});
after(async () => {
  await browser?.close();
});

test('the save notice is said once; the history shows dates and the sentence added inside a text', { timeout: 180_000 }, async () => {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    watch(page, 'ux');
    await signIn(page, BASE, 'canbo.a');
    await register(page, `Đường thôn sáng đẹp ${Date.now().toString(36)}`);
    assert.equal(new URL(page.url()).search, '', 'the address carries no "saved" flag');
    await page.reload();
    await waitReady(page);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await page.locator('#save-status').count(), 0, 'a reload does not say "Đã lưu" again');

    // One sentence added to a narrative, and a planned end date set.
    await page.getByRole('link', { name: 'Sửa', exact: true }).click();
    const added = 'Chi bộ họp bàn cách làm.';
    const situation = page.locator('#situation');
    await situation.fill(`${await situation.inputValue()} ${added}`);
    await page.locator('#end_date').fill('2026-12-31');
    await page.getByRole('button', { name: 'Lưu mô hình' }).click();
    await page.locator('#save-status').waitFor({ timeout: 15_000 });

    const history = page.locator('details.revisions');
    await history.locator('summary').click();
    const newest = page.locator('#revisions > li').first();
    await eventually('the edit is in the history', async () => (await newest.innerText()).includes('Ngày kết thúc dự kiến'), 15_000);
    const text = await newest.innerText();
    assert.match(text, /Ngày kết thúc dự kiến: 31\/12\/2026/, text);
    assert.doesNotMatch(text, /2026-12-31|null/, text);
    assert.equal((await newest.locator('ins').allInnerTexts()).join('').trim(), added, 'only the added sentence is marked as added');
    assert.equal(await newest.locator('del').count(), 0, 'nothing is struck out');
    // In the form's order: the narrative (item 2) before the dates (item 8).
    assert.ok(text.indexOf('Thực trạng') < text.indexOf('Ngày kết thúc'), text);
    const creation = await page.locator('#revisions > li').last().innerText();
    assert.doesNotMatch(creation, /null|2025-03-01/, creation);
    await newest.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'u1-phone-history-diff.png') });
  } finally {
    await context.close();
  }
});

test('settings: sizes in Vietnamese, and "Đồng bộ ngay" offline says what happens', { timeout: 120_000 }, async () => {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    watch(page, 'ux');
    await signIn(page, BASE, 'canbo.b');
    await page.getByRole('link', { name: 'Cài đặt', exact: true }).click();
    const usage = page.locator('#storage-usage');
    await usage.waitFor();
    const said = await usage.innerText();
    if (/Đang dùng/.test(said)) {
      assert.match(said, /^Đang dùng [\d.]+(,\d)? (byte|KB|MB|GB) trên [\d.]+(,\d)? (KB|MB|GB|TB) trình duyệt cho phép\.$/, said);
    }
    assert.doesNotMatch(await page.locator('#custom_fields').getAttribute('placeholder'), /\n/, 'the placeholder does not look like entries');

    await context.setOffline(true);
    await page.getByRole('button', { name: 'Đồng bộ ngay' }).click();
    await eventually('the offline answer', async () => /không có mạng/.test(await page.locator('#sync-now-note').innerText()), 5_000);
    await page.screenshot({ path: join(SHOTS, 'u2-phone-settings-offline-sync.png'), fullPage: true });
    await context.setOffline(false);
    await page.getByRole('button', { name: 'Đồng bộ ngay' }).click();
    await eventually('the note clears once the round ends', async () => (await page.locator('#sync-now-note').innerText()).trim() === '', 30_000, 200);
  } finally {
    await context.close();
  }
});

test('a refused save: the summary shows below the sticky header, its links can be tapped, indicator rows are numbered', { timeout: 120_000 }, async () => {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    watch(page, 'ux');
    await signIn(page, BASE, 'canbo.a');
    await page.goto(BASE + '/mo-hinh/moi');
    await waitReady(page);
    await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
    await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
    await page.locator('#indicator-1-target').fill('nhiều');
    await page.getByRole('button', { name: 'Lưu mô hình' }).click();
    const summary = page.locator('#form-errors');
    await summary.waitFor();
    // Its first link, followed, brings its field below the header.
    const header = await page.locator('header.topbar').boundingBox();
    const link = summary.locator('li a').first();
    const box = await link.boundingBox();
    assert.ok(box.height >= 24, `an error link is at least 24 px high: ${box.height}`);
    await link.click();
    const followed = decodeURIComponent((await link.getAttribute('href')).slice(1));
    const field = await page.locator(`[id="${followed}"]`).boundingBox();
    assert.ok(field.y >= header.y + header.height - 1, `the field (${field.y}) is not under the header (bottom ${header.y + header.height})`);
    // Rows are numbered; an error in one row leaves its other cells in place.
    const numbers = await page.locator('.indicator-row').evaluateAll((rows) => rows.map((r) => getComputedStyle(r, '::before').content));
    assert.equal(numbers.length, 2);
    for (const n of numbers) assert.match(n, /Chỉ tiêu.*counter\(indicator\)/, n);
    // The error under "Mục tiêu" makes its cell taller; "Đơn vị tính" beside it stays level with
    // it (aligned at the top) instead of dropping and leaving a hole.
    const row = page.locator('.indicator-row').nth(1);
    await row.locator('#indicator-1-target-error').waitFor();
    const [unit, target] = [await row.locator('.field.unit').boundingBox(), await row.locator('.field.target').boundingBox()];
    assert.ok(Math.abs(unit.y - target.y) < 1, `unit cell top ${unit.y}, target cell top ${target.y}`);
    assert.ok(target.height > unit.height, 'the cell with the error is the taller one');
    await summary.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'u3-phone-refused-save.png') });
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'u4-phone-indicator-error.png') });
  } finally {
    await context.close();
  }
});

test('the administration page fits a 360 px phone: the menu wraps, users are cards, codes stay whole', { timeout: 120_000 }, async () => {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    watch(page, 'ux');
    await signIn(page, BASE, 'quantri');
    await page.getByRole('link', { name: 'Quản trị', exact: true }).click();
    await page.locator('table.users tbody tr').first().waitFor();
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      wide: [...document.querySelectorAll('header *, main *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && getComputedStyle(e).position !== 'absolute')
        .map((e) => `${e.tagName}.${e.className}`).slice(0, 5),
    }));
    assert.equal(overflow.page, 360, 'no sideways scrolling');
    assert.deepEqual(overflow.wide, [], 'nothing runs off the right edge');
    // Every menu item is on screen (wrapped), not scrolled away.
    for (const link of await page.locator('header nav a').all()) {
      const box = await link.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 360, `${await link.innerText()} is on screen`);
    }
    // A code reads on one line.
    const code = page.locator('.unit-tree code').first();
    const lineHeight = await code.evaluate((e) => parseFloat(getComputedStyle(e).lineHeight) || 20);
    assert.ok((await code.boundingBox()).height < lineHeight * 1.5, 'a unit code does not break');
    // No empty table header (axe empty-table-header).
    const headers = await page.locator('table.users th').allTextContents();
    assert.ok(headers.every((h) => h.trim().length > 0), JSON.stringify(headers));
    await page.screenshot({ path: join(SHOTS, 'u5-phone-admin.png') });
    await page.locator('table.users').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'u6-phone-admin-users.png') });
  } finally {
    await context.close();
  }
});

test('the list on a 360 px phone: the first cards on screen, filters behind "Bộ lọc", a word of the narrative found, name matches first', { timeout: 180_000 }, async () => {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    watch(page, 'ux');
    await signIn(page, BASE, 'canbo.a');
    // A place name typed with its marks: one model has it in its name (registered first, so by
    // date it would come second), the other only in a narrative item (its resources).
    const tag = Date.now().toString(36);
    const place = `Khuổi${tag}`;
    const byName = `Bản ${place} sáng đèn`;
    const byBody = `Sân chơi cho em nhỏ ${tag.toUpperCase()}`;
    await register(page, byName);
    await register(page, byBody, { resources: `Gỗ tận dụng từ rừng ${place}, nhân dân góp công.` });
    await page.getByRole('link', { name: 'Mô hình', exact: true }).click();
    const cards = page.locator('article.model-card');
    await cards.nth(1).waitFor();
    // As a cadre usually finds it: synced (no "not yet sent" banner above the list).
    await synced(page);
    await page.locator('#storage-warning').waitFor({ state: 'detached' });

    // The first card starts in the top half of the screen, a second one is on screen too; the
    // filters wait behind their button.
    const [first, second] = [await cards.nth(0).boundingBox(), await cards.nth(1).boundingBox()];
    assert.ok(first.y < 740 / 2, `the first card starts at ${first.y} px, in the top half`);
    assert.ok(second.y + second.height / 2 < 740, `the second card is on screen (top ${second.y} px)`);
    assert.equal(await page.locator('#filter-status').isVisible(), false, 'the filters are folded');
    const toggle = page.locator('#filter-toggle');
    assert.equal((await toggle.innerText()).trim(), 'Bộ lọc');
    assert.match(await page.locator('p.count').innerText(), /mới cập nhật trước/);
    await page.screenshot({ path: join(SHOTS, 'u7-phone-list.png') });

    // Searched without the marks: both found, the name match first.
    const count = page.locator('p.count');
    await page.locator('#search').fill(`khuoi${tag}`);
    await eventually('two models found', async () => /^2 \/ /.test(await count.innerText()));
    assert.deepEqual(await cards.locator('h2').allInnerTexts(), [byName, byBody]);
    assert.match(await count.innerText(), /phù hợp nhất trước/);
    // Two words spread over the name and a narrative item find only the one holding both.
    await page.locator('#search').fill(`san choi KHUOI${tag}`);
    await eventually('one model found', async () => /^1 \/ /.test(await count.innerText()));
    assert.deepEqual(await cards.locator('h2').allInnerTexts(), [byBody]);
    await page.locator('#search').fill(`khuoi${tag}`);
    await eventually('two models found', async () => /^2 \/ /.test(await count.innerText()));
    await page.screenshot({ path: join(SHOTS, 'u8-phone-search-ranked.png') });

    // The filters open from their button and still filter; the button counts those set.
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await page.locator('#filter-owner-kind').selectOption('ca_nhan');
    await eventually('none of them is an individual', async () => /^0 \/ /.test(await count.innerText()));
    assert.equal((await toggle.innerText()).trim(), 'Bộ lọc (1)');
    await page.locator('.empty').waitFor();
    await page.locator('#filter-owner-kind').selectOption('tap_the');
    await page.locator('#filter-status').selectOption('dang_ky');
    await eventually('both collective and registered', async () => /^2 \/ /.test(await count.innerText()));
    assert.equal((await toggle.innerText()).trim(), 'Bộ lọc (2)');
    await page.screenshot({ path: join(SHOTS, 'u9-phone-filters-open.png') });
    await toggle.click();
    assert.equal(await page.locator('#filter-status').isVisible(), false, 'folded again');
    assert.equal((await toggle.innerText()).trim(), 'Bộ lọc (2)', 'the count stays while folded');
    assert.match(await count.innerText(), /^2 \//, 'the filters still apply while folded');
  } finally {
    await context.close();
  }

  // On a laptop the filters are shown and the button is not.
  const laptop = await browser.newContext(LAPTOP);
  try {
    const page = await laptop.newPage();
    watch(page, 'ux-laptop');
    await signIn(page, BASE, 'canbo.a');
    await page.locator('article.model-card').first().waitFor();
    assert.ok(await page.locator('#filter-status').isVisible(), 'the filters are shown');
    assert.equal(await page.locator('#filter-toggle').isVisible(), false, 'no filter button');
    const search = (await page.locator('#search').boundingBox()), status = (await page.locator('#filter-status').boundingBox());
    assert.ok(Math.abs(search.y - status.y) < 2, 'search and filters on one row');
    await page.screenshot({ path: join(SHOTS, 'u10-laptop-list.png') });
  } finally {
    await laptop.close();
  }
});

// Import of an old model list: the province's administrator, on a laptop that goes offline,
// imports an XLSX made here with rust_xlsxwriter (examples/write_workbook.rs) that has one bad
// row — sees the row's line and reason, nothing is imported —, fixes the file, imports it (the
// progress shows), and the models reach a district reviewer's phone with their recorded state
// and where they came from. Importing the same file again creates nothing.
//
// Needs DANVAN_URL (the shared e2e server of .ci/test) and DANVAN_WRITE_WORKBOOK.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, collectErrors, eventually, newPage, signIn, synced, unique, waitServiceWorker } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const WRITE_WORKBOOK = process.env.DANVAN_WRITE_WORKBOOK;
const DIST = process.env.DANVAN_DIST;
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const LAPTOP = { viewport: { width: 1280, height: 800 } };

/** The list as a unit keeps it: a title row, then the header, then one model per row. */
function workbook(dir, name, rows) {
  const header = 'STT,Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng,Tên chủ thể,Ngày bắt đầu';
  const csv = [header, ...rows.map((r, i) => [i + 1, ...r].map((v) => `"${String(v).replaceAll('"', '""')}"`).join(','))].join('\n');
  const file = join(dir, name);
  execFileSync(WRITE_WORKBOOK, [file, 'DANH SÁCH MÔ HÌNH DÂN VẬN KHÉO (TỆP CŨ)'], { input: csv });
  return file;
}

test('an administrator imports an old list offline, a bad row first, and a reviewer receives it', { skip: !WRITE_WORKBOOK && 'DANVAN_WRITE_WORKBOOK not set' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'danvan-import-'));
  const tag = unique('Nhập');
  const rows = (badYear) => [
    [`${tag} đường bê tông`, 'BANBO', 'Kinh tế', 2016, 'Đang thực hiện', 'Chi bộ thôn', '2016-03-01'],
    [`${tag} hũ gạo`, 'Xã Trường Sơn', 'Văn hóa – xã hội', 2018, 'Đề nghị công nhận', 'Hội Phụ nữ xã', '2018-02-10'],
    [`${tag} camera an ninh`, 'NAPONG', 'Quốc phòng – an ninh', badYear ? 1990 : 2019, 'Đăng ký', 'Tổ tự quản', ''],
    [`${tag} chi bộ bốn tốt`, 'xa ban bo', 'Xây dựng hệ thống chính trị', 2020, '', '', ''],
  ];
  const bad = workbook(dir, 'ds-cu.xlsx', rows(true));
  const good = workbook(dir, 'ds-cu-da-sua.xlsx', rows(false));

  const browser = await chromium.launch(LAUNCH);
  try {
    const laptop = await browser.newContext(LAPTOP);
    const admin = await newPage(laptop, 'admin');
    const errors = collectErrors(admin);
    await signIn(admin, BASE, 'quantri');
    await waitServiceWorker(admin);
    await admin.getByRole('link', { name: 'Quản trị', exact: true }).click();
    await admin.getByRole('link', { name: 'Nhập danh sách mô hình từ tệp (CSV, XLSX)' }).click();
    await admin.locator('#import-file').waitFor();
    // Let the service worker's precache hold the on-demand module before the network goes.
    await admin.evaluate(() => caches.keys().then(async (keys) => {
      for (const k of keys) if (await (await caches.open(k)).match('/danvan-reports_bg.wasm')) return true;
      throw new Error('not cached yet');
    })).catch(() => admin.waitForTimeout(3000));
    await laptop.setOffline(true);

    await admin.locator('#import-file').setInputFiles(bad);
    await admin.locator('#import-summary').waitFor({ timeout: 30_000 });
    assert.equal(await admin.locator('#import-summary').innerText(), '4 dòng có dữ liệu: 3 dòng đúng, 1 dòng lỗi.');
    const problem = await admin.locator('#import-errors').innerText();
    assert.match(problem, /Dòng 5: Năm “1990” không hợp lệ: phải là năm từ 2009/, 'the bad row is named by its line in the file (title row, header, rows)');
    assert.ok(await admin.locator('#import-start').isDisabled(), 'nothing is imported while a row is wrong');
    assert.equal(await admin.locator('.import-preview tbody tr').count(), 3);
    assert.match(await admin.locator('.import-preview tbody').innerText(), /Xã Trường Sơn/);
    await admin.screenshot({ path: join(SHOTS, 'import-bad-row-laptop.png'), fullPage: true });

    await admin.locator('#import-file').setInputFiles(good);
    await eventually('fixed file planned', async () => (await admin.locator('#import-summary').innerText()) === '4 dòng có dữ liệu: 4 dòng đúng, 0 dòng lỗi.', 30_000);
    assert.equal(await admin.locator('#import-errors').count(), 0);
    await admin.locator('#import-start').click();
    await admin.locator('#import-done').waitFor({ timeout: 30_000 });
    assert.match(await admin.locator('#import-done').innerText(), /Đã nhập 4 mô hình mới/);

    // The same file again: every row is found on the device, nothing to import.
    await admin.locator('#import-file').setInputFiles(good);
    await eventually('re-import planned', async () => /4 đã có trên thiết bị/.test(await admin.locator('#import-summary').innerText()), 30_000);
    assert.ok(await admin.locator('#import-start').isDisabled());
    assert.equal(await admin.locator('#import-start').innerText(), 'Nhập 0 mô hình');

    await laptop.setOffline(false);
    await synced(admin, 60_000);
    assert.deepEqual(errors, []);

    // The district's reviewer, on a phone: the four models, the proposed one in the queue,
    // each saying where it came from.
    const phone = await browser.newContext(PHONE);
    const reviewer = await newPage(phone, 'reviewer');
    await signIn(reviewer, BASE, 'binhxet');
    await synced(reviewer, 60_000);
    await reviewer.locator('#search').fill(tag);
    await eventually('four imported models listed', async () => (await reviewer.locator('.cards .model-card').count()) === 4, 30_000);
    await reviewer.getByRole('link', { name: `${tag} hũ gạo` }).click();
    await reviewer.locator('h1', { hasText: `${tag} hũ gạo` }).waitFor();
    assert.equal((await reviewer.locator('.badge.status').innerText()).trim(), 'Đề nghị công nhận');
    await eventually('history names the file and line', async () => /Nhập từ tệp ds-cu-da-sua\.xlsx, dòng 4/.test(await reviewer.locator('body').innerText()), 15_000);
    await reviewer.screenshot({ path: join(SHOTS, 'import-received-phone.png'), fullPage: true });
    await reviewer.getByRole('link', { name: 'Bình xét', exact: true }).click();
    await reviewer.getByText(`${tag} hũ gạo`).first().waitFor();

    // The import page itself at 360 px (the column table scrolls inside its box).
    await reviewer.goto(BASE + '/nhap-tu-tep');
    await reviewer.locator('#import-file').setInputFiles(good);
    await reviewer.locator('#import-summary').waitFor({ timeout: 30_000 });
    const overflow = await reviewer.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page does not scroll sideways at 360 px (by ${overflow} px)`);
    await reviewer.screenshot({ path: join(SHOTS, 'import-phone.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

// The same page online: a district reviewer sends a list to the server ("Nhập qua máy chủ"),
// with a column the page did not recognise mapped by hand; the server writes the models and they
// come back through sync, to this laptop and to a commune cadre's phone. Sending it again creates
// nothing; offline the choice is not offered.
test('a reviewer online imports a list through the server and the models come back by sync', { skip: !WRITE_WORKBOOK && 'DANVAN_WRITE_WORKBOOK not set' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'danvan-import-server-'));
  const tag = unique('Máy chủ');
  const header = 'Tên MH,Đơn vị,Lĩnh vực,Năm,Tình trạng,Ghi chú';
  const rows = [
    [`${tag} sân chơi thiếu nhi`, 'BANBO', 'Văn hóa – xã hội', 2017, 'Đang thực hiện', 'cũ'],
    [`${tag} tổ hòa giải`, 'TRUONGSON', 'Quốc phòng – an ninh', 2018, 'Đăng ký', ''],
    [`${tag} nước sạch`, 'BANBO', 'Kinh tế', 2019, 'Đề nghị công nhận', 'xem lại'],
  ];
  const csv = [header, ...rows.map((r) => r.map((v) => `"${String(v)}"`).join(','))].join('\n');
  const file = join(dir, 'ds-huyen.xlsx');
  execFileSync(WRITE_WORKBOOK, [file, 'DANH SÁCH MÔ HÌNH HUYỆN'], { input: csv });

  const browser = await chromium.launch(LAUNCH);
  try {
    const laptop = await browser.newContext(LAPTOP);
    const reviewer = await newPage(laptop, 'reviewer');
    const errors = collectErrors(reviewer);
    await signIn(reviewer, BASE, 'binhxet');
    await synced(reviewer, 60_000);
    await reviewer.goto(BASE + '/nhap-tu-tep');
    await reviewer.locator('#import-file').setInputFiles(file);
    await reviewer.locator('#import-column-problems').waitFor({ timeout: 30_000 });
    assert.match(await reviewer.locator('#import-column-problems').innerText(), /Chưa biết cột “Tên MH” \(cột A\)/);
    await reviewer.locator('#column-0').selectOption('ten_mo_hinh');
    await reviewer.locator('#column-5').selectOption('bo_qua');
    await eventually('planned', async () => (await reviewer.locator('#import-summary').innerText()) === '3 dòng có dữ liệu: 3 dòng đúng, 0 dòng lỗi.', 30_000);

    await reviewer.locator('#import-send').click();
    await reviewer.locator('#import-done').waitFor({ timeout: 60_000 });
    assert.match(await reviewer.locator('#import-done').innerText(), /Máy chủ đã nhập 3 mô hình mới/);
    await reviewer.screenshot({ path: join(SHOTS, 'import-server-laptop.png'), fullPage: true });
    // Back to this device through sync (the page asked for a round at once).
    await reviewer.getByRole('link', { name: 'Xem danh sách mô hình' }).click();
    await reviewer.locator('#search').fill(tag);
    await eventually('three models came back', async () => (await reviewer.locator('.cards .model-card').count()) === 3, 60_000);

    // Again: the server has them all.
    await reviewer.goto(BASE + '/nhap-tu-tep');
    await reviewer.locator('#import-file').setInputFiles(file);
    await reviewer.locator('#column-0').selectOption('ten_mo_hinh');
    await reviewer.locator('#column-5').selectOption('bo_qua');
    await eventually('re-planned', async () => /3 đã có trên thiết bị/.test(await reviewer.locator('#import-summary').innerText()), 30_000);
    await reviewer.locator('#import-send').click();
    await reviewer.locator('#import-done').waitFor({ timeout: 60_000 });
    assert.match(await reviewer.locator('#import-done').innerText(), /Máy chủ đã nhập 0 mô hình mới \(3 đã có từ trước, giữ nguyên\)/);

    // Offline, only the device's import is offered.
    await laptop.setOffline(true);
    await eventually('server choice withdrawn offline', async () => (await reviewer.locator('#import-send').count()) === 0, 30_000);
    assert.equal(await reviewer.locator('#import-start').count(), 1);
    await laptop.setOffline(false);
    assert.deepEqual(errors, []);

    // A cadre of Bản Bo, on a phone, receives the commune's two.
    const phone = await browser.newContext(PHONE);
    const cadre = await newPage(phone, 'cadre');
    await signIn(cadre, BASE, 'canbo.a');
    await synced(cadre, 60_000);
    await cadre.locator('#search').fill(tag);
    await eventually('the commune’s two models listed', async () => (await cadre.locator('.cards .model-card').count()) === 2, 30_000);
    await cadre.getByRole('link', { name: `${tag} nước sạch` }).click();
    await eventually('history names the file and line', async () => /Nhập từ tệp ds-huyen\.xlsx, dòng 5/.test(await cadre.locator('body').innerText()), 15_000);
  } finally {
    await browser.close();
  }
});

test('the import page, its readers and its planning are not in the app\'s own wasm', { skip: !DIST && 'DANVAN_DIST not set' }, () => {
  const app = readdirSync(DIST).find((f) => /^danvan-[0-9a-f]+_bg\.wasm$/.test(f));
  const appWasm = readFileSync(join(DIST, app));
  const moduleWasm = readFileSync(join(DIST, 'danvan-reports_bg.wasm'));
  // The page's words, a row error of the plan, a reader's refusal.
  for (const text of ['Chỉ nhập các dòng đúng, bỏ qua các dòng lỗi', 'không hợp lệ: phải là năm từ', 'Tệp CSV dùng bảng mã TCVN3']) {
    assert.ok(moduleWasm.includes(Buffer.from(text)), `the on-demand module holds “${text}”`);
    assert.ok(!appWasm.includes(Buffer.from(text)), `the app's first-load wasm does not hold “${text}”`);
  }
});

// The list draws only its first 16 cards while someone types in the search box (issue 15); the
// rest of its first page must follow once the typing pauses, or a search would hide matches.
test('a search matching forty models shows all forty once the typing pauses', { skip: !WRITE_WORKBOOK && 'DANVAN_WRITE_WORKBOOK not set' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'danvan-import-'));
  // No digit in the tag: the narrowing below looks for one model's number.
  const tag = unique('Tìm').replace(/[0-9]/g, 'x');
  const rows = Array.from({ length: 40 }, (_, i) => [`${tag} mô hình số ${i + 1}`, 'BANBO', 'Kinh tế', 2021, 'Đang thực hiện', 'Chi bộ thôn', '2021-03-01']);
  const file = workbook(dir, 'bon-muoi.xlsx', rows);
  const browser = await chromium.launch(LAUNCH);
  try {
    const laptop = await browser.newContext(LAPTOP);
    const admin = await newPage(laptop, 'search-admin');
    const errors = collectErrors(admin);
    await signIn(admin, BASE, 'quantri');
    await admin.goto(BASE + '/nhap-tu-tep');
    await admin.locator('#import-file').setInputFiles(file);
    await eventually('forty rows planned', async () => /40 dòng đúng/.test(await admin.locator('#import-summary').innerText().catch(() => '')), 30_000);
    await admin.locator('#import-start').click();
    await admin.locator('#import-done').waitFor({ timeout: 30_000 });

    await admin.goto(BASE + '/');
    const search = admin.locator('#search');
    await search.waitFor();
    // Typed key by key, as a person types: every keystroke redraws the first screen only.
    await search.pressSequentially(tag, { delay: 20 });
    await eventually('all forty cards once the typing paused', async () => (await admin.locator('.cards .model-card').count()) === 40, 10_000);
    assert.match(await admin.locator('p.count').innerText(), /^40 \/ [\d.]+ mô hình/);
    // Narrowed to one, then widened again: the forty come back.
    await search.pressSequentially(' mô hình số 17', { delay: 20 });
    await eventually('the one match', async () => (await admin.locator('.cards .model-card').count()) === 1, 10_000);
    await search.fill(tag);
    await eventually('forty again', async () => (await admin.locator('.cards .model-card').count()) === 40, 10_000);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

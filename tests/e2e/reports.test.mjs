// Sơ kết 6 tháng: a district reviewer, offline, builds the half-year report of the district from
// the models on their laptop and phone — figures as of 30/6 although the log has moved on since,
// coverage, charts, the pivot with a clicked cell, the draft text — prints it to PDF in the
// Party's layout (figures checked in the PDF's text) and exports it; the province administrator,
// online, asks the server for the same report and gets the same figures. The history is made
// through the app itself, with the browsers' clocks set to the days it happened (Playwright's
// clock), so the dated log is the one people would have recorded.
//
// Starts its own server (DANVAN_SERVER_BIN) on a fresh database with the built client
// (DANVAN_DIST), so the figures are exactly this test's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, collectErrors, eventually, newPage, openModel, register, signIn, startServer, synced, takeStep } from './support.mjs';

const SERVER = process.env.DANVAN_SERVER_BIN;
const DIST = process.env.DANVAN_DIST;
const UNITS = fileURLToPath(new URL('./units.csv', import.meta.url));
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const PASSWORD = 'mật khẩu báo cáo thử';
/** calamine, through `cargo build --example read_workbook` (.ci/test builds it next to the server). */
const READ_WORKBOOK = process.env.DANVAN_READ_WORKBOOK || (SERVER && join(dirname(SERVER), 'examples', 'read_workbook'));
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const LAPTOP = { viewport: { width: 1280, height: 800 } };

/** A moment in Vietnam (UTC+7). */
const vn = (day, time = '09:00') => new Date(`${day}T${time}:00+07:00`);

/** A context whose clock starts on `day` and runs on from there. */
async function contextAt(browser, options, day) {
  const context = await browser.newContext(options);
  await context.clock.install({ time: vn(day) });
  return context;
}

async function at(page, day, time) {
  await page.clock.setSystemTime(vn(day, time));
}

async function recognise(page, name) {
  await openModel(page, name);
  await page.locator('#start-evaluation').click();
  const inputs = page.locator('.score-sheet input[type=number]');
  await inputs.first().waitFor();
  for (let i = 0; i < await inputs.count(); i++) await inputs.nth(i).fill('8');
  await page.locator('#result-cong_nhan').check();
  await page.locator('#submit-evaluation').click();
  await eventually('recognised', async () => (await page.locator('.badge.status').innerText()).trim() === 'Được công nhận');
}

async function figures(page) {
  await page.locator('#report-figures').waitFor();
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#report-figures [data-figure]')]
    .map((e) => [e.dataset.figure, e.textContent.trim()])));
}

async function openReport(page, { scope, kind, year }) {
  await page.getByRole('link', { name: 'Báo cáo', exact: true }).click();
  await page.locator('#report-scope').waitFor({ timeout: 30_000 });
  await page.locator('#report-scope').selectOption(scope);
  await page.locator('#report-kind').selectOption(kind);
  if (year) await page.locator('#report-year').fill(String(year));
}

test('the report page, its charts and its file writer are not in the app\'s own wasm', { skip: !DIST }, () => {
  const app = readdirSync(DIST).find((f) => /^danvan-[0-9a-f]+_bg\.wasm$/.test(f));
  const appWasm = readFileSync(join(DIST, app));
  const reportWasm = readFileSync(join(DIST, 'danvan-reports_bg.wasm'));
  for (const text of ['ĐẢNG CỘNG SẢN VIỆT NAM', 'Dự thảo nội dung báo cáo', 'Mô hình đăng ký theo năm', 'Tổng cộng']) {
    assert.ok(reportWasm.includes(Buffer.from(text)), `the report module holds “${text}”`);
    assert.ok(!appWasm.includes(Buffer.from(text)), `the app's first-load wasm does not hold “${text}”`);
  }
});

test('the administration page is in the on-demand module, not in the app\'s own wasm (issue 15)', { skip: !DIST }, () => {
  const app = readdirSync(DIST).find((f) => /^danvan-[0-9a-f]+_bg\.wasm$/.test(f));
  const appWasm = readFileSync(join(DIST, app));
  const moduleWasm = readFileSync(join(DIST, 'danvan-reports_bg.wasm'));
  for (const text of ['Tạo tài khoản và lời mời', 'Nhập đơn vị từ tệp CSV', 'Gửi lời mời mới', '/api/admin/criteria']) {
    assert.ok(moduleWasm.includes(Buffer.from(text)), `the on-demand module holds “${text}”`);
    assert.ok(!appWasm.includes(Buffer.from(text)), `the app's first-load wasm does not hold “${text}”`);
  }
});

test('a district reviewer builds, prints and exports the half-year report offline; the server agrees', { skip: !SERVER || !DIST, timeout: 600_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'danvan-reports-'));
  const database = join(work, 'reports.sqlite3');
  const cli = (...args) => execFileSync(SERVER, ['--database', database, ...args], { input: PASSWORD + '\n', stdio: ['pipe', 'ignore', 'inherit'] });
  cli('import-units', UNITS);
  cli('create-admin', '--username', 'quantri', '--unit', 'CB', '--name', 'Quản trị tỉnh');
  cli('create-user', '--username', 'canbo.a', '--unit', 'BANBO', '--role', 'can_bo', '--name', 'Cán bộ A');
  cli('create-user', '--username', 'canbo.c', '--unit', 'TRUONGSON', '--role', 'can_bo', '--name', 'Cán bộ C');
  cli('create-user', '--username', 'binhxet', '--unit', 'HA', '--role', 'binh_xet', '--name', 'Người bình xét');
  const { child, url } = await startServer(SERVER, ['--addr', '127.0.0.1:0', '--database', database, '--dist', DIST]);
  const browser = await chromium.launch(LAUNCH);
  try {
    // February: three models in Bản Bo, one in Trường Sơn; two of Bản Bo's are proposed.
    const cadreCtx = await contextAt(browser, PHONE, '2026-02-10');
    const cadre = await newPage(cadreCtx, 'cadre');
    await cadre.clock.resume();
    await signIn(cadre, url, 'canbo.a', PASSWORD);
    for (const name of ['Hũ gạo tình thương', 'Đường bê tông liên thôn', 'Tổ tự quản môi trường']) await register(cadre, name);
    for (const name of ['Hũ gạo tình thương', 'Đường bê tông liên thôn']) {
      await openModel(cadre, name);
      await takeStep(cadre, 'Bắt đầu thực hiện', 'Đang thực hiện');
      await takeStep(cadre, 'Đề nghị công nhận', 'Đề nghị công nhận');
    }
    await synced(cadre);
    const otherCtx = await contextAt(browser, PHONE, '2026-03-05');
    const other = await newPage(otherCtx, 'other');
    await other.clock.resume();
    await signIn(other, url, 'canbo.c', PASSWORD);
    await register(other, 'Camera an ninh xóm');
    await synced(other);

    // The district recognises one in May and the other in August, after the half-year.
    const reviewerCtx = await contextAt(browser, LAPTOP, '2026-05-20');
    const reviewer = await newPage(reviewerCtx, 'reviewer');
    const errors = collectErrors(reviewer);
    await reviewer.clock.resume();
    await signIn(reviewer, url, 'binhxet', PASSWORD);
    await eventually('the district\'s models arrive', async () => {
      await synced(reviewer);
      await reviewer.getByRole('link', { name: 'Mô hình', exact: true }).click();
      return (await reviewer.getByText('Camera an ninh xóm').count()) > 0 && (await reviewer.getByText('Hũ gạo tình thương').count()) > 0;
    }, 30_000, 1000);
    await recognise(reviewer, 'Hũ gạo tình thương');
    await at(reviewer, '2026-08-15');
    await recognise(reviewer, 'Đường bê tông liên thôn');
    await synced(reviewer);

    // In December, offline: the half-year report as of 30/6.
    await at(reviewer, '2026-12-02');
    await reviewerCtx.setOffline(true);
    await openReport(reviewer, { scope: 'u:HA', kind: 'half', year: 2026 });
    await eventually('half-year figures', async () => (await figures(reviewer)).registered === '4');
    let f = await figures(reviewer);
    assert.equal(f.total, '4');
    assert.equal(f.recognised_in_period, '1', 'recognised by 30/6: only the May decision');
    assert.match(await reviewer.locator('.provenance').innerText(), /Số liệu trên thiết bị này, đồng bộ lúc/);
    assert.match(await reviewer.locator('#report-coverage').innerText(), /^2\/3 đơn vị cấp cơ sở/);
    const pivot = await reviewer.locator('#report-pivot').innerText();
    assert.match(pivot, /Xã Bản Bo/);
    assert.equal(await reviewer.locator('[data-figure="pivot-total"]').innerText(), '4');
    assert.ok(await reviewer.locator('svg.chart').count() >= 3, 'charts are drawn');
    const draft = await reviewer.locator('#report-draft').inputValue();
    assert.match(draft, /^Trong 6 tháng đầu năm 2026, 2\/3 đơn vị cấp cơ sở của Huyện ủy Hà Quảng đã đăng ký 4 mô hình tập thể\./);
    assert.match(draft, /Tính đến ngày 30\/06\/2026, Huyện ủy Hà Quảng có 4 mô hình, trong đó 2 mô hình đang thực hiện, 1 mô hình đang đề nghị công nhận, 1 mô hình đã được công nhận\./);
    // A cell of the pivot lists its models: Bản Bo's proposed one, as of 30/6.
    await reviewer.locator('#pivot-columns').selectOption('status');
    const proposedColumn = await reviewer.locator('#report-pivot thead th').evaluateAll((ths) => ths.findIndex((th) => th.textContent === 'Đề nghị công nhận'));
    await reviewer.locator('#report-pivot tbody tr', { hasText: 'Xã Bản Bo' }).locator('td').nth(proposedColumn - 1).locator('button').click();
    await reviewer.locator('#cell-models').getByText('Đường bê tông liên thôn').waitFor();
    assert.match(await reviewer.locator('#cell-models h4').innerText(), /Xã Bản Bo × Đề nghị công nhận: 1 mô hình/);
    await reviewer.screenshot({ path: join(SHOTS, 'r1-laptop-half-year-report.png'), fullPage: true });

    // The whole year: both recognitions.
    await reviewer.locator('#report-kind').selectOption('year');
    await eventually('year figures', async () => (await figures(reviewer)).recognised_in_period === '2');

    // Print to PDF in the Party's layout; the figures are in the PDF's text.
    await reviewer.locator('#report-kind').selectOption('half');
    await eventually('half-year again', async () => (await figures(reviewer)).recognised_in_period === '1');
    await reviewer.locator('.print-settings summary').click();
    await reviewer.locator('#print-place').fill('Hà Quảng');
    await reviewer.locator('#print-place').dispatchEvent('change');
    await reviewer.locator('#print-number').fill('15-BC/DV');
    await reviewer.locator('#print-number').dispatchEvent('change');
    await reviewer.emulateMedia({ media: 'print' });
    const pdf = join(work, 'bao-cao.pdf');
    await reviewer.pdf({ path: pdf, format: 'A4', preferCSSPageSize: true });
    await reviewer.emulateMedia({ media: 'screen' });
    const text = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
    for (const expected of ['ĐẢNG CỘNG SẢN VIỆT NAM', 'HUYỆN ỦY HÀ QUẢNG', 'BAN DÂN VẬN', 'Số 15-BC/DV', 'Hà Quảng, ngày 02 tháng 12 năm 2026',
      'BÁO CÁO', '6 tháng đầu năm 2026', 'Nơi nhận:', 'Xã Bản Bo']) {
      assert.ok(text.includes(expected), `the PDF says “${expected}”:\n${text}`);
    }
    assert.match(text.replace(/\s+/g, ' '), /đã đăng ký 4 mô hình tập thể/);
    assert.match(text.replace(/\s+/g, ' '), /Mô hình đăng ký trong kỳ 4/);
    assert.doesNotMatch(text, /Nguồn số liệu|Sao chép/, 'the screen controls are not printed');

    // The State's layout (Nghị định 30): Quốc hiệu and Tiêu ngữ.
    await reviewer.locator('#print-layout-state').check();
    await reviewer.emulateMedia({ media: 'print' });
    await reviewer.pdf({ path: pdf, format: 'A4', preferCSSPageSize: true });
    await reviewer.emulateMedia({ media: 'screen' });
    const state = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
    assert.ok(state.includes('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM') && state.includes('Độc lập - Tự do - Hạnh phúc'), state);
    assert.ok(state.includes('Số: 15-BC/DV'), state);

    // Export, offline: the workbook (read back with calamine) and one table as CSV.
    const [xlsx] = await Promise.all([reviewer.waitForEvent('download'), reviewer.locator('#report-xlsx').click()]);
    assert.equal(xlsx.suggestedFilename(), 'bao-cao-huyen-uy-ha-quang-6-thang-dau-nam-2026.xlsx');
    const xlsxPath = join(work, 'bao-cao.xlsx');
    await xlsx.saveAs(xlsxPath);
    const book = JSON.parse(execFileSync(READ_WORKBOOK, [xlsxPath]).toString());
    const row = (sheet, label) => (book[sheet] || []).find((r) => r[0] === label);
    assert.deepEqual(row('Số liệu', 'Đăng ký trong kỳ'), ['Đăng ký trong kỳ', 4], 'a number, not text');
    assert.deepEqual(row('Số liệu', 'Công nhận trong kỳ'), ['Công nhận trong kỳ', 1]);
    for (const sheet of ['Số liệu', 'Theo đơn vị', 'Bảng tổng hợp', 'Độ bao phủ', 'Điển hình', 'Khen thưởng', 'Nhân rộng']) {
      assert.ok(book[sheet], `the workbook has the sheet “${sheet}”: ${Object.keys(book)}`);
    }
    assert.equal(row('Theo đơn vị', 'Xã Bản Bo')[1], 3, 'Bản Bo registered three models in the half year');
    await reviewer.locator('#report-csv-table').selectOption({ index: 0 });
    const [csvDownload] = await Promise.all([reviewer.waitForEvent('download'), reviewer.locator('#report-csv').click()]);
    const csvPath = join(work, 'so-lieu.csv');
    await csvDownload.saveAs(csvPath);
    const csv = readFileSync(csvPath, 'utf8');
    assert.ok(csv.startsWith('\uFEFF'), 'UTF-8 with BOM, so Excel reads Vietnamese');
    assert.match(csv, /Đăng ký trong kỳ,4\r\n/);
    // The model list with a filter, as CSV.
    await reviewer.getByRole('link', { name: 'Mô hình', exact: true }).click();
    await reviewer.locator('#search').fill('duong be tong');
    await eventually('filtered', async () => /1 \/ 4 mô hình/.test(await reviewer.locator('.count').innerText()));
    const [listCsv] = await Promise.all([reviewer.waitForEvent('download'), reviewer.locator('#export-csv').click()]);
    const listPath = join(work, 'danh-sach.csv');
    await listCsv.saveAs(listPath);
    const list = readFileSync(listPath, 'utf8');
    assert.ok(list.includes('Đường bê tông liên thôn') && list.includes('Camera an ninh xóm') === false, list);
    await reviewer.locator('#search').fill('');
    await openReport(reviewer, { scope: 'u:HA', kind: 'half', year: 2026 });

    // On a phone, offline, the same report.
    const phoneCtx = await contextAt(browser, PHONE, '2026-12-02');
    const phone = await newPage(phoneCtx, 'phone');
    await phone.clock.resume();
    await signIn(phone, url, 'binhxet', PASSWORD);
    await eventually('the phone has the district', async () => {
      await synced(phone);
      await phone.getByRole('link', { name: 'Mô hình', exact: true }).click();
      return (await phone.getByText('Camera an ninh xóm').count()) > 0;
    }, 30_000, 1000);
    await phone.getByRole('link', { name: 'Báo cáo', exact: true }).click();
    await phone.locator('#report-scope').waitFor();
    await phoneCtx.setOffline(true);
    await phone.reload();
    await phone.locator('#report-scope').waitFor({ timeout: 30_000 });
    await phone.locator('#report-scope').selectOption('u:HA');
    await phone.locator('#report-kind').selectOption('half');
    await phone.locator('#report-year').fill('2026');
    await eventually('phone figures', async () => (await figures(phone)).registered === '4');
    await phone.screenshot({ path: join(SHOTS, 'r2-phone-half-year-report.png'), fullPage: true });
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `no sideways scrolling on a 360 px phone (page is ${width} px wide)`);

    // The province administrator, online: the server's figures are the device's.
    const adminCtx = await contextAt(browser, LAPTOP, '2026-12-02');
    const admin = await newPage(adminCtx, 'admin');
    await admin.clock.resume();
    await signIn(admin, url, 'quantri', PASSWORD);
    await openReport(admin, { scope: 'u:HA', kind: 'half', year: 2026 });
    await admin.locator('#report-source-server').check();
    await eventually('server figures', async () => /Số liệu từ máy chủ/.test(await admin.locator('.provenance').innerText()));
    const fromServer = await figures(admin);
    await eventually('reviewer half-year', async () => (await figures(reviewer)).registered === '4');
    f = await figures(reviewer);
    assert.deepEqual(fromServer, f, 'the server and the device agree');
    await admin.screenshot({ path: join(SHOTS, 'r3-laptop-server-report.png'), fullPage: true });

    assert.deepEqual(errors, [], 'no uncaught errors in the reviewer\'s page');
    await Promise.all([cadreCtx, otherCtx, reviewerCtx, phoneCtx, adminCtx].map((c) => c.close()));
  } finally {
    await browser.close();
    child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
});

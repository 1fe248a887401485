// Hội thi "Dân vận khéo" (issue 16), as a district runs it: the organiser sets the contest up on a
// laptop (rules, a preliminary per cluster, three judges per round, teams — one registered by its
// commune's own cadre), three judges score the four teams at the venue on their phones with the
// network gone, and come back online in a different order from the one they scored in; the
// organiser's laptop and phone show the same ranking; the preliminaries close, the final forms
// from their qualifiers, is scored and closed; prizes are awarded and published (and appear in the
// district's yearly report), and a judge's
// phone then shows the results read-only. The results are printed (A4 PDF) and exported (XLSX).
// Meanwhile the organiser's results tab keeps a tie-break and an excusal half chosen while a
// commune's team and the judges' sheets sync in (the rankings update around them).
//
// Starts its own server (DANVAN_SERVER_BIN) on a fresh database with the built client
// (DANVAN_DIST) and its own organisation (contest-units.csv: two clusters of two communes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, collectErrors, eventually, newPage, signIn, startServer, synced, waitServiceWorker } from './support.mjs';

const SERVER = process.env.DANVAN_SERVER_BIN;
const DIST = process.env.DANVAN_DIST;
const UNITS = fileURLToPath(new URL('./contest-units.csv', import.meta.url));
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const PASSWORD = 'mật khẩu hội thi thử';
const READ_WORKBOOK = process.env.DANVAN_READ_WORKBOOK || (SERVER && join(dirname(SERVER), 'examples', 'read_workbook'));
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const LAPTOP = { viewport: { width: 1280, height: 800 } };
const JUDGES = [['gk1', 'Bà Hoàng Thị Lan'], ['gk2', 'Ông Ma Văn Sơn'], ['gk3', 'Bà Nông Thị Hà']];
const TEAMS = { PHUDINH: 'doi-PHUDINH', DIEMMAC: 'doi-DIEMMAC', BAOLINH: 'doi-BAOLINH', TRUNGHOI: 'doi-TRUNGHOI' };

// Each judge's points for the three parts (out of 30, 30, 40). Means per part, then the sum:
// Phú Đình 25 + 24 + 35 = 84; Điềm Mặc 72; Bảo Linh 27 + 26,5 + 37 = 90,5; Trung Hội 76.
const PRELIMINARY = {
  gk1: { PHUDINH: ['25', '24', '35'], DIEMMAC: ['20', '22', '30'], BAOLINH: ['27', '26,5', '37'], TRUNGHOI: ['22', '21', '33'] },
  gk2: { PHUDINH: ['26', '25', '36'], DIEMMAC: ['20', '22', '30'], BAOLINH: ['27', '26', '37'], TRUNGHOI: ['22', '21', '33'] },
  gk3: { PHUDINH: ['24', '23', '34'], DIEMMAC: ['20', '22', '30'], BAOLINH: ['27', '27', '37'], TRUNGHOI: ['22', '21', '33'] },
};
// The final: Phú Đình 94, Bảo Linh 85.
const FINAL = { PHUDINH: ['28', '28', '38'], BAOLINH: ['25', '25', '35'] };

function acceptDialogs(page) {
  page.on('dialog', (d) => d.accept());
}

/** The ranking a page shows for a round: [[team, total, notes], …] in order. */
async function ranking(page, round) {
  const section = page.locator(`#round-${round}`);
  await section.waitFor();
  return section.evaluate((s) => [...s.querySelectorAll('tbody tr')].map((r) => [
    r.querySelector('.team-name').textContent.trim(), r.querySelector('.total').textContent.trim(), r.querySelector('.notes').textContent.trim(),
  ]));
}

async function openContest(page, name) {
  await page.getByRole('link', { name: 'Hội thi', exact: true }).click();
  await page.getByRole('link', { name }).click();
  await page.locator('h1', { hasText: name }).waitFor();
}

async function tab(page, label) {
  await page.getByRole('tab', { name: label }).click();
}

/** A judge scores every team of `round` on their sheet, part by part, each cell saved on leaving it. */
async function score(page, round, points) {
  const sheet = page.locator(`#sheet-${round}`);
  await sheet.waitFor();
  for (const [unit, parts] of Object.entries(points)) {
    const team = TEAMS[unit];
    for (const [i, p] of parts.entries()) {
      const cell = sheet.locator(`[id="${round}--score-${team}-p${i + 1}"]`);
      await cell.fill(p);
      await cell.press('Tab');
    }
    await eventually(`${team} saved`, async () => (await sheet.locator(`.team-sheet[data-team="${team}"] .saved-state`).innerText()).includes('Đã lưu'));
  }
}

test('three judges score four teams offline; every device ranks alike; the final forms; prizes are published', { skip: !SERVER || !DIST, timeout: 900_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'danvan-contest-'));
  const database = join(work, 'contest.sqlite3');
  const cli = (...args) => execFileSync(SERVER, ['--database', database, ...args], { input: PASSWORD + '\n', stdio: ['pipe', 'ignore', 'inherit'] });
  cli('import-units', UNITS);
  cli('create-user', '--username', 'bantochuc', '--unit', 'DH', '--role', 'binh_xet', '--name', 'Ban Dân vận huyện');
  cli('create-user', '--username', 'canbo.pd', '--unit', 'PHUDINH', '--role', 'can_bo', '--name', 'Cán bộ Phú Đình');
  for (const [u, name] of JUDGES) cli('create-user', '--username', u, '--unit', 'DH', '--role', 'can_bo', '--name', name);
  const { child, url } = await startServer(SERVER, ['--addr', '127.0.0.1:0', '--database', database, '--dist', DIST]);
  const browser = await chromium.launch(LAUNCH);
  const NAME = 'Hội thi Dân vận khéo huyện Định Hóa 2026';
  try {
    // ── The organiser sets it up on a laptop. ──
    const orgCtx = await browser.newContext({ ...LAPTOP, acceptDownloads: true });
    const org = await newPage(orgCtx, 'organiser');
    const orgErrors = collectErrors(org);
    acceptDialogs(org);
    await signIn(org, url, 'bantochuc', PASSWORD);
    await org.getByRole('link', { name: 'Hội thi', exact: true }).click();
    await org.locator('#contest-name').fill(NAME);
    await org.locator('#create-contest').click();
    await org.locator('h1', { hasText: NAME }).waitFor();
    assert.equal(await org.getByRole('tab', { name: 'Thiết lập' }).getAttribute('aria-selected'), 'true', 'a new contest opens on its set-up');
    await org.locator('#contest-qualifiers').fill('1');
    await org.locator('#save-rules').click();
    await org.locator('form:has(#save-rules) .saved').waitFor();
    await org.locator('#add-preliminaries').click();
    await eventually('a round per cluster and the final', async () => (await org.locator('.round-form').count()) === 3);
    // The judge list offers the district's people (GET /api/people/judges).
    await eventually('the judge list', async () => (await org.locator('#judge-candidates option').count()) >= JUDGES.length);
    for (const round of ['so-khao-CUM-1', 'so-khao-CUM-2', 'chung-khao']) {
      const form = org.locator(`#round-form-${round}`);
      await form.locator(`[id="${round}-date"]`).fill(round === 'chung-khao' ? '2026-10-20' : '2026-10-06');
      await form.locator(`[id="${round}-venue"]`).fill('Hội trường UBND xã');
      for (const [i, [u, name]] of JUDGES.entries()) {
        await form.locator('.add-judge').click();
        await form.locator(`[id="${round}-judge-${i}"]`).fill(u);
        if (round === 'chung-khao') {
          // Picked from the judge list (the district's people): the full name comes with it.
          assert.equal(await form.locator(`[id="${round}-judge-name-${i}"]`).inputValue(), name);
        } else {
          await form.locator(`[id="${round}-judge-name-${i}"]`).fill(name);
        }
      }
      await form.locator('.save-round').click();
      await form.locator('.saved').waitFor();
    }
    await tab(org, 'Đội thi');
    for (const unit of ['DIEMMAC', 'BAOLINH', 'TRUNGHOI']) {
      await org.locator('#team-unit').selectOption(unit);
      await org.locator('#register-team').click();
      await eventually(`team ${unit}`, async () => (await org.locator('.team-list li').count()) >= 1 && !(await org.locator(`#team-unit option[value="${unit}"]`).count()));
    }
    await synced(org);
    const contestPath = new URL(org.url()).pathname;
    assert.match(contestPath, /^\/hoi-thi\/[0-9a-f-]{36}$/);
    await org.screenshot({ path: join(SHOTS, 'contest-1-organiser-teams.png'), fullPage: true });

    // ── On the results, the organiser starts a tie-break and an excusal; syncs land meanwhile. ──
    await tab(org, 'Kết quả');
    // Nobody has scored yet: Bảo Linh and Trung Hội are tied at 0. Trung Hội is moved up, not saved.
    const tie2 = org.locator('#round-so-khao-CUM-2 .tie-break');
    await tie2.waitFor();
    const tieOrder = () => tie2.locator('li').evaluateAll((ls) => ls.map((l) => l.dataset.team));
    assert.deepEqual(await tieOrder(), [TEAMS.BAOLINH, TEAMS.TRUNGHOI]);
    await tie2.getByRole('button', { name: 'Đưa Đội Xã Trung Hội lên trên' }).click();
    assert.deepEqual(await tieOrder(), [TEAMS.TRUNGHOI, TEAMS.BAOLINH]);
    // In cluster 1, an excusal half filled in: gk2 will not score Điềm Mặc.
    const excuse1 = org.locator('#round-so-khao-CUM-1 details.excuse');
    await excuse1.locator('summary').click();
    await org.locator('[id="excuse-judge-so-khao-CUM-1"]').selectOption('gk2');
    await org.locator('[id="excuse-team-so-khao-CUM-1"]').selectOption(TEAMS.DIEMMAC);
    await org.locator('[id="excuse-reason-so-khao-CUM-1"]').fill('Người của xã Điềm Mặc');
    const excusal = async () => [
      await org.locator('[id="excuse-judge-so-khao-CUM-1"]').inputValue(),
      await org.locator('[id="excuse-team-so-khao-CUM-1"]').inputValue(),
      await org.locator('[id="excuse-reason-so-khao-CUM-1"]').inputValue(),
      await excuse1.evaluate((d) => d.open),
    ];
    const halfFilled = ['gk2', TEAMS.DIEMMAC, 'Người của xã Điềm Mặc', true];
    assert.deepEqual(await excusal(), halfFilled);

    // ── Phú Đình's cadre registers her commune's own team. ──
    const cadreCtx = await browser.newContext(PHONE);
    const cadre = await newPage(cadreCtx, 'cadre');
    await signIn(cadre, url, 'canbo.pd', PASSWORD);
    await synced(cadre);
    await eventually('the contest reaches the commune', async () => (await cadre.getByRole('link', { name: 'Hội thi', exact: true }).count()) > 0, 30_000);
    await openContest(cadre, NAME);
    await tab(cadre, 'Đội thi');
    const offered = await cadre.locator('#team-unit option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(offered, ['PHUDINH'], 'a cadre registers only their own unit');
    await cadre.locator('#team-members').fill('Hoàng Thị Mai\nMa Văn Tùng\nLương Thị Hoa');
    await cadre.locator('#register-team').click();
    await cadre.locator('.team-list', { hasText: 'Hoàng Thị Mai' }).waitFor();
    await synced(cadre);
    await cadreCtx.close();
    // Her team syncs into the organiser's results: cluster 1's ranking and the excusal's team list
    // gain it at once, and neither form the organiser was filling in was rebuilt.
    await synced(org);
    await eventually('Phú Đình ranked on the organiser\'s results', async () => (await ranking(org, 'so-khao-CUM-1')).length === 2, 30_000);
    assert.ok((await org.locator('[id="excuse-team-so-khao-CUM-1"] option').allInnerTexts()).includes('Đội Xã Phú Đình'));
    assert.deepEqual(await excusal(), halfFilled, 'the excusal being filled in survives a sync');
    assert.deepEqual(await tieOrder(), [TEAMS.TRUNGHOI, TEAMS.BAOLINH], 'the tie-break being chosen survives a sync');

    // ── Three judges, three phones: they open the contest online, then the hall has no network. ──
    const judges = [];
    for (const [u] of JUDGES) {
      const ctx = await browser.newContext(PHONE);
      const page = await newPage(ctx, u);
      acceptDialogs(page);
      await signIn(page, url, u, PASSWORD);
      await waitServiceWorker(page);
      await synced(page);
      await eventually(`${u} receives the contest`, async () => (await page.getByRole('link', { name: 'Hội thi', exact: true }).count()) > 0, 30_000);
      await openContest(page, NAME);
      assert.equal(await page.getByRole('tab', { name: 'Chấm điểm' }).getAttribute('aria-selected'), 'true', 'a judge lands on their sheet');
      await eventually(`${u} sees the four teams`, async () => (await page.locator('.team-sheet').count()) === 4, 30_000);
      judges.push({ u, ctx, page });
    }
    for (const j of judges) await j.ctx.setOffline(true);
    for (const j of judges) {
      await score(j.page, 'so-khao-CUM-1', { PHUDINH: PRELIMINARY[j.u].PHUDINH, DIEMMAC: PRELIMINARY[j.u].DIEMMAC });
      await score(j.page, 'so-khao-CUM-2', { BAOLINH: PRELIMINARY[j.u].BAOLINH, TRUNGHOI: PRELIMINARY[j.u].TRUNGHOI });
    }
    // A bad cell is named at once, offline, and changes nothing.
    const gk1 = judges[0].page;
    const bad = gk1.locator('[id="so-khao-CUM-1--score-doi-PHUDINH-p3"]');
    await bad.fill('45');
    await bad.press('Tab');
    await gk1.locator('.team-sheet[data-team="doi-PHUDINH"] .field-error', { hasText: 'vượt quá điểm tối đa 40' }).waitFor();
    await gk1.screenshot({ path: join(SHOTS, 'contest-2-judge-phone-offline.png'), fullPage: true });
    await bad.fill('35');
    await bad.press('Tab');
    // Reloaded offline, the sheet is still there (from the device).
    await gk1.reload();
    await gk1.locator('[id="so-khao-CUM-2--score-doi-BAOLINH-p2"]').waitFor({ timeout: 60_000 });
    assert.equal(await gk1.locator('[id="so-khao-CUM-2--score-doi-BAOLINH-p2"]').inputValue(), '26,5');
    assert.match(await gk1.locator('#sheet-so-khao-CUM-1 .meta').first().innerText(), /Đã chấm 6\/6 ô/);

    // Back online in another order than they scored in.
    for (const j of [judges[2], judges[0], judges[1]]) {
      await j.ctx.setOffline(false);
      await synced(j.page);
    }

    // ── The organiser's laptop and a second device show the same ranking. ──
    await synced(org);
    await tab(org, 'Kết quả');
    const expect1 = [['Đội Xã Phú Đình', '84'], ['Đội Xã Điềm Mặc', '72']];
    const expect2 = [['Đội Xã Bảo Linh', '90,5'], ['Đội Xã Trung Hội', '76']];
    await eventually('every sheet counted', async () => {
      const [a, b] = [await ranking(org, 'so-khao-CUM-1'), await ranking(org, 'so-khao-CUM-2')];
      return JSON.stringify(a.map((r) => r.slice(0, 2))) === JSON.stringify(expect1) && JSON.stringify(b.map((r) => r.slice(0, 2))) === JSON.stringify(expect2);
    }, 30_000);
    // The judges' sheets ranked cluster 2's teams apart (its tie-break form went with the tie);
    // the excusal being filled in is still as it was.
    assert.equal(await tie2.count(), 0);
    assert.deepEqual(await excusal(), halfFilled, 'the excusal being filled in survives the judges\' sheets');
    const phoneCtx = await browser.newContext(PHONE);
    const orgPhone = await newPage(phoneCtx, 'organiser-phone');
    await signIn(orgPhone, url, 'bantochuc', PASSWORD);
    await synced(orgPhone);
    await openContest(orgPhone, NAME);
    await tab(orgPhone, 'Kết quả');
    await eventually('the phone ranks alike', async () => JSON.stringify(await ranking(orgPhone, 'so-khao-CUM-1')) === JSON.stringify(await ranking(org, 'so-khao-CUM-1'))
      && JSON.stringify(await ranking(orgPhone, 'so-khao-CUM-2')) === JSON.stringify(await ranking(org, 'so-khao-CUM-2')), 30_000);
    await orgPhone.screenshot({ path: join(SHOTS, 'contest-3-organiser-phone-results.png'), fullPage: true });
    await phoneCtx.close();

    // ── The preliminaries close; the final forms from their winners. ──
    for (const round of ['so-khao-CUM-1', 'so-khao-CUM-2']) {
      await org.locator(`#round-${round} .close-round`).click();
      await eventually(`${round} closed`, async () => (await org.locator(`#round-${round} > .meta`).innerText()).includes('Đã khóa'));
    }
    assert.equal((await ranking(org, 'so-khao-CUM-1'))[0][2], 'Vào chung khảo');
    assert.equal((await ranking(org, 'so-khao-CUM-2'))[0][2], 'Vào chung khảo');
    await synced(org);
    for (const j of judges) {
      await synced(j.page);
      await eventually(`${j.u} sees the final's two teams`, async () => (await j.page.locator('#sheet-chung-khao .team-sheet').count()) === 2, 30_000);
      assert.ok(await j.page.locator('[id="so-khao-CUM-1--score-doi-PHUDINH-p1"]').isDisabled(), 'a closed round\'s sheet is read-only');
      await score(j.page, 'chung-khao', FINAL);
      await synced(j.page);
    }
    await synced(org);
    await eventually('the final ranked', async () => JSON.stringify((await ranking(org, 'chung-khao')).map((r) => r.slice(0, 2))) === JSON.stringify([['Đội Xã Phú Đình', '94'], ['Đội Xã Bảo Linh', '85']]), 30_000);
    await org.locator('#round-chung-khao .close-round').click();
    await org.locator('#award-prizes').waitFor();
    await org.locator('#award-prizes').click();
    await org.locator('#publish-results').click();
    await org.locator('.note.published').waitFor();
    const final = await ranking(org, 'chung-khao');
    assert.deepEqual(final.map((r) => r[2]), ['Giải Nhất', 'Giải Nhì']);
    await synced(org);
    await org.screenshot({ path: join(SHOTS, 'contest-4-organiser-published.png'), fullPage: true });

    // ── Printed and exported. ──
    await tab(org, 'In, xuất tệp');
    await org.locator('.contest-print').waitFor();
    await org.emulateMedia({ media: 'print' });
    await org.screenshot({ path: join(SHOTS, 'contest-6-printed.png'), fullPage: true });
    const pdfPath = join(SHOTS, 'contest-results.pdf');
    await org.pdf({ path: pdfPath, format: 'A4', preferCSSPageSize: true });
    await org.emulateMedia({ media: 'screen' });
    // What was printed is the results document alone: its text, read from the PDF.
    const text = execFileSync('pdftotext', ['-layout', pdfPath, '-']).toString();
    for (const want of ['BAN TỔ CHỨC HỘI THI', 'KẾT QUẢ', '90,5', 'Giải Nhì', 'Danh sách đội đạt giải', 'Hoàng Thị Mai', 'TRƯỞNG BAN']) assert.ok(text.includes(want), `the PDF says “${want}”`);
    for (const never of ['Chấm điểm', 'Tải tệp Excel', 'Mô hình']) assert.ok(!text.includes(never), `the PDF has no “${never}” (the screen's controls)`);
    const [download] = await Promise.all([org.waitForEvent('download'), org.locator('#export-xlsx').click()]);
    const file = join(work, download.suggestedFilename());
    await download.saveAs(file);
    assert.match(download.suggestedFilename(), /^ket-qua-hoi-thi-dan-van-kheo-huyen-dinh-hoa-2026\.xlsx$/);
    if (READ_WORKBOOK) {
      const book = JSON.parse(execFileSync(READ_WORKBOOK, [file]).toString());
      const sheets = Object.keys(book);
      assert.ok(sheets.includes('Đội đạt giải'), JSON.stringify(sheets));
    }
    assert.deepEqual(orgErrors, []);

    // ── A judge's phone shows the published results, read-only. ──
    const gk2 = judges[1].page;
    await synced(gk2);
    await gk2.locator('.note.published').waitFor({ timeout: 30_000 });
    assert.ok(await gk2.locator('[id="chung-khao--score-doi-PHUDINH-p1"]').isDisabled());
    await gk2.screenshot({ path: join(SHOTS, 'contest-5-judge-published.png'), fullPage: true });

    // ── The district's yearly review names the prizes its communes' teams won. ──
    await org.getByRole('link', { name: 'Báo cáo', exact: true }).click();
    const annex = org.locator('#annex-contests');
    await annex.locator('summary').waitFor({ timeout: 60_000 });
    await annex.locator('summary').click();
    await eventually('the prizes in the report', async () => {
      const rows = await annex.locator('tbody tr').allInnerTexts();
      return rows.length === 2 && /Giải Nhất[\s\S]*Đội Xã Phú Đình/.test(rows[0]) && /Giải Nhì[\s\S]*Đội Xã Bảo Linh/.test(rows[1]);
    }, 30_000);
    await annex.scrollIntoViewIfNeeded();
    await org.screenshot({ path: join(SHOTS, 'contest-7-report-prizes.png') });
    assert.deepEqual(orgErrors, []);
  } catch (e) {
    // What each open page showed when it failed.
    for (const [i, ctx] of browser.contexts().entries()) {
      for (const page of ctx.pages()) await page.screenshot({ path: join(SHOTS, `contest-failed-${i}.png`), fullPage: true }).catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
    child.kill();
  }
});

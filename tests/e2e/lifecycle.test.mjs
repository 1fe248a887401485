// The movement's workflow in three browsers: a cadre registers a model and, offline, logs an
// activity with a photo and the phone's location; syncs (the photo follows on its own); the
// district reviewer scores it against the criteria and returns it with a reason; the cadre
// proposes again; the reviewer scores and recognises it, commends it and marks it exemplary; a
// cadre of another commune finds it in the library and replicates it; every step is in the history.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, READY_MS, eventually, newPage, openModel, signIn, synced, takeStep, watch } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const SYNC_MS = 30_000;

let browser;
before(async () => { browser = await chromium.launch(LAUNCH); });
after(async () => { await browser?.close(); });

/** Scores every criterion on the open sheet (all but `leave` of them) and saves. */
async function score(page, value, leave = 0) {
  const inputs = page.locator('.score-sheet input[type=number]');
  await inputs.first().waitFor();
  const n = await inputs.count();
  assert.ok(n >= 4, `criteria on the sheet: ${n}`);
  for (let i = 0; i < n - leave; i++) await inputs.nth(i).fill(String(value));
  return n;
}

async function evaluate(page, result, reason) {
  await page.locator('#start-evaluation').click();
  await score(page, 8);
  await page.locator(`#result-${result}`).check();
  if (reason) await page.locator('#evaluation-reason').fill(reason);
  await page.locator('#submit-evaluation').click();
}

test('a model goes from registration with evidence to commended and replicated', { timeout: 360_000 }, async () => {
  const name = `Tủ bánh mì nghĩa tình ${Math.random().toString(36).slice(2, 8)}`;
  const cadreCtx = await browser.newContext({
    viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true,
    geolocation: { latitude: 22.9312, longitude: 106.1257, accuracy: 15 }, permissions: ['geolocation'],
  });
  const reviewerCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const otherCtx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  try {
    const cadre = await newPage(cadreCtx, 'cadre');
    const reviewer = await newPage(reviewerCtx, 'reviewer');
    const other = await newPage(otherCtx, 'other');
    try {
      await signIn(cadre, BASE, 'canbo.a');
      await cadre.getByRole('link', { name: 'Thêm', exact: true }).click();
      const values = {
        name, situation: 'Người lao động nghèo thiếu bữa sáng.', goals: '200 ổ bánh mì mỗi ngày.',
        content: 'Vận động tiệm bánh và nhà hảo tâm.', area: 'Phường Bến Nghé.', forces: 'Ban Dân vận phường.',
        resources: 'Xã hội hóa.', start_date: '2025-03-01', sustainability: 'Duy trì bằng quỹ tự nguyện.',
        owner_name: 'Hội Phụ nữ phường',
      };
      for (const [id, v] of Object.entries(values)) await cadre.locator(`#${id}`).fill(v);
      await cadre.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
      await cadre.locator('#indicator-0-name').fill('Ổ bánh mì mỗi ngày');
      await cadre.locator('#indicator-0-target').fill('200');
      await cadre.getByRole('button', { name: 'Lưu mô hình' }).click();
      await cadre.locator('#save-status').waitFor();
      // A reviewer-only step is not offered to the cadre.
      assert.equal(await cadre.locator('.lifecycle-actions').getByRole('button', { name: 'Công nhận', exact: true }).count(), 0);
      await takeStep(cadre, 'Bắt đầu thực hiện', 'Đang thực hiện');

      // Offline in the village: an activity with a figure, a photo and the phone's location.
      const photo = await cadre.screenshot();
      await cadreCtx.setOffline(true);
      await cadre.locator('#add-journal').click();
      await cadre.locator('#save-journal').click();
      await cadre.locator('#journal-text ~ .field-error').waitFor();
      await cadre.locator('#journal-text').fill('Họp dân tổ 5, 40 hộ dự; các tiệm bánh nhận góp 120 ổ mỗi ngày.');
      await cadre.locator('.journal-form input[id^="journal-update-"]').first().fill('120');
      await cadre.locator('#journal-photo').setInputFiles({ name: 'hop-dan.png', mimeType: 'image/png', buffer: photo });
      await cadre.locator('#journal-photos img').waitFor();
      await cadre.locator('#journal-locate').click();
      await eventually('location filled', async () => (await cadre.locator('#journal-lat').inputValue()).startsWith('22.93'));
      await cadre.locator('#journal-place').fill('Tổ 5, phường Bến Nghé');
      await cadre.locator('#save-journal').click();
      const entry = cadre.locator('.journal-entry').first();
      await entry.getByText('Họp dân tổ 5').waitFor();
      assert.match(await entry.innerText(), /Ổ bánh mì mỗi ngày: đạt 120/);
      assert.match(await entry.innerText(), /22\.93120, 106\.12570/);
      await entry.locator('img').waitFor();
      assert.equal(await entry.locator('.pending-photo').count(), 1, 'the photo waits for the network');
      assert.match(await cadre.locator('table.indicators').innerText(), /120 ổ|120/);
      await cadre.screenshot({ path: join(SHOTS, 'i1-phone-journal-offline.png'), fullPage: true });
      await cadreCtx.setOffline(false);
      await takeStep(cadre, 'Đề nghị công nhận', 'Đề nghị công nhận');
      await synced(cadre);

      // The reviewer finds it in the queue, sees the photo (uploaded after the text) and scores it.
      await signIn(reviewer, BASE, 'binhxet');
      await reviewer.getByRole('link', { name: 'Bình xét' }).click();
      await reviewer.locator('.queue').getByRole('link', { name }).click({ timeout: SYNC_MS });
      assert.equal(await reviewer.getByRole('link', { name: 'Sửa', exact: true }).count(), 0, 'a reviewer does not edit content');
      assert.equal(await reviewer.locator('.lifecycle-actions').getByRole('button', { name: 'Công nhận', exact: true }).count(), 0,
        'a proposed model is decided through the evaluation');
      await eventually('the photo arrives', async () => {
        const loaded = await reviewer.locator('.journal-entry img').evaluate((img) => img.complete && img.naturalWidth > 0).catch(() => false);
        if (!loaded) { await synced(cadre); await reviewer.reload(); await reviewer.locator('h1', { hasText: name }).waitFor(); }
        return loaded;
      }, SYNC_MS);
      await reviewer.locator('#start-evaluation').click();
      const criteria = await score(reviewer, 7, 1);
      await reviewer.locator('#save-scores').click();
      await eventually('saved scores', async () => /còn 1 tiêu chí/.test(await reviewer.locator('#score-total').innerText()));
      await reviewer.locator('#result-tra_lai').check();
      await reviewer.locator('#submit-evaluation').click();
      await reviewer.locator('.evaluation-panel .error').getByText(/Còn 1 tiêu chí chưa chấm điểm/).waitFor();
      await reviewer.locator('.score-sheet input[type=number]').last().fill('6');
      await reviewer.locator('#submit-evaluation').click();
      await reviewer.locator('.evaluation-panel .error').getByText(/Hãy ghi lý do/).waitFor();
      await reviewer.locator('#evaluation-reason').fill('Bổ sung số hộ được hỗ trợ và ảnh minh chứng.');
      await reviewer.screenshot({ path: join(SHOTS, 'i2-desktop-score-sheet.png'), fullPage: true });
      await reviewer.locator('#submit-evaluation').click();
      await eventually('returned', async () => (await reviewer.locator('.badge.status').innerText()).trim() === 'Trả lại để sửa');
      assert.match(await reviewer.locator('.evaluations').innerText(), new RegExp(`${7 * (criteria - 1) + 6}/${10 * criteria} điểm`));
      await synced(reviewer);

      // The cadre sees why, corrects and proposes again.
      await synced(cadre);
      await cadre.locator('#history').getByText('Bổ sung số hộ được hỗ trợ').waitFor({ timeout: SYNC_MS });
      await takeStep(cadre, 'Đề nghị công nhận', 'Đề nghị công nhận');
      await synced(cadre);

      await synced(reviewer);
      await openModel(reviewer, name);
      await eventually('proposed again', async () => (await reviewer.locator('.badge.status').innerText()).trim() === 'Đề nghị công nhận', SYNC_MS);
      await evaluate(reviewer, 'cong_nhan');
      await eventually('recognised', async () => (await reviewer.locator('.badge.status').innerText()).trim() === 'Được công nhận');
      await takeStep(reviewer, 'Công nhận điển hình', 'Điển hình');
      // A commendation: the form says what is missing, then records the decision.
      await reviewer.getByRole('button', { name: 'Ghi nhận', exact: true }).click();
      await reviewer.locator('#commendation-issuer ~ .field-error').waitFor();
      await reviewer.locator('#commendation-form').selectOption('bang_khen');
      await reviewer.locator('#commendation-level').selectOption('tinh');
      await reviewer.locator('#commendation-issuer').fill('Ban Thường vụ Thành ủy');
      await reviewer.locator('#commendation-number').fill('125-QĐ/TU');
      await reviewer.locator('#commendation-date').fill('2025-11-20');
      await reviewer.getByRole('button', { name: 'Ghi nhận', exact: true }).click();
      await reviewer.locator('#commendations li').first().waitFor();
      await takeStep(reviewer, 'Khen thưởng', 'Khen thưởng');
      await synced(reviewer);
      await reviewer.screenshot({ path: join(SHOTS, 'h1-desktop-reviewer-history.png'), fullPage: true });

      // A cadre of another commune: not theirs to edit, but in the library to replicate.
      await signIn(other, BASE, 'canbo.c');
      await other.getByRole('link', { name: 'Thư viện' }).click();
      await eventually('in the library', async () => {
        if (await other.locator('.library-page').getByRole('link', { name }).count()) return true;
        await synced(other);
        return false;
      }, SYNC_MS);
      await other.locator('.library-page').getByRole('link', { name }).click();
      assert.equal(await other.getByRole('link', { name: 'Sửa', exact: true }).count(), 0);
      await other.locator('#replicate').click();
      await other.locator('#replicating').waitFor();
      assert.equal(await other.locator('#name').inputValue(), name);
      assert.equal(await other.locator('#content').inputValue(), values.content);
      await other.locator('#situation').fill('Công nhân khu công nghiệp thiếu bữa sáng.');
      await other.locator('#owner_name').fill('Đoàn Thanh niên xã Trường Sơn');
      await other.locator('#start_date').fill('2026-01-05');
      await other.getByRole('button', { name: 'Lưu mô hình' }).click();
      await other.locator('#save-status').waitFor();
      await other.locator('.replicated-from').getByText(name).waitFor();
      await synced(other);
      await other.getByRole('link', { name: 'Mô hình', exact: true }).click();
      assert.equal(await other.locator('.cards').getByRole('link', { name }).count(), 1, 'only their own replica is in their list');
      await other.screenshot({ path: join(SHOTS, 'i3-phone-replicated.png'), fullPage: true });

      await synced(cadre);
      await eventually('commended on the cadre phone', async () => (await cadre.locator('.badge.status').innerText()).trim() === 'Khen thưởng', SYNC_MS);
      await eventually('replication point on the source', async () => {
        if (await cadre.locator('#replication-points').count()) return true;
        await synced(cadre);
        return false;
      }, SYNC_MS);
      assert.match(await cadre.locator('#replication-points').innerText(), /Đã nhân rộng tại 1 điểm/);
      assert.match(await cadre.locator('.replications').innerText(), /Xã Trường Sơn/);
      const history = await cadre.locator('#history li').allInnerTexts();
      assert.equal(history.length, 8, history.join('\n'));
      assert.match(history[3], /Người bình xét: Trả lại để sửa → Trả lại để sửa/);
      assert.match(history[6], /Công nhận điển hình → Điển hình/);
      assert.match(await cadre.locator('#commendations').innerText(), /Bằng khen — Ban Thường vụ Thành ủy \(Cấp tỉnh\/thành phố\), quyết định số 125-QĐ\/TU ngày 20\/11\/2025/);
      assert.equal(await cadre.locator('.evaluation').count(), 2, 'both evaluations are kept');
      await cadre.screenshot({ path: join(SHOTS, 'h2-phone-cadre-history.png'), fullPage: true });
    } catch (e) {
      for (const [n, p] of [['cadre', cadre], ['reviewer', reviewer], ['other', other]]) {
        try { await p.screenshot({ path: join(SHOTS, `FAILED-lifecycle-${n}.png`), fullPage: true }); } catch { /* closed */ }
      }
      throw e;
    }
  } finally {
    await cadreCtx.close();
    await reviewerCtx.close();
    await otherCtx.close();
  }
});

// The lifecycle in two browsers: a cadre proposes a model, the district reviewer returns it with
// a reason from the review queue, the cadre proposes again, the reviewer recognises it and marks
// it exemplary; each side sees every step in the model's history.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, READY_MS, eventually, signIn, watch } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const SYNC_MS = 30_000;

let browser;
before(async () => { browser = await chromium.launch(LAUNCH); });
after(async () => { await browser?.close(); });

async function newPage(context, tag) {
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(READY_MS);
  return watch(context.pages()[0] || (await context.newPage()), tag);
}

async function synced(page) {
  await page.locator('#sync-status').click();
  await eventually('synced', async () => (await page.locator('#sync-status').getAttribute('data-state')) === 'synced', SYNC_MS);
}

/** Takes a step from the model's page (with a reason if given) and waits for the new status. */
async function takeStep(page, label, status, reason) {
  await page.locator('.lifecycle-actions .buttons').getByRole('button', { name: label, exact: true }).click();
  if (reason) await page.getByLabel(/Lý do|Ghi chú/).fill(reason);
  await page.locator('#confirm-step').click();
  await eventually(`status ${status}`, async () => (await page.locator('.badge.status').innerText()).trim() === status);
}

async function openModel(page, name) {
  await page.getByRole('link', { name: 'Mô hình', exact: true }).click();
  await page.getByRole('link', { name }).click();
  await page.locator('h1', { hasText: name }).waitFor();
}

test('a model goes from registration to commended through a return with a reason', { timeout: 240_000 }, async () => {
  const name = `Tủ bánh mì nghĩa tình ${Math.random().toString(36).slice(2, 8)}`;
  const cadreCtx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const reviewerCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const cadre = await newPage(cadreCtx, 'cadre');
    const reviewer = await newPage(reviewerCtx, 'reviewer');
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
      await takeStep(cadre, 'Đề nghị công nhận', 'Đề nghị công nhận');
      await synced(cadre);

      // The reviewer finds it in the queue and returns it: a reason is required.
      await signIn(reviewer, BASE, 'binhxet');
      await reviewer.getByRole('link', { name: 'Bình xét' }).click();
      await reviewer.locator('.queue').getByRole('link', { name }).click({ timeout: SYNC_MS });
      assert.equal(await reviewer.getByRole('link', { name: 'Sửa', exact: true }).count(), 0, 'a reviewer does not edit content');
      await reviewer.locator('.lifecycle-actions .buttons').getByRole('button', { name: 'Trả lại để sửa' }).click();
      await reviewer.locator('#confirm-step').click();
      await reviewer.getByText('Hãy ghi lý do').waitFor();
      await takeStep(reviewer, 'Trả lại để sửa', 'Trả lại để sửa', 'Bổ sung số hộ được hỗ trợ và ảnh minh chứng.');
      await synced(reviewer);

      // The cadre sees why, corrects and proposes again.
      await synced(cadre);
      await cadre.locator('#history').getByText('Bổ sung số hộ được hỗ trợ').waitFor({ timeout: SYNC_MS });
      await takeStep(cadre, 'Đề nghị công nhận', 'Đề nghị công nhận');
      await synced(cadre);

      await synced(reviewer);
      await openModel(reviewer, name);
      await eventually('proposed again', async () => (await reviewer.locator('.badge.status').innerText()).trim() === 'Đề nghị công nhận', SYNC_MS);
      await takeStep(reviewer, 'Công nhận', 'Được công nhận');
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

      await synced(cadre);
      await eventually('commended on the cadre phone', async () => (await cadre.locator('.badge.status').innerText()).trim() === 'Khen thưởng', SYNC_MS);
      const history = await cadre.locator('#history li').allInnerTexts();
      assert.equal(history.length, 8, history.join('\n'));
      assert.match(history[3], /Người bình xét: Trả lại để sửa → Trả lại để sửa/);
      assert.match(history[6], /Công nhận điển hình → Điển hình/);
      assert.match(await cadre.locator('#commendations').innerText(), /Bằng khen — Ban Thường vụ Thành ủy \(Cấp tỉnh\/thành phố\), quyết định số 125-QĐ\/TU ngày 20\/11\/2025/);
      await cadre.screenshot({ path: join(SHOTS, 'h2-phone-cadre-history.png'), fullPage: true });
    } catch (e) {
      for (const [n, p] of [['cadre', cadre], ['reviewer', reviewer]]) {
        try { await p.screenshot({ path: join(SHOTS, `FAILED-lifecycle-${n}.png`), fullPage: true }); } catch { /* closed */ }
      }
      throw e;
    }
  } finally {
    await cadreCtx.close();
    await reviewerCtx.close();
  }
});

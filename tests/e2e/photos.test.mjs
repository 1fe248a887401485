// Photos on a bad network: the upload is cut midway, the next sync resumes it from what the
// server holds (not from the start), and another device receives the same photo.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, READY_MS, eventually, newPage, signIn, synced, watch } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const SYNC_MS = 30_000;
const CHUNK = 64 * 1024;

let browser;
before(async () => { browser = await chromium.launch(LAUNCH); });
after(async () => { await browser?.close(); });

/** A photo-sized image of noise (it compresses badly, so its JPEG takes many chunks). */
async function noisyImage(page) {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 1800;
    c.height = 1200;
    const g = c.getContext('2d');
    const img = g.createImageData(c.width, c.height);
    for (let i = 0; i < img.data.length; i += 4) {
      img.data[i] = (Math.random() * 256) | 0;
      img.data[i + 1] = (Math.random() * 256) | 0;
      img.data[i + 2] = (i / 4) % 256;
      img.data[i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return c.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

test('a photo upload cut midway resumes where it stopped and reaches another device', { timeout: 180_000 }, async () => {
  const name = `Camera an ninh thôn ${Math.random().toString(36).slice(2, 8)}`;
  const phoneCtx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const otherCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const phone = await newPage(phoneCtx, 'phone');
    const other = await newPage(otherCtx, 'other');
    try {
      // Every chunk sent is seen; the third is cut like a dropped 2G connection. A chunk the
      // server answers 409 "not referenced yet" is not counted: a round that ended just before
      // the entry was saved may start the upload before the entry itself reached the server
      // (the client then tries again after the next round, from the server's count).
      const offsets = [];
      await phoneCtx.route('**/api/photos/**', async (route) => {
        const r = route.request();
        if (r.method() !== 'PUT') return route.continue();
        const offset = Number(new URL(r.url()).searchParams.get('offset'));
        if (offsets.length === 2) {
          offsets.push(offset);
          return route.abort('connectionreset');
        }
        const response = await route.fetch();
        if (response.status() !== 409) offsets.push(offset);
        return route.fulfill({ response });
      });

      await signIn(phone, BASE, 'canbo.b');
      await phone.getByRole('link', { name: 'Thêm', exact: true }).click();
      const values = {
        name, situation: 'Trộm vặt ban đêm.', goals: 'Lắp 10 camera.', content: 'Vận động hộ dân góp tiền.',
        area: 'Thôn Nà Pồng.', forces: 'Công an xã, chi hội.', resources: 'Xã hội hóa.', start_date: '2025-05-01',
        sustainability: 'Quỹ thôn duy trì.', owner_name: 'Chi bộ thôn Nà Pồng',
      };
      for (const [id, v] of Object.entries(values)) await phone.locator(`#${id}`).fill(v);
      await phone.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
      await phone.locator('#indicator-0-name').fill('Camera lắp đặt');
      await phone.locator('#indicator-0-target').fill('10');
      await phone.getByRole('button', { name: 'Lưu mô hình' }).click();
      await phone.locator('#save-status').waitFor();

      const image = await noisyImage(phone);
      await phone.locator('#add-journal').click();
      await phone.locator('#journal-text').fill('Lắp xong 4 camera đầu tiên ở ngã ba.');
      await phone.locator('#journal-photo').setInputFiles({ name: 'camera.png', mimeType: 'image/png', buffer: image });
      await phone.locator('#journal-photos img').waitFor();
      const size = await phone.locator('#journal-photos figcaption').innerText();
      const [, width, height] = size.match(/(\d+)×(\d+)/).map(Number);
      assert.equal(Math.max(width, height), 1600, `resized to 1,600 px on the long side: ${size}`);
      // What is typed survives a reload before it is saved (the photo is already on the device).
      await phone.reload();
      await phone.locator('#journal-text').waitFor({ timeout: READY_MS });
      assert.equal(await phone.locator('#journal-text').inputValue(), 'Lắp xong 4 camera đầu tiên ở ngã ba.');
      await phone.locator('#journal-photos img').waitFor();
      assert.deepEqual(offsets, [], 'a photo of an entry not saved yet is not sent');
      await phone.locator('#save-journal').click();
      await phone.locator('.journal-entry img').waitFor();
      assert.equal(await phone.locator('#journal-text').count(), 0, 'the form closes once saved');

      // The text syncs; the upload starts after it and is cut at the third chunk.
      await synced(phone);
      await eventually('cut midway', async () => offsets.length >= 3, SYNC_MS);
      assert.deepEqual(offsets.slice(0, 3), [0, CHUNK, 2 * CHUNK]);
      await eventually('the photo is still waiting', async () => /1 ảnh chờ gửi/.test(await phone.locator('#sync-status').innerText()), SYNC_MS);

      // The next round asks the server where it stands and goes on from there.
      await synced(phone);
      await eventually('resumed', async () => offsets.length >= 4, SYNC_MS);
      assert.equal(offsets[3], 2 * CHUNK, `resumed from the server's ${2 * CHUNK} bytes, not from 0: ${offsets}`);
      await eventually('uploaded', async () => !/ảnh chờ gửi/.test(await phone.locator('#sync-status').innerText()), SYNC_MS);
      await eventually('marked sent on the phone', async () => (await phone.locator('.journal-entry .pending-photo').count()) === 0, SYNC_MS);
      assert.ok(offsets.length > 5, `a photo of many chunks: ${offsets.length} requests`);

      // Another device of the unit gets the photo (checked against its SHA-256 before showing).
      await signIn(other, BASE, 'canbo.a');
      await eventually('model arrives', async () => {
        if (await other.getByRole('link', { name }).count()) return true;
        await synced(other);
        return false;
      }, SYNC_MS);
      await other.getByRole('link', { name }).click();
      await eventually('photo shown', async () => other.locator('.journal-entry img').evaluate((img) => img.complete && img.naturalWidth === 1600).catch(() => false), SYNC_MS);
      await other.screenshot({ path: join(SHOTS, 'j1-desktop-photo-received.png'), fullPage: true });
    } catch (e) {
      for (const [n, p] of [['phone', phone], ['other', other]]) {
        try { await p.screenshot({ path: join(SHOTS, `FAILED-photos-${n}.png`), fullPage: true }); } catch { /* closed */ }
      }
      throw e;
    }
  } finally {
    await phoneCtx.close();
    await otherCtx.close();
  }
});

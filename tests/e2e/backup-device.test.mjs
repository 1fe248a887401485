// The device's own copy (Cài đặt → Sao lưu, issue 14): a phone that worked offline downloads its
// backup (a model with a journal photo the server never received); a fresh browser profile of the
// same account restores it while OFFLINE and then holds the same model and photo (shown from the
// device); restoring the same file again creates nothing; a truncated file is refused and changes
// nothing; back online, the restored model and photo reach the server as usual.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, eventually, newPage, register, signIn, synced, unique, waitServiceWorker } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const SYNC_MS = 30_000;

let browser;
before(async () => { browser = await chromium.launch(LAUNCH); });
after(async () => { await browser?.close(); });

/** A small PNG drawn in the page (the app re-encodes it as JPEG before keeping it). */
async function picture(page) {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 480;
    const g = c.getContext('2d');
    g.fillStyle = '#b71c1c';
    g.fillRect(0, 0, 640, 480);
    g.fillStyle = '#ffd54f';
    g.font = '64px sans-serif';
    g.fillText('Nước sạch', 120, 260);
    return c.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

/** The zip's table of contents and manifest, read with Python's zipfile (no npm zip reader). */
function inspectZip(path) {
  const out = execFileSync('python3', ['-c', `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
m = json.loads(z.read('manifest.json'))
print(json.dumps({'names': z.namelist(), 'manifest': m, 'bad': bad,
                  'csv': z.read('models.csv').decode('utf-8-sig'),
                  'jsonl': z.read('models.jsonl').decode('utf-8')}))
`, path]);
  return JSON.parse(out.toString());
}

async function openSettings(page) {
  await page.getByRole('link', { name: 'Cài đặt', exact: true }).click();
  await page.locator('#sao-luu').waitFor();
}

async function restore(page, file) {
  await page.locator('#restore-file').setInputFiles(file);
  await eventually('restore finished', async () => {
    const status = page.locator('#backup-status');
    return (await status.count()) && (await status.getAttribute('aria-busy')) === null;
  }, SYNC_MS);
  return page.locator('#backup-status').innerText();
}

test('the zip reader and writer are in the report module, not in the app\'s first load', { skip: !process.env.DANVAN_DIST }, () => {
  const dist = process.env.DANVAN_DIST;
  const app = readFileSync(join(dist, readdirSync(dist).find((f) => /^danvan-[0-9a-f]+_bg\.wasm$/.test(f))));
  const module = readFileSync(join(dist, 'danvan-reports_bg.wasm'));
  // The README's English title and the reader's message for a cut file; the zip crate's own.
  for (const text of ['DEVICE BACKUP — DAN VAN KHEO', 'bị cắt ngang khi tải về', 'Invalid checksum']) {
    assert.ok(module.includes(Buffer.from(text)), `the report module holds “${text}”`);
    assert.ok(!app.includes(Buffer.from(text)), `the app's first-load wasm does not hold “${text}”`);
  }
});

test('a backup downloaded offline on one profile restores offline on a fresh one, once', { timeout: 300_000 }, async () => {
  const name = unique('Nước sạch về bản');
  const work = mkdtempSync(join(tmpdir(), 'danvan-backup-'));
  const oldCtx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const newCtx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, acceptDownloads: true });
  const old = await newPage(oldCtx, 'old');
  const fresh = await newPage(newCtx, 'fresh');
  try {
    // 1. The old phone: signed in once, then offline for days — a model and a photo the server
    //    never receives.
    await signIn(old, BASE, 'canbo.a');
    await waitServiceWorker(old);
    await oldCtx.setOffline(true);
    await register(old, name);
    await old.locator('#add-journal').click();
    await old.locator('#journal-text').fill('Đã nối ống đến 12 hộ.');
    await old.locator('#journal-photo').setInputFiles({ name: 'nuoc.png', mimeType: 'image/png', buffer: await picture(old) });
    await old.locator('#journal-photos img').waitFor();
    await old.locator('#save-journal').click();
    await old.locator('.journal-entry img').waitFor();

    // The list warns that unsynced work is at risk when the browser has not promised to keep it
    // (headless Chromium does not grant persistence), and links to the backup.
    await old.getByRole('link', { name: 'Mô hình', exact: true }).click();
    const persisted = await old.evaluate(() => navigator.storage.persisted());
    if (!persisted) {
      await old.locator('#storage-warning').waitFor();
      assert.match(await old.locator('#storage-warning').innerText(), /^1 thay đổi và 1 ảnh chưa gửi lên máy chủ.*Tải bản sao$/s);
      await old.setViewportSize({ width: 360, height: 740 });
      await old.screenshot({ path: join(SHOTS, 'backup-list-warning-360.png') });
      await old.setViewportSize({ width: 1280, height: 800 });
      await old.screenshot({ path: join(SHOTS, 'backup-list-warning-1280.png') });
      await old.locator('#storage-warning a').click();
      await old.locator('#sao-luu').waitFor();
    } else {
      await openSettings(old);
    }

    const [download] = await Promise.all([old.waitForEvent('download'), old.locator('#backup-download').click()]);
    const file = join(work, download.suggestedFilename());
    await download.saveAs(file);
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    assert.equal(download.suggestedFilename(), `danvan-sao-luu-canbo.a-${today}.zip`);
    await eventually('backup summary', async () => /Đã tạo tệp danvan-sao-luu-canbo\.a-.*1 ảnh/.test(await old.locator('#backup-status').innerText()), SYNC_MS);
    await old.locator('#sao-luu').screenshot({ path: join(SHOTS, 'backup-settings-1280.png') });

    const zip = inspectZip(file);
    assert.equal(zip.bad, null, 'every CRC right');
    assert.equal(zip.manifest.format, 'danvan-sao-luu');
    assert.equal(zip.manifest.version, 1);
    assert.equal(zip.manifest.username, 'canbo.a');
    assert.equal(zip.manifest.photos.length, 1);
    assert.ok(zip.manifest.documents >= 1 && zip.manifest.models === zip.manifest.documents, JSON.stringify(zip.manifest));
    for (const part of ['manifest.json', 'README.txt', 'models.jsonl', 'models.csv']) assert.ok(zip.names.includes(part), part);
    assert.equal(zip.names.filter((n) => n.startsWith('docs/')).length, zip.manifest.documents);
    assert.ok(zip.csv.split('\r\n')[0].startsWith('STT,'), zip.csv.slice(0, 80));
    assert.ok(zip.csv.includes(name), 'the model in the CSV');
    const model = zip.jsonl.trim().split('\n').map((l) => JSON.parse(l)).find((m) => m.name === name);
    assert.ok(model, 'the model in the JSON lines');
    assert.equal(model.journal[0].photos[0].id, zip.manifest.photos[0].id);

    // 2. A fresh profile of the same account: signed in online (the server has nothing of the
    //    model), then offline for the restore.
    await signIn(fresh, BASE, 'canbo.a');
    await waitServiceWorker(fresh);
    await synced(fresh);
    assert.equal(await fresh.getByRole('link', { name }).count(), 0, 'not on the server');
    await newCtx.setOffline(true);
    await openSettings(fresh);

    // A damaged file (cut short, as by an interrupted copy) is refused and changes nothing.
    const cut = join(work, 'cut.zip');
    writeFileSync(cut, readFileSync(file).subarray(0, 2000));
    const refused = await restore(fresh, cut);
    assert.match(refused, /cắt ngang.*Không có gì trên thiết bị bị thay đổi/s);
    assert.equal(await fresh.locator('#backup-status').getAttribute('role'), 'alert');

    const first = await restore(fresh, file);
    assert.match(first, /^Đã khôi phục: 1 mô hình mới, 0 mô hình được gộp, 1 ảnh\./, first);
    await fresh.locator('#sao-luu').screenshot({ path: join(SHOTS, 'backup-settings-360.png') });
    await fresh.screenshot({ path: join(SHOTS, 'backup-settings-360-page.png'), fullPage: true });

    // The same file again: nothing new, nothing duplicated.
    const again = await restore(fresh, file);
    assert.match(again, /^Đã khôi phục: 0 mô hình mới, 0 mô hình được gộp, 0 ảnh\..*không có gì mới/s, again);

    // The model and its photo, from the device (offline).
    await fresh.getByRole('link', { name: 'Mô hình', exact: true }).click();
    assert.equal(await fresh.getByRole('link', { name }).count(), 1, 'listed once');
    await fresh.getByRole('link', { name }).click();
    await fresh.locator('h1', { hasText: name }).waitFor();
    await eventually('photo shown from the device', async () => fresh.locator('.journal-entry img').evaluate((img) => img.complete && img.naturalWidth > 0).catch(() => false), SYNC_MS);
    assert.equal(await fresh.locator('.journal-entry .pending-photo').count(), 1, 'not on the server yet');
    assert.match(await fresh.locator('#sync-status').innerText(), /1 ảnh chờ gửi/, 'the badge counts the restored photo');
    await fresh.screenshot({ path: join(SHOTS, 'backup-restored-model-360.png'), fullPage: true });

    // 3. Online again: the restored model and photo sync as any local work does.
    await newCtx.setOffline(false);
    await synced(fresh);
    await eventually('photo uploaded', async () => {
      if ((await fresh.locator('.journal-entry .pending-photo').count()) === 0) return true;
      await synced(fresh);
      return false;
    }, 60_000);
  } catch (e) {
    for (const [n, p] of [['old', old], ['fresh', fresh]]) {
      try { await p.screenshot({ path: join(SHOTS, `FAILED-backup-${n}.png`), fullPage: true }); } catch { /* closed */ }
    }
    throw e;
  } finally {
    await oldCtx.close();
    await newCtx.close();
  }
});

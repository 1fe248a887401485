// Where the app's users are: a phone on the LAN address, not on localhost.
//
// 1. A plain-http origin that is not localhost (`http://danvan.test:PORT`, mapped to 127.0.0.1 by
//    Chromium's resolver) is not a secure context: no service worker, no navigator.storage. The app
//    must still start, sign in, register a model and sync online, and say before anything is typed
//    that offline use needs the https address. No page errors.
//
// Uses the suite's server (DANVAN_URL).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, collectErrors, listed, newPage, register, signIn, synced, unique, waitReady } from './support.mjs';

const BASE = (process.env.DANVAN_URL || 'http://127.0.0.1:8765').replace(/\/+$/, '');
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const HOST = 'danvan.test';

let browser;
before(async () => {
  // danvan.test resolves to this machine.
  browser = await chromium.launch({ ...LAUNCH, args: [...LAUNCH.args, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`] });
});
after(async () => { await browser?.close(); });

test('on a plain-http address that is not localhost the app starts, works online and says offline use needs https', { timeout: 240_000 }, async () => {
  const port = new URL(BASE).port;
  const lan = `http://${HOST}:${port}`;
  const phoneCtx = await browser.newContext(PHONE);
  const otherCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const phone = await newPage(phoneCtx, 'lan-phone');
    const errors = collectErrors(phone);
    await phone.goto(lan + '/');
    await waitReady(phone);
    assert.deepEqual(
      await phone.evaluate(() => [window.isSecureContext, 'serviceWorker' in navigator, 'storage' in navigator]),
      [false, false, false],
      'the test origin is what a phone on the LAN gets: not a secure context',
    );

    // Said on the sign-in page, above the form, before anything is typed.
    const banner = phone.locator('#offline-unavailable');
    await banner.waitFor({ state: 'visible' });
    const text = await banner.innerText();
    assert.match(text, /chỉ dùng được khi có mạng/);
    assert.match(text, new RegExp(`${HOST}:${port}`), 'names the address in use');
    assert.match(text, /https:\/\//, 'says to open the https address');
    assert.match(text, /quản trị viên/, 'says whom to ask');
    const [bannerBox, formBox] = [await banner.boundingBox(), await phone.locator('#username').boundingBox()];
    assert.ok(bannerBox.y + bannerBox.height <= formBox.y, 'the warning comes before the sign-in form');
    assert.ok(bannerBox.width <= 360, 'the warning fits the phone');
    await phone.screenshot({ path: join(SHOTS, 'lan-http-sign-in-360.png'), fullPage: true });

    // Online everything works: sign in, register, sync.
    await signIn(phone, lan, 'canbo.a');
    await banner.waitFor({ state: 'visible' });
    const name = unique('Nước sạch qua LAN');
    await register(phone, name);
    await synced(phone);
    await phone.screenshot({ path: join(SHOTS, 'lan-http-app-360.png'), fullPage: true });
    await phone.getByRole('link', { name: 'Cài đặt' }).click();
    assert.match(await phone.locator('#storage-usage').innerText(), /https/, 'the storage line says why it knows nothing');

    // The model reached the server: a colleague's device receives it.
    const other = await newPage(otherCtx, 'lan-other');
    await signIn(other, BASE, 'canbo.b');
    await synced(other);
    await listed(other, name);
    assert.equal(await other.locator('#offline-unavailable').count(), 0, 'no warning on a secure origin (localhost)');

    assert.deepEqual(errors, [], 'no page errors on the plain-http origin');
  } finally {
    await phoneCtx.close();
    await otherCtx.close();
  }
});

// Shared by the end-to-end tests: how Chromium is launched here and how to wait for the app.

import assert from 'node:assert/strict';

export const READY_MS = 60_000; // first wasm load + IndexedDB replica

export const LAUNCH = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
};

/** The app sets body[data-ready=1] once its local replica is loaded. */
export async function waitReady(page) {
  await page.waitForFunction(() => document.body && document.body.dataset.ready === '1', null, {
    timeout: READY_MS,
  });
}

/** Waits until the service worker is active and controls this page (needed before going offline). */
export async function waitServiceWorker(page) {
  assert.ok(await page.evaluate(() => 'serviceWorker' in navigator), 'service workers are available');
  let timer;
  await Promise.race([
    page.evaluate(() => navigator.serviceWorker.ready.then(() => true)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`navigator.serviceWorker.ready not resolved after ${READY_MS} ms (is /sw.js registered?)`)), READY_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: READY_MS });
  const script = await page.evaluate(() => navigator.serviceWorker.controller.scriptURL);
  assert.equal(new URL(script).pathname, '/sw.js', 'the controlling service worker is /sw.js');
}

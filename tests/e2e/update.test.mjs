// The app is installable, and a new build reaches a user who keeps the app open: the waiting
// service worker shows "Có phiên bản mới — tải lại", and the button switches to the new version.
//
// Starts its own server (DANVAN_SERVER_BIN) on a copy of the built client (DANVAN_DIST), so it can
// publish a "new version" by changing that copy and restarting the server on the same port.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, startServer, waitReady, waitServiceWorker } from './support.mjs';

const SERVER = process.env.DANVAN_SERVER_BIN;
const DIST = process.env.DANVAN_DIST;
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });


async function stop(server) {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

test('installable, and a new version is offered and applied', { skip: !SERVER || !DIST, timeout: 180_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'danvan-update-'));
  const dist = join(work, 'dist');
  cpSync(DIST, dist, { recursive: true });
  const db = join(work, 'db.sqlite3');
  let server = await startServer(SERVER, ['--addr', '127.0.0.1:0', '--dist', dist, '--database', db]);
  const port = new URL(server.url).port;
  // A persistent profile: Chromium never offers to install from an incognito context.
  const context = await chromium.launchPersistentContext(join(work, 'profile'), { ...LAUNCH, viewport: { width: 360, height: 740 } });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(server.url + '/');
    await waitReady(page);
    await waitServiceWorker(page);

    // Installable: Chromium finds a valid manifest, icons and a service worker.
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'Chromium reports no installability errors');
    const manifest = await cdp.send('Page.getAppManifest');
    assert.deepEqual(manifest.errors, [], 'manifest parses without errors');
    assert.match(manifest.data, /"short_name":\s*"Dân vận khéo"/);

    const oldVersion = (await (await fetch(server.url + '/api/health')).json()).client_version;
    const cachesBefore = await page.evaluate(() => caches.keys());
    assert.ok(cachesBefore.includes(`danvan-shell-${oldVersion}`), `shell cached under ${oldVersion}: ${cachesBefore}`);
    assert.equal(await page.locator('.update-banner').count(), 0, 'no banner before an update');

    // Publish a new build: any change to the built files gives a new version.
    await stop(server);
    appendFileSync(join(dist, 'index.html'), '\n<!-- build 2 -->\n');
    server = await startServer(SERVER, ['--addr', `127.0.0.1:${port}`, '--dist', dist, '--database', db]);
    const newVersion = (await (await fetch(server.url + '/api/health')).json()).client_version;
    assert.notEqual(newVersion, oldVersion);

    // The open app finds the new worker (browsers check on navigation and on update()).
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
    const banner = page.locator('.update-banner');
    await banner.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await banner.innerText(), /Có phiên bản mới/);
    await page.screenshot({ path: join(SHOTS, 'u1-update-banner.png') });

    // "tải lại": the new worker takes over and the page reloads into the new version.
    await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), banner.getByRole('button', { name: 'tải lại' }).click()]);
    await waitReady(page);
    await page.waitForFunction((v) => caches.keys().then((k) => k.includes(`danvan-shell-${v}`)), newVersion, { timeout: 30_000 });
    const cachesAfter = await page.evaluate(() => caches.keys());
    assert.ok(!cachesAfter.includes(`danvan-shell-${oldVersion}`), `old shell cache dropped: ${cachesAfter}`);
    // Served by the new worker from its cache.
    const html = await page.evaluate(() => fetch('/index.html').then((r) => r.text()));
    assert.ok(html.includes('build 2'), 'the page now runs the new build');
    assert.equal(await page.locator('.update-banner').count(), 0, 'banner gone after the update');
  } finally {
    await context.close();
    await stop(server).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});

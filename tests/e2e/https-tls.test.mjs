// danvan's own HTTPS (`--tls-cert`, `--tls-key`, `--http-redirect-addr`) with a certificate made
// here by openssl, as an operator would install one: a secure context, so the service worker
// installs, a reload offline comes back with the models, what was registered offline syncs once
// back online, and the plain port sends the browser to https with HSTS.
//
// Chromium registers no service worker on a page with a certificate error, even with
// --ignore-certificate-errors; so the browser is told to trust this one certificate's key
// (--ignore-certificate-errors-spki-list, its SHA-256 SPKI hash), which makes it as valid as a
// certificate from a real authority, and the page is an ordinary secure origin.
//
// Starts its own server (DANVAN_SERVER_BIN, DANVAN_DIST) on a database it fills as an operator would.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, PASSWORD, collectErrors, listed, newPage, register, signIn, startServer, synced, unique, waitReady, waitServiceWorker } from './support.mjs';

const SERVER = process.env.DANVAN_SERVER_BIN;
const DIST = process.env.DANVAN_DIST;
const UNITS = fileURLToPath(new URL('./units.csv', import.meta.url));
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const HOST = 'danvan.test';

/** The base64 SHA-256 of a certificate's public key (what --ignore-certificate-errors-spki-list takes). */
function spkiHash(certPath) {
  const pub = spawnSync('openssl', ['x509', '-in', certPath, '-pubkey', '-noout']);
  assert.equal(pub.status, 0, String(pub.stderr));
  const der = spawnSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub.stdout });
  assert.equal(der.status, 0, String(der.stderr));
  const digest = spawnSync('openssl', ['dgst', '-sha256', '-binary'], { input: der.stdout });
  assert.equal(digest.status, 0, String(digest.stderr));
  return Buffer.from(digest.stdout).toString('base64');
}

/** A TCP port free now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(args, input) {
  const r = spawnSync(SERVER, args, { input, encoding: 'utf8' });
  assert.equal(r.status, 0, `danvan-server ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

test('over https with a generated certificate: the service worker installs, an offline reload comes back, sync works', { skip: !SERVER || !DIST, timeout: 240_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'danvan-https-'));
  let server;
  let browser;
  try {
    // The certificate an operator would get for the server's name (here: self-signed, for danvan.test).
    const [cert, key] = [join(work, 'fullchain.pem'), join(work, 'privkey.pem')];
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`], { encoding: 'utf8' });
    assert.equal(made.status, 0, `openssl: ${made.stderr}`);
    browser = await chromium.launch({
      ...LAUNCH,
      args: [...LAUNCH.args, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spkiHash(cert)}`],
    });
    const ctx = await browser.newContext(PHONE);
    const otherCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const db = join(work, 'db.sqlite3');
    run(['--database', db, 'import-units', UNITS]);
    for (const [user, name] of [['canbo.a', 'Cán bộ A'], ['canbo.b', 'Cán bộ B']]) {
      run(['--database', db, 'create-user', '--username', user, '--unit', 'BANBO', '--role', 'can_bo', '--name', name], `${PASSWORD}\n`);
    }
    const redirectPort = await freePort();
    server = await startServer(SERVER, ['--addr', '127.0.0.1:0', '--database', db, '--dist', DIST,
      '--tls-cert', cert, '--tls-key', key, '--http-redirect-addr', `127.0.0.1:${redirectPort}`]);
    assert.match(server.url, /^https:\/\//, 'the printed URL is https');
    const port = new URL(server.url).port;
    const secure = `https://${HOST}:${port}`;

    const page = await newPage(ctx, 'https-phone');
    const errors = collectErrors(page);
    // The plain port sends the browser to https, path kept.
    const first = await page.goto(`http://${HOST}:${redirectPort}/`);
    assert.equal(page.url(), `${secure}/`, 'plain HTTP redirected to https');
    assert.equal(first.headers()['strict-transport-security'], 'max-age=31536000', 'HSTS over TLS');
    await waitReady(page);
    assert.equal(await page.evaluate(() => window.isSecureContext), true, 'https is a secure context');
    await waitServiceWorker(page);
    assert.equal(await page.locator('#offline-unavailable').count(), 0, 'no warning where offline use works');

    await signIn(page, secure, 'canbo.a');
    const online = unique('Đèn đường qua https');
    await register(page, online);
    await synced(page);

    // Offline: the app reloads from the service worker's cache with its models, and keeps working.
    await ctx.setOffline(true);
    await page.reload();
    await waitReady(page);
    await listed(page, online);
    const offline = unique('Ghi khi mất mạng');
    await register(page, offline);
    await page.screenshot({ path: join(SHOTS, 'https-offline-360.png'), fullPage: true });

    // Back online, the offline model syncs and reaches a colleague.
    await ctx.setOffline(false);
    await synced(page, 60_000);
    const other = await newPage(otherCtx, 'https-other');
    await signIn(other, secure, 'canbo.b');
    await synced(other);
    await listed(other, online);
    await listed(other, offline);

    assert.deepEqual(errors, [], 'no page errors over https');
  } finally {
    // The browser goes first, so that no connection keeps the server's graceful shutdown waiting.
    await browser?.close();
    if (server) {
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill('SIGTERM');
      const slow = setTimeout(() => server.child.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(slow);
    }
    rmSync(work, { recursive: true, force: true });
  }
});

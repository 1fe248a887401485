// A new phone on a 2G link (Chromium's network emulation: 300 ms, 128 kbit/s) signs in to a unit
// that already has models: from the first second the list says that the unit's models are
// arriving, with the count once the server's first (small) page has told it, and never "Chưa có
// mô hình nào … Bấm “Thêm mô hình”", which would invite the cadre to register them again.
//
// Starts its own server (DANVAN_SERVER_BIN) on a fresh database with the built client
// (DANVAN_DIST); another cadre of the unit registers the models first, on a fast link.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LAUNCH, eventually, newPage, signIn, startServer, synced, waitReady, waitServiceWorker } from './support.mjs';

const SERVER = process.env.DANVAN_SERVER_BIN;
const DIST = process.env.DANVAN_DIST;
const UNITS = fileURLToPath(new URL('./units.csv', import.meta.url));
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const PASSWORD = 'mật khẩu đồng bộ lần đầu';
const MODELS = 24;
/** Chromium's emulation in bytes per second: 128 kbit/s each way, 300 ms. */
const LINK_2G = { offline: false, latency: 300, downloadThroughput: 16_000, uploadThroughput: 16_000 };


/** Narrative text of a realistic length, different per model (so it does not compress away). */
function narrative(i, k) {
  const words = ['vận động', 'hộ dân', 'đóng góp', 'ngày công', 'đường bê tông', 'thu gom rác', 'trồng cây',
    'chi hội', 'người có uy tín', 'họp bàn', 'công khai', 'kết quả', 'thôn', 'bản', 'đoàn viên', 'phụ nữ'];
  let s = '';
  let x = i * 7919 + k * 104729 + 1;
  for (let n = 0; n < 60; n++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += `${words[x % words.length]} ${x % 997} `;
  }
  return s.trim() + '.';
}

async function register(page, i) {
  await page.getByRole('link', { name: 'Thêm', exact: true }).click();
  await page.locator('#name').waitFor({ state: 'visible' });
  const values = {
    name: `Mô hình có sẵn số ${i}`, situation: narrative(i, 1), goals: narrative(i, 2), content: narrative(i, 3),
    area: 'Xã Bản Bo', forces: narrative(i, 4), resources: 'Nguồn lực của xã.', start_date: '2025-02-01',
    sustainability: narrative(i, 5), owner_name: 'Chi hội Phụ nữ',
  };
  for (const [id, v] of Object.entries(values)) await page.locator(`#${id}`).fill(v);
  await page.getByRole('button', { name: 'Thêm chỉ tiêu' }).click();
  await page.locator('#indicator-0-name').fill('Số hộ tham gia');
  await page.locator('#indicator-0-unit').fill('hộ');
  await page.locator('#indicator-0-target').fill('40');
  await page.getByRole('button', { name: 'Lưu mô hình' }).click();
  await page.waitForFunction(() => (document.querySelector('#save-status')?.textContent || '').includes('Đã lưu'), null, { timeout: 15_000 });
}

test('a new phone on 2G is told from the first second that the unit\'s models are arriving', { skip: !SERVER || !DIST, timeout: 600_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'danvan-first-sync-'));
  const db = join(work, 'db.sqlite3');
  const cli = (...args) => execFileSync(SERVER, ['--database', db, ...args], { input: `${PASSWORD}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  cli('import-units', UNITS);
  cli('create-user', '--username', 'canbo.cu', '--unit', 'BANBO', '--role', 'can_bo', '--name', 'Cán bộ cũ');
  cli('create-user', '--username', 'canbo.moi', '--unit', 'BANBO', '--role', 'can_bo', '--name', 'Cán bộ mới');
  const server = await startServer(SERVER, ['--addr', '127.0.0.1:0', '--dist', DIST, '--database', db]);
  const browser = await chromium.launch(LAUNCH);
  try {
    // The unit's models, registered by a colleague on a fast link.
    const desk = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const d = await newPage(desk, 'colleague');
    await signIn(d, server.url, 'canbo.cu', PASSWORD);
    for (let i = 1; i <= MODELS; i++) await register(d, i);
    await synced(d, 60_000);
    await desk.close();

    // The new phone: the app loads on a good link (the shell is cached from then on), then the
    // link drops to 2G before the cadre signs in, so the whole first sync runs on 2G.
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const p = await newPage(phone, 'phone');
    await p.goto(server.url + '/');
    await waitReady(p);
    // "Cached from then on": the service worker is active once it has precached every module
    // (the engine that runs the first sync among them). Dropping the link before that raced the
    // background downloads — the engine then crawled in over 2G beside the report module.
    await waitServiceWorker(p);
    const cdp = await phone.newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', LINK_2G);
    await p.getByLabel('Tên đăng nhập').fill('canbo.moi');
    await p.getByLabel('Mật khẩu').fill(PASSWORD);
    const signedInAt = Date.now();
    await p.getByRole('button', { name: 'Đăng nhập', exact: true }).click();

    // What the list says, sampled until every model is there.
    const said = [];
    const listText = async () => {
      const t = await p.evaluate(() => {
        const empty = document.querySelector('.list-page .empty');
        const note = document.querySelector('#arriving');
        return [empty?.textContent || '', note?.textContent || '', document.querySelectorAll('article.model-card').length];
      });
      said.push({ at: Date.now() - signedInAt, empty: t[0], note: t[1], cards: t[2] });
      return t;
    };
    await eventually('the list says models are arriving', async () => {
      const [empty, note] = await listText();
      return /Đang nhận mô hình của đơn vị/.test(empty + note);
    }, 5_000, 100);
    const firstSaid = said[said.length - 1].at;
    await p.screenshot({ path: join(SHOTS, 'first-sync-first-second-360.png'), fullPage: true });
    const counted = await eventually('the count of what is coming', async () => {
      const [empty, note] = await listText();
      const m = (empty + note).match(/Đang nhận mô hình của đơn vị: (\d+) \/ (\d+)…/);
      return m && { received: Number(m[1]), expected: Number(m[2]), at: Date.now() - signedInAt };
    }, 30_000, 100);
    await p.screenshot({ path: join(SHOTS, 'first-sync-arriving-360.png'), fullPage: true });
    assert.equal(counted.expected, MODELS, `the count is of the unit's models: ${JSON.stringify(counted)}`);
    assert.ok(counted.received < MODELS, 'shown while models are still arriving');

    await eventually('every model on the phone', async () => {
      const [, , cards] = await listText();
      return cards === MODELS;
    }, 240_000, 250);
    await eventually('the arriving note gone once the fill completes', async () => {
      const [, note] = await listText();
      return note === '';
    }, 60_000, 250);
    const never = said.filter((s) => /Chưa có mô hình nào/.test(s.empty));
    assert.deepEqual(never, [], 'the list never said there were no models while they were arriving');
    console.log(`first words after ${firstSaid} ms; count ${counted.received}/${counted.expected} after ${counted.at} ms; ` +
      `all ${MODELS} after ${said[said.length - 1].at} ms`);
    await phone.close();
  } finally {
    await browser.close();
    server.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
});

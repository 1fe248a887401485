// Benchmark (not a test): the client's figures of issue 15, as `.ci/bench-client` runs it against
// the release client served by the real server. Prints `name = value unit` lines (medians of RUNS
// runs; saves as p50/p95 of RUNS × SAVES); asserts only that every step completed.
//
//   node bench-client.mjs --write-list FILE   # writes the commune's MODELS models as a CSV to import
//   DANVAN_URL=… node bench-client.mjs        # measures (the server holds that list for canbo.a)
//
// Times are read inside the page (`performance.now()`, from the navigation's start or from the
// click), so Playwright's own round trips are not counted. Each figure:
// - 2g.*: a fresh phone (empty profile) over 300 ms / 256 kbit/s (CDP network emulation): until
//   the sign-in form can be typed in, and until the app itself is running;
// - warm.*, search, edit_open, save: offline (since stop 30), as a cadre in the field;
// - warm.*: a phone holding MODELS models, reloaded at 4× CPU: until the first card is shown
//   (list_shown: the list's first screen, which the static shell paints from the app's last copy
//   before the app runs; app_list: the app's own cards, which can be used; app_ready: mounted);
// - search: one keystroke in the search box until the list is filtered and painted (4×; the first
//   16 cards — the rest of the first 100 follow once typing pauses for 250 ms);
// - edit_open: "Sửa" clicked on a model's page until its form shows (4×, in-app navigation);
// - save: "Lưu mô hình" clicked until "Đã lưu" (4×), the app back on the model's page;
// - *_whole: the same until the page's part below the first screen is drawn too (the form's last
//   field, the model page's bookkeeping line), which follows once the first screen is painted;
// - lighthouse.*: Lighthouse 12 (mobile preset, simulated throttling) on the sign-in page of a new
//   device and on the list of the phone holding MODELS models (a persistent profile, storage kept:
//   the returning cadre), performance score and LCP, medians of RUNS runs. Lighthouse is fetched
//   by `npx` (pinned below) the first time; LIGHTHOUSE=0 skips it, ONLY=lighthouse runs it alone,
//   LIGHTHOUSE_KEEP=dir keeps each report.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { LAUNCH, PASSWORD, eventually, newPage, signIn, waitReady, waitServiceWorker } from './support.mjs';

const MODELS = Number(process.env.MODELS || 1500);
const RUNS = Number(process.env.RUNS || 3);
const SAVES = Number(process.env.SAVES || 10);
// With PROFILE_DIR set, CPU profiles of the search keystrokes, a warm start and the edit/save loop are written there
// (Chromium's .cpuprofile; on a client built with names they name the Rust functions).
const PROFILE_DIR = process.env.PROFILE_DIR;

const WORDS = ('dân vận khéo nhân dân thôn bản xã chi bộ mặt trận hội phụ nữ nông dân cựu chiến binh đoàn thanh niên ' +
  'đường giao thông nông thôn mới hộ nghèo vận động tuyên truyền đóng góp ngày công hiến đất bê tông hóa kênh mương ' +
  'vệ sinh môi trường rác thải thu gom phân loại trồng cây xanh thắp sáng camera an ninh trật tự tổ tự quản hòa giải ' +
  'sinh kế giảm nghèo chuyển đổi số đồng bào dân tộc già làng người có uy tín cán bộ đảng viên gương mẫu').split(' ');

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function sentence(r, n) {
  const w = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]);
  w[0] = w[0][0].toUpperCase() + w[0].slice(1);
  return w.join(' ') + '.';
}

function paragraph(r, sentences) {
  return Array.from({ length: sentences }, () => sentence(r, 8 + Math.floor(r() * 10))).join(' ');
}

/** The commune's list: MODELS rows of realistic length (the seven narrative items filled). */
function writeList(file) {
  const fields = ['Kinh tế', 'Văn hóa – xã hội', 'Quốc phòng – an ninh', 'Xây dựng hệ thống chính trị'];
  const states = ['Đăng ký', 'Đang thực hiện', 'Đang thực hiện', 'Đề nghị công nhận'];
  const header = ['Tên mô hình', 'Đơn vị', 'Lĩnh vực', 'Năm', 'Tình trạng', 'Tên chủ thể', 'Ngày bắt đầu', 'Thực trạng',
    'Mục tiêu', 'Nội dung', 'Địa bàn', 'Lực lượng', 'Nguồn lực', 'Sản phẩm kiểm chứng được', 'Khả năng nhân rộng'];
  const lines = [header.join(',')];
  for (let i = 0; i < MODELS; i++) {
    const r = rng(i + 1);
    const year = 2015 + (i % 11);
    const row = [`${sentence(r, 5).slice(0, -1)} (${i + 1})`, 'BANBO', fields[i % 4], year, states[i % 4], `Chi hội thôn số ${i % 40}`,
      `${year}-03-01`, paragraph(r, 3), paragraph(r, 2), paragraph(r, 4), paragraph(r, 1), paragraph(r, 1), paragraph(r, 1),
      `Hộ tham gia: ${20 + (i % 50)} hộ; Kinh phí huy động: ${i % 90},5 triệu đồng`, paragraph(r, 2)];
    lines.push(row.map((v) => `"${String(v).replaceAll('"', '""')}"`).join(','));
  }
  writeFileSync(file, lines.join('\r\n'));
}

if (process.argv[2] === '--write-list') {
  writeList(process.argv[3]);
  process.exit(0);
}

const BASE = process.env.DANVAN_URL.replace(/\/+$/, '');
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const figure = (name, value, unit) => console.log(`client.${name} = ${Math.round(value)} ${unit}`);

// Recorded in the page from its first script on: when the sign-in form, the app and the first
// card appeared (ms since the navigation started).
const MARKS = () => {
  window.__marks = {};
  const mark = () => {
    const m = window.__marks;
    const form = document.querySelector('#username');
    if (!m.form && form && !form.disabled) m.form = performance.now();
    if (!m.ready && document.body?.dataset.ready === '1') m.ready = performance.now();
    if (!m.card && document.querySelector('article.model-card')) m.card = performance.now();
    // The app's own cards (the shell may have painted the list's first screen before it ran).
    if (!m.appCard && m.ready && document.querySelector('article.model-card')) m.appCard = performance.now();
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true, attributes: true });
};

/** Runs `action` in the page; resolves, in ms, after `done()` holds and a frame was painted, and
 *  — given `whole` — after `whole()` holds too and a frame was painted (a form's or a model page's
 *  part below the first screen is drawn once the first screen is painted): [first, whole]. */
async function timedWhole(page, action, done, whole = null) {
  return page.evaluate(async ([action, done, whole]) => {
    // Every function made before the first await: the page's CSP allows no eval, and only the
    // evaluation's own first task is exempt from it.
    const act = new Function(action);
    const finished = new Function(`return (${done})`);
    const complete = whole === null ? null : new Function(`return (${whole})`);
    const until = (holds) => new Promise((resolve) => {
      const check = () => (holds() ? resolve() : setTimeout(check, 1));
      check();
    });
    const painted = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const t0 = performance.now();
    act();
    await until(finished);
    await painted();
    const first = performance.now() - t0;
    if (complete === null) return [first, null];
    await until(complete);
    await painted();
    return [first, performance.now() - t0];
  }, [action, done, whole]);
}

/** `timedWhole` without a whole page: ms. */
async function timed(page, action, done) {
  return (await timedWhole(page, action, done))[0];
}

/** The search box's value changed as typing does. */
const typeInSearch = (value) => `const s = document.querySelector('#search'); s.value = ${value}; s.dispatchEvent(new Event('input', { bubbles: true }));`;

/** From a model's page: opens its form, then saves it with ` [round]` at the end of its name.
 *  Resolves to [form shown, whole form, "Đã lưu" shown, whole page] in ms; performance marks
 *  `open`/`opened`/`save`/`saved` bound each step for a trace. */
async function editAndSave(page, round) {
  await page.getByRole('link', { name: 'Sửa', exact: true }).waitFor();
  await page.waitForTimeout(300);
  const opened = await timedWhole(page,
    `performance.mark('open'); [...document.querySelectorAll('a')].find((a) => a.textContent.trim() === 'Sửa').click();`,
    `document.querySelector('#name') && document.querySelector('#name').value.length > 0`,
    `document.querySelector('#sustainability')`);
  await page.evaluate(() => performance.mark('opened'));
  await page.waitForTimeout(300);
  const saved = await timedWhole(page,
    `performance.mark('save'); const n = document.querySelector('#name'); n.value = n.value.replace(/ \\[\\d+\\]$/, '') + ' [${round}]'; n.dispatchEvent(new Event('input', { bubbles: true }));
     [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Lưu mô hình').click();`,
    `(document.querySelector('#save-status')?.textContent || '').includes('Đã lưu')`,
    `document.querySelector('.detail-page .bookkeeping')`);
  await page.evaluate(() => performance.mark('saved'));
  return [...opened, ...saved];
}

/** What a Chromium trace of the harness records: the timeline with its CPU samples and our marks. */
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing',
  'disabled-by-default-v8.cpu_profiler'];

const LIGHTHOUSE = 'lighthouse@12.8.2';

/** One Lighthouse run (performance only) on `url`; `profile`: a Chromium user-data-dir to keep. */
function lighthouse(url, profile) {
  const out = join(mkdtempSync(join(tmpdir(), 'danvan-lh-')), 'report.json');
  const flags = ['--headless=new', '--lang=vi-VN', '--accept-lang=vi-VN', ...LAUNCH.args, ...(profile ? [`--user-data-dir=${profile}`] : [])];
  const run = spawnSync('npx', ['--yes', LIGHTHOUSE, url, '--quiet', '--only-categories=performance', '--output=json',
    `--output-path=${out}`, `--chrome-flags=${flags.join(' ')}`, ...(profile ? ['--disable-storage-reset'] : [])],
    // The browser's language decides the app's on a first start: Vietnamese, as the cadre's phone.
    { env: { ...process.env, CHROME_PATH: LAUNCH.executablePath, LANGUAGE: 'vi', LANG: 'vi_VN.UTF-8' }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`lighthouse failed: ${run.stderr}`);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  // LIGHTHOUSE_KEEP=dir keeps each report (its long tasks, its trace-based breakdown).
  if (process.env.LIGHTHOUSE_KEEP) {
    mkdirSync(process.env.LIGHTHOUSE_KEEP, { recursive: true });
    copyFileSync(out, join(process.env.LIGHTHOUSE_KEEP, `${profile ? 'list' : 'sign_in'}-${Date.now()}.json`));
  }
  rmSync(join(out, '..'), { recursive: true, force: true });
  const audits = report.audits;
  const element = audits['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node?.nodeLabel ?? '';
  return { score: report.categories.performance.score * 100, lcp: audits['largest-contentful-paint'].numericValue, element,
    tbt: audits['total-blocking-time'].numericValue, cls: audits['cumulative-layout-shift'].numericValue };
}

/** Lighthouse sometimes fails to record its trace (NO_NAVSTART, NO_FCP): one more try. */
function lighthouseAgain(url, profile) {
  try {
    return lighthouse(url, profile);
  } catch (e) {
    console.log(`# ${e.message.split('\n')[0]} — running it again`);
    return lighthouse(url, profile);
  }
}

function lighthouseFigures(name, url, profile) {
  const runs = Array.from({ length: RUNS }, () => lighthouseAgain(url, profile));
  figure(`lighthouse.${name}.performance`, median(runs.map((r) => r.score)), 'score');
  figure(`lighthouse.${name}.lcp`, median(runs.map((r) => r.lcp)), 'ms');
  console.log(`# lighthouse.${name}: scores ${runs.map((r) => r.score).join(', ')}; TBT ${runs.map((r) => Math.round(r.tbt)).join(', ')} ms; CLS ${runs.map((r) => r.cls.toFixed(3)).join(', ')}; LCP element “${runs[0].element.slice(0, 60)}”`);
}

/** Signs the phone in as the commune's cadre and waits until it holds all MODELS models and its
 *  service worker controls it. */
async function holdTheModels(page) {
  await signIn(page, BASE, 'canbo.a', PASSWORD);
  const count = `${MODELS.toLocaleString('de-DE')} mô hình`;
  await eventually(`the list counts ${count}`, async () => {
    const text = await page.locator('p.count').innerText().catch(() => '');
    // Its first line (the order the list is in is said below it).
    return text.split('\n')[0].trim() === count;
  }, 600_000, 500);
  await waitServiceWorker(page);
  // Every model cached by the engine too (its writes follow the list by a moment): a start of
  // this profile must not find some missing and decode them inside a measurement (the first
  // Lighthouse run of the list did at stop 31: 3.7 s of the engine's scripting, TBT 2.5 s).
  await eventually('every model cached', () => page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('danvan');
    open.onerror = () => resolve(false);
    open.onsuccess = () => {
      const tx = open.result.transaction(['docs', 'models']);
      const docs = tx.objectStore('docs').count();
      const models = tx.objectStore('models').count();
      tx.oncomplete = () => { open.result.close(); resolve(docs.result > 0 && models.result >= docs.result); };
      tx.onerror = () => { open.result.close(); resolve(false); };
    };
  })), 600_000, 500);
}

const browser = await chromium.launch(LAUNCH);
try {
  // ONLY=lighthouse: Lighthouse alone (e.g. to compare two builds' scores).
  phone: {
  if (process.env.ONLY === 'lighthouse') {
    // The server compresses the client's files for ~20 s after it starts (brotli -q 11).
    await new Promise((r) => setTimeout(r, 30_000));
    break phone;
  }
  // A fresh phone on 2G: nothing cached, every byte over the link.
  const form = [];
  const ready = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext(PHONE);
    await context.addInitScript(MARKS);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 300, downloadThroughput: 32_000, uploadThroughput: 32_000 });
    await page.goto(BASE + '/', { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__marks?.form && window.__marks?.ready, null, { timeout: 300_000, polling: 200 });
    const marks = await page.evaluate(() => window.__marks);
    form.push(marks.form);
    ready.push(marks.ready);
    await context.close();
  }
  figure('2g.sign_in_form_usable', median(form), 'ms');
  figure('2g.app_ready', median(ready), 'ms');

  // A phone holding the commune's models.
  const context = await browser.newContext(PHONE);
  await context.addInitScript(MARKS);
  const page = await newPage(context, 'bench');
  await holdTheModels(page);
  // Offline from here, as a cadre in the field: the app works from what the phone holds, and the
  // server's work for each save's sync (a debug build on the same cores) does not land inside the
  // next measurement, as it did before stop 30.
  await context.setOffline(true);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });

  const warm = [];
  const warmApp = [];
  const warmReady = [];
  const phases = {};
  const search = [];
  for (let run = 0; run < RUNS; run++) {
    await page.reload({ waitUntil: 'commit' });
    await page.waitForFunction(() => window.__marks?.appCard, null, { timeout: 120_000, polling: 100 });
    const marks = await page.evaluate(() => window.__marks);
    warm.push(marks.card);
    warmApp.push(marks.appCard);
    warmReady.push(marks.ready);
    // The app's own moments (client::mark): started, models read from IndexedDB, parsed, mounted.
    const moments = await page.evaluate(() => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('danvan:')).map((m) => [m.name.slice(7), m.startTime]));
    for (const [name, at] of moments) (phases[name] ||= []).push(at);
    // Let the background work of a start (the engine loading, its check) settle first.
    await page.waitForTimeout(3000);
    for (const ch of 'van dong') {
      search.push(await timed(page, typeInSearch(`s.value + ${JSON.stringify(ch)}`), 'true'));
    }
    await timed(page, typeInSearch("''"), 'true');
  }
  if (PROFILE_DIR) {
    // The search keystrokes on their own, then a warm start.
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    for (const ch of 'van dong') {
      await timed(page, typeInSearch(`s.value + ${JSON.stringify(ch)}`), 'true');
    }
    const { profile: typing } = await cdp.send('Profiler.stop');
    writeFileSync(join(PROFILE_DIR, 'search.cpuprofile'), JSON.stringify(typing));
    await timed(page, typeInSearch("''"), 'true');
    await cdp.send('Profiler.start');
    await page.reload({ waitUntil: 'commit' });
    await page.waitForFunction(() => window.__marks?.appCard, null, { timeout: 120_000, polling: 100 });
    await page.waitForTimeout(3000);
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(join(PROFILE_DIR, 'warm.cpuprofile'), JSON.stringify(profile));
    // The same warm start in Chromium's timeline: parsing, compiling, tasks, style, layout, paint.
    await browser.startTracing(page, { path: join(PROFILE_DIR, 'warm.trace.json'), categories: TRACE_CATEGORIES });
    await page.reload({ waitUntil: 'commit' });
    await page.waitForFunction(() => window.__marks?.appCard, null, { timeout: 120_000, polling: 100 });
    await page.waitForTimeout(1000);
    await browser.stopTracing();
  }
  figure('warm.list_shown_4x', median(warm), 'ms');
  figure('warm.app_list_4x', median(warmApp), 'ms');
  figure('warm.app_ready_4x', median(warmReady), 'ms');
  for (const [name, at] of Object.entries(phases)) figure(`warm.at.${name.replaceAll('-', '_')}_4x`, median(at), 'ms');
  figure('search.keystroke_4x.p50', median(search), 'ms');
  figure('search.keystroke_4x.p95', pct(search, 95), 'ms');

  // Editing one model again and again (a cadre's day).
  const first = await page.locator('article.model-card a').first().getAttribute('href');
  const open = [];
  const save = [];
  const openWhole = [];
  const saveWhole = [];
  // One page load, then in-app navigation as a cadre moves (model → Sửa → Lưu → model page):
  // reloading before each edit would time the engine's start-up instead of the edit.
  await page.goto(BASE + first);
  await waitReady(page);
  await page.waitForTimeout(3000);
  if (PROFILE_DIR) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  for (let i = 0; i < RUNS * SAVES; i++) {
    const [opened, openedWhole, saved, savedWhole] = await editAndSave(page, i);
    open.push(opened);
    openWhole.push(openedWhole);
    save.push(saved);
    saveWhole.push(savedWhole);
  }
  if (PROFILE_DIR) {
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(join(PROFILE_DIR, 'edit-save.cpuprofile'), JSON.stringify(profile));
    // The same loop in Chromium's timeline (style, layout, paint, scripts), three times over.
    await browser.startTracing(page, { path: join(PROFILE_DIR, 'edit-save.trace.json'), categories: TRACE_CATEGORIES });
    for (let i = 0; i < 3; i++) await editAndSave(page, RUNS * SAVES + i);
    await browser.stopTracing();
  }
  figure('edit_open_4x.p50', median(open), 'ms');
  figure('edit_open_4x.p95', pct(open, 95), 'ms');
  figure('save_4x.p50', median(save), 'ms');
  figure('save_4x.p95', pct(save, 95), 'ms');
  figure('edit_open_whole_4x.p50', median(openWhole), 'ms');
  figure('save_whole_4x.p50', median(saveWhole), 'ms');
  await context.close();
  }
} finally {
  await browser.close();
}

if (process.env.LIGHTHOUSE !== '0') {
  lighthouseFigures('sign_in', BASE + '/');
  // The returning cadre: a profile signed in, its models synced, the service worker installed.
  const profile = mkdtempSync(join(tmpdir(), 'danvan-lh-profile-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { ...LAUNCH, ...PHONE, locale: 'vi-VN' });
    const page = context.pages()[0] || await context.newPage();
    await holdTheModels(page);
    // Chosen, as a cadre's device holds it after the first start (Lighthouse's browser says en-US).
    await page.evaluate(() => localStorage.setItem('danvan.lang', 'vi'));
    await context.close();
    lighthouseFigures('list', BASE + '/', profile);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

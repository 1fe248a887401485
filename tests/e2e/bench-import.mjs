// Benchmark (not a test): importing 2,000 rows from an XLSX in the browser, offline, as
// `.ci/bench-import-browser` runs it. Prints `name = value unit` lines, medians of RUNS runs per
// CPU rate (1× and 4× CDP throttling); asserts only that the import completed.
//
// Each run is a fresh browser profile (an empty device): sign in online, wait for the service
// worker, go offline, choose the file; measured: file chosen → preview shown (read by the
// on-demand module, planned), and "Nhập" clicked → "Đã nhập" (documents made and stored in
// IndexedDB, with the progress drawn between batches).

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { LAUNCH, newPage, signIn, waitServiceWorker } from './support.mjs';

const BASE = process.env.DANVAN_URL.replace(/\/+$/, '');
const ROWS = Number(process.env.ROWS || 2000);
const RUNS = Number(process.env.RUNS || 3);
const units = ['BANBO', 'TRUONGSON', 'NAPONG'];
const fields = ['Kinh tế', 'Văn hóa – xã hội', 'Quốc phòng – an ninh', 'Xây dựng hệ thống chính trị'];
const states = ['Đăng ký', 'Đang thực hiện', 'Đề nghị công nhận', 'Đang thực hiện', 'Dừng'];

const header = 'STT,Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng,Tên chủ thể,Ngày bắt đầu,Nội dung,Sản phẩm kiểm chứng được';
const lines = [header];
for (let i = 0; i < ROWS; i++) {
  const year = 2009 + (i % 17);
  lines.push([i + 1, `Mô hình dân vận khéo số ${i + 1}`, units[i % 3], fields[i % 4], year, states[i % 5], `Chi hội số ${i % 40}`,
    `${year}-03-01`, 'Vận động nhân dân cùng tham gia; cán bộ, đảng viên đi đầu; dân biết, dân bàn, dân làm, dân kiểm tra.',
    `Hộ tham gia: ${20 + (i % 50)} hộ; Kinh phí huy động: ${i % 90},5 triệu đồng`].map((v) => `"${String(v).replaceAll('"', '""')}"`).join(','));
}
const file = join(mkdtempSync(join(tmpdir(), 'danvan-bench-import-')), `danh-sach-${ROWS}.xlsx`);
execFileSync(process.env.DANVAN_WRITE_WORKBOOK, [file, `DANH SÁCH ${ROWS} MÔ HÌNH`], { input: lines.join('\n') });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await chromium.launch(LAUNCH);
try {
  for (const rate of [1, 4]) {
    const plan = [];
    const write = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await newPage(context, 'bench');
      await signIn(page, BASE, 'quantri');
      await waitServiceWorker(page);
      await page.goto(BASE + '/nhap-tu-tep');
      await page.locator('#import-file').waitFor();
      // The on-demand module in the cache before the network goes (the first visit fetched it).
      await page.evaluate(() => import('/danvan-reports.js'));
      await context.setOffline(true);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      let t = Date.now();
      await page.locator('#import-file').setInputFiles(file);
      await page.locator('#import-summary').waitFor({ timeout: 600_000 });
      plan.push(Date.now() - t);
      t = Date.now();
      await page.locator('#import-start').click();
      await page.locator('#import-progress').waitFor({ timeout: 60_000 });
      await page.locator('#import-done').waitFor({ timeout: 600_000 });
      write.push(Date.now() - t);
      const done = await page.locator('#import-done').innerText();
      if (!done.includes(`Đã nhập ${ROWS.toLocaleString('vi-VN')} mô hình mới`)) throw new Error(`import incomplete: ${done}`);
      await context.close();
    }
    const suffix = rate === 1 ? '' : `.cpu${rate}x`;
    console.log(`import.browser.rows_${ROWS}.read_and_plan${suffix} = ${median(plan)} ms`);
    console.log(`import.browser.rows_${ROWS}.write${suffix} = ${median(write)} ms`);
    console.log(`import.browser.rows_${ROWS}.total${suffix} = ${median(plan.map((p, i) => p + write[i]))} ms`);
  }
} finally {
  await browser.close();
}

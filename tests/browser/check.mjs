// Loads an evpack readiness dashboard in headless Chromium and checks what a person would see.
//
//   node check.mjs <dashboard.html> <gaps.json> <outdir> [--hostile NAME]
//
// - axe-core at WCAG 2.1 A and AA: zero violations (each one is printed).
// - The readiness percent, every requirement's status, every area's RAG and every cadence
//   grid cell shown on the page match `evpack gaps --format json` for the same input.
// - No request leaves the file (every non-file URL is blocked and fails the check), no
//   dialog opens, and with --hostile NAME that name shows as text with no element made
//   from it.
// - The page is readable with scripts off.
// - Writes screen.png, print.png (print media) and print.pdf (A4) into outdir for a person
//   to look at. Assertions are on content, never on pixels.
//
// Exit 0 when every check passes, 1 with a list of failures otherwise, 2 on bad usage.
// Uses the system Chromium (`/usr/bin/chromium`, or $CHROMIUM): playwright's own browser
// download is never used.

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const hostileAt = args.indexOf('--hostile');
const hostile = hostileAt >= 0 ? args.splice(hostileAt, 2)[1] : null;
if (args.length !== 3 || (hostileAt >= 0 && !hostile)) {
  console.error('usage: node check.mjs <dashboard.html> <gaps.json> <outdir> [--hostile NAME]');
  process.exit(2);
}
const [htmlPath, jsonPath, outDir] = args.map((a) => resolve(a));
const expected = JSON.parse(readFileSync(jsonPath, 'utf8'));
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
mkdirSync(outDir, { recursive: true });
const url = pathToFileURL(htmlPath).href;

const failures = [];
const fail = (msg) => failures.push(msg);
const blocked = [];
const dialogs = [];
const consoleErrors = [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

// Every request the page makes goes through here: the file itself is allowed, anything
// else (http, https, data fetched by markup, another file) is recorded and refused.
async function guard(context) {
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    blocked.push(u);
    return route.abort('blockedbyclient');
  });
}

function watch(page) {
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
}

try {
  // 1. As shipped: scripts on (so an injected handler would fire), the page's own CSP in
  //    force. Content, escaping, network and the pictures are checked here.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await guard(ctx);
  const page = await ctx.newPage();
  watch(page);
  await page.goto(url, { waitUntil: 'load' });
  // Give any (wrongly) injected handler a moment to run.
  await page.waitForTimeout(300);

  await checkContent(page);
  if (expected.pack_schema) await checkPackIntro(page);
  if (hostile) await checkHostile(page);

  const lang = await page.getAttribute('html', 'lang');
  if (!lang) fail('the <html> element has no lang attribute');
  const scripts = await page.locator('script').count();
  if (scripts) fail(`the page holds ${scripts} <script> element(s); it must need none`);

  await page.screenshot({ path: `${outDir}/screen.png`, fullPage: true });
  await page.screenshot({ path: `${outDir}/screen-top.png` });
  // The printable width of A4 with the page margins in the stylesheet (210 - 22 mm) at
  // 96 dpi, so the print picture and the width check see what paper gets.
  await page.setViewportSize({ width: 710, height: 1000 });
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: `${outDir}/print.png`, fullPage: true });
  await checkPrint(page);
  // Still in print media: page.pdf uses whatever media is emulated.
  await page.pdf({ path: `${outDir}/print.pdf`, format: 'A4', printBackground: true, preferCSSPageSize: true });
  await ctx.close();

  // 2. axe-core. Its source is injected, which the page's CSP would rightly refuse, so this
  //    context bypasses CSP; nothing else differs.
  const axeCtx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  await guard(axeCtx);
  const axePage = await axeCtx.newPage();
  watch(axePage);
  await axePage.goto(url, { waitUntil: 'load' });
  await axePage.addScriptTag({ content: axeSource });
  const result = await axePage.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  for (const v of result.violations) {
    const where = v.nodes.slice(0, 5).map((n) => `      ${n.target.join(' ')}: ${n.failureSummary?.split('\n').join(' ')}`);
    fail(`axe ${v.id} (${v.impact}): ${v.help} [${v.nodes.length} node(s)]\n${where.join('\n')}`);
  }
  console.log(`axe-core ${result.testEngine.version}: ${result.passes.length} rules passed, ${result.violations.length} violated, ${result.incomplete.length} need review`);
  // Show the focus ring once in a picture: tab to the skip link and the first link after it.
  await axePage.keyboard.press('Tab');
  await axePage.keyboard.press('Tab');
  const focused = await axePage.evaluate(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return { tag: el.tagName, bg: s.backgroundColor, shadow: s.boxShadow };
  });
  if (focused.tag !== 'A' || focused.bg === 'rgba(0, 0, 0, 0)') {
    fail(`keyboard focus is not visible: ${JSON.stringify(focused)}`);
  }
  await axePage.screenshot({ path: `${outDir}/focus.png` });
  await axeCtx.close();

  // 3. Scripts off: everything is still there (nothing is built by script).
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  await guard(noJs);
  const p3 = await noJs.newPage();
  watch(p3);
  await p3.goto(url, { waitUntil: 'load' });
  const text = await p3.locator('body').innerText();
  if (!text.includes(`${expected.summary.readiness_percent}%`)) {
    fail('with scripts off the readiness percent is not shown');
  }
  const rows = await p3.locator('table.reqs tbody tr').count();
  const reqTotal = expected.areas.reduce((n, a) => n + a.requirements.length, 0);
  if (rows !== reqTotal) fail(`with scripts off ${rows} requirement rows show, expected ${reqTotal}`);
  await noJs.close();
} catch (e) {
  fail(`the check itself failed: ${e.stack || e}`);
} finally {
  await browser.close();
}

if (blocked.length) fail(`the page tried to make requests (blocked): ${[...new Set(blocked)].join(', ')}`);
if (dialogs.length) fail(`a dialog opened, so script ran: ${dialogs.join('; ')}`);
if (consoleErrors.length) fail(`console errors (e.g. CSP refusals): ${consoleErrors.join('; ')}`);

if (failures.length) {
  console.error(`FAIL ${htmlPath}: ${failures.length} problem(s)`);
  for (const f of failures) console.error(`  - ${f}`);
  console.error(`pictures: ${outDir}`);
  process.exit(1);
}
console.log(`ok ${htmlPath}: content matches ${jsonPath}; pictures in ${outDir}`);

// ---------------------------------------------------------------------------------------

async function checkContent(page) {
  const shown = await page.evaluate(() => {
    const text = (el) => (el ? el.innerText.replace(/\s+/g, ' ').trim() : null);
    const readiness = document.querySelector('[data-readiness]');
    const reqs = {};
    for (const tr of document.querySelectorAll('table.reqs tbody tr[data-req]')) {
      reqs[tr.dataset.req] = {
        status: text(tr.querySelector('td[data-status]')),
        files: [...tr.querySelectorAll('td ul.files a')].map((a) => a.textContent),
        reasons: [...tr.querySelectorAll('td:nth-of-type(2) li')].map((li) => li.textContent),
      };
    }
    const areas = {};
    for (const li of document.querySelectorAll('.tile[data-area]')) {
      areas[li.dataset.area] = text(li.querySelector('[data-rag]'));
    }
    const grids = {};
    for (const table of document.querySelectorAll('table.grid')) {
      const cols = [...table.querySelectorAll('thead th[data-period]')].map((th) => th.dataset.period);
      const rows = {};
      for (const tr of table.querySelectorAll('tbody tr[data-req]')) {
        rows[tr.dataset.req] = [...tr.querySelectorAll('td[data-period]')].map((td) => ({
          period: td.dataset.period,
          word: text(td.querySelector('.cell-word')),
          files: [...td.querySelectorAll('a')].map((a) => a.textContent),
          hrefs: [...td.querySelectorAll('a')].map((a) => a.getAttribute('href')),
        }));
      }
      grids[table.dataset.cadence] = { cols, rows };
    }
    const counts = {};
    for (const tr of document.querySelectorAll('tr[data-counts]')) {
      counts[tr.dataset.counts] = [...tr.querySelectorAll('td')].map((td) => Number(td.textContent));
    }
    return {
      readiness: text(readiness?.querySelector('.percent')),
      reqs,
      areas,
      grids,
      counts,
      unmatched: document.querySelectorAll('#unmatched ~ details li').length,
      unmatchedText: text(document.querySelector('[data-unmatched]')),
    };
  });

  const s = expected.summary;
  if (shown.readiness !== `${s.readiness_percent}%`) {
    fail(`readiness shows ${shown.readiness}, JSON says ${s.readiness_percent}%`);
  }
  for (const [label, c] of [['Required', s.required], ['Advisory', s.advisory]]) {
    const want = [c.met, c.partial, c.stale, c.missing, c.met + c.partial + c.stale + c.missing];
    if (JSON.stringify(shown.counts[label]) !== JSON.stringify(want)) {
      fail(`${label} counts show ${JSON.stringify(shown.counts[label])}, JSON says ${JSON.stringify(want)}`);
    }
  }
  let cells = 0;
  for (const area of expected.areas) {
    const rag = shown.areas[area.id];
    if (!rag || rag.toLowerCase() !== area.rag) fail(`area ${area.id} shows RAG ${rag}, JSON says ${area.rag}`);
    for (const r of area.requirements) {
      const row = shown.reqs[r.id];
      if (!row) {
        fail(`requirement ${r.id} is not shown`);
        continue;
      }
      if (!row.status || row.status.toLowerCase() !== r.status) {
        fail(`requirement ${r.id} shows status ${row.status}, JSON says ${r.status}`);
      }
      const wantFiles = r.files.map((f) => f.path);
      if (JSON.stringify(row.files) !== JSON.stringify(wantFiles)) {
        fail(`requirement ${r.id} lists files ${JSON.stringify(row.files)}, JSON says ${JSON.stringify(wantFiles)}`);
      }
      if (JSON.stringify(row.reasons) !== JSON.stringify(r.reasons)) {
        fail(`requirement ${r.id} gives reasons ${JSON.stringify(row.reasons)}, JSON says ${JSON.stringify(r.reasons)}`);
      }
      if (r.cadence === 'none') continue;
      const grid = shown.grids[r.cadence];
      const gridRow = grid?.rows[r.id];
      if (!gridRow) {
        fail(`requirement ${r.id} (${r.cadence}) has no row in the cadence grid`);
        continue;
      }
      const periods = r.periods.map((p) => p.label);
      if (JSON.stringify(grid.cols) !== JSON.stringify(periods)) {
        fail(`the ${r.cadence} grid has columns ${grid.cols}, ${r.id} has periods ${periods}`);
      }
      for (const p of r.periods) {
        const cell = gridRow.find((c) => c.period === p.label);
        cells += 1;
        const want = p.covered ? 'Covered' : 'Not covered';
        if (!cell) {
          fail(`${r.id} ${p.label}: no grid cell`);
          continue;
        }
        if (cell.word !== want) fail(`${r.id} ${p.label}: cell says ${cell.word}, JSON says ${want}`);
        const names = p.files.map((f) => f.split('/').pop());
        if (JSON.stringify(cell.files) !== JSON.stringify(names)) {
          fail(`${r.id} ${p.label}: cell links ${JSON.stringify(cell.files)}, JSON says ${JSON.stringify(names)}`);
        }
        cell.hrefs.forEach((h, i) => {
          // The link must lead to the file itself (percent-encoded path at its end).
          const tail = p.files[i].split('/').map(encodeURIComponent).join('/');
          if (!decodeURIComponent(h).endsWith(decodeURIComponent(tail))) {
            fail(`${r.id} ${p.label}: link ${h} does not point at ${p.files[i]}`);
          }
        });
      }
      if (gridRow.length !== r.periods.length) {
        fail(`${r.id}: ${gridRow.length} grid cells, ${r.periods.length} periods in JSON`);
      }
    }
  }
  if (shown.unmatched !== expected.unmatched.length) {
    fail(`${shown.unmatched} unmatched files listed, JSON has ${expected.unmatched.length}`);
  }
  // A pack counts the files that match nothing without naming them (pack.json's
  // names_withheld): the count line gives the number from the summary.
  if (!shown.unmatchedText?.startsWith(`${expected.summary.files_unmatched} file`)) {
    fail(`unmatched count line reads "${shown.unmatchedText}"`);
  }
  console.log(
    `content: readiness ${shown.readiness}, ${Object.keys(shown.reqs).length} requirements, ` +
      `${Object.keys(shown.areas).length} areas, ${cells} grid cells, ${shown.unmatched} unmatched: all match the JSON`,
  );
}

// A pack's index.html (the JSON is its pack.json): the first screen says what the pack is
// and leads to how to check it, in words an auditor can follow without evpack.
async function checkPackIntro(page) {
  const intro = page.locator('.pack-intro');
  if ((await intro.count()) !== 1) {
    fail('a pack page without its introduction (.pack-intro)');
    return;
  }
  const box = await intro.boundingBox();
  const height = page.viewportSize().height;
  if (!box || box.y + box.height > height) {
    fail(`the pack's introduction is not on the first screen (bottom at ${box && box.y + box.height}px of ${height})`);
  }
  const text = await intro.innerText();
  for (const want of [`${expected.summary.readiness_percent}%`, expected.bag.bagging_date.slice(0, 4)]) {
    if (!text.includes(want)) fail(`the pack's introduction does not say ${want}: "${text}"`);
  }
  const about = await page.locator('#about-pack').locator('xpath=..').innerText();
  for (const want of ['evpack verify', 'bagit.py --validate', 'sha256sum -c manifest-sha256.txt', 'data/', 'pack.json']) {
    if (!about.includes(want)) fail(`"About this pack" does not mention ${want}`);
  }
  console.log(`pack: introduction on the first screen, "About this pack" says how to check it`);
}

async function checkHostile(page) {
  const body = await page.locator('body').innerText();
  if (!body.includes(hostile)) fail(`the hostile text ${JSON.stringify(hostile)} does not show as text`);
  const title = await page.title();
  const planted = await page.evaluate(() => ({
    imgs: document.querySelectorAll('img').length,
    handlers: [...document.querySelectorAll('*')].filter((el) =>
      [...el.attributes].some((a) => a.name.startsWith('on')),
    ).length,
  }));
  if (planted.imgs) fail(`${planted.imgs} <img> element(s) exist: markup from a name was parsed`);
  if (planted.handlers) fail(`${planted.handlers} element(s) carry on* handlers`);
  console.log(`hostile: ${JSON.stringify(hostile)} shows as text; title "${title}"`);
}

// In print media the grid must fit the page width and no table may be wider than the page.
async function checkPrint(page) {
  const widths = await page.evaluate(() => {
    const page = document.documentElement.clientWidth;
    return {
      page,
      wide: [...document.querySelectorAll('table')]
        .filter((t) => t.getBoundingClientRect().right > page + 1 || t.scrollWidth > t.clientWidth + 1)
        .map((t) => t.className || t.querySelector('caption')?.textContent || 'table'),
    };
  });
  if (widths.wide.length) fail(`in print, tables wider than the page: ${widths.wide.join(', ')}`);
}

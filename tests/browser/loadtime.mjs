// How long a page takes to open in headless Chromium: from navigation to the `load` event
// and the first paint after it, browser start-up excluded. Prints seconds. Used by
// bench/bench.sh (the dashboard of a 200,000-file drive must open in under 5 s).
//
//   node loadtime.mjs <page.html>

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [page] = process.argv.slice(2);
if (!page) {
  console.error('usage: node loadtime.mjs <page.html>');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync'],
});
try {
  const tab = await browser.newPage();
  const start = performance.now();
  await tab.goto(pathToFileURL(resolve(page)).href, { waitUntil: 'load', timeout: 120000 });
  await tab.evaluate(() => new Promise((done) => requestAnimationFrame(() => done())));
  console.log(((performance.now() - start) / 1000).toFixed(2));
} finally {
  await browser.close();
}

// The bureau's statistics and open data on a phone (360x740) and a desktop (1280x900), in zh and
// en: the demo regulator opens the statistics (this year), every table has its chart (an SVG
// image with a title) beside the table and a CSV download that opens with a BOM and names the
// county; the open-data page lists the datasets with their URLs and previews, publishes one
// (its public URL answers) and withdraws it (404 again). axe-core on every page in both
// languages, a screenshot of each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, withPhone } from './lib/fixture.js';
import path from 'node:path';
import { screenshot, horizontalOverflow } from './lib/browser.js';
import { outDir } from './lib/server.js';
import { expectAccessible } from './lib/axe.js';
import { signIn } from './lib/pages.js';

const s = useSuite();
const story = 'bureau-stats';
const TABLES = ['categories', 'products', 'restricted', 'nutrients', 'coverage', 'licences'];

async function noSideways(page, what) {
  const o = await horizontalOverflow(page);
  assert.ok(o.scrollWidth <= o.clientWidth, `no page-wide sideways scroll at ${what}: ${JSON.stringify(o)}`);
}

async function checkStats(page, lang, size) {
  await page.goto(`/bureau/stats?lang=${lang}`);
  assert.equal(new URL(page.url()).pathname, '/bureau/stats');
  for (const t of TABLES) {
    assert.equal(await page.locator(`[data-test=stats-${t}]`).count(), 1, `the ${t} table's section`);
    assert.equal(await page.locator(`[data-test=csv-${t}]`).count(), 1, `the ${t} CSV link`);
  }
  // The demo sells this year: the sales tables have rows and charts.
  assert.ok((await page.locator('[data-test=stats-table-categories] [data-test=stats-row]').count()) > 0, 'sales by category has rows');
  const charts = page.locator('svg.chart[role=img]');
  assert.ok((await charts.count()) >= 3, 'charts are drawn');
  for (const c of await charts.all()) {
    const title = await c.locator('title').first().textContent();
    assert.ok(title && title.length > 2, 'each chart has a title');
  }
  await screenshot(page, story, `01-stats-${size}`, lang);
  // Each table's section on its own, to look at at the real size.
  for (const t of TABLES) {
    await page.locator(`[data-test=stats-${t}]`).screenshot({ path: path.join(outDir, 'screenshots', `${story}-01-${t}-${size}-${lang}.png`) });
  }
  await expectAccessible(page, `${story}-stats-${size}-${lang}`);
  await noSideways(page, `${size} ${lang}`);
  // The CSV as downloaded.
  const href = await page.locator('[data-test=csv-categories]').getAttribute('href');
  const r = await page.request.get(href);
  assert.equal(r.status(), 200);
  assert.match(r.headers()['content-type'], /^text\/csv/);
  const body = await r.text();
  assert.ok(body.charCodeAt(0) === 0xfeff, 'a BOM for Excel');
  assert.match(body, lang === 'en' ? /County,/ : /县,/);
}

async function checkOpenData(page, lang, size) {
  await page.goto(`/bureau/open-data?lang=${lang}`);
  for (const d of ['prices', 'sales-volumes', 'soil-grades']) {
    assert.equal(await page.locator(`[data-test=open-${d}]`).count(), 1, `the ${d} dataset`);
  }
  assert.ok((await page.locator('[data-test=open-rule]').innerText()).includes('5'), 'the rule is stated');
  await screenshot(page, story, `02-open-data-${size}`, lang);
  await expectAccessible(page, `${story}-open-${size}-${lang}`);
  await noSideways(page, `open data ${size} ${lang}`);
}

test('the regulator reads the statistics and publishes open data, on a phone and a desktop, zh and en', { timeout: 300_000 }, async () => {
  const login = s.server.login('REGULATOR');
  assert.ok(login, 'the demo prints a regulator login');
  for (const [size, opts] of [['phone', {}], ['desktop', { desktop: true }]]) {
    await withPhone(s, `${story}-${size}`, {}, async (page) => {
      if (opts.desktop) await page.setViewportSize({ width: 1280, height: 900 });
      await signIn(page, login);
      for (const lang of ['zh', 'en']) {
        await checkStats(page, lang, size);
        await checkOpenData(page, lang, size);
      }
    });
  }

  await withPhone(s, `${story}-publish`, {}, async (page) => {
    await signIn(page, login);
    await page.goto('/bureau/open-data?lang=zh');
    const json = await page.locator('[data-test=open-prices] a').first().getAttribute('href');
    assert.match(json, /^\/open-data\/\d+\/prices\.json$/);
    assert.equal((await page.request.get(json)).status(), 404, 'not published yet');
    await Promise.all([page.waitForURL(/done=published/), page.locator('[data-test=publish-prices]').click()]);
    assert.ok(await page.locator('[data-test=open-done]').isVisible());
    const r = await page.request.get(json);
    assert.equal(r.status(), 200, 'published: the public URL answers');
    const data = await r.json();
    assert.equal(data.dataset, 'prices');
    assert.equal(data.suppression.min_households, 5);
    for (const row of data.rows) {
      if (row.suppressed) assert.equal(row.median_unit_price_fen, null, 'a withheld row has no figure');
    }
    await screenshot(page, story, '03-published', 'zh');
    await Promise.all([page.waitForURL(/done=withdrawn/), page.locator('[data-test=withdraw-prices]').click()]);
    assert.equal((await page.request.get(json)).status(), 404, 'withdrawn: 404 again');
  });
});

// Story g: the large-text mode (长辈版) toggles, and no page overflows a 360 px phone, in either mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite } from './lib/fixture.js';
import { phoneContext, screenshot, horizontalOverflow, PHONE } from './lib/browser.js';
import { signIn } from './lib/pages.js';
import { SIGNED_OUT_PAGES, FARMER_PAGES, prepareDemoFarmer, pathOf } from './lib/tour.js';

const s = useSuite();

const bodyFontPx = (page) => page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));

// The switch on every page: a link to /prefs?big=..., named 长辈版 (标准字 to switch back).
function bigSwitch(page) {
  return page
    .getByRole('link', { name: /长辈版|标准字|大字|large text|normal text/i })
    .or(page.getByRole('button', { name: /长辈版|标准字|大字|large text|normal text/i }))
    .or(page.locator('a[href*="big="]'))
    .first();
}

async function bigCookie(context) {
  return (await context.cookies()).find((c) => c.name === 'big')?.value ?? null;
}

async function overflowTour(t, page, entries, mode) {
  for (const entry of entries) {
    await t.test(`${mode}: ${entry.name} fits 360 px`, async () => {
      const path = await pathOf(page, entry);
      const resp = await page.goto(path);
      assert.ok(resp.status() < 400, `GET ${path} answered ${resp.status()}`);
      await screenshot(page, `text-${mode}`, entry.name, 'zh');
      const o = await horizontalOverflow(page);
      assert.ok(
        o.scrollWidth <= PHONE.width,
        `${path} (${mode}): document scrollWidth ${o.scrollWidth} > ${PHONE.width}; wider elements: ${o.offenders.join('; ')}`,
      );
    });
  }
}

test('g. large-text mode: the switch sets big=1, the text grows, and back', { timeout: 60_000 }, async () => {
  const context = await phoneContext(s.browser, s.server.baseURL);
  const page = await context.newPage();
  try {
    await page.goto('/');
    const normal = await bodyFontPx(page);
    console.log(`# body font-size: ${normal}px (normal)`);
    const sw = bigSwitch(page);
    assert.ok((await sw.count()) > 0, 'a large-text switch (长辈版) on /');
    await Promise.all([page.waitForLoadState('load'), sw.click()]);
    await page.waitForLoadState('load');
    assert.equal(await bigCookie(context), '1', 'the switch sets the big=1 cookie');
    const big = await bodyFontPx(page);
    console.log(`# body font-size: ${big}px (长辈版)`);
    assert.ok(big > normal, `the body text grows in large-text mode (${normal}px -> ${big}px)`);
    await screenshot(page, 'text-toggle', 'home-big', 'zh');
    await page.goto('/login');
    assert.equal(await bodyFontPx(page), big, 'the mode holds on the next page');
    const off = bigSwitch(page);
    assert.ok((await off.count()) > 0, 'the switch is there in large-text mode too');
    await Promise.all([page.waitForLoadState('load'), off.click()]);
    await page.waitForLoadState('load');
    assert.notEqual(await bigCookie(context), '1', 'switched off, big is no longer 1');
    assert.equal(await bodyFontPx(page), normal, 'back to the normal size');
  } finally {
    await context.close();
  }
});

for (const mode of ['normal', 'big']) {
  test(`g. no horizontal overflow at 360 px (${mode} text)`, { timeout: 300_000 }, async (t) => {
    const context = await phoneContext(s.browser, s.server.baseURL);
    if (mode === 'big') {
      const { hostname } = new URL(s.server.baseURL);
      await context.addCookies([{ name: 'big', value: '1', domain: hostname, path: '/' }]);
    }
    const page = await context.newPage();
    try {
      await overflowTour(t, page, SIGNED_OUT_PAGES(s.server.traceCodes[0]), mode);
      await prepareDemoFarmer(s.server.baseURL, s.server.login('FARMER'));
      await signIn(page, s.server.login('FARMER'));
      await overflowTour(t, page, FARMER_PAGES, mode);
    } finally {
      await context.close();
    }
  });
}

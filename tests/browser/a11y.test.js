// Story f: axe-core on every page the stories reach, in zh and in en: no serious or critical
// violation; a screenshot of each page in both languages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite } from './lib/fixture.js';
import { phoneContext, screenshot, expectCjkFont, watchPage } from './lib/browser.js';
import { expectAccessible } from './lib/axe.js';
import { signIn, htmlLang } from './lib/pages.js';
import { SIGNED_OUT_PAGES, FARMER_PAGES, prepareDemoFarmer, pathOf } from './lib/tour.js';

const s = useSuite();

async function checkPage(page, problems, entry, lang) {
  problems.length = 0;
  const path = await pathOf(page, entry);
  const resp = await page.goto(path);
  assert.ok(resp.status() < 400, `GET ${path} answered ${resp.status()}`);
  await screenshot(page, 'a11y', entry.name, lang);
  const l = await htmlLang(page);
  assert.match(l, lang === 'en' ? /^en/i : /^zh/i, `${path}: <html lang> is "${l}" in a ${lang} run`);
  if (lang === 'zh') await expectCjkFont(page);
  await expectAccessible(page, `${entry.name}-${lang}`);
  assert.deepEqual(problems, [], `${path}: no script errors or 5xx`);
}

async function tour(t, lang, login, entries, { setup } = {}) {
  const context = await phoneContext(s.browser, s.server.baseURL, { lang });
  const page = await context.newPage();
  const problems = watchPage(page);
  try {
    // en: the context's locale sends Accept-Language en-US; ?lang=en on the first page too.
    if (lang === 'en') await page.goto('/?lang=en');
    if (login) await signIn(page, login);
    if (setup) await setup(page);
    for (const entry of entries) {
      await t.test(`${lang} ${entry.name}${entry.path ? ` (${entry.path})` : ''}`, async () => {
        await checkPage(page, problems, entry, lang);
      });
    }
  } finally {
    await context.close();
  }
}

let prepared = null;
async function prepare() {
  prepared ??= prepareDemoFarmer(s.server.baseURL, s.server.login('FARMER'));
  return prepared;
}

for (const lang of ['zh', 'en']) {
  test(`f. accessibility (${lang}), signed out`, { timeout: 180_000 }, async (t) => {
    await tour(t, lang, null, SIGNED_OUT_PAGES(s.server.traceCodes[0]));
  });

  test(`f. accessibility (${lang}), the demo farmer's pages`, { timeout: 300_000 }, async (t) => {
    await prepare();
    await tour(t, lang, s.server.login('FARMER'), FARMER_PAGES);
  });

  test(`f. accessibility (${lang}), the station keeper's page`, { timeout: 120_000 }, async (t) => {
    const keeper = s.server.login('STATION_KEEPER');
    if (!keeper) {
      t.skip('serve --demo prints no STATION_KEEPER login');
      return;
    }
    await tour(t, lang, keeper, [{ name: 'station', path: '/station' }]);
  });
}

test('f. the language switch on a page turns it to English and back', { timeout: 60_000 }, async () => {
  const context = await phoneContext(s.browser, s.server.baseURL, { lang: 'zh' });
  const page = await context.newPage();
  try {
    await page.goto('/login');
    assert.match(await htmlLang(page), /^zh/i, 'zh-CN by default');
    const toEn = page.locator('a[href*="lang=en"], button[name=lang][value=en], form:has([name=lang][value=en]) button').first();
    assert.ok((await toEn.count()) > 0, 'a language switch to English on /login (a link with lang=en, or a lang=en form)');
    await Promise.all([page.waitForLoadState('load'), toEn.click()]);
    await page.waitForLoadState('load');
    assert.match(await htmlLang(page), /^en/i, 'the switch shows the page in English');
    await page.goto('/signup');
    assert.match(await htmlLang(page), /^en/i, 'the choice is remembered (lang cookie)');
    const toZh = page.locator('a[href*="lang=zh"], button[name=lang][value^=zh], form:has([name=lang][value^=zh]) button').first();
    assert.ok((await toZh.count()) > 0, 'a language switch back to Chinese');
    await Promise.all([page.waitForLoadState('load'), toZh.click()]);
    await page.waitForLoadState('load');
    assert.match(await htmlLang(page), /^zh/i, 'back to Chinese');
  } finally {
    await context.close();
  }
});

test('f. ?lang=en shows English and is remembered in the lang cookie (docs/web.md)', { timeout: 60_000 }, async () => {
  const context = await phoneContext(s.browser, s.server.baseURL, { lang: 'zh' });
  const page = await context.newPage();
  try {
    await page.goto('/login?lang=en');
    assert.match(await htmlLang(page), /^en/i, '/login?lang=en is in English');
    const cookies = await context.cookies();
    assert.ok(
      cookies.some((c) => c.name === 'lang' && /^en/.test(c.value)),
      `?lang=en sets the lang cookie; cookies: ${cookies.map((c) => `${c.name}=${c.value}`).join(', ')}`,
    );
    await page.goto('/signup');
    assert.match(await htmlLang(page), /^en/i, 'the next page, without ?lang, is still English');
  } finally {
    await context.close();
  }
});

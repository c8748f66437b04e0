// Complaints and the bureau's signals on a phone (360x740): the demo farmer complains about an
// order from its page, with a photo (a text file is refused first, in words, and nothing is
// stored); the regulator finds the complaint, photo and all, on the dealer's record and records
// the outcome; the farmer sees it. The signals page and the dealers' list. axe-core on every
// page in zh and en, with a screenshot of each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, withPhone } from './lib/fixture.js';
import { screenshot, horizontalOverflow } from './lib/browser.js';
import { expectAccessible } from './lib/axe.js';
import { client, localId } from './lib/api.js';
import { signIn, setField } from './lib/pages.js';
import { prepareDemoFarmer } from './lib/tour.js';

const s = useSuite();
const story = 'bureau-signals';

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

async function noSidewaysScroll(page, what) {
  const o = await horizontalOverflow(page);
  assert.ok(o.scrollWidth <= o.clientWidth, `${what}: no page-wide sideways scroll at 360 px: ${JSON.stringify(o)}`);
}

async function look(page, name, lang) {
  await screenshot(page, story, name, lang);
  await expectAccessible(page, `${story}-${name}-${lang}`);
  await noSidewaysScroll(page, name);
}

test('a farmer complains with a photo, the regulator records the outcome, the farmer sees it', { timeout: 300_000 }, async () => {
  const farmerLogin = s.server.logins.find((l) => l.role === 'FARMER' && l.phone === '13800000006') ?? s.server.login('FARMER');
  const regLogin = s.server.login('REGULATOR');
  assert.ok(farmerLogin && regLogin, 'the demo prints a farmer and a regulator login');
  const { orderId } = await prepareDemoFarmer(s.server.baseURL, farmerLogin);
  const order = localId(orderId);
  const regApi = await client(s.server.baseURL, regLogin);
  const body = '尿素结块严重，袋子有破口，怀疑受潮或以次充好。';
  const outcome = '已到门店抽检同批次，责令经销商为农户调换并整改仓储。';

  await withPhone(s, story, {}, async (page) => {
    await signIn(page, farmerLogin);
    await page.goto(`/orders/${order}`);
    await Promise.all([page.waitForURL(/\/complaints\/new\?order=/), page.locator('[data-test=order-complain]').click()]);
    await look(page, '01-complaint-form', 'zh');
    // A text file is refused with a clear message; the text stays.
    await setField(page, 'body', body);
    await page.locator('input[type=file][name=photo]').setInputFiles({ name: 'note.txt', mimeType: 'image/jpeg', buffer: Buffer.from('not an image at all') });
    await Promise.all([page.waitForLoadState('load'), page.locator('[data-test=complaint-submit]').click()]);
    await page.waitForLoadState('load');
    assert.match(await page.locator('[data-test=complaint-error]').first().innerText(), /JPEG、PNG 或 WebP/);
    assert.equal(await page.locator('[name=body]').inputValue(), body, 'the text is kept');
    await screenshot(page, story, '02-complaint-bad-photo', 'zh');
    const none = await regApi.q('{ complaints { id } }');
    assert.equal(none.complaints.length, 0, 'a refused complaint stores nothing');
    // With a PNG it is filed.
    await page.locator('input[type=file][name=photo]').setInputFiles({ name: 'bag.png', mimeType: 'image/png', buffer: PNG });
    await Promise.all([page.waitForURL(/\/complaints\?filed=/), page.locator('[data-test=complaint-submit]').click()]);
    assert.match(await page.locator('[data-test=my-complaint]').first().innerText(), /结块严重/);
    await look(page, '03-my-complaints-open', 'zh');
  });

  const filed = (await regApi.q('{ complaints { id dealerId hasPhoto status } }')).complaints;
  assert.equal(filed.length, 1);
  assert.ok(filed[0].hasPhoto && filed[0].dealerId, 'the complaint carries its photo and the order\'s dealer');
  const dealer = localId(filed[0].dealerId);
  const complaint = localId(filed[0].id);

  await withPhone(s, `${story}-regulator`, {}, async (page) => {
    await signIn(page, regLogin);
    await page.goto('/bureau/dealers');
    assert.ok((await page.locator(`a[href="/bureau/dealers/${dealer}"]`).count()) >= 1, 'the dealers list links the dealer');
    await look(page, '04-dealers', 'zh');
    await page.goto(`/bureau/dealers/${dealer}`);
    const card = page.locator(`#complaint-${complaint}`);
    assert.match(await card.innerText(), /结块严重/);
    const w = await card.locator('img').evaluate((img) => img.complete && img.naturalWidth);
    assert.ok(w > 0, 'the photo loads for the regulator');
    assert.ok((await page.locator('[data-test=licence-row]').count()) >= 1, 'the record lists licences');
    await look(page, '05-dealer-record', 'zh');
    await card.locator('textarea[name=outcome]').fill(outcome);
    await card.locator('select[name=status]').selectOption('RESOLVED');
    await Promise.all([page.waitForURL(/done=resolved/), card.locator('[data-test=complaint-resolve]').click()]);
    assert.match(await page.locator(`#complaint-${complaint} [data-test=complaint-outcome]`).innerText(), /责令经销商/);
    await screenshot(page, story, '06-dealer-record-resolved', 'zh');
    await page.goto('/bureau/signals');
    assert.ok((await page.locator('[data-test=signals-count]').count()) === 1, 'the signals page says how many');
    await look(page, '07-signals', 'zh');
  });

  await withPhone(s, `${story}-farmer-outcome`, {}, async (page) => {
    await signIn(page, farmerLogin);
    await page.goto('/complaints');
    assert.match(await page.locator('[data-test=my-complaint-outcome]').first().innerText(), /责令经销商/);
    assert.match(await page.locator('[data-test=my-complaint-status]').first().innerText(), /已处理/);
    await look(page, '08-my-complaints-resolved', 'zh');
  });

  // The same pages in English.
  await withPhone(s, `${story}-en`, { lang: 'en' }, async (page) => {
    await signIn(page, farmerLogin);
    await page.goto(`/complaints/new?order=${order}`);
    assert.match(await page.locator('h1').innerText(), /Complain/);
    await look(page, '01-complaint-form', 'en');
    await page.goto('/complaints');
    assert.match(await page.locator('[data-test=my-complaint-status]').first().innerText(), /Resolved/);
    await look(page, '08-my-complaints-resolved', 'en');
  });
  await withPhone(s, `${story}-regulator-en`, { lang: 'en' }, async (page) => {
    await signIn(page, regLogin);
    await page.goto('/bureau/dealers');
    await look(page, '04-dealers', 'en');
    await page.goto(`/bureau/dealers/${dealer}`);
    assert.match(await page.locator('#licences h2').innerText(), /Licences/);
    await look(page, '05-dealer-record', 'en');
    await page.goto('/bureau/signals');
    await look(page, '07-signals', 'en');
  });
});

// Story d: a published recommendation's basket goes into the cart from the farmer's pages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, withPhone } from './lib/fixture.js';
import { screenshot } from './lib/browser.js';
import { client, localId } from './lib/api.js';
import { signIn, pageErrorText } from './lib/pages.js';

const s = useSuite();
const story = 'recommendation';

const MINE = '{ myRecommendations { id status field { id name } basket { feasible lines { offerId productName bags } } } }';

/**
 * A farmer login with a PUBLISHED recommendation. When the demo has none, the demo agronomist
 * drafts and publishes one through the API for the demo farmer's first field (the demo loads
 * fields, crop plans and soil tests for that), so the pages still have one to show.
 */
async function farmerWithRecommendation() {
  for (const l of s.server.logins_of('FARMER')) {
    const f = await client(s.server.baseURL, l);
    const recs = (await f.q(MINE)).myRecommendations.filter((r) => r.status === 'PUBLISHED' && r.basket.lines.length);
    if (recs.length) return { login: l, rec: recs[0], made: false };
  }
  const agronomistLogin = s.server.login('AGRONOMIST');
  const farmerLogin = s.server.login('FARMER');
  if (!agronomistLogin || !farmerLogin) return null;
  const farmer = await client(s.server.baseURL, farmerLogin);
  const agronomist = await client(s.server.baseURL, agronomistLogin);
  const fields = (await farmer.q('{ myFields { id name } }')).myFields;
  for (const field of fields) {
    const d = await agronomist.q('query($f: ID!) { cropPlans(fieldId: $f) { id } soilTests(fieldId: $f) { id } }', { f: field.id });
    if (!d.cropPlans.length) continue;
    const draft = await agronomist.q(
      'mutation($f: ID!, $p: ID!, $t: ID) { recommendationDraft(fieldId: $f, cropPlanId: $p, soilTestId: $t) { recommendation { id basket { feasible lines { offerId } } } errors { code message } } }',
      { f: field.id, p: d.cropPlans[0].id, t: d.soilTests[0]?.id ?? null },
    );
    const rec = draft.recommendationDraft.recommendation;
    if (!rec || draft.recommendationDraft.errors.length || !rec.basket.lines.length) continue;
    const pub = await agronomist.q('mutation($id: ID!) { recommendationPublish(id: $id) { recommendation { status } errors { code message } } }', { id: rec.id });
    if (pub.recommendationPublish.errors.length) continue;
    const mine = (await farmer.q(MINE)).myRecommendations.find((r) => r.id === rec.id);
    if (mine) return { login: farmerLogin, rec: mine, made: true };
  }
  return null;
}

test("d. a recommendation's basket: /fields, the recommendation, order this puts the basket in the cart", { timeout: 180_000 }, async (t) => {
  const found = await farmerWithRecommendation();
  if (!found) {
    const msg = 'SKIPPED: the demo has no farmer with a published recommendation, and none could be made through the API';
    console.log(`# ${msg}`);
    t.skip(msg);
    return;
  }
  if (found.made) {
    console.log(`# the demo has no published recommendation: the demo agronomist published ${found.rec.id} for ${found.login.phone} through the API`);
  }
  const { login, rec } = found;
  await withPhone(s, story, {}, async (page) => {
    await signIn(page, login);
    await page.goto('/fields');
    await screenshot(page, story, '01-fields', 'zh');
    const fieldHref = `/fields/${localId(rec.field.id)}`;
    const recId = localId(rec.id);
    const link = page.locator(`a[href="${fieldHref}"]`);
    assert.ok((await link.count()) > 0, `/fields links to the field ${rec.field.name} (${fieldHref})`);
    await Promise.all([page.waitForURL(`**${fieldHref}`), link.first().click()]);
    await screenshot(page, story, '02-field', 'zh');

    // The recommendation is on the field page, or one link away.
    let order = page.locator(`form[action="/recommendations/${recId}/cart"]`);
    if ((await order.count()) === 0) {
      const recLink = page.locator(`a[href*="/recommendations/${recId}"]`).first();
      assert.ok((await recLink.count()) > 0, `the field page has the recommendation ${recId}: a form POST /recommendations/${recId}/cart or a link to it`);
      await Promise.all([page.waitForLoadState('load'), recLink.click()]);
      await screenshot(page, story, '03-recommendation', 'zh');
      order = page.locator(`form[action="/recommendations/${recId}/cart"]`);
    }
    assert.ok((await order.count()) > 0, `a form POST /recommendations/${recId}/cart ("order this")`);
    const text = await page.locator('body').innerText();
    for (const l of rec.basket.lines) {
      assert.ok(text.includes(l.productName), `the recommendation shows the basket's ${l.productName}`);
    }
    await Promise.all([
      page.waitForLoadState('load'),
      order.first().locator('button[type=submit], button:not([type]), input[type=submit]').first().click(),
    ]);
    await page.waitForLoadState('load');
    if (new URL(page.url()).pathname !== '/cart') await page.goto('/cart');
    await screenshot(page, story, '04-cart', 'zh');

    // The server's cart holds the basket, and the cart page shows each line.
    const farmer = await client(s.server.baseURL, login);
    const cart = (await farmer.q('{ cart { lines { quantity offer { id } product { name } } } }')).cart;
    for (const l of rec.basket.lines) {
      const line = cart.lines.find((c) => String(c.offer.id) === String(l.offerId));
      assert.ok(line, `the cart holds the basket line ${l.productName}: ${JSON.stringify(cart.lines)}; page says: ${await pageErrorText(page)}`);
      assert.ok(line.quantity >= l.bags, `${l.productName}: ${line.quantity} bags in the cart for ${l.bags} in the basket`);
    }
    const cartText = await page.locator('body').innerText();
    for (const l of rec.basket.lines) {
      assert.ok(cartText.includes(l.productName), `the cart page shows ${l.productName}`);
    }
  });
});

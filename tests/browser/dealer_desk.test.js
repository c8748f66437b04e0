// The dealer's order desk, on a phone (360x740) and a shop PC (1366x768): a farmer orders a
// pesticide through the farmer pages; the county store's owner sees it on the desk with the
// farmer's name, confirms it, marks it ready, prints the pick list and the delivery note, and
// hands it over typing the bag's unit code (a wrong code first: refused, nothing lost). Then a
// lot in an open order is recalled through the API and the owner swaps it on the order page.
// axe-core on the desk, the order page, the pick list and the delivery note, zh and en.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, withPhone } from './lib/fixture.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { screenshot, horizontalOverflow, phoneContext } from './lib/browser.js';
import { outDir } from './lib/server.js';
import { expectAccessible } from './lib/axe.js';
import { client, localId } from './lib/api.js';
import { signIn, signUp, submitSignUp, randomPhone, search, openProduct, addToCart, checkout, orderLinks, orderIdFromUrl, pageErrorText } from './lib/pages.js';

const s = useSuite();

const DESKTOP = { width: 1366, height: 768 };
const isOwner = (l) => l.role === 'DEALER' && l.dealerRole === 'OWNER';
const VILLAGE = '三桥村';
const PLANTHOPPER = [/吡蚜酮/, /噻虫嗪/];

/** A shop PC context (wide, mouse, China time). */
async function desktopContext(lang) {
  const context = await s.browser.newContext({
    baseURL: s.server.baseURL,
    viewport: DESKTOP,
    deviceScaleFactor: 1,
    locale: lang === 'en' ? 'en-US' : 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  return context;
}

// The owner signs in once per viewport; later pages of that viewport reuse the session cookie.
const sessions = {};

/** Runs fn(page) as the county store's owner on the viewport, in the language `lang`. */
async function asOwner(viewport, story, lang, fn) {
  const owner = s.server.logins.find(isOwner);
  assert.ok(owner, 'the demo prints the dealer owner login');
  const context = viewport === 'phone'
    ? await phoneContext(s.browser, s.server.baseURL, { lang })
    : await desktopContext(lang);
  const page = await context.newPage();
  try {
    if (sessions[viewport]) {
      await context.addCookies(sessions[viewport].filter((c) => c.name !== 'lang'));
    } else {
      await signIn(page, owner, { next: '/dealer' });
      sessions[viewport] = await context.cookies();
    }
    await page.goto(`/dealer?lang=${lang}`);
    return await fn(page);
  } catch (e) {
    const dir = path.join(outDir, 'failures');
    await mkdir(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, `${story}-${lang}.png`), fullPage: true }).catch(() => {});
    e.message += `\n  at ${page.url()}: ${await pageErrorText(page).catch(() => '')}`;
    throw e;
  } finally {
    await context.close().catch(() => {});
  }
}

async function shoot(page, story, step, lang, label) {
  await screenshot(page, story, step, lang);
  await expectAccessible(page, `${label}-${lang}`);
  const o = await horizontalOverflow(page);
  const width = page.viewportSize().width;
  assert.ok(o.scrollWidth <= width + 1, `${label} ${lang} is no wider than ${width}px: ${JSON.stringify(o).slice(0, 300)}`);
}

async function clickAndLoad(page, locator) {
  await Promise.all([page.waitForLoadState('load'), locator.click()]);
  await page.waitForLoadState('load');
}

async function status(page) {
  return page.locator('[data-test=order-status]').first().getAttribute('data-status');
}

// One API login per role for the file (sign-in attempts per phone are rate limited).
const clients = new Map();
async function api(who) {
  const l = s.server.logins.find(who);
  if (!clients.has(l.phone)) clients.set(l.phone, await client(s.server.baseURL, l));
  return clients.get(l.phone);
}

/** A new farmer of 三桥村 orders one planthopper pesticide through the pages; returns its id. */
async function farmerOrders(story) {
  const phone = randomPhone();
  const password = 'test-farmer-2026';
  const name = `测试农户${phone.slice(-4)}`;
  const id = await withPhone(s, `${story}-farmer`, {}, async (page) => {
    await signUp(page, { displayName: name, phone, password, village: VILLAGE });
    await submitSignUp(page);
    await search(page, '稻飞虱');
    await openProduct(page, PLANTHOPPER);
    await addToCart(page, 1);
    await checkout(page, { delivery: 'VILLAGE_STATION' });
    await page.goto('/orders');
    const links = await orderLinks(page);
    assert.equal(links.length, 1);
    return orderIdFromUrl(new URL(links[0], s.server.baseURL).href);
  });
  return { id, name, phone, password };
}

const ORDER_Q = 'query($id: ID!) { order(id: $id) { id flagged lines { id allocations { status lot { id lotNo } } } } }';

function gidOf(kind, id) {
  return Buffer.from(`${kind}:${id}`).toString('base64').replace(/=+$/, '');
}

for (const viewport of ['phone', 'desktop']) {
  test(`desk (${viewport}): a farmer's order confirmed, made ready, printed and handed over with its unit code`, { timeout: 300_000 }, async () => {
    const story = `desk-${viewport}`;
    const f = await farmerOrders(story);
    const dealer = await api(isOwner);
    const o = (await dealer.q(ORDER_Q, { id: gidOf('Order', f.id) })).order;
    const lot = o.lines[0].allocations[0].lot;
    const codes = (await dealer.q('query($id: ID!) { lot(id: $id) { unitCodes { code status } } }', { id: lot.id })).lot.unitCodes;
    const code = codes.find((c) => c.status !== 'SOLD');
    assert.ok(code, `the demo pesticide lot ${lot.lotNo} carries unsold unit codes`);

    await asOwner(viewport, story, 'zh', async (page) => {
      await page.goto('/dealer');
      const card = page.locator(`[data-test=desk-order][data-order="${f.id}"]`);
      await card.waitFor();
      assert.equal(await card.getAttribute('data-status'), 'PLACED');
      const text = await card.innerText();
      assert.match(text, new RegExp(f.name), 'the desk names the farmer');
      assert.match(text, new RegExp(f.phone), "and shows the farmer's phone");
      assert.match(text, /三桥村/, "and the farmer's village");
      await shoot(page, story, '01-desk', 'zh', `desk-list-${viewport}`);

      await clickAndLoad(page, card.locator('a.btn'));
      assert.equal(await status(page), 'PLACED');
      assert.match(await page.locator('body').innerText(), new RegExp(lot.lotNo), 'the order page shows the lot number');
      await shoot(page, story, '02-order-placed', 'zh', `desk-order-${viewport}`);
      await clickAndLoad(page, page.locator('[data-test=to-CONFIRMED]'));
      assert.equal(await status(page), 'CONFIRMED');
      await clickAndLoad(page, page.locator('[data-test=to-READY_FOR_PICKUP]'));
      assert.equal(await status(page), 'READY_FOR_PICKUP');
      await shoot(page, story, '03-order-ready', 'zh', `desk-order-ready-${viewport}`);

      await page.goto(`/dealer/orders/${f.id}/pick`);
      assert.match(await page.locator('main').innerText(), new RegExp(lot.lotNo));
      assert.equal(await page.locator('[data-print]').count(), 1);
      await shoot(page, story, '04-pick-list', 'zh', `desk-pick-${viewport}`);
      await page.goto(`/dealer/orders/${f.id}/note`);
      const note = await page.locator('main').innerText();
      assert.match(note, new RegExp(f.name));
      assert.match(note, /签字/);
      await shoot(page, story, '05-delivery-note', 'zh', `desk-note-${viewport}`);

      // A wrong code: refused with a clear line, the typed code kept, the order unchanged.
      await page.goto(`/dealer/orders/${f.id}`);
      const box = page.locator('[data-test=codes]');
      await box.fill('12345678901234567890123456789012');
      await clickAndLoad(page, page.locator('[data-test=to-DELIVERED]'));
      assert.equal(await status(page), 'READY_FOR_PICKUP');
      assert.match(await page.locator('[data-test=errors]').innerText(), /追溯码/);
      assert.equal(await page.locator('[data-test=codes]').inputValue(), '12345678901234567890123456789012');
      await shoot(page, story, '06-hand-over-refused', 'zh', `desk-order-refused-${viewport}`);
      // The right one, as a barcode gun types it (code + Enter).
      await page.locator('[data-test=codes]').fill('');
      await page.locator('[data-test=codes]').pressSequentially(`${code.code}\n`);
      await clickAndLoad(page, page.locator('[data-test=to-DELIVERED]'));
      assert.equal(await status(page), 'DELIVERED', await pageErrorText(page));
      await shoot(page, story, '07-handed-over', 'zh', `desk-order-delivered-${viewport}`);
    });
    const after = (await dealer.q('query($id: ID!) { lot(id: $id) { unitCodes { code status } } }', { id: lot.id })).lot.unitCodes;
    assert.equal(after.find((c) => c.code === code.code).status, 'SOLD', 'the scanned code is sold');

    // The same pages in English.
    await asOwner(viewport, story, 'en', async (page) => {
      await page.goto('/dealer?status=all');
      await shoot(page, story, '01-desk', 'en', `desk-list-${viewport}`);
      await page.goto(`/dealer/orders/${f.id}`);
      await shoot(page, story, '07-handed-over', 'en', `desk-order-delivered-${viewport}`);
      await page.goto(`/dealer/orders/${f.id}/pick`);
      await shoot(page, story, '04-pick-list', 'en', `desk-pick-${viewport}`);
      await page.goto(`/dealer/orders/${f.id}/note`);
      await shoot(page, story, '05-delivery-note', 'en', `desk-note-${viewport}`);
    });
  });

  test(`desk (${viewport}): a recalled lot in an open order is swapped on the order page`, { timeout: 300_000 }, async () => {
    const story = `swap-${viewport}`;
    const dealer = await api(isOwner);
    const admin = await api((l) => l.role === 'ADMIN');
    const regulator = await api((l) => l.role === 'REGULATOR');
    const farmerLogin = s.server.logins.find((l) => l.role === 'FARMER');
    const farmer = await api((l) => l === farmerLogin);
    const me = await dealer.q('{ me { dealer { id } } }');
    const offers = (await dealer.q('query($d: ID!) { dealer(id: $d) { offers { id sku { id product { category } } } } }', { d: me.me.dealer.id })).dealer.offers;
    const offer = offers.find((x) => x.sku.product.category === 'FERTILISER');
    // A second sellable lot of the same pack, received at the store, to swap to.
    const lotNo = `SWAP-${viewport}-${Date.now() % 100000}`;
    const produced = new Date(Date.now() - 30 * 864e5).toISOString().slice(0, 10);
    const inspected = new Date(Date.now() - 28 * 864e5).toISOString().slice(0, 10);
    const expires = new Date(Date.now() + (viewport === 'phone' ? 1500 : 1600) * 864e5).toISOString().slice(0, 10);
    const made = await admin.q('mutation($i: LotInput!) { lotCreate(input: $i) { lot { id } errors { message } } }', {
      i: { skuId: offer.sku.id, lotNo, producedOn: produced, expiresOn: expires, inspection: { reportNo: `JC-${lotNo}`, lab: '荆门市农产品质量检测中心', result: 'CONFORMANT', date: inspected } },
    });
    assert.deepEqual(made.lotCreate.errors, []);
    // A swap takes stock at the place the recalled units lie: receive it wherever the pack is.
    const rows = (await dealer.q('query($d: ID!) { stock(dealerId: $d) { location { id } sku { id } } }', { d: me.me.dealer.id })).stock;
    const places = [...new Set(rows.filter((x) => x.sku.id === offer.sku.id).map((x) => x.location.id))];
    for (const [i, locationId] of places.entries()) {
      const got = await dealer.q('mutation($i: ReceiveInput!) { stockReceive(input: $i) { errors { message } } }', {
        i: { dealerId: me.me.dealer.id, locationId, lotId: made.lotCreate.lot.id, quantity: 20, unitCostFen: 8000, supplier: { name: '湖北宜化化工股份有限公司', licenceNo: '(鄂)XK13-001-00118', contact: '0717-1234567' }, sourceDocument: `RK-${lotNo}-${i}` },
      });
      assert.deepEqual(got.stockReceive.errors, []);
    }
    let orderGid;
    let id;
    let held;
    await asOwner(viewport, story, 'zh', async (page) => {
      // The desk is open when the order comes in: the list shows it without a reload.
      await page.goto('/dealer?status=all');
      const marker = await page.evaluate(() => { window.__notReloaded = true; return true; });
      assert.ok(marker);
      // The demo farmer orders it (through the API); the lot it got is recalled.
      const set = await farmer.q('mutation($o: ID!, $q: Int!) { cartSet(offerId: $o, quantity: $q) { errors { message } } }', { o: offer.id, q: 2 });
      assert.deepEqual(set.cartSet.errors, []);
      const placed = await farmer.q('mutation($i: OrderPlaceInput!, $k: String!) { orderPlace(input: $i, idempotencyKey: $k) { orders { id } errors { message } } }', {
        i: { default: { deliveryMode: 'PICKUP', paymentMethod: 'CASH_ON_DELIVERY' } },
        k: `swap-${viewport}-${Date.now()}`,
      });
      assert.deepEqual(placed.orderPlace.errors, []);
      orderGid = placed.orderPlace.orders[0].id;
      id = localId(orderGid);
      held = (await dealer.q(ORDER_Q, { id: orderGid })).order.lines[0].allocations[0].lot;
      const r = await regulator.q('mutation($l: ID!, $r: String!) { lotRecall(lotId: $l, reason: $r) { errors { message } } }', { l: held.id, r: '抽检不合格：总氮含量不足' });
      assert.deepEqual(r.lotRecall.errors, []);

      await page.locator(`[data-test=desk-order][data-order="${id}"]`).waitFor({ timeout: 45_000 });
      assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the list changed in place');
      assert.ok(await page.locator('[data-live-note]').isVisible(), 'the new-orders note shows');
      assert.ok(await page.locator('nav.menu [data-live=orders_new]').isVisible(), 'the menu counts new orders');
      await shoot(page, story, '00-desk-live', 'zh', `desk-list-live-${viewport}`);
      await page.goto('/dealer?flagged=1');
      await page.locator(`[data-test=desk-order][data-order="${id}"]`).waitFor();
      await page.goto(`/dealer/orders/${id}`);
      const banner = await page.locator('[data-test=recall-banner]').first().innerText();
      assert.match(banner, new RegExp(held.lotNo), 'the banner names the recalled lot');
      assert.match(banner, /总氮含量不足/, 'and the reason');
      await shoot(page, story, '01-recalled', 'zh', `desk-order-recalled-${viewport}`);
      await clickAndLoad(page, page.locator('[data-test=swap]'));
      assert.equal(await page.locator('[data-test=recall-banner]').count(), 0, await pageErrorText(page));
      assert.equal(await page.locator('[data-test=swap]').count(), 0);
      await shoot(page, story, '02-swapped', 'zh', `desk-order-swapped-${viewport}`);
    });
    const after = (await dealer.q(ORDER_Q, { id: orderGid })).order;
    assert.equal(after.flagged, false);
    const reserved = after.lines[0].allocations.filter((a) => a.status === 'RESERVED');
    assert.ok(reserved.length > 0 && reserved.every((a) => a.lot.id !== held.id), `reserved now: ${JSON.stringify(reserved)}`);
    await asOwner(viewport, story, 'en', async (page) => {
      await page.goto(`/dealer/orders/${id}`);
      await shoot(page, story, '02-swapped', 'en', `desk-order-swapped-${viewport}`);
    });
  });
}

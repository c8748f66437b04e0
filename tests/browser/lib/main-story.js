// The farmer's main story through the pages: sign up, search 稻飞虱, open a product, add to the
// cart, check out with pick-up at the village station, see the order, and see it turn
// CONFIRMED by itself when the dealer confirms it through the API.

import assert from 'node:assert/strict';
import { withPhone } from './fixture.js';
import { screenshot } from './browser.js';
import { dealerTransition, client, myOrders, localId } from './api.js';
import {
  checkout,
  orderLinks,
  signUp,
  submitSignUp,
  randomPhone,
  search,
  openProduct,
  addToCart,
  orderIdFromUrl,
  orderStatus,
  waitForOrderStatus,
  pageErrorText,
} from './pages.js';

// 三桥村 (沙洋镇) is served only by the county store, whose owner has a demo login.
export const VILLAGE = '三桥村';
// Non-restricted rice planthopper products of the demo (the third, 毒死蜱, is restricted use).
const PLANTHOPPER_PRODUCTS = [/吡蚜酮/, /噻虫嗪/];

export async function mainStory(s, story, { serviceWorkers = 'allow', lang = 'zh' } = {}) {
  const phone = randomPhone();
  const password = 'test-farmer-2026';
  await withPhone(s, story, { serviceWorkers, lang }, async (page, context) => {
    // Signed out home.
    await page.goto('/');
    await screenshot(page, story, '01-home-signed-out', lang);

    // Sign up, picking a village.
    await signUp(page, { displayName: `测试农户${phone.slice(-4)}`, phone, password, village: VILLAGE });
    await screenshot(page, story, '02-signup', lang);
    await submitSignUp(page);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'nz_session');
    assert.ok(session, `sign-up sets nz_session; cookies: ${cookies.map((c) => c.name).join(', ')}`);
    assert.ok(session.httpOnly, 'nz_session is HttpOnly');
    assert.equal(session.sameSite, 'Lax', 'nz_session is SameSite=Lax');
    if (new URL(page.url()).pathname !== '/') await page.goto('/');
    const registrations = await page.evaluate(async () =>
      'serviceWorker' in navigator ? (await navigator.serviceWorker.getRegistrations()).length : 0,
    );
    if (serviceWorkers === 'block') {
      assert.equal(registrations, 0, 'with service workers blocked, none is registered');
    }
    await screenshot(page, story, '03-home', lang);

    // Search.
    await search(page, '稻飞虱');
    await screenshot(page, story, '04-find', lang);

    // A product.
    const picked = await openProduct(page, PLANTHOPPER_PRODUCTS);
    assert.ok(
      PLANTHOPPER_PRODUCTS.some((re) => re.test(picked.text)),
      `the 稻飞虱 results include 吡蚜酮 or 噻虫嗪; picked "${picked.text}"`,
    );
    const productText = await page.locator('body').innerText();
    assert.match(productText, /PD\d{8}/, 'the product page shows its registration number');
    await screenshot(page, story, '05-product', lang);

    // Into the cart.
    await addToCart(page, 1);
    if (new URL(page.url()).pathname !== '/cart') await page.goto('/cart');
    const cartLines = page.locator('form:has([name=qty])');
    assert.ok((await cartLines.count()) > 0, `the cart shows the line (a form with qty): ${await pageErrorText(page)}`);
    await screenshot(page, story, '06-cart', lang);

    // Check out: pick-up at the village station, cash on delivery; a pesticide names crop/target.
    await checkout(page, {
      delivery: 'VILLAGE_STATION',
      onForm: (p) => screenshot(p, story, '07-checkout', lang),
    });
    await screenshot(page, story, '08-placed', lang);

    // The order in /orders.
    await page.goto('/orders');
    await screenshot(page, story, '09-orders', lang);
    const links = await orderLinks(page);
    assert.equal(links.length, 1, `a new farmer's /orders lists exactly the one order; links: ${links.join(', ')}`);
    await page.goto(links[0]);
    const orderId = orderIdFromUrl(page.url());
    assert.ok(orderId, `an order page /orders/{id}: ${page.url()}`);
    assert.equal(await orderStatus(page), 'PLACED', 'the new order shows data-status PLACED');
    const detail = await page.locator('body').innerText();
    assert.match(detail, /三桥村/, 'the order page names the pick-up place (the 三桥村 station)');
    assert.match(detail, /1\d{10}/, "the order page shows the dealer's phone");
    await screenshot(page, story, '10-order-placed', lang);

    // The dealer confirms it through the API; the page changes by itself.
    const status = await page.request.get(`/orders/${encodeURIComponent(orderId)}/status`);
    assert.equal(status.status(), 200, 'GET /orders/{id}/status answers');
    const sj = await status.json();
    assert.equal(String(sj.status).toUpperCase(), 'PLACED', `status JSON: ${JSON.stringify(sj)}`);
    assert.ok(sj.updatedAt, `status JSON has updatedAt: ${JSON.stringify(sj)}`);
    const urlBefore = page.url();
    const farmer = await client(s.server.baseURL, { phone, password });
    const mine = await myOrders(farmer);
    assert.equal(mine.length, 1, `the API lists one order for the new farmer: ${JSON.stringify(mine)}`);
    assert.equal(localId(mine[0].id), String(orderId), `the page's /orders/${orderId} is the API's order ${mine[0].id}`);
    await dealerTransition(s.server.baseURL, s.server.logins_of('DEALER'), { id: mine[0].id }, 'CONFIRMED');
    await waitForOrderStatus(page, 'CONFIRMED', 20_000);
    assert.equal(page.url(), urlBefore);
    await screenshot(page, story, '11-order-confirmed', lang);
  });
}

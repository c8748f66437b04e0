// The pages reachable in the stories, for the accessibility and large-text checks. Ids (product,
// order, field) are read from the pages' own links; the demo farmer gets an order and a cart
// line through the API first so the order and cart pages have something to show.

import { randomUUID } from 'node:crypto';
import { client } from './api.js';

/** Gives the demo farmer one placed order (through the API) and one line in the cart. */
export async function prepareDemoFarmer(baseURL, farmerLogin) {
  const farmer = await client(baseURL, farmerLogin);
  const d = await farmer.q('{ products(first: 5, filter: { text: "尿素" }) { edges { node { id name skus { offers { id } } } } } }');
  const offers = d.products.edges.flatMap((e) => e.node.skus.flatMap((sk) => sk.offers.map((o) => o.id)));
  if (!offers.length) throw new Error('no 尿素 offer for the demo farmer');
  const set = async (offerId, quantity) => {
    const r = await farmer.q('mutation($o: ID!, $q: Int!) { cartSet(offerId: $o, quantity: $q) { errors { code message } } }', { o: offerId, q: quantity });
    if (r.cartSet.errors.length) throw new Error(`cartSet: ${JSON.stringify(r.cartSet.errors)}`);
  };
  await set(offers[0], 1);
  const placed = await farmer.q(
    'mutation($k: String!) { orderPlace(input: { default: { deliveryMode: PICKUP, paymentMethod: CASH_ON_DELIVERY } }, idempotencyKey: $k) { orders { id } errors { code message } } }',
    { k: randomUUID() },
  );
  if (placed.orderPlace.errors.length) throw new Error(`orderPlace: ${JSON.stringify(placed.orderPlace.errors)}`);
  await set(offers[0], 2);
  return { orderId: placed.orderPlace.orders[0].id };
}

export const SIGNED_OUT_PAGES = (traceCode) => [
  { name: 'home-signed-out', path: '/' },
  { name: 'login', path: '/login' },
  { name: 'signup', path: '/signup' },
  ...(traceCode ? [{ name: 'trace', path: `/t/${encodeURIComponent(traceCode)}` }] : []),
];

/**
 * The signed-in farmer's pages. Discovered ids come from the pages (first product of a 稻飞虱
 * search, first order, first field). Each entry: { name, path } or { name, discover(page) }.
 */
export const FARMER_PAGES = [
  { name: 'home', path: '/' },
  { name: 'find', path: '/find?q=%E7%A8%BB%E9%A3%9E%E8%99%B1' },
  { name: 'find-fertiliser', path: '/find?cat=FERTILISER&nutrient=N&sort=price' },
  {
    name: 'product',
    discover: async (page) => firstLink(page, '/find?q=%E7%A8%BB%E9%A3%9E%E8%99%B1', /^\/p\/[^/?#]+$/),
  },
  { name: 'cart', path: '/cart' },
  { name: 'checkout', path: '/checkout' },
  { name: 'orders', path: '/orders' },
  { name: 'order', discover: async (page) => firstLink(page, '/orders', /^\/orders\/[^/?#]+$/) },
  { name: 'fields', path: '/fields' },
  { name: 'field', discover: async (page) => firstLink(page, '/fields', /^\/fields\/[^/?#]+$/) },
  { name: 'scan', path: '/scan' },
  { name: 'me', path: '/me' },
  { name: 'offline', path: '/offline' },
];

async function firstLink(page, from, re) {
  await page.goto(from);
  const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  const hit = hrefs.find((h) => re.test(h));
  if (!hit) throw new Error(`no link matching ${re} on ${from}`);
  return hit;
}

/** Resolves an entry to a path (discovering it when needed). */
export async function pathOf(page, entry) {
  return entry.path ?? (await entry.discover(page));
}

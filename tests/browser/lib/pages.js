// Steps through the pages, written from docs/web.md: routes, form field names, data-test hooks.

import assert from 'node:assert/strict';
import { until } from './browser.js';

/** The submit control of the form that holds `inner` (a selector inside the form). */
export function submitOf(page, inner) {
  return page
    .locator(`form:has(${inner})`)
    .first()
    .locator('button[type=submit], button:not([type]), input[type=submit]')
    .first();
}

/** Sets a form field by name: text input, textarea, select (by value or option text), radio. */
export async function setField(scope, name, value, { optional = false } = {}) {
  const els = scope.locator(`[name="${name}"]`);
  const n = await els.count();
  if (n === 0) {
    if (optional) return false;
    throw new Error(`no form field named "${name}" on ${scope.url ? scope.url() : 'the page'}`);
  }
  const first = els.first();
  const tag = await first.evaluate((e) => e.tagName.toLowerCase());
  const type = (await first.getAttribute('type')) ?? '';
  if (tag === 'select') {
    const options = await first.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
    const hit =
      options.find((o) => o.value === String(value)) ??
      options.find((o) => o.text === String(value)) ??
      options.find((o) => o.text.includes(String(value)));
    if (!hit) throw new Error(`select "${name}" has no option ${value}; options: ${options.map((o) => `${o.value}=${o.text}`).join(', ')}`);
    await first.selectOption(hit.value);
    return true;
  }
  if (type === 'radio' || type === 'checkbox') {
    const target = scope.locator(`[name="${name}"][value="${value}"]`);
    if ((await target.count()) === 0) {
      if (optional) return false;
      const values = await els.evaluateAll((es) => es.map((e) => e.value));
      throw new Error(`no ${type} "${name}" with value ${value}; values: ${values.join(', ')}`);
    }
    await target.first().check({ force: true });
    return true;
  }
  if (type === 'hidden') return true;
  await first.fill(String(value));
  return true;
}

/** The visible message of a page that refused a form (role=alert or .error), or ''. */
export async function pageErrorText(page) {
  const alerts = page.locator('[role=alert], .error, .errors, [data-test=error]');
  const texts = [];
  for (let i = 0; i < Math.min(await alerts.count(), 5); i++) {
    const t = (await alerts.nth(i).innerText().catch(() => '')).trim();
    if (t) texts.push(t);
  }
  return texts.join(' | ');
}

/** Signs in through /login. */
export async function signIn(page, { phone, password }, { next } = {}) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await setField(page, 'phone', phone);
  await setField(page, 'password', password);
  await Promise.all([page.waitForLoadState('load'), submitOf(page, '[name=password]').click()]);
  await page.waitForLoadState('load');
  if (new URL(page.url()).pathname === '/login') {
    throw new Error(`sign-in of ${phone} stayed on /login: ${await pageErrorText(page)}`);
  }
}

/** Signs up a farmer through /signup; village is an option text (e.g. 三桥村) or value. */
export async function signUp(page, { displayName, phone, password, village }) {
  await page.goto('/signup');
  await setField(page, 'display_name', displayName);
  await setField(page, 'phone', phone);
  await setField(page, 'password', password);
  await setField(page, 'village', village);
}

export async function submitSignUp(page) {
  await submitOf(page, '[name=display_name]').click();
  await page.waitForLoadState('load');
  const p = new URL(page.url()).pathname;
  if (p === '/signup') throw new Error(`sign-up stayed on /signup: ${await pageErrorText(page)}`);
}

export function randomPhone() {
  // 139 + 8 digits: a valid-looking mainland mobile number not in the demo (138...).
  return `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

/** Searches with the page's own search form (name=q); falls back to /find?q=. */
export async function search(page, q) {
  const box = page.locator('input[name=q]').first();
  if ((await box.count()) && (await box.isVisible())) {
    await box.fill(q);
    await Promise.all([page.waitForURL(/\/find\?/, { waitUntil: 'load' }), box.press('Enter')]);
  } else {
    await page.goto(`/find?q=${encodeURIComponent(q)}`);
  }
  assert.match(page.url(), /\/find\?/, 'the search lands on /find');
}

/** Product links of the current page (href /p/{id}), with their text. */
export async function productLinks(page) {
  return page.locator('a[href^="/p/"], a[href*="/p/"]').evaluateAll((as) =>
    as
      .map((a) => ({ href: a.getAttribute('href'), text: a.textContent.replace(/\s+/g, ' ').trim() }))
      .filter((l) => /\/p\/[^/?#]+/.test(l.href)),
  );
}

/** Opens the first product whose link text matches one of the patterns (else the first). */
export async function openProduct(page, preferred = []) {
  const links = await productLinks(page);
  assert.ok(links.length > 0, `no product links (a[href^="/p/"]) on ${page.url()}`);
  let pick = null;
  for (const re of preferred) {
    pick = links.find((l) => re.test(l.text));
    if (pick) break;
  }
  pick ??= links[0];
  await page.goto(pick.href);
  assert.match(new URL(page.url()).pathname, /^\/p\//);
  return pick;
}

/** Clicks the first add-to-cart of the product page (optionally setting qty first). */
export async function addToCart(page, qty) {
  const btn = page.locator('[data-test=add-to-cart]').first();
  await btn.waitFor({ state: 'visible' });
  if (qty != null) {
    const form = page.locator('form:has([data-test=add-to-cart])').first();
    if ((await form.locator('[name=qty]').count()) > 0) await setField(form, 'qty', qty);
  }
  await Promise.all([page.waitForLoadState('load'), btn.click()]);
  await page.waitForLoadState('load');
}

/** The order id in a /orders/{id} URL, or null. */
export function orderIdFromUrl(url) {
  const m = /\/orders\/([^/?#]+)/.exec(new URL(url).pathname);
  return m && m[1] !== 'status' ? decodeURIComponent(m[1]) : null;
}

/** The upper-cased data-status of [data-test=order-status] (first on the page), or null. */
export async function orderStatus(page) {
  const el = page.locator('[data-test=order-status]').first();
  if ((await el.count()) === 0) return null;
  return ((await el.getAttribute('data-status')) ?? '').toUpperCase();
}

/**
 * Waits, without the test reloading, until the page shows the order status (the page's own
 * light poll may reload it).
 */
export async function waitForOrderStatus(page, status, timeoutMs = 15_000) {
  await page.locator(`[data-test=order-status][data-status="${status}" i]`).first().waitFor({ state: 'attached', timeout: timeoutMs });
}

/** The page's language (html lang). */
export async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.lang || '');
}

/** Waits until the page's service worker is active and controls it. */
export async function serviceWorkerReady(page, timeoutMs = 20_000) {
  return page.evaluate(async (ms) => {
    if (!('serviceWorker' in navigator)) return { error: 'no navigator.serviceWorker' };
    const ready = navigator.serviceWorker.ready.then((r) => ({ scope: r.scope, state: r.active && r.active.state }));
    const timeout = new Promise((res) => setTimeout(() => res({ error: `not ready after ${ms} ms` }), ms));
    return Promise.race([ready, timeout]);
  }, timeoutMs);
}

/** Whether a URL (path) is in one of the page's Cache Storage caches. */
export async function isCached(page, urlPath) {
  return page.evaluate(async (p) => {
    if (!('caches' in self)) return false;
    for (const k of await caches.keys()) {
      const c = await caches.open(k);
      if (await c.match(p, { ignoreSearch: true })) return k;
    }
    return false;
  }, urlPath);
}

export async function waitCached(page, urlPath, timeoutMs = 30_000) {
  return until(() => isCached(page, urlPath), { timeoutMs, what: `${urlPath} in Cache Storage` });
}

/**
 * From the cart to a placed order: checkout with the given delivery (default the village
 * station) and cash on delivery; names crop and target when the form asks (pesticides).
 * onForm(page) runs with the filled form before placing (for a screenshot).
 */
export async function checkout(page, { delivery = 'VILLAGE_STATION', station, crop = '水稻', target = '稻飞虱', onForm } = {}) {
  const toCheckout = page.locator('a[href="/checkout"], a[href^="/checkout?"]').first();
  if (await toCheckout.count()) {
    await Promise.all([page.waitForURL(/\/checkout/), toCheckout.click()]);
  } else {
    await page.goto('/checkout');
  }
  await setField(page, 'delivery', delivery);
  if (delivery === 'VILLAGE_STATION') {
    const st = page.locator('[name=station]');
    if ((await st.count()) > 0) {
      const kind = await st.first().evaluate((e) => `${e.tagName}:${e.type}`);
      if (/^SELECT/.test(kind)) {
        if (station) await setField(page, 'station', station);
        else if (!(await st.first().inputValue())) {
          const firstValue = await st.first().locator('option').evaluateAll((os) => os.map((o) => o.value).find((v) => v));
          await st.first().selectOption(firstValue);
        }
      } else if (/radio/.test(kind)) {
        const checked = await page.locator('[name=station]:checked').count();
        if (!checked) await st.first().check({ force: true });
      }
    }
  }
  if (delivery === 'HOME') await setField(page, 'address', '港口村三组12号', { optional: true });
  await setField(page, 'payment', 'CASH_ON_DELIVERY');
  if ((await page.locator('[name=crop]').count()) > 0) await setField(page, 'crop', crop);
  if ((await page.locator('[name=target]').count()) > 0) await setField(page, 'target', target);
  assert.ok((await page.locator('[name=idem]').count()) > 0, 'the checkout form carries an idem key');
  assert.ok((await page.locator('[name=csrf]').count()) > 0, 'the checkout form carries csrf');
  if (onForm) await onForm(page);
  const place = page.locator('[data-test=place-order]').first();
  await Promise.all([page.waitForLoadState('load'), place.click()]);
  await page.waitForLoadState('load');
  const p = new URL(page.url()).pathname;
  assert.doesNotMatch(p, /^\/checkout/, `placing the order left /checkout: ${await pageErrorText(page)}`);
}

/** The hrefs of /orders/{id} links on the current page. */
export async function orderLinks(page) {
  return page
    .locator('a[href^="/orders/"]')
    .evaluateAll((as) => [...new Set(as.map((a) => a.getAttribute('href')).filter((h) => /^\/orders\/[^/?#]+$/.test(h)))]);
}

// The dealer console's shelves, prices, credit and ledgers, on a phone (360x740) and a shop PC
// (1366x768): adjust stock with a reason, ship to a village station and receive it there,
// change a price and withdraw the offer, a repayment (refused when more than is owed, what was
// typed kept), download both ledgers and read the files; axe-core on every page in zh and en,
// with a screenshot of each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useSuite } from './lib/fixture.js';
import { phoneContext, screenshot, watchPage, horizontalOverflow } from './lib/browser.js';
import { expectAccessible } from './lib/axe.js';
import { signIn, htmlLang } from './lib/pages.js';

const s = useSuite();
const DESKTOP = { width: 1366, height: 768 };
const PAGES = ['shelves', 'offers', 'credit', 'ledgers'];

function owner() {
  const l = s.server.logins.find((l) => l.role === 'DEALER' && l.dealerRole === 'OWNER')
    ?? s.server.login('DEALER');
  assert.ok(l, 'serve --demo prints a dealer owner login');
  return l;
}

async function open(device, lang) {
  const context = device === 'phone'
    ? await phoneContext(s.browser, s.server.baseURL, { lang })
    : await s.browser.newContext({
      baseURL: s.server.baseURL,
      viewport: DESKTOP,
      locale: lang === 'en' ? 'en-US' : 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      acceptDownloads: true,
    });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  // The live counters (/dealer/live.json) belong to the order desk; answered empty here so a
  // page's own errors stand out.
  await page.route('**/dealer/live.json', (r) => r.fulfill({ json: {} }));
  const problems = watchPage(page);
  if (lang === 'en') await page.goto('/?lang=en');
  await signIn(page, owner(), { next: '/dealer/shelves' });
  return { context, page, problems };
}

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.locator(selector).first().click()]);
  await page.waitForLoadState('load');
}

async function notice(page) {
  const n = page.locator('[data-test=notice]');
  await n.waitFor();
  return (await n.textContent()).trim();
}

for (const device of ['phone', 'desktop']) {
  // One sign-in per device (sign-in is rate limited per phone number): the pages in zh, then in
  // en (the switch is remembered), then the stories in zh.
  test(`dealer console (${device}): every page in zh and en, then the stories`, { timeout: 420_000 }, async (t) => {
    const { context, page, problems } = await open(device, 'zh');
    try {
      for (const lang of ['zh', 'en']) {
        await page.goto(`/dealer/shelves?lang=${lang}`);
        for (const p of PAGES) {
          await t.test(`${lang} /dealer/${p}: axe, width, screenshot`, async () => {
            problems.length = 0;
            const resp = await page.goto(`/dealer/${p}`);
            assert.equal(resp.status(), 200, `/dealer/${p}`);
            assert.match(await htmlLang(page), lang === 'en' ? /^en/i : /^zh/i);
            await screenshot(page, `dealer-${device}`, p, lang);
            await expectAccessible(page, `dealer-${p}-${device}-${lang}`);
            const o = await horizontalOverflow(page);
            const wide = await page.evaluate(() => document.documentElement.scrollWidth);
            assert.ok(wide <= (device === 'phone' ? 360 : 1366), `/dealer/${p} is ${wide} px wide on a ${device}: ${JSON.stringify(o)}`);
            assert.deepEqual(problems, [], `/dealer/${p}: no script errors or 5xx: ${problems.join('; ')}`);
          });
        }
      }
      await page.goto('/dealer/shelves?lang=zh');
      // Adjust with a reason: first refused without a note (the choice kept), then done.
      await page.goto('/dealer/shelves');
      const stockValue = await page.locator('#adj-stock option').nth(1).getAttribute('value');
      const row = page.locator(`tr[data-stock="${stockValue}"] [data-test=on-hand]`);
      const before = Number(await row.textContent());
      await page.selectOption('#adj-stock', stockValue);
      await page.fill('#adj-delta', '-1');
      await page.selectOption('#adj-reason', 'COUNT');
      await page.locator('#adj-note').evaluate((e) => { e.removeAttribute('required'); e.value = ''; });
      await submit(page, '[data-test=adjust]');
      assert.match(await page.locator('[role=alert]').first().textContent(), /不能为空/);
      assert.equal(await page.locator('#adj-stock').inputValue(), stockValue, 'the choice is kept');
      assert.equal(await page.locator('#adj-delta').inputValue(), '-1');
      await page.fill('#adj-note', '盘点少一袋');
      await submit(page, '[data-test=adjust]');
      assert.match(await notice(page), /库存已调整/);
      assert.equal(Number(await page.locator(`tr[data-stock="${stockValue}"] [data-test=on-hand]`).textContent()), before - 1);
      await screenshot(page, `dealer-${device}`, 'adjusted', 'zh');

      // Ship one unit to a village station, then receive it there.
      const ship = page.locator('form[action="/dealer/shelves/ship"]');
      await ship.locator('select[name=stock]').selectOption(stockValue);
      const stations = await ship.locator('select[name=to] option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
      assert.ok(stations.length >= 2, 'the store and at least one station');
      await ship.locator('select[name=to]').selectOption(stations[stations.length - 1]);
      await ship.locator('input[name=quantity]').fill('1');
      await submit(page, '[data-test=ship]');
      assert.match(await notice(page), /已调出/);
      await submit(page, '[data-test=receive]');
      assert.match(await notice(page), /已收货入库/);
      await screenshot(page, `dealer-${device}`, 'received', 'zh');

      // Change a price (yuan to fen exactly), then withdraw the offer.
      await page.goto('/dealer/offers');
      const first = page.locator('tr[data-offer]:has([data-test=withdraw])').first();
      const offerId = await first.getAttribute('data-offer');
      const mine = page.locator(`tr[data-offer="${offerId}"]`);
      await mine.locator('input[name=price]:not([type=hidden])').fill('12.3');
      await submit(page, `tr[data-offer="${offerId}"] [data-test=set-price]`);
      assert.match(await notice(page), /价格已更新/);
      assert.equal((await mine.locator('[data-test=price]').textContent()).trim(), '¥12.30');
      await submit(page, `tr[data-offer="${offerId}"] [data-test=withdraw]`);
      assert.match(await notice(page), /已下架/);
      assert.equal(await mine.locator('[data-test=reoffer]').count(), 1);
      await screenshot(page, `dealer-${device}`, 'withdrawn', 'zh');

      // A repayment: open credit for the demo farmer, then a repayment of more than is owed is
      // refused with the amount kept.
      await page.goto('/dealer/credit');
      const openForm = page.locator('form:has([data-test=open-credit])');
      await openForm.locator('input[name=phone]').fill('13800000006');
      await openForm.locator('input[name=limit]').fill('800');
      await submit(page, '[data-test=open-credit]');
      assert.match(await notice(page), /额度已设定/);
      await page.locator('a[href^="/dealer/credit?farmer="]').first().click();
      await page.waitForLoadState('load');
      await page.fill('#amount', '50');
      await submit(page, '[data-test=repay]');
      assert.match(await page.locator('[role=alert]').first().textContent(), /还款金额超过欠款/);
      assert.equal(await page.locator('#amount').inputValue(), '50');
      await screenshot(page, `dealer-${device}`, 'repayment-refused', 'zh');

      // Both ledgers download as Excel CSV with a header row and the number column.
      await page.goto('/dealer/ledgers');
      for (const [kind, header] of [['purchase', '日期,产品名称'], ['sale', '日期,单号,产品名称']]) {
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.locator(`[data-test=csv-${kind}]`).click(),
        ]);
        const file = await download.path();
        const bytes = await readFile(file);
        assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${kind}: UTF-8 with a BOM`);
        const text = bytes.subarray(3).toString('utf8');
        const lines = text.trim().split('\r\n');
        assert.ok(lines[0].startsWith(header), `${kind} header: ${lines[0]}`);
        assert.ok(lines.length >= 2, `${kind}: the demo's lines are in it`);
        if (kind === 'sale') assert.match(lines[1], /,(SALE|ORDER)-\d+,/);
      }
      // A bad date is explained on the page.
      await page.goto('/dealer/ledgers?from=2026-02-30');
      assert.match(await page.locator('[data-test=date-error]').first().textContent(), /2026-02-30/);
      await screenshot(page, `dealer-${device}`, 'ledgers-bad-date', 'zh');
    } finally {
      await context.close();
    }
  });
}

// Ad-hoc look at the console pages (not part of the suite): phone and desktop, zh and en,
// viewport-sized shots of the top of each page plus a scrolled one.
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { signIn } from './lib/pages.js';
const server = await startServer();
const browser = await launchBrowser();
const owner = server.logins.find((l) => l.role === 'DEALER' && l.dealerRole === 'OWNER');
const pages = ['/dealer', '/dealer/till', '/dealer/receiving', '/dealer/shelves', '/dealer/offers', '/dealer/credit', '/dealer/ledgers'];
for (const [dev, vp] of [['phone', { width: 360, height: 740 }], ['desktop', { width: 1366, height: 768 }]]) {
  const ctx = await browser.newContext({ viewport: vp, baseURL: server.baseURL });
  const page = await ctx.newPage();
  await signIn(page, owner);
  for (const lang of ['zh', 'en']) {
    for (const p of pages) {
      await page.goto(`${p}?lang=${lang}`);
      const name = p.replaceAll('/', '_');
      await page.screenshot({ path: `/tmp/shots/${dev}-${lang}${name}.png` });
      const h = await page.evaluate(() => document.documentElement.scrollHeight);
      if (h > vp.height * 2) {
        await page.evaluate((y) => window.scrollTo(0, y), Math.floor(h / 2));
        await page.screenshot({ path: `/tmp/shots/${dev}-${lang}${name}-mid.png` });
      }
      console.log(dev, lang, p, 'height', h);
    }
  }
  await ctx.close();
}
await browser.close();
await server.stop();

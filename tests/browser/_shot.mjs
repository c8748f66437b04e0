import { chromium } from 'playwright-core';
const [,, url, out, phone, pw, parts] = process.argv;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--headless','--disable-gpu'] });
const ctx = await b.newContext({ viewport: { width: 360, height: 740 }, locale: url.includes('lang=en') ? 'en-US' : 'zh-CN' });
const p = await ctx.newPage();
await p.goto('http://127.0.0.1:18431/login');
await p.fill('[name=phone]', phone); await p.fill('[name=password]', pw);
await Promise.all([p.waitForLoadState('load'), p.locator('form:has([name=password]) button[type=submit]').click()]);
await p.goto('http://127.0.0.1:18431' + url);
const h = await p.evaluate(() => document.documentElement.scrollHeight);
const n = Number(parts || 3);
await p.setViewportSize({ width: 360, height: h });
for (let i = 0; i < n; i++) {
  const y = Math.floor(h * i / n);
  await p.screenshot({ path: `${out}-${i}.png`, clip: { x: 0, y, width: 360, height: Math.min(Math.ceil(h / n), h - y) } });
}
console.log(h, p.url());
await b.close();

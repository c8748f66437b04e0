// Debian's Chromium driven by playwright-core (which downloads no browser), phone contexts,
// screenshots, and small page helpers.

import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { outDir } from './server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PHONE = { width: 360, height: 740 };

// A cheap Android phone's Chrome.
const ANDROID_UA =
  'Mozilla/5.0 (Linux; Android 12; Redmi 10A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36';

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking flags Chromium keeps calling out, and the closed
    // network here refuses those connections.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    timeout: 60_000,
  });
}

/**
 * A phone context: 360x740, touch, zh-CN (or en-US with lang 'en'), China time.
 * opts.serviceWorkers: 'allow' (default) or 'block'.
 */
export async function phoneContext(browser, baseURL, opts = {}) {
  const lang = opts.lang ?? 'zh';
  const context = await browser.newContext({
    baseURL,
    viewport: PHONE,
    screen: PHONE,
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    userAgent: ANDROID_UA,
    locale: lang === 'en' ? 'en-US' : 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    serviceWorkers: opts.serviceWorkers ?? 'allow',
  });
  context.setDefaultTimeout(opts.timeout ?? 15_000);
  context.setDefaultNavigationTimeout(opts.navigationTimeout ?? 30_000);
  return context;
}

function slug(s) {
  return String(s)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Full-page screenshot into out/screenshots/<story>-<step>-<lang>.png; returns its path. */
export async function screenshot(page, story, step, lang = 'zh') {
  const dir = path.join(outDir, 'screenshots');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${slug(story)}-${slug(step)}-${slug(lang)}.png`);
  // A full-page shot keeps the viewport 740 px tall, so the fixed tab bar would be drawn in the
  // middle of the page, over content. Grow the viewport to the page for the shot instead.
  const vp = page.viewportSize();
  const h = await page.evaluate(() => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)).catch(() => 0);
  if (vp && h > vp.height) {
    await page.setViewportSize({ width: vp.width, height: Math.min(h, 8000) });
    try {
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled', timeout: 30_000 });
    } finally {
      await page.setViewportSize(vp);
    }
  } else {
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled', timeout: 30_000 });
  }
  return file;
}

/** The page's horizontal overflow: scrollWidth of the document and the widest offenders. */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const de = document.documentElement;
    const vw = de.clientWidth;
    const offenders = [];
    for (const el of document.body ? document.body.querySelectorAll('*') : []) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0) {
        const id = el.id ? `#${el.id}` : '';
        const cls = el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
        offenders.push(`${el.tagName.toLowerCase()}${id}${cls} right=${Math.round(r.right)}`);
      }
    }
    return { scrollWidth: de.scrollWidth, clientWidth: vw, offenders: offenders.slice(0, 8) };
  });
}

/** Collects console errors and failed requests of a page, for failure messages. */
export function watchPage(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return problems;
}

/** Goes to a path and checks the status (a 4xx/5xx page is a failure unless allowed). */
export async function visit(page, url, { okStatuses } = {}) {
  const resp = await page.goto(url, { waitUntil: 'load' });
  const status = resp ? resp.status() : 0;
  if (resp && !(okStatuses ?? []).includes(status) && status >= 400) {
    const body = (await page.content()).slice(0, 600);
    throw new Error(`GET ${url} answered ${status}: ${body}`);
  }
  return resp;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value, or throws after timeoutMs with the last value. */
export async function until(fn, { timeoutMs = 15_000, intervalMs = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/**
 * The platform fonts Chromium really used to draw the Chinese text under the first element
 * matching selector (CDP CSS.getPlatformFontsForNode): [{ familyName, glyphCount }]. A page
 * drawn without a CJK font shows boxes; this names the font instead of guessing from pixels.
 */
export async function platformFonts(page, selector = 'body') {
  const marked = await page.evaluate((sel) => {
    const root = document.querySelector(sel);
    if (!root) return 0;
    let n = 0;
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const own = [...el.childNodes].some((c) => c.nodeType === 3 && /[\u4e00-\u9fff]/.test(c.nodeValue));
      if (own && n < 40) {
        el.setAttribute('data-cjk-probe', '');
        n++;
      }
    }
    return n;
  }, selector);
  if (!marked) return [];
  const cdp = await page.context().newCDPSession(page);
  const fonts = new Map();
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector: '[data-cjk-probe]' });
    for (const nodeId of nodeIds) {
      try {
        const r = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
        for (const f of r.fonts) fonts.set(f.familyName, (fonts.get(f.familyName) ?? 0) + f.glyphCount);
      } catch {
        // not rendered
      }
    }
  } finally {
    await cdp.detach().catch(() => {});
    await page.evaluate(() => document.querySelectorAll('[data-cjk-probe]').forEach((e) => e.removeAttribute('data-cjk-probe')));
  }
  return [...fonts].map(([familyName, glyphCount]) => ({ familyName, glyphCount }));
}

/** Throws when Chinese text on the page is drawn with no CJK font (boxes). */
export async function expectCjkFont(page) {
  const fonts = await platformFonts(page);
  if (fonts.length === 0) return fonts; // no Chinese text on the page
  const cjk = fonts.filter((f) => /CJK|Hei|Song|Kai|Ming|WenQuanYi|Droid Sans Fallback|Source Han/i.test(f.familyName));
  if (cjk.length === 0) {
    throw new Error(`Chinese text is drawn without a CJK font (boxes): fonts used: ${JSON.stringify(fonts)}`);
  }
  return fonts;
}

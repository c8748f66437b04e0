// The harness itself: the server starts with the demo, its logins are read, Chromium launches,
// Chinese renders, and the pages that exist before the web app (trace page, /graphql) load.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, withPhone } from './lib/fixture.js';
import { screenshot, expectCjkFont } from './lib/browser.js';
import { client } from './lib/api.js';

const s = useSuite();

test('the demo server prints a login per role and every login works through the API', async () => {
  const roles = new Set(s.server.logins.map((l) => l.role));
  for (const r of ['ADMIN', 'REGULATOR', 'AGRONOMIST', 'DEALER', 'FARMER']) {
    assert.ok(roles.has(r), `no ${r} login in the demo output:\n${s.server.stdout}`);
  }
  for (const l of s.server.logins) {
    const c = await client(s.server.baseURL, l);
    const me = await c.q('{ me { phone role } }');
    assert.equal(me.me.phone, l.phone);
    assert.equal(me.me.role, l.role);
  }
});

test('chromium opens the trace page of a demo code (zh), with Chinese glyphs', async () => {
  assert.ok(s.server.traceCodes.length > 0, `serve --demo printed no trace page:\n${s.server.stdout}`);
  await withPhone(s, 'harness-trace', {}, async (page) => {
    const code = s.server.traceCodes[0];
    const resp = await page.goto(`/t/${encodeURIComponent(code)}`);
    assert.equal(resp.status(), 200);
    const text = await page.locator('body').innerText();
    assert.match(text, /[\u4e00-\u9fff]/, 'the trace page shows Chinese');
    // A CJK font is installed and used, so Chinese is not drawn as boxes.
    const fonts = await expectCjkFont(page);
    console.log(`# fonts of the trace page: ${JSON.stringify(fonts)}`);
    await screenshot(page, 'harness', 'trace', 'zh');
  });
});

test('chromium opens /graphql (the query console)', async () => {
  await withPhone(s, 'harness-graphiql', {}, async (page) => {
    const resp = await page.goto('/graphql', { waitUntil: 'domcontentloaded' });
    assert.equal(resp.status(), 200);
    await page.waitForLoadState('load').catch(() => {});
    await screenshot(page, 'harness', 'graphiql', 'zh');
  });
});

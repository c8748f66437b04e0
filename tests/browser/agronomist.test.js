// The agronomist's console on a phone (360x740): the demo agronomist signs in and lands on the
// county's fields; uploads a lab's CSV with a good and a bad row (the check names the bad cell's
// line and column and writes nothing), then a good file that is imported; makes a draft for a
// tested field with no recommendation, edits it (the note is kept), publishes it; the farmer
// then sees it in the farmer app and puts its basket in the cart. axe-core on every console page
// in zh and en, with a screenshot of each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, withPhone } from './lib/fixture.js';
import { screenshot, phoneContext, watchPage, horizontalOverflow } from './lib/browser.js';
import { expectAccessible } from './lib/axe.js';
import { client, localId } from './lib/api.js';
import { signIn, setField, pageErrorText } from './lib/pages.js';

const s = useSuite();
const story = 'agronomist';
// The demo farmer 陈大山 (13800000006) owns 村东水田, a rice field with a plan and a soil test.
const FIELD = '村东水田';

const HEAD = 'farmer_phone,field_name,sampled_on,depth_cm,lab,lab_sample_id,ph,organic_matter_g_kg,alkali_n_mg_kg,olsen_p_mg_kg,available_k_mg_kg';

function csvFile(rows) {
  return { name: 'lab.csv', mimeType: 'text/csv', buffer: Buffer.from(`${HEAD}\n${rows.join('\n')}\n`, 'utf8') };
}

/** Uploads a CSV on the import page and waits for the check page. */
async function uploadCsv(page, file) {
  await page.goto('/agronomist/soil-tests');
  await page.locator('input[type=file][name=file]').first().setInputFiles(file);
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-test=csv-check]').click()]);
  await page.waitForLoadState('load');
}

async function soilTestCount(agronomist, fieldGid) {
  return (await agronomist.q('query($f: ID!) { soilTests(fieldId: $f) { id } }', { f: fieldGid })).soilTests.length;
}

test('an agronomist imports a lab CSV, drafts, edits and publishes; the farmer orders the basket', { timeout: 300_000 }, async () => {
  const farmerLogin = s.server.logins.find((l) => l.role === 'FARMER' && l.phone === '13800000006') ?? s.server.login('FARMER');
  const agroLogin = s.server.login('AGRONOMIST');
  assert.ok(agroLogin && farmerLogin, 'the demo prints an agronomist and a farmer login');
  const farmerApi = await client(s.server.baseURL, farmerLogin);
  const agroApi = await client(s.server.baseURL, agroLogin);
  const field = (await farmerApi.q('{ myFields { id name } }')).myFields.find((f) => f.name === FIELD);
  assert.ok(field, `the demo farmer has ${FIELD}`);
  const fieldId = localId(field.id);
  let recId;

  await withPhone(s, story, {}, async (page) => {
    // Sign-in lands on the console.
    await signIn(page, agroLogin);
    assert.equal(new URL(page.url()).pathname, '/agronomist', 'an agronomist lands on the console');
    await screenshot(page, story, '01-fields', 'zh');
    assert.ok((await page.locator(`[data-field="${fieldId}"]`).count()) === 1, `the county's fields list ${FIELD}`);
    const o = await horizontalOverflow(page);
    assert.ok(o.scrollWidth <= o.clientWidth, `no page-wide sideways scroll at 360 px: ${JSON.stringify(o)}`);

    // A file with a good and a bad row: the check names line 3, column G (ph), writes nothing.
    const before = await soilTestCount(agroApi, field.id);
    const stamp = Date.now() % 1e6;
    await uploadCsv(page, csvFile([
      `13800000006,${FIELD},2026-11-20,0-20,县土肥站,WEB-${stamp}-1,5.8,23.5,120,11.2,90`,
      `13800000006,${FIELD},2026-11-20,0-20,县土肥站,WEB-${stamp}-2,abc,23.5,120,11.2,90`,
    ]));
    await screenshot(page, story, '02-csv-check-bad', 'zh');
    const errors = await page.locator('[data-test=csv-errors]').innerText();
    assert.match(errors, /第\s*3\s*行/, `the error names line 3: ${errors}`);
    assert.match(errors, /列\s*G/, `the error names column G: ${errors}`);
    assert.equal(await page.locator('[data-test=bad-cell]').count(), 1, 'one bad cell is marked');
    assert.equal(await page.locator('[data-test=csv-import]').count(), 0, 'a file with a bad row offers no import');
    assert.equal(await soilTestCount(agroApi, field.id), before, 'the check wrote nothing');

    // The good file: checked, then imported.
    await uploadCsv(page, csvFile([`13800000006,${FIELD},2026-11-20,0-20,县土肥站,WEB-${stamp}-3,5.8,23.5,120,11.2,90`]));
    await screenshot(page, story, '03-csv-check-good', 'zh');
    assert.match(await page.locator('[data-test=csv-summary]').innerText(), /1/);
    await Promise.all([page.waitForURL(/imported=1/), page.locator('[data-test=csv-import]').click()]);
    assert.ok(await page.locator('[data-test=imported]').isVisible(), 'the import says how many were imported');
    assert.equal(await soilTestCount(agroApi, field.id), before + 1, 'the good row is stored');

    // The field, among "tested, no recommendation"; a draft for its plan.
    await page.goto('/agronomist?only=no-advice');
    const row = page.locator(`[data-field="${fieldId}"]`);
    assert.equal(await row.count(), 1, `${FIELD} is tested and has no recommendation`);
    await Promise.all([page.waitForURL(`**/agronomist/fields/${fieldId}`), row.locator(`a[href="/agronomist/fields/${fieldId}"]`).click()]);
    await screenshot(page, story, '04-field', 'zh');
    assert.ok((await page.locator('[data-test=soil-test]').count()) >= 2, 'the field page lists both soil tests');
    await Promise.all([page.waitForURL(/\/agronomist\/recommendations\/\d+/), page.locator('[data-test=make-draft]').first().click()]);
    recId = new URL(page.url()).pathname.split('/').pop();
    await screenshot(page, story, '05-draft', 'zh');
    assert.ok((await page.locator('[data-test=step-section]').count()) > 0, `the draft shows its steps; ${await pageErrorText(page)}`);
    const body = await page.locator('main').innerText();
    assert.doesNotMatch(body, /"formula"|\{"/, 'the steps are a readable list, not JSON');
    assert.ok((await page.locator('[data-test=basket-total]').count()) === 1, 'the draft shows the basket with its total');

    // Edit: coefficients and a note; the note is kept, the draft computed again.
    const note = '分两次施用：基肥 60%，分蘖期追肥 40%。';
    await setField(page, 'cc_n', '0.6');
    await setField(page, 'cc_p', '1.9');
    await setField(page, 'cc_k', '1.0');
    await setField(page, 'notes_zh', note);
    await Promise.all([page.waitForURL(/done=edited/), page.locator('[data-test=save-edit]').click()]);
    await screenshot(page, story, '06-draft-edited', 'zh');
    assert.equal(await page.locator('[name=notes_zh]').inputValue(), note, 'the note is kept');
    assert.equal(await page.locator('[name=cc_n]').inputValue(), '0.6', 'the coefficients are kept');

    // The queue has it, under its township.
    await page.goto('/agronomist/queue');
    await screenshot(page, story, '07-queue', 'zh');
    assert.ok((await page.locator(`a[href="/agronomist/recommendations/${recId}"]`).count()) === 1, 'the queue lists the draft');

    // The county's parameters page: rice's coefficients with their source, and the two-person
    // rule switched on.
    await page.goto('/agronomist/parameters');
    await screenshot(page, story, '07b-parameters', 'zh');
    await page.locator('[data-test=param-crop]').selectOption('RICE');
    await setField(page, 'cc_n', '0.6');
    await setField(page, 'cc_p', '1.2');
    await setField(page, 'cc_k', '0.6');
    await setField(page, 'source_zh', '2025 年县土肥站 3414 试验');
    await setField(page, 'source_en', 'county station 3414 trials, 2025');
    await page.locator('[data-test=source-date]').fill('2025-11-20');
    await Promise.all([page.waitForURL(/done=saved/), page.locator('[data-test=save-params]').click()]);
    assert.match(await page.locator('[data-test=params]').innerText(), /3414/, 'the parameters are listed with their source');
    const rule = page.locator('[data-test=review-rule] input[type=checkbox]').first();
    await rule.check();
    await Promise.all([page.waitForURL(/done=rule/), page.locator('[data-test=review-rule] button').first().click()]);
    assert.ok(await page.locator('[data-test=review-rule] input[type=checkbox]').first().isChecked(), 'the two-person rule is on');
    await screenshot(page, story, '07c-parameters-set', 'zh');

    // The author cannot publish alone now: the page says a second agronomist must approve.
    await page.goto(`/agronomist/recommendations/${recId}`);
    assert.equal(await page.locator('[data-test=needs-approval]').count(), 1, 'the draft says it needs a second agronomist');
    await Promise.all([page.waitForLoadState('load'), page.locator('[data-test=publish]').click()]);
    await page.waitForLoadState('load');
    assert.match(await page.locator('[data-test=draft-error]').first().innerText(), /另一位农技人员/, 'publishing alone is refused');
    await Promise.all([page.waitForLoadState('load'), page.locator('[data-test=approve]').click()]);
    await page.waitForLoadState('load');
    assert.match(await page.locator('[data-test=draft-error]').first().innerText(), /不能审核/, 'the author cannot approve');
  });

  // A second agronomist of the county approves.
  const adminApi = await client(s.server.baseURL, s.server.login('ADMIN'));
  const county = (await agroApi.q('{ me { counties { id } } }')).me.counties[0].id;
  const second = { phone: '13900000051', password: 'agronomist-b-2026' };
  const made = await adminApi.q('mutation($i: UserCreateInput!) { userCreate(input: $i) { user { id } errors { message } } }',
    { i: { phone: second.phone, password: second.password, displayName: '县农技站 李娟', role: 'AGRONOMIST', countyIds: [county] } });
  assert.deepEqual(made.userCreate.errors, [], 'the admin adds a second agronomist');
  await withPhone(s, `${story}-second`, {}, async (page) => {
    await signIn(page, second);
    await page.goto(`/agronomist/recommendations/${recId}`);
    await Promise.all([page.waitForURL(/done=approved/), page.locator('[data-test=approve]').click()]);
    assert.ok(await page.locator('[data-test=approved]').isVisible(), 'the approval is shown');
    await screenshot(page, story, '07d-approved', 'zh');
  });

  await withPhone(s, `${story}-publish`, {}, async (page) => {
    await signIn(page, agroLogin);
    // Publish.
    await page.goto(`/agronomist/recommendations/${recId}`);
    await Promise.all([page.waitForURL(/done=published/), page.locator('[data-test=publish]').click()]);
    assert.match(await page.locator('[data-test=rec-status]').innerText(), /已发布/);
    assert.ok((await page.locator('[data-test=revise]').count()) === 1, 'a published version can be revised');
    await screenshot(page, story, '08-published', 'zh');

    // Regional formulas for rice in the county: computed, shown with their fields, published.
    await page.goto('/agronomist/formulas?crop=RICE');
    await setField(page, 'k', '2');
    await Promise.all([page.waitForLoadState('load'), page.locator('[data-test=compute-formulas]').click()]);
    await page.waitForLoadState('load');
    await screenshot(page, story, '09-formulas', 'zh');
    assert.ok((await page.locator('[data-test=formula]').count()) > 0, `formulas are shown; ${await pageErrorText(page)}`);
    assert.ok((await page.locator('[data-test=formula-field]').count()) > 0, 'each formula lists the fields it serves');
    await Promise.all([page.waitForLoadState('load'), page.locator('[data-test=publish-formula]').first().click()]);
    await page.waitForLoadState('load');
    assert.ok((await page.locator('[data-test=formula] .tag:not(.warn)').count()) > 0);
  });

  // The rule back off, so the other tests of this file publish alone.
  const off = await agroApi.q('mutation($c: ID!) { countySettingsSet(countyId: $c, requireSecondApproval: false) { settings { requireSecondApproval } } }', { c: county });
  assert.equal(off.countySettingsSet.settings.requireSecondApproval, false);

  // The farmer sees the published recommendation and puts its basket in the cart.
  await withPhone(s, `${story}-farmer`, {}, async (page) => {
    await signIn(page, farmerLogin);
    await page.goto(`/fields/${fieldId}`);
    await page.goto(`/fields/${fieldId}?lang=en`);
    await screenshot(page, story, '10-farmer-field', 'en');
    await page.goto(`/fields/${fieldId}?lang=zh`);
    await screenshot(page, story, '10-farmer-field', 'zh');
    assert.match(await page.locator('main').innerText(), /分两次施用/, 'the farmer sees the agronomist\'s note');
    assert.ok((await page.locator('[data-test=applications] tbody tr').count()) >= 2, 'the farmer sees when to apply what');
    const order = page.locator('[data-test=order-basket]');
    assert.equal(await order.count(), 1, 'the published recommendation has "order this"');
    await Promise.all([page.waitForURL(/\/cart/), order.click()]);
    await screenshot(page, story, '11-cart', 'zh');
    const cart = (await farmerApi.q('{ cart { lines { quantity } } }')).cart;
    assert.ok(cart.lines.length > 0, 'the basket is in the cart');
  });
});

/** The console's pages, found from the story's data (a field, a draft or published one). */
async function consolePages(page) {
  await page.goto('/agronomist');
  const fieldHref = await page.locator('[data-test=field-row] a[href^="/agronomist/fields/"]').first().getAttribute('href');
  await page.goto(fieldHref);
  let recHref = await page.locator('[data-test=rec-link]').first().getAttribute('href').catch(() => null);
  if (!recHref) {
    await Promise.all([page.waitForURL(/recommendations/), page.locator('[data-test=make-draft]').first().click()]);
    recHref = new URL(page.url()).pathname;
  }
  return [
    { name: 'fields', path: '/agronomist' },
    { name: 'fields-no-advice', path: '/agronomist?only=no-advice' },
    { name: 'field', path: fieldHref },
    { name: 'soil-import', path: '/agronomist/soil-tests' },
    { name: 'soil-check', upload: true },
    { name: 'queue', path: '/agronomist/queue' },
    { name: 'recommendation', path: recHref },
    { name: 'formulas', path: '/agronomist/formulas?crop=RICE' },
    { name: 'parameters', path: '/agronomist/parameters' },
  ];
}

for (const lang of ['zh', 'en']) {
  test(`accessibility and screenshots of the agronomist's console (${lang})`, { timeout: 300_000 }, async (t) => {
    const context = await phoneContext(s.browser, s.server.baseURL, { lang });
    const page = await context.newPage();
    const problems = watchPage(page);
    try {
      if (lang === 'en') await page.goto('/login?lang=en');
      await signIn(page, s.server.login('AGRONOMIST'));
      for (const entry of await consolePages(page)) {
        await t.test(`${lang} ${entry.name}`, async () => {
          problems.length = 0;
          if (entry.upload) {
            await uploadCsv(page, csvFile([`13800000006,${FIELD},2026-11-21,0-20,县土肥站,A11Y-${lang},9.9x,23.5,120,11.2,90`]));
          } else {
            const resp = await page.goto(entry.path);
            assert.ok(resp.status() < 400, `GET ${entry.path} answered ${resp.status()}`);
          }
          assert.match(await page.locator('html').getAttribute('lang'), lang === 'en' ? /^en/i : /^zh/i);
          await screenshot(page, 'agronomist-a11y', entry.name, lang);
          const o = await horizontalOverflow(page);
          assert.ok(o.scrollWidth <= o.clientWidth, `no page-wide sideways scroll at 360 px: ${JSON.stringify(o)}`);
          await expectAccessible(page, `agronomist-${entry.name}-${lang}`);
          assert.deepEqual(problems, [], 'no script errors or 5xx');
        });
      }
    } finally {
      await context.close();
    }
  });
}

test('a farmer gets 403 on the console, a signed-out browser goes to sign-in and back', { timeout: 60_000 }, async () => {
  const context = await phoneContext(s.browser, s.server.baseURL, { lang: 'zh' });
  const page = await context.newPage();
  try {
    const resp = await page.goto('/agronomist/queue');
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/agronomist/queue');
    assert.ok(resp.status() < 400);
    await setField(page, 'phone', s.server.login('AGRONOMIST').phone);
    await setField(page, 'password', s.server.login('AGRONOMIST').password);
    await Promise.all([page.waitForURL('**/agronomist/queue'), page.locator('form:has([name=password]) button[type=submit]').first().click()]);
  } finally {
    await context.close();
  }
  await withPhone(s, `${story}-403`, {}, async (page) => {
    await signIn(page, s.server.login('FARMER'));
    const r = await page.goto('/agronomist');
    assert.equal(r.status(), 403);
  });
});

// listings_console.test.mjs: the console's offers and requests page in a real
// browser against a real tallyd. A coordinator posts an offer and a request
// for members (attested), finds them by text and kind, hides one on this node
// and shows it again (named by community and id), renews one and withdraws
// the other; a title that would show reversed (a right-to-left override) is
// refused with the API's sentence. The page on a phone in Spanish, and a
// viewer who sees the listings but no button. Screenshots at desktop and
// phone sizes, each page checked with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, newPage, login, open, settle, shot, axeCheck, textOf, PHONE } from './harness.mjs';
import en from '../../web/js/i18n/en.js';

let env;
before(async () => {
	env = await start();
});
after(async () => {
	if (env) await env.stop();
});

const T = { timeout: 180000 };
const BIKES = 'I can fix bikes';
const LIFT = 'A lift to the clinic on Tuesdays';
const say = (key, vars) => en[key].replace(/\{(\w+)\}/g, (all, k) => (vars[k] === undefined ? all : String(vars[k])));

async function waitTitles(page, want) {
	await page.waitForFunction((w) => {
		const got = [...document.querySelectorAll('main table.data tbody tr td:nth-child(3) strong')]
			.map((e) => e.textContent.trim()).sort();
		return JSON.stringify(got) === JSON.stringify(w);
	}, { polling: 100 }, [...want].sort());
}

async function postListing(page, { member, kind, title, description = '', days = '30', visibility = 'federation' }) {
	await page.select('select[name="lst-member"]', member);
	await page.select('select[name="lst-post-kind"]', kind);
	await page.locator('input[name="lst-title"]').fill(title);
	if (description) await page.locator('input[name="lst-description"]').fill(description);
	await page.locator('input[name="lst-days"]').fill(days);
	await page.select('select[name="lst-visibility"]', visibility);
	await page.click('main form[aria-labelledby="lst-post-h"] button[type="submit"]');
}

async function search(page, { text = '', kind = '', hidden = false } = {}) {
	// Emptied with the keyboard: filling with '' sends no input event.
	await page.click('input[name="lst-text"]', { count: 3 });
	await page.keyboard.press('Backspace');
	if (text) await page.type('input[name="lst-text"]', text);
	await page.select('select[name="lst-kind"]', kind);
	const box = await page.$('main form[role="search"] .check input');
	if ((await box.evaluate((b) => b.checked)) !== hidden) await box.click();
	await page.click('main form[role="search"] button[type="submit"]');
	await settle(page);
}

test('a coordinator posts, finds, hides and shows, renews and withdraws listings', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'ana');
	assert.ok(await page.$('nav a[href="#/listings"]'), 'the page is in the navigation');
	await open(page, env.base, 'listings');
	assert.equal(await textOf(page, 'main h1'), en['listings.title']);
	assert.equal(await textOf(page, 'main p.empty'), en['listings.none']);

	await postListing(page, { member: 'bob', kind: 'offer', title: BIKES, description: 'Brakes, gears and punctures' });
	await page.waitForSelector('main form[aria-labelledby="lst-post-h"] [role="status"]');
	assert.equal(await textOf(page, 'main form[aria-labelledby="lst-post-h"] [role="status"]'),
		say('listings.posted', { title: BIKES, at: 'bob@Riverside' }));
	await postListing(page, { member: 'carol', kind: 'request', title: LIFT, days: '14', visibility: 'community' });
	await waitTitles(page, [BIKES, LIFT]);
	assert.match(await textOf(page, 'main table.data tbody'), /bob@Riverside.*carol@Riverside|carol@Riverside.*bob@Riverside/);

	// A title that shows reversed: the API's refusal, nothing posted.
	await postListing(page, { member: 'bob', kind: 'offer', title: 'fix \u202esekib' });
	await page.waitForFunction(() => /EUTF8/.test(document.querySelector('main form[aria-labelledby="lst-post-h"] [role="alert"]')?.textContent || ''));
	assert.match(await textOf(page, 'main form[aria-labelledby="lst-post-h"] [role="alert"]'), /U\+202E/);
	await waitTitles(page, [BIKES, LIFT]);

	// Found by text and by kind.
	await search(page, { text: 'BIKES' });
	await waitTitles(page, [BIKES]);
	await search(page, { kind: 'request' });
	await waitTitles(page, [LIFT]);
	await search(page);
	await waitTitles(page, [BIKES, LIFT]);
	assert.deepEqual(await axeCheck(page), [], 'listings page');
	await shot(page, 'listings-console-desktop');

	// Hidden here: gone from the search, shown with the hidden ones, then back.
	await page.click(`main button[aria-label="${say('listings.hide_label', { title: BIKES })}"]`);
	await waitTitles(page, [LIFT]);
	assert.equal(await textOf(page, 'main [role="status"]'), say('listings.hidden_done', { title: BIKES }));
	await search(page, { hidden: true });
	await waitTitles(page, [BIKES, LIFT]);
	assert.match(await textOf(page, 'main table.data tbody'), new RegExp(en['listings.hidden']));
	await shot(page, 'listings-console-hidden-desktop');
	await page.click(`main button[aria-label="${say('listings.show_label', { title: BIKES })}"]`);
	await page.waitForFunction((s) => document.querySelector('main [role="status"]')?.textContent.trim() === s,
		{ polling: 100 }, say('listings.shown', { title: BIKES }));
	await search(page);
	await waitTitles(page, [BIKES, LIFT]);

	// Renewed, then withdrawn (the confirmation is accepted): gone.
	await page.click(`main button[aria-label="${say('listings.renew_label', { title: LIFT })}"]`);
	await page.waitForFunction((s) => document.querySelector('main [role="status"]')?.textContent.trim() === s,
		{ polling: 100 }, say('listings.renewed', { title: LIFT }));
	await page.click(`main button[aria-label="${say('listings.withdraw_label', { title: BIKES })}"]`);
	await waitTitles(page, [LIFT]);
	assert.equal(await textOf(page, 'main [role="status"]'), say('listings.withdrawn', { title: BIKES }));
	const held = JSON.parse(String(env.tally('--json', 'listing', 'list')));
	assert.deepEqual(held.listings.map((l) => l.title), [LIFT]);
	assert.deepEqual(page.errors, []);
	assert.deepEqual(page.foreign, []);
	await page.close();
});

test('the listings page on a phone, in Spanish, and a viewer without buttons', T, async () => {
	const page = await newPage(env, { viewport: PHONE, lang: 'es-ES' });
	await login(page, env.base, 'ana');
	await open(page, env.base, 'listings');
	assert.equal(await textOf(page, 'main h1'), 'Ofertas y peticiones');
	await waitTitles(page, [LIFT]);
	assert.deepEqual(await axeCheck(page), [], 'listings page, phone');
	const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
	assert.equal(wide, false, 'nothing wider than the phone');
	await shot(page, 'listings-console-phone');
	assert.deepEqual(page.errors, []);
	await page.close();

	const vera = await newPage(env);
	await login(vera, env.base, 'vera');
	await open(vera, env.base, 'listings');
	await waitTitles(vera, [LIFT]);
	assert.equal(await vera.$('main table.data button'), null, 'no buttons for a viewer');
	assert.equal(await vera.$('main form[aria-labelledby="lst-post-h"]'), null, 'no post form for a viewer');
	assert.equal(await vera.$('main form[role="search"] .check'), null, 'no hidden ones for a viewer');
	await shot(vera, 'listings-console-viewer-desktop');
	assert.deepEqual(vera.errors, []);
	await vera.close();
});

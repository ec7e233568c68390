// member_listings.test.mjs: offers and requests across two communities, each
// with its own tallyd (Riverside dials Hilltop; both admit the other and
// keep a trust line). alice, on her phone, posts an offer that her browser
// signs after checking the node's draft; hana, a member of Hilltop signed in
// at her own node, finds it there, answers it (a signed answer with a
// message), and the payment page opens filled in with alice@Riverside and a
// memo naming the listing, which she signs; alice withdraws the offer (signed again) and it disappears from
// both nodes. Screenshots at each step.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, memberSignedIn, goHash as go, shot, textOf, MEMBER_PASS, PHONE } from './harness.mjs';

const env = await start({ hilltop: true });
after(() => env.stop());

const T = { timeout: 120000 };
const TITLE = 'I can fix bikes 7f3a';

async function sign(page) {
	await page.waitForSelector('form.sign input[name="sign-passphrase"]');
	await page.locator('form.sign input[name="sign-passphrase"]').fill(MEMBER_PASS);
	await page.click('form.sign button[type="submit"]');
}

// The listings a member's session finds with this text, through the API.
const search = (page, text) => page.evaluate(async (x) =>
	(await (await fetch('/api/v1/me/listings?text=' + encodeURIComponent(x))).json()).listings, text);

async function until(what, fn, ms = 20000) {
	const end = Date.now() + ms;
	for (;;) {
		if (await fn()) return;
		if (Date.now() > end) throw new Error('not within ' + ms + ' ms: ' + what);
		await new Promise((r) => setTimeout(r, 200));
	}
}

test('an offer signed in the browser is found and answered at another community, then withdrawn', T, async () => {
	const alice = await memberSignedIn(env, 'alice', { viewport: PHONE });
	const hana = await memberSignedIn({ browser: env.browser, base: env.hill.base, data: env.hill.data }, 'hana');

	// alice posts an offer for every community: she checks what she signs.
	await go(alice, '#/listings/new');
	await alice.select('select[name="ml-new-kind"]', 'offer');
	await alice.locator('input[name="ml-title"]').fill(TITLE);
	await alice.locator('textarea[name="ml-description"]').fill('Saturdays, bring the bike');
	await alice.select('select[name="ml-visibility"]', 'federation');
	await shot(alice, 'member-listing-new-phone');
	await alice.click('main form button[type="submit"]');
	await alice.waitForSelector('[data-terms-shown]');
	assert.equal(await textOf(alice, '[data-title]'), TITLE);
	await alice.click('details.terms-bytes summary');
	assert.match(await textOf(alice, '[data-terms]'), /^9cc420[0-9a-f]+$/);
	await shot(alice, 'member-listing-check-phone');
	await sign(alice);
	await alice.waitForSelector('[data-posted]', { timeout: 30000 });
	await shot(alice, 'member-listing-posted-phone');
	const [mine] = await search(alice, TITLE);
	assert.equal(mine.at, 'alice@Riverside');
	assert.equal(mine.attested, false);

	// hana finds it at her own node (gossiped) and answers it.
	await until('the offer at Hilltop', async () => (await search(hana, TITLE)).length === 1);
	await go(hana, '#/listings');
	await hana.locator('input[name="ml-text"]').fill('fix bikes');
	await hana.select('select[name="ml-kind"]', 'offer');
	await hana.click('main form[role="search"] button[type="submit"]');
	await hana.waitForSelector(`[data-listing="${mine.id}"]`);
	assert.equal(await textOf(hana, `[data-listing="${mine.id}"] [data-at]`), 'alice@Riverside');
	await shot(hana, 'member-listing-found-elsewhere');
	await hana.click(`[data-listing="${mine.id}"] [data-respond]`);
	await hana.waitForSelector('[data-response="pay"] [data-answer]');
	await shot(hana, 'member-listing-respond');
	// Her answer first (alice learns who is coming), then the payment.
	await hana.locator('textarea[name="ml-message"]').fill('Coming on Saturday');
	await hana.click('[data-answer]');
	await hana.waitForSelector('[data-terms-shown]');
	await sign(hana);
	await hana.waitForSelector('[data-answered="sent"]', { timeout: 30000 });
	await hana.click('[data-response] [data-go]');
	await hana.waitForSelector('input[name="to"]');
	assert.equal(await hana.$eval('input[name="to"]', (e) => e.value), 'alice@Riverside');
	const memo = await hana.$eval('input[name="memo"]', (e) => e.value);
	assert.equal(memo, `Re: ${TITLE} [listing ${mine.id}@Riverside]`);
	await hana.locator('input[name="hours"]').fill('1');
	await hana.click('main form button[type="submit"]');
	await hana.waitForSelector('[data-terms-shown]');
	assert.match(await textOf(hana, '[data-terms-shown]'), new RegExp(`listing ${mine.id}@Riverside`));
	await shot(hana, 'member-listing-pay-check');
	await sign(hana);
	await hana.waitForSelector('[data-state]', { timeout: 30000 });
	// The payment, as hana's node keeps it, carries the memo naming the listing.
	await until('the payment in hana\'s statement', async () => JSON.stringify(
		await hana.evaluate(async () => (await (await fetch('/api/v1/me/statement')).json()))).includes(mine.id));
	await shot(hana, 'member-listing-paid');

	// alice withdraws it, signed again; it disappears from both nodes.
	await go(alice, '#/listings/mine');
	await alice.waitForSelector(`[data-listing="${mine.id}"] [data-withdraw]`);
	await shot(alice, 'member-listing-mine-phone');
	await alice.click(`[data-listing="${mine.id}"] [data-withdraw]`);
	await alice.waitForSelector('[data-terms-shown]');
	assert.equal(await textOf(alice, '[data-title]'), 'withdrawn');
	await sign(alice);
	await alice.waitForSelector('[data-changed]', { timeout: 30000 });
	await alice.waitForSelector('[data-none]');
	await shot(alice, 'member-listing-withdrawn-phone');
	assert.deepEqual(await search(alice, TITLE), []);
	await until('the withdrawal at Hilltop', async () => (await search(hana, TITLE)).length === 0);

	for (const p of [alice, hana]) {
		assert.deepEqual(p.errors, []);
		assert.deepEqual(p.foreign, []);
		assert.deepEqual(p.csp, []);
	}
	await alice.close();
	await hana.close();
});

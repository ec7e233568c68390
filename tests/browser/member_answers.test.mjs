// member_answers.test.mjs: answers to listings in the two cases where the
// poster signs first (FORMAT.md 17, API.md "Answers to listings"), on two
// communities each with its own tallyd. bob posts an offer in Riverside;
// alice answers it with a message, signed in her browser; bob sees the
// notice, opens the answer, proposes the exchange to alice from it, and she
// confirms. bob posts a request for every community; hana answers it from
// Hilltop; her node delivers the answer to Riverside's; bob pays
// hana@Hilltop from it, and the payment completes on both nodes, its memo
// (kept by the payer's node) naming the listing. Screenshots at each step.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, memberSignedIn, goHash as go, shot, textOf, MEMBER_PASS, PHONE } from './harness.mjs';

const env = await start({ hilltop: true });
after(() => env.stop());

const T = { timeout: 120000 };

async function sign(page) {
	await page.waitForSelector('form.sign input[name="sign-passphrase"]');
	await page.locator('form.sign input[name="sign-passphrase"]').fill(MEMBER_PASS);
	await page.click('form.sign button[type="submit"]');
}

const api = (page, path) => page.evaluate(async (p) => (await fetch('/api/v1' + p)).json(), path);

async function until(what, fn, ms = 20000) {
	const end = Date.now() + ms;
	for (;;) {
		if (await fn()) return;
		if (Date.now() > end) throw new Error('not within ' + ms + ' ms: ' + what);
		await new Promise((r) => setTimeout(r, 200));
	}
}

// bob's listing with this title: posted with tally, found through his session.
async function post(page, kind, title, fed) {
	env.tally('listing', 'add', '--member', 'bob', kind, '--title', title, ...(fed ? ['--federation'] : []));
	const { listings } = await api(page, '/me/listings?mine=1');
	return listings.find((l) => l.title === title);
}

// A member answers a listing from its card: the message, the terms, the key.
async function answer(page, l, message, want) {
	await go(page, `#/listings/respond/${l.id}?community=${l.community}`);
	await page.waitForSelector('[data-response] textarea[name="ml-message"]');
	await page.locator('textarea[name="ml-message"]').fill(message);
	await page.click('[data-answer]');
	await page.waitForSelector('[data-terms-shown]');
	assert.equal(await textOf(page, '[data-message]'), message);
	await shot(page, 'member-answer-check-' + want);
	await sign(page);
	await page.waitForSelector(`[data-answered="${want}"]`, { timeout: 30000 });
	await shot(page, 'member-answer-sent-' + want);
}

test('an offer answered in its own community: the poster proposes, the responder confirms', T, async () => {
	const bob = await memberSignedIn(env, 'bob');
	const alice = await memberSignedIn(env, 'alice', { viewport: PHONE });
	const offer = await post(bob, '--offer', 'Sewing repairs 41c2', false);
	await answer(alice, offer, 'My coat needs a zip', 'stored');
	assert.equal(await alice.$('[data-go]'), null); // bob proposes: she waits

	// bob's notice, then the answer and his next step.
	await go(bob, '#/notices');
	await bob.waitForSelector('li.notice[data-kind="answer"]');
	assert.match(await textOf(bob, 'li.notice[data-kind="answer"]'), /alice answered your listing “Sewing repairs 41c2”/);
	await shot(bob, 'member-answer-notice');
	await bob.click('li.notice[data-kind="answer"] [data-act]');
	await bob.waitForSelector('[data-answer-from="alice@Riverside"] [data-next="propose"]');
	assert.match(await textOf(bob, '[data-answer-from="alice@Riverside"]'), /My coat needs a zip/);
	await shot(bob, 'member-answers');
	await bob.click('[data-answer-from="alice@Riverside"] [data-next="propose"]');
	await bob.waitForSelector('input[name="receiver"]');
	assert.equal(await bob.$eval('input[name="receiver"]', (e) => e.value), 'alice');
	assert.equal(await bob.$eval('input[name="memo"]', (e) => e.value),
		`Re: Sewing repairs 41c2 [listing ${offer.id}@Riverside]`);
	await bob.locator('input[name="hours"]').fill('1');
	await bob.click('main form button[type="submit"]');
	await bob.waitForSelector('[data-terms-shown]');
	await sign(bob);
	await bob.waitForSelector('[data-proposed]', { timeout: 30000 });
	const link = await bob.$eval('[data-share]', (a) => a.href);

	// alice confirms it, signing in her browser.
	await alice.goto(link, { waitUntil: 'domcontentloaded' });
	await alice.waitForSelector('article.proposal button.primary');
	await alice.click('article.proposal button.primary');
	await sign(alice);
	await alice.waitForSelector('article.proposal .note.ok', { timeout: 30000 });
	await shot(alice, 'member-answer-confirmed-phone');
	const st = await api(alice, '/me/statement');
	assert.ok(JSON.stringify(st).includes(offer.id), 'the exchange names the listing');
	for (const p of [alice, bob]) {
		assert.deepEqual(p.errors, []);
		assert.deepEqual(p.csp, []);
	}
	await alice.close();
	await bob.close();
});

test('a request answered from another community: the poster pays across communities', T, async () => {
	const bob = await memberSignedIn(env, 'bob');
	const hana = await memberSignedIn({ browser: env.browser, base: env.hill.base, data: env.hill.data }, 'hana');
	const request = await post(bob, '--request', 'Lift to the market 9b1e', true);
	await until('the request at Hilltop', async () =>
		(await api(hana, '/me/listings?text=' + encodeURIComponent('market 9b1e'))).listings.length === 1);
	await answer(hana, request, 'I drive there on Fridays', 'sent');

	// The answer reaches Riverside's node; bob pays hana@Hilltop from it.
	await until('the answer at Riverside', async () =>
		(await api(bob, '/me/listings/answers')).answers.some((a) => a.at === 'hana@Hilltop'));
	await go(bob, '#/listings/answers');
	await bob.waitForSelector('[data-answer-from="hana@Hilltop"] [data-next="pay"]');
	await shot(bob, 'member-answers-elsewhere');
	await bob.click('[data-answer-from="hana@Hilltop"] [data-next="pay"]');
	await bob.waitForSelector('input[name="to"]');
	assert.equal(await bob.$eval('input[name="to"]', (e) => e.value), 'hana@Hilltop');
	const memo = await bob.$eval('input[name="memo"]', (e) => e.value);
	assert.equal(memo, `Re: Lift to the market 9b1e [listing ${request.id}@Riverside]`);
	await bob.locator('input[name="hours"]').fill('1');
	await bob.click('main form button[type="submit"]');
	await bob.waitForSelector('[data-terms-shown]');
	await sign(bob);
	// Completed on both nodes: bob's payment page follows it to the end, his
	// statement names the listing, and hana's shows bob's minutes.
	await bob.waitForSelector('[data-state="completed"]', { timeout: 60000 });
	await shot(bob, 'member-answers-paid');
	await until('the payment at Riverside', async () => JSON.stringify(await api(bob, '/me/statement')).includes(request.id));
	await until('the payment at Hilltop', async () => JSON.stringify(await api(hana, '/me/statement')).includes('bob'));
	for (const p of [bob, hana]) {
		assert.deepEqual(p.errors, []);
		assert.deepEqual(p.csp, []);
	}
	await bob.close();
	await hana.close();
});

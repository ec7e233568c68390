// member_exchange.test.mjs: two members on their own devices (two browser
// contexts, member.html with its own Content-Security-Policy): alice proposes
// an exchange that her browser signs after checking the node's terms; bob
// opens the shared link and confirms it, signing in his browser; bob's
// statement shows it, the receipt he downloads passes the page's offline
// check and an altered copy fails it; a phone-sized page in Spanish. Then
// `tally verify` and `tally audit` pass on the data directory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, newPage, shot, textOf, MEMBER_PASS, PHONE } from './harness.mjs';

const env = await start();
after(() => env.stop());

const T = { timeout: 180000 };
const keyDir = join(env.data, 'keys', 'members');
const tmp = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'tally-mx-'));

async function keyOf(name) {
	for (const f of readdirSync(keyDir)) {
		const r = await fetch(env.base + '/api/v1/signin/challenge', { method: 'POST',
			headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key: f.slice(0, 64) }) });
		const j = await r.json();
		if (r.status === 200 && j.member.name === name) return join(keyDir, f);
	}
	throw new Error('no key file of ' + name);
}

// A member signed in on a device of their own (a browser context of its own).
async function signedIn(name, opts = {}) {
	const page = await newPage(env, opts);
	await page.setBypassCSP(false);
	page.csp = [];
	page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.csp.push(m.text()); });
	await page.goto(env.base + '/member.html', { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('main.login form');
	await (await page.$('input[type="file"]')).uploadFile(await keyOf(name));
	await page.locator('input[name="passphrase"]').fill(MEMBER_PASS);
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('header.top', { timeout: 30000 });
	return page;
}

async function go(page, hash) {
	await page.evaluate((h) => { location.hash = h; }, hash);
	await page.waitForFunction(() => !document.querySelector('[data-loading]'), { timeout: 15000 });
}

async function signWith(page, label) {
	await page.waitForSelector('form.sign input[name="sign-passphrase"]');
	await page.locator('form.sign input[name="sign-passphrase"]').fill(MEMBER_PASS);
	await page.click('form.sign button[type="submit"]');
	await page.waitForFunction((l) => !document.querySelector('form.sign button[type="submit"]')
		|| !document.querySelector('form.sign button[type="submit"]').disabled, { timeout: 30000 }, label);
}

test('a proposal signed in one browser, confirmed in another; its receipt checked offline', T, async () => {
	const alice = await signedIn('alice');
	const bob = await signedIn('bob', { viewport: PHONE, lang: 'es-ES' });

	// alice proposes: the page shows the exact terms, then signs them.
	await go(alice, '#/propose');
	await alice.locator('input[name="receiver"]').fill('bob');
	await alice.locator('input[name="hours"]').fill('1');
	await alice.locator('input[name="minutes"]').fill('30');
	await alice.locator('input[name="memo"]').fill('fixed the bike');
	await alice.click('main form button[type="submit"]');
	await alice.waitForSelector('[data-terms-shown]');
	assert.match(await textOf(alice, '[data-terms-shown]'), /bob \(#2\).*1 h 30 min/);
	await alice.click('details.terms-bytes summary');
	assert.match(await textOf(alice, '[data-terms]'), /^98c420[0-9a-f]+$/);
	await shot(alice, 'member-propose-check');
	await signWith(alice);
	await alice.waitForSelector('[data-proposed]', { timeout: 30000 });
	const link = await alice.$eval('[data-share]', (a) => a.href);
	const txid = link.split('/').pop();
	await shot(alice, 'member-proposed');

	// bob opens the shared link on his phone and confirms.
	await bob.goto(link, { waitUntil: 'domcontentloaded' });
	await bob.waitForSelector('article.proposal');
	assert.match(await textOf(bob, 'article.proposal h2'), /alice te ayudó/);
	await bob.click('article.proposal button.primary');
	await shot(bob, 'member-confirm-phone-es');
	await signWith(bob);
	await bob.waitForSelector('article.proposal .note.ok', { timeout: 30000 });
	assert.match(await textOf(bob, 'article.proposal .note.ok'), /Confirmado/);

	// bob's statement shows it; his receipt is checked in the page, offline.
	await go(bob, '#/statement');
	await bob.waitForSelector('table.data');
	assert.match(await textOf(bob, 'table.data'), /alice/);
	await shot(bob, 'member-statement-phone-es');
	const bytes = await bob.evaluate(async (tx) => {
		const r = await fetch('/api/v1/me/receipts/' + tx);
		return r.ok ? Array.from(new Uint8Array(await r.arrayBuffer())) : r.status;
	}, txid);
	assert.ok(Array.isArray(bytes), 'receipt download: ' + bytes);
	const good = join(tmp, 'receipt-' + txid + '.bin');
	writeFileSync(good, Buffer.from(bytes));
	const bad = join(tmp, 'altered.bin');
	const altered = Buffer.from(bytes);
	altered[altered.length - 1] ^= 1;
	writeFileSync(bad, altered);
	await go(alice, '#/receipts');
	await (await alice.$('#receipt-file')).uploadFile(good);
	await alice.waitForSelector('[data-receipt]');
	assert.equal(await alice.$eval('[data-receipt]', (e) => e.dataset.receipt), 'good');
	assert.match(await textOf(alice, '[data-receipt]'), new RegExp(txid));
	await shot(alice, 'member-receipt-good');
	await (await alice.$('#receipt-file')).uploadFile(bad);
	await alice.waitForSelector('[data-receipt="bad"]');
	assert.match(await textOf(alice, '[data-receipt]'), /EPROOF/);
	await shot(alice, 'member-receipt-bad');
	// Paying another community: this node knows none, so the node's refusal
	// is shown and nothing is signed.
	await go(alice, '#/pay');
	await alice.locator('input[name="to"]').fill('hana@Hilltop');
	await alice.locator('input[name="minutes"]').fill('30');
	await alice.locator('input[name="memo"]').fill('tutoring');
	await alice.click('main form button[type="submit"]');
	await alice.waitForSelector('main form .note.error');
	assert.match(await textOf(alice, 'main form .note.error'), /Hilltop/);
	assert.equal(await alice.$('form.sign'), null);
	await shot(alice, 'member-pay-refused');
	// alice's balance: 1:30 from the harness's exchange, and this one.
	await go(alice, '#/');
	await alice.waitForSelector('[data-balance]');
	assert.match(await textOf(alice, '[data-balance]'), /3 h/);
	// bob's session reads only his receipts: carol's exchange is not his.
	const others = await bob.evaluate(async () => (await fetch('/api/v1/me/proposals/' + '0'.repeat(32))).status);
	assert.equal(others, 404);
	await shot(alice, 'member-home-after');
	for (const p of [alice, bob]) {
		assert.deepEqual(p.errors, []);
		assert.deepEqual(p.csp, []);
		assert.deepEqual(p.foreign, []);
	}
	// What the browsers signed passes the command line's checks.
	env.tally('verify');
	env.tally('audit', env.data);
});

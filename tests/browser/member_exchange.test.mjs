// member_exchange.test.mjs: two members on their own devices (two browser
// contexts, member.html with its own Content-Security-Policy): alice proposes
// an exchange that her browser signs after checking the node's terms; bob
// opens the shared link and confirms it, signing in his browser; bob's
// statement shows it, the receipt he downloads passes the page's offline
// check and an altered copy fails it; a phone-sized page in Spanish. Then
// `tally verify` and `tally audit` pass on the data directory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, newPage, login, shot, textOf, memberSignedIn, goHash, MEMBER_PASS, PHONE } from './harness.mjs';

const env = await start();
after(() => env.stop());

const T = { timeout: 180000 };
const tmp = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'tally-mx-'));

const signedIn = (name, opts) => memberSignedIn(env, name, opts);
const go = goHash;

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

// The node's answers as a proxy between it and the browser could alter them:
// tamper(path, method, json, body) runs in the page on each /api/v1 answer and
// gives the JSON the page then sees (terms.js and sodium are at hand).
async function tamperWith(page, fn) {
	await page.evaluate(`(() => {
		if (!window.realFetch) window.realFetch = window.fetch;
		const tamper = ${fn.toString()};
		window.fetch = async (url, opts = {}) => {
			const r = await window.realFetch(url, opts);
			const path = String(url).replace(/^\\/api\\/v1/, '');
			const body = opts.body ? JSON.parse(opts.body) : null;
			const T = await import('/js/lib/terms.js');
			const s = await (await import('/js/lib/sodium.js')).sodium();
			const j = await r.clone().json().catch(() => null);
			const out = await tamper(path, opts.method || 'GET', j, body, T, s);
			return out === undefined ? r : new Response(JSON.stringify(out), { status: 200,
				headers: { 'Content-Type': 'application/json' } });
		};
	})()`);
}

// Exchange terms re-encoded from changed fields (what a proxy that knows the
// format would send, so the bytes agree with the fields).
const reencode = (T, p, change) => {
	const f = { ...p.fields, ...change };
	const terms = T.toHex(T.exchangeTerms({ logId: T.fromHex(f.log_id, 32), txid: T.fromHex(f.txid, 16),
		provider: f.provider, receiver: f.receiver, minutes: f.minutes, category: f.category,
		memoHash: T.fromHex(f.memo_hash, 32), date: f.date }));
	return { ...p, fields: f, terms };
};

test('altered answers: the pages show only the checked fields and refuse to sign', T, async () => {
	const bob = await signedIn('bob', { viewport: PHONE });
	// alice proposes 45 minutes to bob (through a coordinator, with her key at the node).
	const ana = await newPage(env);
	await login(ana, env.base, 'ana');
	const made = await ana.evaluate(async (pass) => {
		const s = await (await fetch('/api/v1/session')).json();
		const r = await fetch('/api/v1/exchanges', { method: 'POST', headers: { 'Content-Type': 'application/json',
			'X-CSRF-Token': s.csrf_token }, body: JSON.stringify({ provider: 'alice', receiver: 'bob', minutes: 45,
			memo: 'painted the door', category: 'garden', attest: false, provider_passphrase: pass }) });
		return [r.status, await r.json()];
	}, MEMBER_PASS);
	assert.equal(made[0], 202, JSON.stringify(made[1]));
	const txid = made[1].txid;
	const pending = async (what) => {
		await go(bob, '#/');
		await go(bob, '#/pending/' + txid);
		await bob.waitForSelector(what === 'ok' ? 'article.proposal dl.terms' : 'article.proposal [data-refused]');
		return textOf(bob, 'article.proposal');
	};
	const confirmOffered = async () => !!(await bob.$('article.proposal button.primary'));

	// Untouched: shown from the fields, with the node's name for the number.
	assert.match(await pending('ok'), /alice \(#1\).*45 min.*painted the door/);
	assert.ok(await confirmOffered());
	await shot(bob, 'member-pending-phone');
	// The amount shown differs from the amount in the terms: refused.
	await tamperWith(bob, (path, m, j) => (path.startsWith('/me/proposals/') ? { ...j, minutes: 5 } : undefined));
	assert.match(await pending('bad'), /does not hold together \(the amount\)/);
	assert.ok(!(await confirmOffered()));
	await shot(bob, 'member-pending-altered-phone');
	// The terms and fields say 600 minutes (consistently), the display 45: refused.
	await tamperWith(bob, new Function('path', 'm', 'j', 'b', 'T', `const reencode = ${reencode};
		return path.startsWith('/me/proposals/') ? reencode(T, j, { minutes: 600 }) : undefined;`));
	assert.match(await pending('bad'), /the amount/);
	assert.doesNotMatch(await textOf(bob, 'article.proposal'), /45 min|10 h/);
	assert.ok(!(await confirmOffered()));
	// The terms name another receiver (carol, #3): not bob's to confirm.
	await tamperWith(bob, new Function('path', 'm', 'j', 'b', 'T', `const reencode = ${reencode};
		return path.startsWith('/me/proposals/') ? reencode(T, j, { receiver: 3 }) : undefined;`));
	assert.match(await pending('bad'), /who was helped/);
	assert.ok(!(await confirmOffered()));
	// Another memo than the one the terms' memo_hash commits to: refused.
	await tamperWith(bob, (path, m, j) => (path.startsWith('/me/proposals/') ? { ...j, memo: 'painted the house' }
		: undefined));
	assert.match(await pending('bad'), /the description/);
	assert.doesNotMatch(await textOf(bob, 'article.proposal'), /painted the house/);
	assert.ok(!(await confirmOffered()));

	// bob proposes: a draft for another member than the one typed is refused.
	await tamperWith(bob, new Function('path', 'm', 'j', 'b', 'T', `const reencode = ${reencode};
		return path === '/me/proposals/draft' ? { ...reencode(T, j, { receiver: 3 }), receiver_name: 'carol' } : undefined;`));
	const propose = async (typed) => {
		await go(bob, '#/');
		await go(bob, '#/propose');
		await bob.locator('input[name="receiver"]').fill(typed);
		await bob.locator('input[name="minutes"]').fill('20');
		await bob.click('main form button[type="submit"]');
		await bob.waitForSelector('main form .note.error');
		assert.match(await textOf(bob, 'main form .note.error'), /differ from what you entered \(who was helped\)/, typed);
		assert.equal(await bob.$('form.sign'), null);
	};
	await propose('alice');
	await propose('#1');
	await shot(bob, 'member-propose-altered-phone');
	// A draft that does not say whom the node resolved the name to: refused too.
	await tamperWith(bob, (path, m, j) => (path === '/me/proposals/draft' ? { ...j, receiver_name: undefined }
		: undefined));
	await propose('alice');

	// A payment: the node's draft (made up here: this node links no other
	// community) must name the community typed, by the log in the terms.
	const own = await bob.evaluate(async () => (await (await fetch('/api/v1/session')).json()).community.id);
	const payDraft = (toLog, community) => new Function('path', 'm', 'j', 'b', 'T', 's', `
		if (path !== '/me/payments/draft') return undefined;
		const own = ${JSON.stringify(own)}, salt = s.randombytes_buf(16);
		const f = { log_id: own, txid: T.toHex(s.randombytes_buf(16)), member: 2, to_log: ${JSON.stringify(toLog)},
			to_name: b.to.split('@')[0], minutes: b.minutes, category: '',
			memo_hash: T.toHex(T.memoHash(s, salt, b.memo)),
			date: Number(new Date().toISOString().slice(0, 10).replaceAll('-', '')),
			expires: Math.floor(Date.now() / 1000) + 600 };
		const terms = T.xprepareTerms({ logId: T.fromHex(f.log_id, 32), txid: T.fromHex(f.txid, 16), member: f.member,
			toLog: T.fromHex(f.to_log, 32), toName: f.to_name, minutes: f.minutes, category: f.category,
			memoHash: T.fromHex(f.memo_hash, 32), date: f.date, expires: f.expires });
		return { terms: T.toHex(terms), fields: f, memo_salt: T.toHex(salt), context: 'tally/xprepare/v1',
			to_community: ${JSON.stringify(community)} };`);
	const pay = async () => {
		await go(bob, '#/');
		await go(bob, '#/pay');
		await bob.locator('input[name="to"]').fill('hana@Hilltop');
		await bob.locator('input[name="minutes"]').fill('30');
		await bob.locator('input[name="memo"]').fill('tutoring');
		await bob.click('main form button[type="submit"]');
		await bob.waitForSelector('main form .note.error, [data-terms-shown]');
		return textOf(bob, 'main');
	};
	const hill = 'ab'.repeat(32);
	await tamperWith(bob, payDraft(hill, { id: hill, name: 'Hilltop' }));
	assert.match(await pay(), /hana@Hilltop \(community key abababab…\)/);
	assert.ok(await bob.$('form.sign'), 'a payment that checks out can be signed');
	await shot(bob, 'member-pay-check-phone');
	await tamperWith(bob, payDraft('cd'.repeat(32), { id: hill, name: 'Hilltop' }));
	assert.match(await pay(), /differ from what you entered \(the other community\)/);
	await tamperWith(bob, payDraft(hill, { id: hill, name: 'Evil' }));
	assert.match(await pay(), /the other community/);
	await tamperWith(bob, payDraft(own, { id: own, name: 'Hilltop' }));
	assert.match(await pay(), /the other community/);
	await tamperWith(bob, payDraft(hill, undefined));
	assert.match(await pay(), /the other community/);
	assert.equal(await bob.$('form.sign'), null);
	assert.deepEqual(bob.errors, []);
});

// member_notices.test.mjs: "Waiting for me" on two members' own devices (two
// browser contexts): bob keeps his notices page open; alice proposes an
// exchange to him, signed in her browser; without reloading, bob's page
// lists it and the menu's badge counts it; "Mark as seen" clears the badge.
// bob chooses a daily email digest: a bad address is refused with a clear
// message, a good one is saved and shown again after the page is reopened
// (this node sends no mail: the page says so).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, shot, textOf, memberSignedIn, goHash, MEMBER_PASS, PHONE } from './harness.mjs';

const env = await start();
after(() => env.stop());

const T = { timeout: 180000 };
const signedIn = (name, opts) => memberSignedIn(env, name, opts);
const go = goHash;

test('a proposal shows up live as a notice; the digest choice is saved', T, async () => {
	const bob = await signedIn('bob', { viewport: PHONE });
	const alice = await signedIn('alice');
	await go(bob, '#/notices');
	await bob.waitForSelector('[data-notices], [data-no-notices]');
	const before = await bob.$$eval('li.notice[data-kind="proposal"]', (l) => l.length);

	// alice proposes to bob, signing in her browser.
	await go(alice, '#/propose');
	await alice.locator('input[name="receiver"]').fill('bob');
	await alice.locator('input[name="hours"]').fill('2');
	await alice.locator('input[name="minutes"]').fill('15');
	await alice.locator('input[name="memo"]').fill('moved the shelves');
	await alice.click('main form button[type="submit"]');
	await alice.waitForSelector('[data-terms-shown]');
	await alice.waitForSelector('form.sign input[name="sign-passphrase"]');
	await alice.locator('form.sign input[name="sign-passphrase"]').fill(MEMBER_PASS);
	await alice.click('form.sign button[type="submit"]');
	await alice.waitForSelector('[data-proposed]', { timeout: 30000 });

	// bob's open page gets it from the event stream, no reload.
	await bob.waitForFunction((n) => document.querySelectorAll('li.notice[data-kind="proposal"]').length > n,
		{ timeout: 30000 }, before);
	const item = await textOf(bob, 'li.notice[data-kind="proposal"]');
	assert.match(item, /alice proposes an exchange with you/);
	assert.match(item, /2 h 15 min/);
	await bob.waitForSelector('nav [data-unseen]');
	await shot(bob, 'member-notices-live-phone');
	await bob.click('[data-mark-seen] button');
	await bob.waitForFunction(() => !document.querySelector('nav [data-unseen]'), { timeout: 15000 });
	assert.equal(await bob.$('li.notice.new'), null);

	// The digest: a bad address is refused, naming the problem; a good one is kept.
	await bob.select('select[name="digest"]', 'daily');
	await bob.locator('input[name="email"]').fill('bob@example.org, eve@example.org');
	await bob.click('main form button[type="submit"]');
	await bob.waitForSelector('main form .note.error');
	assert.match(await textOf(bob, 'main form .note.error'), /email address/);
	await bob.locator('input[name="email"]').fill('');
	await bob.locator('input[name="email"]').fill('bob@example.org');
	await bob.click('main form button[type="submit"]');
	await bob.waitForSelector('main form .note.ok');
	assert.match(await textOf(bob, 'main form .note.ok'), /Saved/);
	assert.match(await textOf(bob, 'main'), /does not send email yet/);
	await shot(bob, 'member-notices-digest-phone');
	await go(bob, '#/');
	await bob.waitForSelector('[data-notices-link]');
	await go(bob, '#/notices');
	await bob.waitForFunction(() => document.querySelector('input[name="email"]').value === 'bob@example.org',
		{ timeout: 15000 });
	assert.equal(await bob.$eval('select[name="digest"]', (s) => s.value), 'daily');
	const kept = await bob.evaluate(async () => (await fetch('/api/v1/me/digest')).json());
	assert.equal(kept.digest, 'daily');
	assert.equal(kept.email, 'bob@example.org');
	await shot(alice, 'member-notices-proposer');
	for (const p of [alice, bob]) {
		assert.deepEqual(p.errors, []);
		assert.deepEqual(p.csp, []);
	}
});

// member_join.test.mjs: a join whose answer is lost. The phone's first
// POST of its new public key reaches the node (the member is recorded) but
// the answer never comes back; the page says so, and when the member sends
// again it sends the same key, which the node answers with the member it
// made: she is in, signed in by signature, recorded once. Another key on the
// spent link is refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { start, newPage, shot, textOf, PHONE } from './harness.mjs';

const env = await start();
after(() => env.stop());

const PASS = 'nina’s own passphrase';

test('a join whose answer was lost is sent again with the same key', { timeout: 120000 }, async () => {
	const host = env.base.replace('http://', '');
	const inv = JSON.parse(String(env.tally('--json', 'member', 'invite', 'nina', '--host', host)));
	const page = await newPage(env, { viewport: PHONE });
	const joinUrl = `${env.base}/api/v1/invites/${inv.token}`;
	let lost = 0;
	await page.setRequestInterception(true);
	page.on('request', async (r) => {
		if (r.isInterceptResolutionHandled()) return;
		if (r.method() === 'POST' && r.url() === joinUrl && lost === 0) {
			// The node gets it and answers; the phone never sees the answer.
			lost = (await fetch(joinUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' },
				body: r.postData() })).status;
			return r.abort('connectionreset');
		}
		return r.continue();
	});
	await page.goto(inv.link, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('input[name="again"]');
	await page.locator('input[name="passphrase"]').fill(PASS);
	await page.locator('input[name="again"]').fill(PASS);
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('main.login [role="alert"]', { timeout: 60000 });
	assert.equal(lost, 201, 'the first join reached the node');
	await shot(page, 'join-answer-lost-phone');
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('main.login button.primary', { timeout: 60000 });
	await page.click('main.login button.primary');
	await page.waitForSelector('header.top');
	assert.match(await textOf(page, 'header.top .me'), /nina/);
	await shot(page, 'join-answer-lost-joined-phone');
	const members = JSON.parse(String(env.tally('--json', 'member', 'list')));
	const list = members.members || members;
	assert.equal(list.filter((m) => m.name === 'nina').length, 1, 'recorded once');
	// Any other key on the spent link: refused.
	const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x;
	const again = await fetch(joinUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ public_key: Buffer.from(other, 'base64url').toString('hex') }) });
	assert.equal(again.status, 404);
	assert.deepEqual(page.errors, []);
});

// member_story.test.mjs: the whole member story on two communities,
// Riverside (this node's console and members' pages) and Hilltop (its peer).
// A coordinator invites erin in the console (the link and its QR code, the
// open invitations, one revoked); erin opens the link on her phone, her
// browser makes her key, she keeps the encrypted key file at the node and is
// signed in by signature; the invitation does not work twice. She proposes an
// exchange (shared as a link with its QR code) that alice confirms in another
// browser, pays hana@Hilltop (both nodes record the payment completed),
// downloads a receipt and checks it in the page. On a second device a device
// link fetches her key file once (a wrong passphrase is said, and the file
// stays in the page), she signs in there, and the link is refused the second
// time. Every entry then passes `tally verify` and `tally audit` on both
// nodes. Each QR code the pages show is decoded (jsQR over the drawn image)
// and must say exactly the link beside it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import {
	start, newPage, login, open, shot, textOf, goHash, memberSignedIn, MEMBER_PASS, PHONE, SOURCE,
} from './harness.mjs';

const env = await start({ hilltop: true });
after(() => env.stop());

const T = { timeout: 240000 };
const ERIN_PASS = 'erin’s own passphrase';
const tmp = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'tally-story-'));

async function signWith(page, pass) {
	await page.waitForSelector('form.sign input[name="sign-passphrase"]');
	await page.locator('form.sign input[name="sign-passphrase"]').fill(pass);
	await page.click('form.sign button[type="submit"]');
}

// An image the page shows has loaded and is not empty (the node's QR code).
const imageLoaded = (page, sel) => page.waitForFunction((s) => {
	const i = document.querySelector(s);
	return i && i.complete && i.naturalWidth > 0;
}, { timeout: 15000, polling: 100 }, sel);

// What the QR code image at sel says: drawn on a canvas 8 times its modules'
// size and read by jsQR (run through the debugging protocol, so the pages'
// own script policy is untouched); null when it reads as no QR code.
const JSQR = readFileSync(join(SOURCE, 'tests', 'browser', 'node_modules', 'jsqr', 'dist', 'jsQR.js'), 'utf8');
async function qrSays(page, sel) {
	await imageLoaded(page, sel);
	if (!(await page.evaluate(() => typeof window.jsQR === 'function'))) await page.evaluate(JSQR);
	return page.$eval(sel, (img) => {
		const n = 8 * Math.max(img.naturalWidth, 45);
		const c = document.createElement('canvas');
		c.width = c.height = n;
		const g = c.getContext('2d');
		g.fillStyle = '#fff';
		g.fillRect(0, 0, n, n);
		g.imageSmoothingEnabled = false;
		g.drawImage(img, 0, 0, n, n);
		const found = window.jsQR(g.getImageData(0, 0, n, n).data, n, n);
		return found ? found.data : null;
	});
}

// The bytes behind a page's download link (a blob: URL).
const bytesOf = (page, sel) => page.$eval(sel, async (a) => Array.from(new Uint8Array(
	await (await fetch(a.href)).arrayBuffer())));

// A cross-community exchange's state on a node, by the command line.
const stateOn = (tally, txid) => JSON.parse(String(tally('--json', 'exchange', 'status', txid))).state;

async function until(what, fn, ms = 30000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error('waited in vain for ' + what);
		await new Promise((r) => setTimeout(r, 200));
	}
}

test('a member invited, on her own devices, across two communities', T, async () => {
	const t0 = Date.now();
	// The coordinator invites erin (and zoe, whose invitation is revoked).
	const ana = await newPage(env);
	await login(ana, env.base, 'ana');
	await open(ana, env.base, 'invites');
	const invite = async (name) => {
		await ana.locator('input[name="invite-name"]').fill(name);
		await ana.locator('input[name="invite-days"]').fill('2');
		await ana.click('form[aria-labelledby="invite-h"] button[type="submit"]');
		await ana.waitForFunction((n) => (document.querySelector('[data-invite-made]') || {}).textContent
			?.includes(n), { polling: 100 }, name);
		await ana.waitForFunction((n) => document.querySelector('[data-open-invites]').textContent.includes(n),
			{ polling: 100 }, name);
		return ana.$eval('[data-invite-made] a[data-share]', (a) => a.href);
	};
	await invite('zoe');
	const link = await invite('erin');
	assert.match(link, /\/member\.html#\/join\/[0-9a-f]{64}$/);
	assert.equal(await qrSays(ana, '[data-invite-made] img.qr'), link);
	await shot(ana, 'story-invite-made');
	await ana.click('button[aria-label="Revoke the invitation for zoe"]');
	await ana.waitForFunction(() => !document.querySelector('[data-open-invites]').textContent.includes('zoe'),
		{ polling: 100 });
	assert.match(await textOf(ana, '[data-open-invites]'), /erin/);
	await shot(ana, 'story-invites-open');

	// erin joins on her phone: her browser makes the key; the encrypted file
	// is kept at the node too; she is signed in by signature.
	const erin = await newPage(env, { viewport: PHONE });
	await erin.goto(link, { waitUntil: 'domcontentloaded' });
	await erin.waitForSelector('input[name="again"]');
	await erin.locator('input[name="passphrase"]').fill(ERIN_PASS);
	await erin.locator('input[name="again"]').fill(ERIN_PASS);
	await erin.click('::-p-text(Also keep my locked key file)');
	await shot(erin, 'story-join-phone');
	await erin.click('main.login button[type="submit"]');
	await erin.waitForSelector('[data-kept-at-node]', { timeout: 60000 });
	assert.match(await textOf(erin, '[data-kept-at-node]'), /keeps your locked key file/);
	const erinFile = await bytesOf(erin, 'a[data-keyfile]');
	assert.equal(erinFile.length, 140);
	await erin.click('main.login button.primary');
	await erin.waitForSelector('header.top');
	assert.match(await textOf(erin, 'header.top .me'), /erin/);
	// The invitation does not work twice, even with another good key.
	const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x;
	const again = await fetch(env.base + '/api/v1/invites/' + link.split('/').pop(), { method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ public_key: Buffer.from(other, 'base64url').toString('hex') }) });
	assert.equal(again.status, 404);

	// erin proposes: she helped alice; the link and its QR code are shared.
	await goHash(erin, '#/propose');
	await erin.locator('input[name="receiver"]').fill('alice');
	await erin.locator('input[name="hours"]').fill('1');
	await erin.locator('input[name="memo"]').fill('walked the dog');
	await erin.click('main form button[type="submit"]');
	await erin.waitForSelector('[data-terms-shown]');
	await signWith(erin, ERIN_PASS);
	await erin.waitForSelector('[data-proposed]', { timeout: 30000 });
	const share = await erin.$eval('[data-share]', (a) => a.href);
	const txid = share.split('/').pop();
	assert.equal(await qrSays(erin, '.share img.qr'), share);
	await shot(erin, 'story-proposed-phone');
	// alice confirms in another browser, on a desktop.
	const alice = await memberSignedIn(env, 'alice');
	await alice.goto(share, { waitUntil: 'domcontentloaded' });
	await alice.waitForSelector('article.proposal button.primary');
	await alice.click('article.proposal button.primary');
	await signWith(alice, MEMBER_PASS);
	await alice.waitForSelector('article.proposal .note.ok', { timeout: 30000 });
	await shot(alice, 'story-confirmed');

	// erin pays hana@Hilltop once Riverside holds Hilltop's log.
	await until('Hilltop\'s log on Riverside', () => JSON.parse(String(env.tally('--json', 'logs'))).logs
		.some((l) => l.community_name === 'Hilltop'));
	await goHash(erin, '#/pay');
	await erin.locator('input[name="to"]').fill('hana@Hilltop');
	await erin.locator('input[name="minutes"]').fill('30');
	await erin.locator('input[name="memo"]').fill('tutoring');
	await erin.click('main form button[type="submit"]');
	await erin.waitForSelector('[data-terms-shown]');
	assert.match(await textOf(erin, '[data-to]'), /hana@Hilltop/);
	await signWith(erin, ERIN_PASS);
	await erin.waitForSelector('[data-state="completed"]', { timeout: 60000 });
	const xtxid = (await erin.evaluate(() => location.hash)).split('/').pop();
	await shot(erin, 'story-paid-phone');
	assert.equal(stateOn(env.tally, xtxid), 'completed');
	await until('the payment completed on Hilltop', () => stateOn(env.hill.tally, xtxid) === 'completed');

	// erin's receipt of the exchange with alice, checked in the page.
	const receipt = await erin.evaluate(async (tx) => {
		const r = await fetch('/api/v1/me/receipts/' + tx);
		return r.ok ? Array.from(new Uint8Array(await r.arrayBuffer())) : r.status;
	}, txid);
	assert.ok(Array.isArray(receipt), 'receipt download: ' + receipt);
	const file = join(tmp, 'receipt-' + txid + '.bin');
	writeFileSync(file, Buffer.from(receipt));
	await goHash(erin, '#/receipts');
	await (await erin.$('#receipt-file')).uploadFile(file);
	await erin.waitForSelector('[data-receipt]');
	assert.equal(await erin.$eval('[data-receipt]', (e) => e.dataset.receipt), 'good');
	env.tally('receipt', 'verify', file);

	// A second device: a device link made on the phone fetches the file once.
	await goHash(erin, '#/devices');
	await erin.waitForSelector('[data-keyfile-kept]');
	await erin.click('[data-keyfile-kept] button.primary');
	await erin.waitForSelector('[data-devlink] a[data-share]');
	const devlink = await erin.$eval('[data-devlink] a[data-share]', (a) => a.href);
	assert.equal(await qrSays(erin, '[data-devlink] img.qr'), devlink);
	assert.match(devlink, /\/member\.html#\/device\/[0-9a-f]{64}$/);
	await shot(erin, 'story-device-link-phone');
	const laptop = await newPage(env);
	await laptop.goto(devlink, { waitUntil: 'domcontentloaded' });
	await laptop.waitForSelector('main.login input[name="passphrase"]');
	await laptop.locator('input[name="passphrase"]').fill('not her passphrase');
	await laptop.click('main.login button[type="submit"]');
	await laptop.waitForSelector('main.login .note.error', { timeout: 30000 });
	assert.match(await textOf(laptop, 'main.login .note.error'), /passphrase/i);
	assert.deepEqual(await bytesOf(laptop, 'a[data-keyfile]'), erinFile);
	await shot(laptop, 'story-device-wrong-passphrase');
	await laptop.locator('input[name="passphrase"]').fill(ERIN_PASS);
	await laptop.click('main.login button[type="submit"]');
	await laptop.waitForSelector('header.top', { timeout: 30000 });
	assert.match(await textOf(laptop, 'header.top .me'), /erin/);
	await shot(laptop, 'story-device-signed-in');
	// The link works once.
	const twice = await fetch(env.base + '/api/v1/device/' + devlink.split('/').pop(), { method: 'POST',
		headers: { 'Content-Type': 'application/json' }, body: '{}' });
	assert.equal(twice.status, 404);
	assert.equal((await twice.json()).error.code, 'ENOTFOUND');

	for (const p of [ana, erin, alice, laptop]) {
		assert.deepEqual(p.errors, []);
		assert.deepEqual(p.foreign, []);
	}
	assert.deepEqual(alice.csp, []);
	// Every entry passes the command line's checks on both nodes.
	env.tally('verify');
	env.tally('audit', env.data);
	env.hill.tally('verify');
	env.hill.tally('audit', env.hill.data);
	console.log(`# the member story took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

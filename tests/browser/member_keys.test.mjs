// member_keys.test.mjs: members' keys in the browser (web/js/lib/keyfile.js)
// and signing in with them (member.html), in a real browser against a real
// tallyd, with the page's own Content-Security-Policy in force (libsodium's
// WebAssembly and the page's import map must be allowed by it). A key file
// made by `tally` opens in the browser and one made in the browser opens in
// tallyd (it signs a proposal with it); bad files and a wrong passphrase are
// refused with their codes; a member signs in by signature with the file and
// sees their page; a wrong passphrase says so and sends nothing; the member's
// session is refused on a coordinators' endpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { start, newPage, login, shot, textOf, memberKeyFile, MEMBER_PASS, PASSWORDS, PHONE } from './harness.mjs';

const env = await start();
after(() => env.stop());

const T = { timeout: 120000 };
const keyDir = join(env.data, 'keys', 'members');
const hex = (b) => Buffer.from(b).toString('hex');

// The member page with its own CSP (the harness bypasses it for axe-core).
async function memberPage() {
	const page = await newPage(env);
	await page.setBypassCSP(false);
	page.csp = [];
	page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.csp.push(m.text()); });
	await page.goto(env.base + '/member.html', { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('main.login form');
	return page;
}

const keyOf = (name) => memberKeyFile(env, name);

test('a key file made by tally opens in the browser; bad ones are refused with their codes', T, async () => {
	const page = await memberPage();
	const file = await keyOf('alice');
	const bytes = [...readFileSync(file)];
	const r = await page.evaluate(async (bytes, pass) => {
		const k = await import('/js/lib/keyfile.js');
		const b = Uint8Array.from(bytes);
		const code = async (f) => { try { await f(); return 'none'; } catch (e) { return e.code; } };
		const t0 = performance.now();
		const opened = await k.openKeyFile(b, pass);
		const ms = performance.now() - t0;
		const parsed = k.parseKeyFile(b);
		const huge = b.slice();
		new DataView(huge.buffer).setUint32(16, 2 * 1048576);
		const flipped = b.slice();
		flipped[100] ^= 1;
		return {
			ms, pub: Array.from(opened.pub), sk: opened.sk.length, ops: parsed.opslimit, mem: parsed.memlimit,
			short: await code(() => k.openKeyFile(b.slice(0, 139), pass)),
			magic: await code(() => k.parseKeyFile(Uint8Array.from(b, (x, i) => (i === 0 ? 0 : x)))),
			huge: await code(() => k.openKeyFile(huge, pass)),
			wrong: await code(() => k.openKeyFile(b, pass + 'x')),
			flipped: await code(() => k.openKeyFile(flipped, pass)),
			empty: await code(() => k.openKeyFile(b, '')),
		};
	}, bytes, MEMBER_PASS);
	assert.deepEqual(r.pub, bytes.slice(60, 92));
	assert.equal(r.sk, 64);
	assert.deepEqual([r.ops, r.mem], [2, 65536]);
	assert.deepEqual([r.short, r.magic, r.huge, r.wrong, r.flipped, r.empty],
		['EKEYFILE', 'EKEYFILE', 'EKEYFILE', 'EPASSPHRASE', 'EPASSPHRASE', 'EINVAL']);
	console.log(`# Argon2id (INTERACTIVE, 64 MiB) key file opened in the browser in ${Math.round(r.ms)} ms`);
	assert.deepEqual(page.csp, []);
	assert.deepEqual(page.errors, []);
});

test('a key file made in the browser opens with tallyd, which signs a proposal with it', T, async () => {
	const page = await memberPage();
	const made = await page.evaluate(async () => {
		const k = await import('/js/lib/keyfile.js');
		const m = await k.makeKeyFile('dora’s browser passphrase');
		const again = await k.openKeyFile(m.bytes, 'dora’s browser passphrase');
		const msg = new TextEncoder().encode('terms');
		const sig = k.sign(k.CTX.EXCHANGE, msg, again.sk);
		return { bytes: Array.from(m.bytes), pub: Array.from(m.pub), same: k.verify(k.CTX.EXCHANGE, msg, sig, m.pub),
			other: k.verify(k.CTX.SIGNIN, msg, sig, m.pub) };
	});
	assert.equal(made.bytes.length, 140);
	assert.deepEqual(made.bytes.slice(0, 8), [...Buffer.from('TALLYKEY')]);
	assert.ok(made.same && !made.other, 'a signature verifies in its own context only');
	// dora keeps her own key: the admin adds her by public key, and her file is
	// put where tallyd looks for members' keys, so it can sign with it.
	writeFileSync(join(keyDir, hex(made.pub) + '.key'), Buffer.from(made.bytes), { mode: 0o600 });
	const admin = await newPage(env);
	await login(admin, env.base, 'ana');
	const res = await admin.evaluate(async (pub) => {
		const s = await (await fetch('/api/v1/session')).json();
		const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token };
		const add = await fetch('/api/v1/members', { method: 'POST', headers: h,
			body: JSON.stringify({ name: 'dora', public_key: pub }) });
		const prop = await fetch('/api/v1/exchanges', { method: 'POST', headers: h,
			body: JSON.stringify({ provider: 'dora', receiver: 'alice', minutes: 30, memo: 'tea', attest: false,
				provider_passphrase: 'dora’s browser passphrase' }) });
		return [add.status, prop.status, await prop.text()];
	}, hex(made.pub));
	assert.equal(res[0], 201);
	assert.equal(res[1], 202, res[2]);
});

test('a member signs in with their key file; a wrong passphrase sends nothing', T, async () => {
	const page = await memberPage();
	const file = await keyOf('bob');
	const sent = [];
	page.on('request', (r) => { if (r.url().includes('/api/')) sent.push(r.method() + ' ' + r.url()); });
	const input = await page.$('input[type="file"]');
	await input.uploadFile(file);
	await page.locator('input[name="passphrase"]').fill('not bob’s passphrase');
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('main.login .note.error[role="alert"]', { timeout: 30000 });
	assert.match(await textOf(page, 'main.login .note.error'), /Wrong passphrase\. Nothing was sent/);
	assert.deepEqual(sent, []);
	await shot(page, 'member-signin-wrong-passphrase');

	await page.locator('input[name="passphrase"]').fill(MEMBER_PASS);
	const t0 = Date.now();
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('header.top', { timeout: 30000 });
	const ms = Date.now() - t0;
	console.log(`# browser sign-in (Argon2id, challenge, signature, session) took ${ms} ms`);
	assert.equal(await textOf(page, 'main h1'), 'Hello, bob');
	// The sign-in's two requests (the home page then only reads).
	assert.deepEqual(sent.map((s) => s.split(' ')[0] + ' ' + new URL(s.split(' ')[1]).pathname)
		.filter((s) => s.startsWith('POST')).slice(-2),
		['POST /api/v1/signin/challenge', 'POST /api/v1/signin']);
	await shot(page, 'member-home');
	// The member's session: their own session answer, refused as a coordinator.
	const r = await page.evaluate(async () => {
		const s = await (await fetch('/api/v1/session')).json();
		const members = await fetch('/api/v1/members');
		const add = await fetch('/api/v1/members', { method: 'POST', body: '{"name":"eve","passphrase":"x"}',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token } });
		return [s.member && s.member.name, s.coordinator || null, members.status, add.status];
	});
	assert.deepEqual(r, ['bob', null, 403, 403]);
	// The kept key file is offered next time; signing out ends the session.
	await page.click('header.top .who button.link');
	await page.waitForSelector('main.login form');
	assert.match(await textOf(page, 'main.login'), /This browser keeps your key file/);
	await shot(page, 'member-signin-kept');
	assert.deepEqual(page.errors, []);
	assert.deepEqual(page.csp, []);
	assert.equal(PASSWORDS.ana.length > 0, true);
});

test('an invitation: the browser makes the key, joins, signs in; the link works once', T, async () => {
	const admin = await newPage(env);
	await login(admin, env.base, 'ana');
	const inv = await admin.evaluate(async () => {
		const s = await (await fetch('/api/v1/session')).json();
		const r = await fetch('/api/v1/invites', { method: 'POST', body: '{"name":"erin","valid_days":2}',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token } });
		return [r.status, await r.json()];
	});
	assert.equal(inv[0], 201, JSON.stringify(inv[1]));
	assert.match(inv[1].link, new RegExp('^' + env.base + '/member\\.html#/join/[0-9a-f]{64}$'));
	const page = await newPage(env);
	await page.setBypassCSP(false);
	const sent = [];
	page.on('request', (r) => { if (r.url().includes('/api/')) sent.push(r.method() + ' ' + new URL(r.url()).pathname); });
	await page.goto(inv[1].link, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('input[name="again"]');
	assert.match(await textOf(page, 'main.login'), /Welcome, erin: you are invited to join Riverside/);
	await page.locator('input[name="passphrase"]').fill('erin’s own passphrase');
	await page.locator('input[name="again"]').fill('erin’s own passphrase');
	await shot(page, 'member-join');
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('a[download]', { timeout: 30000 });
	assert.equal(await page.$eval('a[download]', (a) => a.getAttribute('download')), 'erin.key');
	await shot(page, 'member-join-done');
	await page.click('main.login button.primary');
	await page.waitForSelector('header.top');
	assert.equal(await textOf(page, 'main h1'), 'Hello, erin');
	assert.deepEqual(sent.filter((s) => s.startsWith('POST')),
		['POST /api/v1/invites/' + inv[1].token, 'POST /api/v1/signin/challenge', 'POST /api/v1/signin']);
	// The key file the browser kept opens again here (and is erin's key).
	const kept = await page.evaluate(async () => {
		const k = await import('/js/lib/keyfile.js');
		const b = Uint8Array.from(atob(localStorage.getItem('tally.keyfile')), (c) => c.charCodeAt(0));
		const s = await (await fetch('/api/v1/session')).json();
		const o = await k.openKeyFile(b, 'erin’s own passphrase');
		return [Array.from(o.pub, (x) => x.toString(16).padStart(2, '0')).join(''), s.member.key];
	});
	assert.equal(kept[0], kept[1]);
	// The link again: refused, in words.
	const again = await newPage(env);
	await again.goto(inv[1].link, { waitUntil: 'domcontentloaded' });
	await again.waitForSelector('main.login .note.error');
	assert.match(await textOf(again, 'main.login'), /unknown, used or expired/);
	await shot(again, 'member-join-used');
	assert.deepEqual(page.errors, []);
});

test('joining: when signing in fails, the key file is offered all the same and signs in later', T, async () => {
	const admin = await newPage(env);
	await login(admin, env.base, 'ana');
	const inv = await admin.evaluate(async () => {
		const s = await (await fetch('/api/v1/session')).json();
		const r = await fetch('/api/v1/invites', { method: 'POST', body: '{"name":"fern"}',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token } });
		return r.json();
	});
	const page = await newPage(env, { viewport: PHONE });
	await page.setBypassCSP(false);
	// The node slows sign-ins (or the network drops): every challenge is refused.
	await page.setRequestInterception(true);
	const throttle = (r) => (r.url().endsWith('/api/v1/signin/challenge')
		? r.respond({ status: 429, contentType: 'application/json', headers: { 'Retry-After': '900' },
			body: JSON.stringify({ error: { code: 'ETHROTTLED', message: 'too many sign-ins: wait 900 seconds' } }) })
		: r.continue());
	page.on('request', throttle);
	await page.goto(inv.link, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('input[name="again"]');
	await page.locator('input[name="passphrase"]').fill('fern’s own passphrase');
	await page.locator('input[name="again"]').fill('fern’s own passphrase');
	await page.click('main.login .check input[type="checkbox"]'); // this browser keeps no copy
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('[data-signin-failed]', { timeout: 30000 });
	assert.match(await textOf(page, '[data-signin-failed]'), /Signing in did not work \(too many sign-ins/);
	assert.match(await textOf(page, 'main.login'), /keeps no copy: download the file/);
	assert.equal(await page.$eval('a[download]', (a) => a.getAttribute('download')), 'fern.key');
	assert.equal(await page.evaluate(() => localStorage.getItem('tally.keyfile')), null);
	await shot(page, 'member-join-signin-failed-phone');
	// The offered file (downloaded as the member would) is fern's key as the node recorded it...
	const downloads = join(env.data, '..', 'downloads');
	const cdp = await page.createCDPSession();
	await cdp.send('Page.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
	await page.click('a[download]');
	const file = join(downloads, 'fern.key');
	for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
	const bytes = [...readFileSync(file)];
	assert.equal(bytes.length, 140);
	const known = await (await fetch(env.base + '/api/v1/signin/challenge', { method: 'POST',
		headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ member: 'fern' }) })).json();
	assert.equal(hex(bytes.slice(60, 92)), known.member.key);
	// ...and signs fern in once sign-ins work again.
	page.off('request', throttle);
	await page.setRequestInterception(false);
	await page.click('[data-signin-failed] a');
	await page.waitForSelector('main.login input[type="file"]');
	await (await page.$('main.login input[type="file"]')).uploadFile(file);
	await page.locator('input[name="passphrase"]').fill('fern’s own passphrase');
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('header.top', { timeout: 30000 });
	assert.equal(await textOf(page, 'main h1'), 'Hello, fern');
	assert.deepEqual(page.errors, []);
});

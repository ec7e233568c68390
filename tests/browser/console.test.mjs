// console.test.mjs: the coordinators' console in a real browser against a
// real tallyd: the catalogues, logging in (and a wrong password), switching
// to Spanish, a viewer who sees no write buttons, logging out; then every page at desktop and
// phone sizes, each checked with axe-core (no violation of impact critical
// or serious) and saved as a screenshot, and the statement's print layout.
// The stories that change the ledger are in ledger.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	start, newPage, login, open, settle, shot, axeCheck, textOf, PHONE, DESKTOP,
} from './harness.mjs';
import en from '../../web/js/i18n/en.js';
import es from '../../web/js/i18n/es.js';

let env;
before(async () => {
	env = await start();
});
after(async () => {
	if (env) await env.stop();
});

const T = { timeout: 90000 };

test('every catalogue has every key of the English one, and no other', T, () => {
	for (const [name, cat] of [['es', es]]) {
		assert.deepEqual(Object.keys(cat).filter((k) => !(k in en)), [], name + ': keys English lacks');
		assert.deepEqual(Object.keys(en).filter((k) => !(k in cat)), [], name + ': keys missing');
		for (const [k, v] of Object.entries(en))
			assert.equal(typeof cat[k], typeof v, `${name}: ${k} is a ${typeof cat[k]}, English has a ${typeof v}`);
	}
});

test('log in: a wrong password is refused, the right one opens the dashboard', T, async () => {
	const page = await newPage(env);
	await page.goto(env.base + '/', { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('main.login form');
	await shot(page, 'login-desktop');
	await page.locator('main.login input[autocomplete="username"]').fill('ana');
	await page.locator('main.login input[type="password"]').fill('not the password');
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('main.login [role="alert"]');
	assert.equal(await textOf(page, 'main.login [role="alert"]'), en['login.wrong']);
	await login(page, env.base, 'ana');
	await settle(page);
	assert.equal(await textOf(page, 'main h1'), en['dash.title']);
	assert.match(await textOf(page, 'header .brand'), /Riverside/);
	assert.match(await textOf(page, 'header .me'), /ana/);
	assert.deepEqual(page.errors, []);
	await page.close();
});

// The balance shown in the members' table for a name ("-2 h").
const balanceOf = (page, name) => page.evaluate((n) => {
	for (const tr of document.querySelectorAll('table.data tbody tr')) {
		const cells = tr.querySelectorAll('td');
		if (cells[1] && cells[1].textContent.trim().split(/\s/)[0] === n) return cells[2].textContent.trim();
	}
	return null;
}, name);

test('switch to Spanish: words and dates follow, and the choice is kept', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'ana');
	await open(page, env.base, 'members');
	await page.select('header .lang select', 'es');
	await page.waitForFunction(() => document.documentElement.lang === 'es');
	assert.equal(await textOf(page, 'main h1'), es['members.title']);
	assert.equal(await textOf(page, 'nav a[href="#/exchanges"]'), es['nav.exchanges']);
	assert.equal(await balanceOf(page, 'alice'), '+1 h 30 min');
	assert.equal(await balanceOf(page, 'bob'), '-30 min');
	await shot(page, 'spanish-members-desktop');
	// The statement's printed line: the moment it was printed, in Spanish.
	await open(page, env.base, 'members/alice');
	const printed = await textOf(page, '.print-only');
	const months = ['ene', 'feb', 'mar', 'abr', 'may', 'jun', 'jul', 'ago', 'sept', 'oct', 'nov', 'dic'];
	assert.ok(months.some((mo) => new RegExp(`\\b${mo}\\b`).test(printed)), 'a Spanish date: ' + printed);
	// The choice is kept: a new page of the same browser opens in Spanish.
	const again = await newPage(env, { context: page.ctx });
	await again.goto(env.base + '/#/members', { waitUntil: 'domcontentloaded' });
	await settle(again);
	assert.equal(await textOf(again, 'main h1'), es['members.title']);
	await again.select('header .lang select', 'en');
	await again.waitForFunction(() => document.documentElement.lang === 'en');
	assert.deepEqual([...page.errors, ...again.errors], []);
	await again.close();
	await page.close();
});

test('a viewer sees no write buttons; logging out returns to the login', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'vera');
	await open(page, env.base, 'members');
	assert.equal(await page.$('form.card'), null, 'no add form');
	assert.equal(await page.$('button.danger'), null, 'no remove buttons');
	assert.equal(await page.$('nav a[href="#/record"]'), null, 'no record link');
	await open(page, env.base, 'exchanges');
	assert.equal(await page.$$eval('main button', (b) => b.filter((x) => /Reverse/.test(x.textContent)).length), 0);
	await shot(page, 'viewer-exchanges-desktop');
	await page.click('header button.link');
	await page.waitForSelector('main.login form');
	const r = await page.evaluate(() => fetch('/api/v1/balances').then((x) => x.status));
	assert.equal(r, 401);
	await page.close();
});

// The cells of the checkpoints' table row of a community, by column.
const checkpointRow = (page, community) => page.evaluate((c) => {
	const tables = [...document.querySelectorAll('main table.data')];
	for (const tr of tables.length ? tables[tables.length - 1].querySelectorAll('tbody tr') : []) {
		const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent.trim());
		if (cells[0] === c) return cells;
	}
	return null;
}, community);

test('the audit page lists the checkpoints and follows a new one live', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'vera');
	await open(page, env.base, 'audit');
	assert.equal(await textOf(page, 'main h2'), en['audit.checkpoints']);
	// tallyd signs its first checkpoint a second after it starts.
	await page.waitForFunction(() => !!document.querySelector('main table.data tbody tr'));
	const first = await checkpointRow(page, 'Riverside');
	assert.ok(first, 'Riverside has a checkpoint');
	assert.match(first[2], /^[0-9a-f]{12}…$/, 'the root');
	assert.ok(await page.$('main table.data a[download]'), 'a download link');
	// A new entry (the page reloads on its event), then a checkpoint signed
	// by someone else: the page shows it without being reloaded.
	env.tally('exchange', 'record', '--attest', '--provider', 'carol', '--receiver', 'alice', '--minutes', '20',
		'--memo', 'tea');
	const other = await newPage(env);
	await login(other, env.base, 'ana');
	const signed = await other.evaluate(async () => {
		const s = await (await fetch('/api/v1/session')).json();
		const r = await fetch('/api/v1/checkpoints', { method: 'POST', body: '{}',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token } });
		return r.json();
	});
	assert.ok(signed.size > Number(first[1]), `a bigger checkpoint: ${JSON.stringify(signed)} after ${first}`);
	await page.waitForFunction((n) => [...document.querySelectorAll('main table.data tbody tr td')]
		.some((td) => td.textContent.trim() === n), {}, String(signed.size));
	assert.equal((await checkpointRow(page, 'Riverside'))[1], String(signed.size));
	assert.deepEqual([...page.errors, ...other.errors], []);
	await shot(page, 'audit-checkpoints-live-desktop');
	await other.close();
	await page.close();
});

// Every page of the console; the reverse form and the coordinators' page
// included.
const PAGES = ['', 'members', 'members/alice', 'record', 'pending', 'exchanges', 'links', 'reports', 'federation',
	'audit', 'coordinators'];

// A member-signed exchange (its reversal asks both passphrases in a form) and
// a proposal left waiting, made once for the pages below. Returns the txid of
// the signed exchange.
let signedTx = null;
function signedExchange() {
	if (signedTx) return signedTx;
	const out = String(env.tally('exchange', 'propose', '--provider', 'bob', '--receiver', 'alice', '--hours', '0.5',
		'--memo', 'lent a ladder', '--category', 'garden'));
	const m = /\b([0-9a-f]{32})\b/.exec(out);
	assert.ok(m, 'the proposal\'s txid: ' + out);
	env.tally('exchange', 'confirm', m[1]);
	signedTx = m[1];
	env.tally('exchange', 'propose', '--provider', 'alice', '--receiver', 'carol', '--minutes', '30', '--memo', 'soup');
	return signedTx;
}

for (const [size, viewport, lang] of [['desktop', DESKTOP, 'en-GB'], ['phone', PHONE, 'en-GB'], ['phone-es', PHONE, 'es-ES']]) {
	test(`every page at ${size} size passes axe-core (no critical or serious violation)`, { timeout: 180000 }, async () => {
		const tx = signedExchange();
		const cat = lang.startsWith('es') ? es : en;
		const page = await newPage(env, { viewport, lang });
		await page.goto(env.base + '/', { waitUntil: 'domcontentloaded' });
		await page.waitForSelector('main.login form');
		assert.deepEqual(await axeCheck(page), [], 'login');
		if (size !== 'desktop') await shot(page, `login-${size}`);
		await login(page, env.base, 'ana');
		const found = {};
		for (const p of PAGES) {
			await open(page, env.base, p);
			assert.equal(await textOf(page, 'main [role="alert"]'), null, `${p}: an error shown`);
			found[p || 'dashboard'] = await axeCheck(page);
			// Nothing wider than the screen (a phone must not scroll sideways).
			const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
			if (over > 0) found[p || 'dashboard'].push(`${over} px wider than the screen`);
			await shot(page, `page-${(p || 'dashboard').replace('/', '-')}-${size}`);
			if (p === 'exchanges') {
				// The reverse form of a member-signed exchange, opened (not sent).
				await page.click(`main button[aria-label="${cat['exchanges.reverse_named'].replace('{txid}', tx.slice(0, 8))}"]`);
				await page.waitForSelector('main form.inline-form');
				found.reverse = await axeCheck(page);
				await shot(page, `page-reverse-${size}`);
			}
		}
		if (size === 'desktop') {
			// The printable statement: no navigation, no controls, the community named.
			await open(page, env.base, 'members/alice');
			await page.emulateMediaType('print');
			assert.equal(await page.$eval('header.top', (e) => getComputedStyle(e).display), 'none');
			assert.match(await textOf(page, '.print-only'), /Riverside/);
			await shot(page, 'statement-print');
			await page.emulateMediaType(null);
		}
		if (size !== 'desktop') {
			await page.click('header .menu-toggle');
			await page.waitForSelector('nav.open');
			assert.deepEqual(await axeCheck(page), [], 'the open menu');
			await shot(page, `menu-${size}`);
		}
		for (const [p, v] of Object.entries(found)) assert.deepEqual(v, [], p);
		assert.deepEqual(page.errors, []);
		assert.deepEqual(page.foreign, [], 'requests to anywhere but the node');
		await page.close();
	});
}

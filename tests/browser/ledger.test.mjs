// ledger.test.mjs: the console's stories that change the ledger, in a real
// browser against a real tallyd: adding a member, recording an exchange and
// seeing the balance change live on a second page, a refusal that shows the
// ledger rule's sentence (the command line's) and changes nothing, and the
// exchanges' dates in Spanish. Each needs the API's writes or its exchanges.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	start, newPage, login, open, shot, textOf, missingEndpoints, PHONE, MEMBER_PASS,
} from './harness.mjs';
import es from '../../web/js/i18n/es.js';

const env = await start();
after(() => env.stop());

// These stories need the API's writes and its event stream. A node whose API
// does not have them yet answers 404 or 405 where it would answer 401 to a
// request without a session: then the stories are skipped, and the line
// below makes CTest report the test as skipped (not passed). Anything else
// (no answer, another status) lets the stories run, and fail.
const lacking = await missingEndpoints(env.base, [
	['POST', '/api/v1/members'], ['POST', '/api/v1/exchanges'], ['GET', '/api/v1/events'],
]);
if (lacking.length) console.log(`browser test SKIPPED: this tallyd lacks ${lacking.join(', ')}`);
const T = { timeout: 90000, skip: lacking.length > 0 && 'the API lacks ' + lacking.join(', ') };

// The balance shown in the members' table for a name ("-2 h").
const balanceOf = (page, name) => page.evaluate((n) => {
	for (const tr of document.querySelectorAll('table.data tbody tr')) {
		const cells = tr.querySelectorAll('td');
		if (cells[1] && cells[1].textContent.trim().split(/\s/)[0] === n) return cells[2].textContent.trim();
	}
	return null;
}, name);

test('add a member: dora appears in the list with a zero balance', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'ana');
	await open(page, env.base, 'members');
	await page.locator('input[name="member-name"]').fill('dora');
	await page.locator('input[name="debt-limit"]').fill('5');
	await page.locator('input[name="passphrase"]').fill(MEMBER_PASS);
	await page.click('form.card button[type="submit"]');
	await page.waitForFunction(() => [...document.querySelectorAll('table.data td')].some((td) => td.textContent.trim() === 'dora'));
	assert.match(await textOf(page, 'form.card [role="status"]'), /dora/);
	assert.equal(await balanceOf(page, 'dora'), '0 h');
	await shot(page, 'member-added-desktop');
	assert.deepEqual(page.errors, []);
	await page.close();
});

test('record an exchange: the balance changes live on a second page', T, async () => {
	const watcher = await newPage(env);
	await login(watcher, env.base, 'ana');
	await open(watcher, env.base, 'members');
	const was = await balanceOf(watcher, 'bob');
	assert.equal(was, '-0.5 h');
	const page = await newPage(env, { context: watcher.ctx });
	await open(page, env.base, 'record');
	await page.select('select[name="provider"]', 'bob');
	await page.select('select[name="receiver"]', 'alice');
	await page.locator('input[name="hours"]').fill('2');
	await page.locator('input[name="category"]').fill('cooking');
	await page.locator('input[name="memo"]').fill('soup for the week');
	await page.click('form.card button[type="submit"]');
	await page.waitForSelector('form.card [role="status"]');
	assert.match(await textOf(page, 'form.card [role="status"]'), /Recorded as entry \d+/);
	await shot(page, 'record-desktop');
	const t0 = Date.now();
	await watcher.waitForFunction(() => {
		for (const tr of document.querySelectorAll('table.data tbody tr')) {
			const c = tr.querySelectorAll('td');
			if (c[1] && c[1].textContent.trim() === 'bob') return c[2].textContent.trim() === '+1.5 h';
		}
		return false;
	}, { timeout: 20000 });
	console.log(`# the second page showed the new balance ${Date.now() - t0} ms after the answer`);
	await shot(watcher, 'live-balance-desktop');
	assert.deepEqual([...page.errors, ...watcher.errors], []);
	await page.close();
	await watcher.close();
});

test('a refusal shows the ledger rule\'s sentence and changes nothing', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'ana');
	const before = await page.evaluate(() => fetch('/api/v1/balances').then((r) => r.text()));
	await open(page, env.base, 'record');
	await page.select('select[name="provider"]', 'alice');
	await page.select('select[name="receiver"]', 'carol');
	await page.locator('input[name="hours"]').fill('1');
	await page.locator('input[name="minutes"]').fill('30');
	await page.locator('input[name="memo"]').fill('shopping');
	await page.click('form.card button[type="submit"]');
	await page.waitForSelector('form.card [role="alert"]');
	const said = await textOf(page, 'form.card [role="alert"]');
	// The CLI prints "tally: refused: MESSAGE (CODE)" for the same refusal.
	const cli = (() => {
		try {
			env.tally('exchange', 'record', '--attest', '--provider', 'alice', '--receiver', 'carol',
				'--minutes', '90', '--memo', 'shopping');
			return '';
		} catch (e) {
			return String(e.stderr);
		}
	})();
	const m = /refused: (.*) \((E[A-Z]+)\)/.exec(cli);
	assert.ok(m, 'the command line refused it too: ' + cli);
	assert.equal(said, `Refused: ${m[1]} (${m[2]})`);
	assert.equal(m[2], 'EFLOOR');
	assert.equal(await page.$eval('input[name="memo"]', (e) => e.value), 'shopping', 'the form stays filled in');
	const after = await page.evaluate(() => fetch('/api/v1/balances').then((r) => r.text()));
	assert.equal(after, before, 'balances unchanged');
	await shot(page, 'refusal-desktop');
	await page.setViewport(PHONE);
	await shot(page, 'refusal-phone');
	await page.close();
});

test('in Spanish, the exchanges\' dates and hours follow the language', T, async () => {
	const page = await newPage(env, { lang: 'es-ES' });
	await login(page, env.base, 'ana');
	await open(page, env.base, 'exchanges');
	assert.equal(await textOf(page, 'main h1'), es['exchanges.title']);
	const date = await textOf(page, 'table.data tbody tr td:nth-child(2)');
	const months = ['ene', 'feb', 'mar', 'abr', 'may', 'jun', 'jul', 'ago', 'sept', 'oct', 'nov', 'dic'];
	assert.ok(months.some((mo) => date.includes(mo)), 'a Spanish date: ' + date);
	assert.ok(await page.$$eval('table.data tbody td', (tds) => tds.some((td) => /^1,5 h$/.test(td.textContent.trim()))),
		'1,5 h with a decimal comma');
	await shot(page, 'exchanges-spanish-desktop');
	await page.close();
});

// federation.test.mjs: the console's pages for the federation and its proofs,
// exercised in a real browser against a real tallyd: setting a trust line,
// sending to a member of another community (refused at home with the command
// line's sentence, since that community has no trust line with us, and
// nothing recorded), running the audit and signing a checkpoint. Each saves
// a screenshot at desktop and phone size.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, newPage, login, open, shot, textOf, missingEndpoints, PHONE } from './harness.mjs';
import en from '../../web/js/i18n/en.js';

const env = await start();
after(() => env.stop());

const lacking = await missingEndpoints(env.base, [
	['POST', '/api/v1/links'], ['POST', '/api/v1/cross'], ['POST', '/api/v1/audit'],
	['POST', '/api/v1/checkpoints'],
]);
if (lacking.length) console.log(`browser test SKIPPED: this tallyd lacks ${lacking.join(', ')}`);
const T = { timeout: 90000, skip: lacking.length > 0 && 'the API lacks ' + lacking.join(', ') };

// Another community, named by its node id: its log is not held here.
const OTHER = 'ab'.repeat(32);

const rowWith = (page, text) => page.evaluate((x) =>
	[...document.querySelectorAll('table.data tbody tr')].some((tr) => tr.textContent.includes(x)), text);

test('set a trust line: the other community is listed, waiting for its own line', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'ana');
	await open(page, env.base, 'links');
	await page.locator('input[name="link-community"]').fill(OTHER);
	await page.locator('input[name="link-hours"]').fill('20');
	await page.click('form[aria-labelledby="add-link-h"] button[type="submit"]');
	await page.waitForFunction((x) => [...document.querySelectorAll('table.data tbody tr')]
		.some((tr) => tr.textContent.includes(x)), {}, OTHER.slice(0, 8));
	assert.match(await textOf(page, 'form[aria-labelledby="add-link-h"] [role="status"]'), /saved/);
	const lines = await page.evaluate(() => fetch('/api/v1/links').then((r) => r.json()));
	assert.equal(lines.links.length, 1);
	assert.equal(lines.links[0].community, OTHER);
	assert.equal(lines.links[0].limit_minutes, 1200);
	assert.ok(await rowWith(page, en['links.one_sided']), 'shown as waiting for their line');
	await shot(page, 'links-added-desktop');
	const phone = await newPage(env, { viewport: PHONE, context: page.ctx });
	await open(phone, env.base, 'links');
	assert.ok(await rowWith(phone, OTHER.slice(0, 8)));
	await shot(phone, 'links-added-phone');
	assert.deepEqual([...page.errors, ...phone.errors, ...page.foreign, ...phone.foreign], []);
	await phone.close();
	await page.close();
});

test('send across: refused at home with the command line\'s sentence, nothing recorded', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'ana');
	await open(page, env.base, 'links');
	const before = await page.evaluate(() => fetch('/api/v1/balances').then((r) => r.text()));
	await page.select('select[name="cross-from"]', 'alice');
	await page.locator('input[name="cross-to"]').fill('hana@' + OTHER);
	await page.locator('input[name="hours"]').fill('1');
	await page.locator('input[name="cross-memo"]').fill('tea');
	await page.click('form[aria-labelledby="cross-h"] button[type="submit"]');
	await page.waitForSelector('form[aria-labelledby="cross-h"] [role="status"], form[aria-labelledby="cross-h"] [role="alert"]');
	const said = await textOf(page, 'form[aria-labelledby="cross-h"] [role="status"], form[aria-labelledby="cross-h"] [role="alert"]');
	const cli = (() => {
		try {
			env.tally('exchange', 'send', '--attest', '--from', 'alice', '--to', 'hana@' + OTHER,
				'--minutes', '60', '--memo', 'tea');
			return '';
		} catch (e) {
			return String(e.stderr);
		}
	})();
	const m = /refused: (.*) \((E[A-Z]+)\)/.exec(cli);
	assert.ok(m, 'the command line refused it too: ' + cli);
	assert.equal(m[2], 'ELINK');
	assert.equal(said, `Refused: ${m[1]} (${m[2]})`);
	const after = await page.evaluate(() => fetch('/api/v1/balances').then((r) => r.text()));
	assert.equal(after, before, 'balances unchanged');
	const cross = await page.evaluate(() => fetch('/api/v1/cross').then((r) => r.json()));
	assert.deepEqual(cross.cross, []);
	await shot(page, 'cross-refused-desktop');
	assert.deepEqual([...page.errors, ...page.foreign], []);
	await page.close();
});

test('run the audit and sign a checkpoint: the result and the checkpoint are shown', T, async () => {
	const page = await newPage(env);
	await login(page, env.base, 'ana');
	await open(page, env.base, 'audit');
	await page.click('main button.primary');
	await page.waitForSelector('p.verdict');
	assert.match(await textOf(page, 'p.verdict'), /Clean/);
	await page.click('.section-head button');
	// tallyd also signs checkpoints on its own timer, so a row may already be
	// shown before this one: wait for the page to say it signed, then for the
	// row of the checkpoint the API now returns.
	await page.waitForFunction((said) => [...document.querySelectorAll('[role="status"]')]
		.some((n) => n.textContent.includes(said)), {}, en['audit.signed']);
	const cps = await page.evaluate(() => fetch('/api/v1/checkpoints').then((r) => r.json()));
	assert.equal(cps.checkpoints.length, 1);
	await page.waitForFunction((x) => [...document.querySelectorAll('table.data tbody tr')]
		.some((tr) => tr.textContent.includes(x)), { timeout: 10000 }, cps.checkpoints[0].root.slice(0, 12));
	await shot(page, 'audit-run-desktop');
	const phone = await newPage(env, { viewport: PHONE, context: page.ctx });
	await open(phone, env.base, 'audit');
	assert.match(await textOf(phone, 'p.verdict'), /Clean/);
	await shot(phone, 'audit-run-phone');
	assert.deepEqual([...page.errors, ...phone.errors, ...page.foreign, ...phone.foreign], []);
	await phone.close();
	await page.close();
});

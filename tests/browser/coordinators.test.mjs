// coordinators.test.mjs: the admins' coordinators page in a real browser
// against a real tallyd: an admin adds a coordinator (a taken name and a short
// password are refused with the API's sentence), the new coordinator logs in
// from a browser of their own, does not see the page's link and is refused
// it with the API's sentence, and is logged out at once when the admin
// removes them. Screenshots at desktop and phone sizes, each page checked
// with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, newPage, login, open, settle, shot, axeCheck, textOf, PASSWORDS, PHONE } from './harness.mjs';
import en from '../../web/js/i18n/en.js';

let env;
before(async () => {
	env = await start();
});
after(async () => {
	if (env) await env.stop();
});

const T = { timeout: 120000 };

// The names listed in the coordinators' table.
const listed = (page) => page.$$eval('main table.data tbody tr td:first-child',
	(tds) => tds.map((td) => td.textContent.trim().split(/\s/)[0]));

async function fillAdd(page, name, role, password) {
	await page.locator('input[name="coord-name"]').fill(name);
	await page.select('select[name="coord-role"]', role);
	await page.locator('input[name="coord-password"]').fill(password);
	await page.click('main form.card button[type="submit"]');
}

test('an admin adds a coordinator, who is refused what their role does not allow, then removed', T, async () => {
	const admin = await newPage(env);
	await login(admin, env.base, 'ana');
	assert.ok(await admin.$('nav a[href="#/coordinators"]'), 'the admin sees the link');
	await open(admin, env.base, 'coordinators');
	assert.equal(await textOf(admin, 'main h1'), en['coord.title']);
	assert.deepEqual((await listed(admin)).sort(), ['ana', 'vera']);

	// A taken name: the API's sentence, nothing added.
	await fillAdd(admin, 'vera', 'viewer', 'long enough password');
	await admin.waitForSelector('main form.card [role="alert"]');
	assert.match(await textOf(admin, 'main form.card [role="alert"]'), /\(EEXISTS\)$/);
	// A short password: refused before anything is kept.
	await admin.evaluate(() => document.querySelector('input[name="coord-password"]').removeAttribute('minlength'));
	await fillAdd(admin, 'cleo', 'coordinator', 'short');
	await admin.waitForFunction(() => /EINVAL/.test(document.querySelector('main form.card [role="alert"]')?.textContent || ''));
	assert.deepEqual((await listed(admin)).sort(), ['ana', 'vera']);

	await fillAdd(admin, 'cleo', 'coordinator', 'cleo’s own password');
	await admin.waitForSelector('main form.card [role="status"]');
	assert.equal(await textOf(admin, 'main form.card [role="status"]'),
		en['coord.added'].replace('{name}', 'cleo').replace('{role}', en['role.coordinator']));
	await admin.waitForFunction(() => document.querySelectorAll('main table.data tbody tr').length === 3);
	assert.deepEqual((await listed(admin)).sort(), ['ana', 'cleo', 'vera']);
	assert.deepEqual(await axeCheck(admin), [], 'coordinators page');
	await shot(admin, 'coordinators-desktop');

	// Cleo, in a browser of her own, logs in: no link to the page, and the
	// page itself answers with the API's refusal.
	PASSWORDS.cleo = 'cleo’s own password';
	const cleo = await newPage(env);
	await login(cleo, env.base, 'cleo');
	await settle(cleo);
	assert.match(await textOf(cleo, 'header .me'), /cleo/);
	assert.equal(await cleo.$('nav a[href="#/coordinators"]'), null, 'no link for a coordinator');
	assert.ok(await cleo.$('nav a[href="#/record"]'), 'a coordinator records');
	await open(cleo, env.base, 'coordinators');
	await cleo.waitForSelector('main [role="alert"]');
	const refusal = await textOf(cleo, 'main [role="alert"]');
	assert.match(refusal, /^Your role does not allow this: cleo has the role coordinator; .*\(EDENIED\)$/);
	assert.equal(await cleo.$('main form.card'), null, 'no add form');
	assert.equal(await cleo.$('main button.danger'), null, 'no remove buttons');
	// Nor may she add a member: the members page offers no form, and the API refuses.
	await open(cleo, env.base, 'members');
	assert.equal(await cleo.$('main form.card'), null, 'no member form for a coordinator');
	await open(cleo, env.base, 'coordinators');
	await cleo.waitForSelector('main [role="alert"]');
	assert.deepEqual(await axeCheck(cleo), [], 'the refused page');
	await shot(cleo, 'coordinators-refused-desktop');

	// The admin makes her a viewer: her open session has the new role at once.
	await admin.bringToFront();
	const change = 'main form[aria-labelledby="change-coord-h"]';
	await admin.select(`${change} select[name="change-name"]`, 'cleo');
	await admin.select(`${change} select[name="change-role"]`, 'viewer');
	await admin.click(`${change} button[type="submit"]`);
	await admin.waitForSelector(`${change} [role="status"]`);
	assert.equal(await textOf(admin, `${change} [role="status"]`),
		en['coord.changed'].replace('{name}', 'cleo').replace('{role}', en['role.viewer']));
	const viewerNow = await cleo.evaluate(() => fetch('/api/v1/session').then((r) => r.json()));
	assert.equal(viewerNow.coordinator.role, 'viewer');
	// The only admin is not demoted: the API's sentence.
	await admin.select(`${change} select[name="change-name"]`, 'ana');
	await admin.select(`${change} select[name="change-role"]`, 'viewer');
	await admin.click(`${change} button[type="submit"]`);
	await admin.waitForFunction((f) => /only admin/.test(document.querySelector(f + ' [role="alert"]')?.textContent || ''),
		{ polling: 100 }, change);
	await shot(admin, 'coordinators-change-desktop');
	// A new password ends her session.
	await admin.select(`${change} select[name="change-name"]`, 'cleo');
	await admin.select(`${change} select[name="change-role"]`, '');
	await admin.locator(`${change} input[name="change-password"]`).fill('cleo’s new password');
	await admin.click(`${change} button[type="submit"]`);
	await admin.waitForFunction((f) => document.querySelector(f + ' [role="status"]')?.textContent.includes('new password'),
		{ polling: 100 }, change);
	assert.equal(await cleo.evaluate(() => fetch('/api/v1/balances').then((r) => r.status)), 401);
	PASSWORDS.cleo = 'cleo’s new password';
	await login(cleo, env.base, 'cleo');
	assert.match(await textOf(cleo, 'header .me'), /cleo/);

	// The admin removes her: her next request finds the session ended.
	await admin.bringToFront();
	await admin.click('main button[aria-label="Remove coordinator cleo"]');
	await admin.waitForFunction(() => document.querySelectorAll('main table.data tbody tr').length === 2);
	assert.deepEqual((await listed(admin)).sort(), ['ana', 'vera']);
	const status = await cleo.evaluate(() => fetch('/api/v1/balances').then((r) => r.status));
	assert.equal(status, 401);
	await cleo.evaluate(() => { location.hash = '#/members'; });
	await cleo.waitForSelector('main.login form');

	assert.deepEqual([...admin.errors, ...cleo.errors], []);
	assert.deepEqual([...admin.foreign, ...cleo.foreign], []);
	await cleo.close();
	await admin.close();
});

test('the coordinators page on a phone, in Spanish, and a viewer refused it', T, async () => {
	const page = await newPage(env, { viewport: PHONE, lang: 'es-ES' });
	await login(page, env.base, 'ana');
	await open(page, env.base, 'coordinators');
	assert.equal(await textOf(page, 'main h1'), 'Coordinadores');
	assert.deepEqual(await axeCheck(page), [], 'coordinators page, phone');
	const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
	assert.equal(wide, false, 'nothing wider than the phone');
	await shot(page, 'coordinators-phone');
	await page.close();

	const vera = await newPage(env, { viewport: PHONE });
	await login(vera, env.base, 'vera');
	assert.equal(await vera.$('nav a[href="#/coordinators"]'), null, 'no link for a viewer');
	await open(vera, env.base, 'coordinators');
	await vera.waitForSelector('main [role="alert"]');
	assert.match(await textOf(vera, 'main [role="alert"]'), /vera has the role viewer.*\(EDENIED\)$/);
	await shot(vera, 'coordinators-viewer-phone');
	assert.deepEqual(vera.errors, []);
	await vera.close();
});

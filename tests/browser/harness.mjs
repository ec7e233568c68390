// harness.mjs: what the browser tests share: a real community made with the
// tally command line in a temporary directory (members, exchanges, an admin
// and a viewer coordinator), a real tallyd serving the console on a free
// loopback port, Debian's chromium driven by puppeteer-core (headless, no
// sandbox as root, no background networking), screenshots saved under the
// build folder, and the axe-core accessibility check of a page. Everything
// runs on 127.0.0.1 and is removed at the end.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE = process.env.TB_SOURCE_DIR || join(here, '..', '..');
const BUILD = process.env.TB_BINARY_DIR || join(SOURCE, 'build');
const TALLY = process.env.TALLY_BIN || join(BUILD, 'node', 'tally');
const TALLYD = process.env.TALLYD_BIN || join(BUILD, 'node', 'tallyd');
export const SHOTS = process.env.TB_SHOTS_DIR || join(BUILD, 'browser-shots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const PASSWORDS = { ana: 'ana’s long password', vera: 'vera reads only 1' };
export const MEMBER_PASS = 'member passphrase';

export const DESKTOP = { width: 1280, height: 800, deviceScaleFactor: 1 };
export const PHONE = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.unref();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// A community as `scripts/demo` makes one: Riverside with alice, bob and
// carol (carol's debt limit 2 hours), two attested exchanges, and the
// coordinators ana (admin) and vera (viewer).
function makeCommunity(dir) {
	const coord = join(dir, 'coord.pass');
	const member = join(dir, 'member.pass');
	writeFileSync(coord, 'riverside coordinator\n');
	writeFileSync(member, MEMBER_PASS + '\n');
	const data = join(dir, 'riverside');
	const tally = (...args) =>
		execFileSync(TALLY, ['--data', data, '--passphrase-file', coord, '--member-passphrase-file', member, ...args],
			{ stdio: ['ignore', 'pipe', 'pipe'] });
	tally('init', '--name', 'Riverside', '--debt-limit', '10');
	tally('federation', 'create', '--out', join(dir, 'federation.key'));
	tally('federation', 'join', join(dir, 'federation.key'));
	tally('member', 'add', 'alice');
	tally('member', 'add', 'bob');
	tally('member', 'add', 'carol', '--debt-limit', '2');
	tally('exchange', 'record', '--attest', '--provider', 'alice', '--receiver', 'bob', '--hours', '1.5',
		'--memo', 'fixed the garden fence', '--category', 'garden');
	tally('exchange', 'record', '--attest', '--provider', 'bob', '--receiver', 'carol', '--hours', '1',
		'--memo', 'reading group', '--category', 'company');
	for (const [name, role] of [['ana', 'admin'], ['vera', 'viewer']]) {
		const f = join(dir, name + '.pass');
		writeFileSync(f, PASSWORDS[name] + '\n');
		tally('coordinator', 'add', name, '--role', role, '--password-file', f);
	}
	return { data, coord, tally };
}

async function waitHttp(url, ms, proc) {
	const end = Date.now() + ms;
	for (;;) {
		if (proc.exitCode !== null) throw new Error('tallyd exited with ' + proc.exitCode);
		try {
			const r = await fetch(url);
			if (r.ok) return;
		} catch (e) {
			/* not listening yet */
		}
		if (Date.now() > end) throw new Error('tallyd did not answer on ' + url);
		await new Promise((r) => setTimeout(r, 100));
	}
}

// Hilltop, a second community of the same federation with the member hana
// (her key kept on that node), admitted by Riverside and admitting it, with
// trust lines of 10 hours both ways: for payments across communities.
function makeHilltop(dir, river) {
	const data = join(dir, 'hilltop');
	const tally = (...args) =>
		execFileSync(TALLY, ['--data', data, '--passphrase-file', river.coord, '--member-passphrase-file',
			join(dir, 'member.pass'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	tally('init', '--name', 'Hilltop', '--debt-limit', '10');
	tally('federation', 'join', join(dir, 'federation.key'));
	tally('member', 'add', 'hana');
	const own = (t) => JSON.parse(String(t('--json', 'logs'))).logs.find((l) => l.own).log;
	river.tally('community', 'admit', own(tally) + '=Hilltop');
	tally('community', 'admit', own(river.tally) + '=Riverside');
	river.tally('link', 'add', 'Hilltop', '--limit-minutes', '600');
	tally('link', 'add', 'Riverside', '--limit-minutes', '600');
	return { data, coord: river.coord, tally };
}

// A tallyd for data listening on 127.0.0.1 (http 0: no console), dialling
// the peers' ports; its output collected in log.
function spawnNode(c, listen, http, peers, log) {
	const args = ['--data', c.data, '--passphrase-file', c.coord, '--listen', '127.0.0.1:' + listen,
		'--http', http ? '127.0.0.1:' + http : 'off', '--web-root', join(SOURCE, 'web')];
	for (const p of peers) args.push('--peer', '127.0.0.1:' + p);
	const d = spawn(TALLYD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	d.stdout.on('data', (b) => log.push(String(b)));
	d.stderr.on('data', (b) => log.push(String(b)));
	return d;
}

// Stops a tallyd; its exit code (0 when it ended cleanly).
async function stopNode(d) {
	if (d.exitCode !== null || d.signalCode !== null) return d.exitCode;
	d.kill('SIGTERM');
	return new Promise((r) => d.once('exit', (c) => r(c)));
}

// Starts the community's tallyd and the browser. Returns {base, browser,
// tally, data (the data directory), log, stop()}. With {hilltop: true} a
// second community's tallyd runs too (its peer, with its own members' pages
// and API), as env.hill = {tally, data, log, base}.
export async function start({ hilltop = false } = {}) {
	for (const [what, file] of [['chromium', CHROMIUM], ['tally', TALLY], ['tallyd', TALLYD]])
		if (!existsSync(file)) throw new Error(`browser tests: no ${what} at ${file} (scripts/setup installs chromium)`);
	const dir = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'tally-browser-'));
	const c = makeCommunity(dir);
	const h = hilltop ? makeHilltop(dir, c) : null;
	const [http, listen, hlisten] = [await freePort(), await freePort(), await freePort()];
	const log = [], hlog = [];
	const d = spawnNode(c, listen, http, h ? [hlisten] : [], log);
	const hhttp = h ? await freePort() : 0;
	const hd = h ? spawnNode(h, hlisten, hhttp, [listen], hlog) : null;
	const base = `http://127.0.0.1:${http}`, hbase = `http://127.0.0.1:${hhttp}`;
	let browser = null;
	// Stops the browser and tallyd; throws when tallyd did not end cleanly
	// (a crash, or a sanitizer's report at exit in the ASan build).
	const stop = async () => {
		if (browser) await browser.close().catch(() => {});
		const code = await stopNode(d);
		const hcode = hd ? await stopNode(hd) : 0;
		rmSync(dir, { recursive: true, force: true });
		if (code !== 0) throw new Error(`tallyd ended with ${code ?? d.signalCode}:\n${log.join('').slice(-3000)}`);
		if (hcode !== 0) throw new Error(`Hilltop's tallyd ended with ${hcode ?? hd.signalCode}:\n${hlog.join('').slice(-3000)}`);
	};
	try {
		await waitHttp(base + '/', 15000, d);
		if (hd) await waitHttp(hbase + '/', 15000, hd);
		browser = await puppeteer.launch({
			executablePath: CHROMIUM,
			headless: true,
			userDataDir: join(dir, 'chromium'),
			args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
				'--disable-background-networking', '--disable-component-update', '--disable-sync',
				'--disable-dev-shm-usage', '--lang=en-GB'],
		});
	} catch (e) {
		await stop();
		throw e;
	}
	mkdirSync(SHOTS, { recursive: true });
	const hill = h ? { tally: h.tally, data: h.data, log: hlog, base: hbase } : null;
	return { base, browser, tally: c.tally, data: c.data, log, hill, stop };
}

// A new page: in a browser context of its own (no cookies, no storage) unless
// it is given the context of another page (page.context) to share a session.
// Dialogs (confirm) are accepted, errors and requests to anywhere but the node
// collected, the language of the browser set (navigator.languages).
export async function newPage(env, { viewport = DESKTOP, lang = 'en-GB', context } = {}) {
	const ctx = context || (await env.browser.createBrowserContext());
	const page = await ctx.newPage();
	page.ctx = ctx;
	await page.setBypassCSP(true); // axe-core is injected as a script of the page
	await page.setViewport(viewport);
	await page.evaluateOnNewDocument((l) => {
		Object.defineProperty(navigator, 'languages', { get: () => [l] });
		Object.defineProperty(navigator, 'language', { get: () => l });
	}, lang);
	page.errors = [];
	page.on('pageerror', (e) => page.errors.push(String(e)));
	// Every request a page makes must go to the node: nothing from elsewhere.
	page.foreign = [];
	page.on('request', (r) => {
		const u = r.url();
		if (!u.startsWith(env.base + '/') && !u.startsWith('data:') && !u.startsWith('blob:')) page.foreign.push(u);
	});
	page.on('dialog', (d) => d.accept());
	page.setDefaultTimeout(15000);
	return page;
}

export async function login(page, base, name) {
	await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('main.login form');
	await page.locator('main.login input[autocomplete="username"]').fill(name);
	await page.locator('main.login input[type="password"]').fill(PASSWORDS[name]);
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('header.top');
}

// Goes to a page of the console (#/path) and waits until nothing is loading.
export async function open(page, base, path) {
	const url = base + '/#/' + path;
	if (page.url().startsWith(base)) await page.evaluate((h) => { location.hash = h; }, '#/' + path);
	else await page.goto(url, { waitUntil: 'domcontentloaded' });
	await settle(page);
}

// Waits for the page to finish loading its data.
export async function settle(page) {
	await page.waitForSelector('main h1');
	// On a timer, not by animation frames: a page behind another draws none.
	await page.waitForFunction(() => !document.querySelector('[data-loading]'), { timeout: 15000, polling: 100 });
	await new Promise((r) => setTimeout(r, 150));
}

// A full-page screenshot (a page behind another draws no frames: it comes to
// the front first).
export async function shot(page, name) {
	await page.bringToFront();
	await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// axe-core on the page as it stands: the violations of impact critical or
// serious, as "rule: target" lines.
export async function axeCheck(page) {
	if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: axeSource });
	const res = await page.evaluate(async () => {
		const r = await window.axe.run(document, { resultTypes: ['violations'] });
		return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
	});
	return res.filter((v) => v.impact === 'critical' || v.impact === 'serious')
		.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).join(', ')}`);
}

// Which of [method, path] the API of the node at base does not have: a
// request without a session is answered 401 by a route that exists, 404 or
// 405 where none does.
export async function missingEndpoints(base, list) {
	const lacking = [];
	for (const [method, path] of list) {
		const r = await fetch(base + path, { method, headers: { 'Content-Type': 'application/json' },
			body: method === 'GET' ? undefined : '{}' });
		await r.arrayBuffer().catch(() => {});
		if (r.status === 404 || r.status === 405) lacking.push(`${method} ${path}`);
	}
	return lacking;
}

// The text of the first element matching selector, or null.
export const textOf = (page, selector) =>
	page.evaluate((s) => {
		const e = document.querySelector(s);
		return e ? e.textContent.replace(/\s+/g, ' ').trim() : null;
	}, selector);

// A member's key file made by `tally member add` (FORMAT.md 9), found by
// asking the node whose key each file in DATA/keys/members is.
export async function memberKeyFile(env, name) {
	const dir = join(env.data, 'keys', 'members');
	for (const f of readdirSync(dir)) {
		const r = await fetch(env.base + '/api/v1/signin/challenge', { method: 'POST',
			headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key: f.slice(0, 64) }) });
		const j = await r.json();
		if (r.status === 200 && j.member.name === name) return join(dir, f);
	}
	throw new Error('no key file of ' + name);
}

// A member signed in on a device of their own (a browser context of its own,
// member.html's Content-Security-Policy kept: page.csp collects its reports).
export async function memberSignedIn(env, name, opts = {}) {
	const page = await newPage(env, opts);
	await page.setBypassCSP(false);
	page.csp = [];
	page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.csp.push(m.text()); });
	await page.goto(env.base + '/member.html', { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('main.login form');
	await (await page.$('input[type="file"]')).uploadFile(await memberKeyFile(env, name));
	await page.locator('input[name="passphrase"]').fill(MEMBER_PASS);
	await page.click('main.login button[type="submit"]');
	await page.waitForSelector('header.top', { timeout: 30000 });
	return page;
}

// Opens a page of the single-page app by its #fragment, once loaded.
export async function goHash(page, hash) {
	await page.evaluate((h) => { location.hash = h; }, hash);
	await page.waitForFunction(() => !document.querySelector('[data-loading]'), { timeout: 15000 });
}

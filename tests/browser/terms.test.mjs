// terms.test.mjs: the members' pages' own bytes against the C code's, with
// no browser (Node.js runs the same modules the pages load): exchange terms
// that web/js/lib/terms.js encodes from an entry's fields verify with the
// signatures `tally exchange propose/confirm` made over the C encoding; a
// receipt that `tally receipt` wrote passes web/js/lib/receipt.js, and the
// same receipt altered (in the entry, the checkpoint, the proof, or its
// framing) fails with the code `tally receipt verify` gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = process.env.TB_SOURCE_DIR || join(here, '..', '..');
const TALLY = process.env.TALLY_BIN || join(SOURCE, 'build', 'node', 'tally');
const web = (p) => pathToFileURL(join(SOURCE, 'web', p)).href;
const T = await import(web('js/lib/terms.js'));
const { verifyReceipt } = await import(web('js/lib/receipt.js'));
const req = createRequire(join(SOURCE, 'web', 'package.json'));
const { default: sodium } = await import(pathToFileURL(req.resolve('libsodium-wrappers-sumo')).href);
await sodium.ready;

function community() {
	const dir = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'tally-terms-'));
	writeFileSync(join(dir, 'c.pass'), 'community\n');
	writeFileSync(join(dir, 'm.pass'), 'member passphrase\n');
	const tally = (...a) => execFileSync(TALLY, ['--data', join(dir, 'd'), '--passphrase-file', join(dir, 'c.pass'),
		'--member-passphrase-file', join(dir, 'm.pass'), ...a], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
	tally('init', '--name', 'Riverside');
	tally('member', 'add', 'alice');
	tally('member', 'add', 'bob');
	return { dir, tally, json: (...a) => JSON.parse(tally('--json', ...a)) };
}

test('terms and receipts: the browser code agrees with the C code', async () => {
	const c = community();
	try {
		// A member-signed exchange (category with a multi-byte letter and a
		// 40-byte one would test str 8; the C side refuses > 32).
		const { txid } = c.json('exchange', 'propose', '--provider', 'alice', '--receiver', 'bob',
			'--minutes', '200', '--memo', 'fixed the fence', '--category', 'jardín');
		c.tally('exchange', 'confirm', txid);
		const keys = Object.fromEntries(c.json('member', 'list').members.map((m) => [m.number, T.fromHex(m.key, 32)]));
		const file = join(c.dir, 'r.bin');
		c.tally('receipt', txid, '--out', file);
		const bytes = new Uint8Array(readFileSync(file));

		const ok = verifyReceipt(sodium, bytes);
		assert.equal(ok.entry.kindName, 'exchange');
		assert.equal(ok.entry.txid, txid);
		assert.equal(ok.entry.minutes, 200);
		assert.equal(ok.membersSignaturesChecked, false);
		assert.equal(verifyReceipt(sodium, bytes, ok.log).log, ok.log);

		// The terms rebuilt in JavaScript are the bytes both members signed.
		const r = new T.Reader(bytes);
		const [, rec, cp] = T.readFields(r, ['uint', 'bin', 'bin', 'bin'], 'receipt');
		const ent = T.readFields(new T.Reader(rec), ['uint', 'bin', 'uint', 'bin', 'uint', 'uint', 'array'], 'entry');
		const b = ent[6].map((f) => f.v);
		const terms = T.exchangeTerms({ logId: ent[1], txid: b[0], provider: b[1], receiver: b[2], minutes: b[3],
			category: new TextDecoder().decode(b[4]), memoHash: b[5], date: b[6] });
		const tag = new TextEncoder().encode('tally/exchange/v1\0');
		assert.ok(sodium.crypto_sign_verify_detached(b[8], T.concat(tag, terms), keys[1]), 'provider signature');
		assert.ok(sodium.crypto_sign_verify_detached(b[9], T.concat(tag, terms), keys[2]), 'receiver signature');

		// Shortest forms at every boundary, as FORMAT.md 1.2 lists them.
		for (const [v, hex] of [[0, '00'], [127, '7f'], [128, 'cc80'], [255, 'ccff'], [256, 'cd0100'],
			[65535, 'cdffff'], [65536, 'ce00010000'], [4294967296, 'cf0000000100000000']])
			assert.equal(T.toHex(T.encUint(v)), hex);
		assert.equal(T.toHex(T.encStr('')), 'a0');
		assert.equal(T.toHex(T.encStr('x'.repeat(32))).slice(0, 4), 'd920');
		assert.throws(() => new T.Reader(Uint8Array.of(0xcc, 0x05)).value(), { code: 'ENONCANON' });
		assert.throws(() => new T.Reader(Uint8Array.of(0xc0)).value(), { code: 'ETYPE' });

		// Altered receipts fail, with `tally receipt verify`'s codes.
		const alter = (i) => {
			const x = bytes.slice();
			x[i] ^= 1;
			return x;
		};
		const entryAt = rec.byteOffset; // the entry record (a view into bytes)
		assert.throws(() => verifyReceipt(sodium, alter(entryAt + 40)), { code: 'EBADSIG' });
		assert.throws(() => verifyReceipt(sodium, alter(bytes.length - 1)), { code: 'EPROOF' });
		assert.throws(() => verifyReceipt(sodium, T.concat(bytes, Uint8Array.of(0))), { code: 'ETRAILING' });
		assert.throws(() => verifyReceipt(sodium, bytes.subarray(0, bytes.length - 3)), { code: 'ETRUNCATED' });
		assert.throws(() => verifyReceipt(sodium, bytes, 'ab'.repeat(32)), { code: 'ELOGID' });
		assert.throws(() => verifyReceipt(sodium, alter(cp.byteOffset + cp.length - 10)), { code: 'EBADSIG' });
		// And the C verifier agrees on both.
		c.tally('receipt', 'verify', file);
		writeFileSync(file, alter(bytes.length - 1));
		assert.throws(() => c.tally('receipt', 'verify', file));
	} finally {
		rmSync(c.dir, { recursive: true, force: true });
	}
});

// receipt.js: checks a receipt file (docs/FORMAT.md 4.4) in the browser,
// offline, in the order `tally receipt verify` does: strict decoding, the
// entry's log signature, the signed checkpoint, the log ids, and the RFC 6962
// inclusion proof from the entry hash to the checkpoint's root (RFC 9162
// 2.1.3.2). It needs only the libsodium instance given to it; it reads no
// network and keeps nothing. Like the command line it does not check the
// members' signatures inside an exchange (a receipt carries no member keys).

import { Reader, readFields, TermsError, concat, toHex, equalBytes } from './terms.js';

export const RECEIPT_MAX = 12512;
const CHECKPOINT_MAX = 160;
const ENTRY_MAX = 8192;

const tag = (s) => new TextEncoder().encode(s + '\0');
const TAG_ENTRY = tag('tally/entry/v1');
const TAG_CHECKPOINT = tag('tally/checkpoint/v1');

const KINDS = {
	1: 'genesis', 2: 'member_join', 3: 'member_key', 4: 'member_left', 5: 'exchange', 6: 'reversal',
	7: 'link', 8: 'xprepare', 9: 'xdecide', 10: 'xfinal', 11: 'admit', 12: 'member_update',
	13: 'opening', 14: 'succession',
};

function fail(code, message) {
	throw new TermsError(code, message);
}

function verify(sodium, sig, ctxTag, msg, pk) {
	try {
		return sodium.crypto_sign_verify_detached(sig, concat(ctxTag, msg), pk);
	} catch (e) {
		return false;
	}
}

// The whole of bytes must be one value, in its shortest form.
function whole(bytes, types, what) {
	const r = new Reader(bytes);
	const f = readFields(r, types, what);
	if (r.at !== bytes.length) fail('ETRAILING', `bytes after the ${what}`);
	return f;
}

// An entry record (FORMAT.md 3.1): the signed part and its signature.
function readEntry(rec) {
	if (rec.length > ENTRY_MAX) fail('ETOOBIG', 'the entry is over 8192 bytes');
	const r = new Reader(rec);
	const f = readFields(r, ['uint', 'bin', 'uint', 'bin', 'uint', 'uint', 'array'], 'entry');
	if (f[0] !== 1n) fail('EVERSION', 'unknown entry version');
	if (f[1].length !== 32 || f[3].length !== 32) fail('ETRUNCATED', 'log id or prev is not 32 bytes');
	if (rec.length - r.at < 64) fail('ETRUNCATED', 'the entry has no signature');
	if (rec.length - r.at > 64) fail('ETRAILING', 'bytes after the entry signature');
	const body = f[6];
	const e = { logId: f[1], seq: f[2], timestamp: f[4], kind: Number(f[5]), signed: rec.subarray(0, r.at), sig: rec.subarray(r.at) };
	e.kindName = KINDS[e.kind] || `kind ${e.kind}`;
	if (e.kind === 5 && body.length === 10) {
		e.txid = toHex(body[0].v);
		e.provider = Number(body[1].v);
		e.receiver = Number(body[2].v);
		e.minutes = Number(body[3].v);
		e.category = new TextDecoder().decode(body[4].v);
		e.date = String(body[6].v);
		e.attested = body[7].v === 1n;
	} else if (e.kind === 8 && body.length === 11) {
		e.txid = toHex(body[0].v);
		e.payer = Number(body[1].v);
		e.toName = new TextDecoder().decode(body[3].v);
		e.minutes = Number(body[4].v);
		e.date = String(body[7].v);
		e.attested = body[9].v === 1n;
	} else if (body.length && body[0].t === 'bin' && body[0].v.length === 16) {
		e.txid = toHex(body[0].v);
	}
	return e;
}

function readCheckpoint(sodium, cp) {
	if (cp.length > CHECKPOINT_MAX) fail('ETOOBIG', 'the checkpoint is over 160 bytes');
	if (cp.length <= 64) fail('ETRUNCATED', 'the checkpoint is truncated');
	const arr = cp.subarray(0, cp.length - 64);
	const f = whole(arr, ['bin', 'uint', 'bin', 'uint'], 'checkpoint');
	if (f[0].length !== 32 || f[2].length !== 32) fail('ETRUNCATED', 'bad checkpoint field length');
	if (f[1] < 1n) fail('ERANGE', 'checkpoint size 0');
	if (!verify(sodium, cp.subarray(cp.length - 64), TAG_CHECKPOINT, arr, f[0]))
		fail('EBADSIG', "the checkpoint's signature does not verify");
	return { logId: f[0], size: f[1], root: f[2], timestamp: f[3] };
}

// RFC 9162 2.1.3.2: the root the proof leads to from leaf index of size.
function inclusionRoot(sodium, index, size, leaf, proof) {
	let fn = index, sn = size - 1n, r = leaf;
	const h = (a, b) => sodium.crypto_hash_sha256(concat(Uint8Array.of(1), a, b));
	for (let i = 0; i < proof.length; i += 32) {
		const p = proof.subarray(i, i + 32);
		if (sn === 0n) return null;
		if ((fn & 1n) === 1n || fn === sn) {
			r = h(p, r);
			while ((fn & 1n) === 0n && fn !== 0n) {
				fn >>= 1n;
				sn >>= 1n;
			}
		} else {
			r = h(r, p);
		}
		fn >>= 1n;
		sn >>= 1n;
	}
	return sn === 0n ? r : null;
}

// Checks a receipt. community: the expected log id (hex), or undefined.
// Resolves to {entry, checkpoint, entryHash, membersSignaturesChecked:false};
// throws a TermsError whose code is the one `tally receipt verify` gives.
export function verifyReceipt(sodium, bytes, community) {
	if (bytes.length > RECEIPT_MAX) fail('ETOOBIG', 'the file is over 12512 bytes: not a receipt');
	const f = whole(bytes, ['uint', 'bin', 'bin', 'bin'], 'receipt');
	if (f[0] !== 1n) fail('ERANGE', 'unknown receipt version');
	const [rec, cpBytes, proof] = [f[1], f[2], f[3]];
	if (!rec.length || !cpBytes.length) fail('ERANGE', 'empty entry or checkpoint');
	if (cpBytes.length > 256) fail('ETOOLONG', 'the checkpoint field is over 256 bytes');
	if (proof.length > 4096) fail('ETOOLONG', 'the proof is over 4096 bytes');
	const entry = readEntry(rec);
	if (!verify(sodium, entry.sig, TAG_ENTRY, entry.signed, entry.logId))
		fail('EBADSIG', "the entry's signature does not verify");
	const cp = readCheckpoint(sodium, cpBytes);
	if (!equalBytes(cp.logId, entry.logId)) fail('ELOGID', 'the checkpoint is of another log');
	if (community !== undefined && toHex(entry.logId) !== community.toLowerCase())
		fail('ELOGID', 'the entry is not in this community');
	if (proof.length % 32) fail('EPROOF', 'the proof is not a list of 32-byte hashes');
	if (entry.seq > cp.size) fail('EPROOF', 'the checkpoint does not cover the entry');
	const leaf = sodium.crypto_hash_sha256(concat(Uint8Array.of(0), rec));
	const root = inclusionRoot(sodium, entry.seq - 1n, cp.size, leaf, proof);
	if (!root || !equalBytes(root, cp.root)) fail('EPROOF', "the proof does not lead to the checkpoint's root");
	return {
		entry, checkpoint: cp, entryHash: toHex(leaf), log: toHex(entry.logId),
		seq: Number(entry.seq), size: Number(cp.size), membersSignaturesChecked: false,
	};
}

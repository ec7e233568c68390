// terms.js: the bytes a member signs, built in the browser from what the
// member entered, so that a page never signs bytes it has not made itself.
// It encodes the fixed layouts of docs/FORMAT.md 6.1 (exchange terms), 6.4
// (xprepare terms) and 16.2 (listing terms) with the shortest msgpack forms
// of FORMAT.md 1.2, and reads msgpack strictly (shortest forms only,
// nothing after the value) for receipts and entries. It never signs and never talks to the node: pages
// compare its bytes with the node's and refuse to sign when they differ.

const enc = new TextEncoder();

export class TermsError extends Error {
	constructor(code, message) {
		super(message);
		this.code = code;
	}
}

// ---- encoding (FORMAT.md 1.2: always the shortest form) ----

function u8(...b) {
	return Uint8Array.from(b);
}

function be(n, bytes) {
	const out = new Uint8Array(bytes);
	let v = BigInt(n);
	for (let i = bytes - 1; i >= 0; i--) {
		out[i] = Number(v & 0xffn);
		v >>= 8n;
	}
	return out;
}

export function encUint(n) {
	const v = BigInt(n);
	if (v < 0n) throw new TermsError('ERANGE', 'negative value in an unsigned field');
	if (v < 0x80n) return u8(Number(v));
	if (v < 0x100n) return concat(u8(0xcc), be(v, 1));
	if (v < 0x10000n) return concat(u8(0xcd), be(v, 2));
	if (v < 0x100000000n) return concat(u8(0xce), be(v, 4));
	return concat(u8(0xcf), be(v, 8));
}

export function encBin(b) {
	if (b.length < 256) return concat(u8(0xc4, b.length), b);
	if (b.length < 65536) return concat(u8(0xc5), be(b.length, 2), b);
	return concat(u8(0xc6), be(b.length, 4), b);
}

export function encStr(s) {
	const b = typeof s === 'string' ? enc.encode(s) : s;
	if (b.length < 32) return concat(u8(0xa0 | b.length), b);
	if (b.length < 256) return concat(u8(0xd9, b.length), b);
	if (b.length < 65536) return concat(u8(0xda), be(b.length, 2), b);
	return concat(u8(0xdb), be(b.length, 4), b);
}

export function encArray(items) {
	const n = items.length;
	const head = n < 16 ? u8(0x90 | n) : n < 65536 ? concat(u8(0xdc), be(n, 2)) : concat(u8(0xdd), be(n, 4));
	return concat(head, ...items);
}

export function concat(...parts) {
	const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

// ---- hex ----

export function toHex(b) {
	return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function fromHex(s, len) {
	if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/i.test(s) || (len !== undefined && s.length !== 2 * len))
		throw new TermsError('EINVAL', `'${String(s).slice(0, 20)}' is not ${len ?? 'some'} bytes of hex`);
	const out = new Uint8Array(s.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
	return out;
}

export function equalBytes(a, b) {
	if (a.length !== b.length) return false;
	let d = 0;
	for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
	return d === 0;
}

// "2026-11-28" -> 20261128
export function dateNumber(s) {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new TermsError('EDATE', `'${s}' is not a date (YYYY-MM-DD)`);
	return Number(s.replaceAll('-', ''));
}

function fixed(b, len, what) {
	if (!(b instanceof Uint8Array) || b.length !== len)
		throw new TermsError('EINVAL', `${what} must be ${len} bytes`);
	return encBin(b);
}

function inRange(v, lo, hi, what) {
	const n = BigInt(v);
	if (n < BigInt(lo) || n > BigInt(hi)) throw new TermsError('ERANGE', `${what} out of range`);
	return encUint(n);
}

function text(s, lo, hi, what) {
	const b = enc.encode(s);
	if (b.length < lo || b.length > hi) throw new TermsError('ETOOLONG', `${what} must be ${lo} to ${hi} bytes`);
	return encStr(b);
}

// FORMAT.md 6.1: [log_id, txid, provider, receiver, minutes, category, memo_hash, date]
// t: {logId (32 bytes), txid (16), provider, receiver (numbers), minutes,
//     category (string), memoHash (32), date (yyyymmdd number)}
export function exchangeTerms(t) {
	return encArray([
		fixed(t.logId, 32, 'log_id'),
		fixed(t.txid, 16, 'txid'),
		inRange(t.provider, 1, 4294967295, 'provider'),
		inRange(t.receiver, 1, 4294967295, 'receiver'),
		inRange(t.minutes, 1, 60000, 'minutes'),
		text(t.category, 0, 32, 'category'),
		fixed(t.memoHash, 32, 'memo_hash'),
		inRange(t.date, 19700101, 99991231, 'date'),
	]);
}

// FORMAT.md 6.4: [log_id, txid, member, to_log, to_name, minutes, category,
// memo_hash, date, expires]
export function xprepareTerms(t) {
	return encArray([
		fixed(t.logId, 32, 'log_id'),
		fixed(t.txid, 16, 'txid'),
		inRange(t.member, 1, 4294967295, 'member'),
		fixed(t.toLog, 32, 'to_log'),
		text(t.toName, 1, 64, 'to_name'),
		inRange(t.minutes, 1, 60000, 'minutes'),
		text(t.category, 0, 32, 'category'),
		fixed(t.memoHash, 32, 'memo_hash'),
		inRange(t.date, 19700101, 99991231, 'date'),
		inRange(t.expires, 1, 17179869180, 'expires'),
	]);
}

// FORMAT.md 16.2: the listing terms [log_id, id, version, member, kind, title,
// description, category, visibility, created, expires, state]
export function listingTerms(t) {
	return encArray([
		fixed(t.logId, 32, 'log_id'),
		fixed(t.id, 16, 'id'),
		inRange(t.version, 1, 4294967295, 'version'),
		inRange(t.member, 1, 4294967295, 'member'),
		inRange(t.kind, 0, 1, 'kind'),
		text(t.title, 1, 80, 'title'),
		text(t.description, 0, 1000, 'description'),
		text(t.category, 0, 32, 'category'),
		inRange(t.visibility, 0, 1, 'visibility'),
		inRange(t.created, 0, 17179869180, 'created'),
		inRange(t.expires, 1, 17179869180, 'expires'),
		inRange(t.state, 0, 1, 'state'),
	]);
}

// FORMAT.md 17.1: the answer terms (7 fields) a responder signs.
export function answerTerms(t) {
	return encArray([
		fixed(t.listingLog, 32, 'listing_log'),
		fixed(t.listingId, 16, 'listing_id'),
		fixed(t.fromLog, 32, 'from_log'),
		inRange(t.member, 1, 4294967295, 'member'),
		text(t.name, 1, 64, 'name'),
		text(t.message, 0, 280, 'message'),
		inRange(t.created, 0, 17179869180, 'created'),
	]);
}

// FORMAT.md 8: memo_hash = SHA-256(salt || memo text). sodium: the ready
// libsodium instance.
export function memoHash(sodium, salt, memo) {
	return sodium.crypto_hash_sha256(concat(salt, enc.encode(memo)));
}

// ---- strict decoding (FORMAT.md 1.2) ----

// A reader over bytes; every read checks its length and the shortest form.
export class Reader {
	constructor(bytes) {
		this.b = bytes;
		this.at = 0;
	}
	need(n) {
		if (this.at + n > this.b.length) throw new TermsError('ETRUNCATED', 'truncated');
	}
	byte() {
		this.need(1);
		return this.b[this.at++];
	}
	num(n) {
		this.need(n);
		let v = 0n;
		for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.b[this.at++]);
		return v;
	}
	bytes(n) {
		this.need(n);
		const out = this.b.subarray(this.at, this.at + n);
		this.at += n;
		return out;
	}
	// One value: {t: 'uint'|'int'|'bin'|'str'|'array', v}; arrays hold values.
	value(depth = 0) {
		if (depth > 8) throw new TermsError('ETYPE', 'nested too deep');
		const c = this.byte();
		const nc = () => {
			throw new TermsError('ENONCANON', 'not in its shortest form');
		};
		if (c < 0x80) return { t: 'uint', v: BigInt(c) };
		if (c >= 0xe0) return { t: 'int', v: BigInt(c - 256) };
		if (c >= 0x90 && c <= 0x9f) return this.array(c & 0x0f, depth);
		if (c >= 0xa0 && c <= 0xbf) return { t: 'str', v: this.bytes(c & 0x1f) };
		const uw = { 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8 }[c];
		if (uw) {
			const v = this.num(uw);
			if (v < [0, 0x80n, 0x100n, 0, 0x10000n, 0, 0, 0, 0x100000000n][uw]) nc();
			return { t: 'uint', v };
		}
		const bw = { 0xc4: 1, 0xc5: 2, 0xc6: 4, 0xd9: 1, 0xda: 2, 0xdb: 4 }[c];
		if (bw) {
			const n = Number(this.num(bw));
			const str = c >= 0xd9;
			if ((bw === 2 && n < 256) || (bw === 4 && n < 65536) || (str && bw === 1 && n < 32)) nc();
			return { t: str ? 'str' : 'bin', v: this.bytes(n) };
		}
		if (c === 0xdc || c === 0xdd) {
			const n = Number(this.num(c === 0xdc ? 2 : 4));
			if ((c === 0xdc && n < 16) || (c === 0xdd && n < 65536)) nc();
			return this.array(n, depth);
		}
		const iw = { 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 }[c];
		if (iw) {
			let v = this.num(iw);
			const bits = BigInt(iw * 8);
			if (v >= 1n << (bits - 1n)) v -= 1n << bits;
			const lim = { 1: -33n, 2: -129n, 4: -32769n, 8: -2147483649n }[iw];
			if (v >= 0n || v > lim) nc();
			return { t: 'int', v };
		}
		throw new TermsError('ETYPE', `type byte 0x${c.toString(16)} is not allowed`);
	}
	array(n, depth) {
		if (n > this.b.length - this.at) throw new TermsError('ETRUNCATED', 'truncated');
		const v = [];
		for (let i = 0; i < n; i++) v.push(this.value(depth + 1));
		return { t: 'array', v };
	}
}

// An array of exactly n fields of the given types ('uint', 'bin', 'str',
// 'array', 'any'), starting at r's position.
export function readFields(r, types, what) {
	const a = r.value();
	if (a.t !== 'array') throw new TermsError('ETYPE', `${what} is not an array`);
	if (a.v.length !== types.length) throw new TermsError('EARITY', `${what} has ${a.v.length} fields, not ${types.length}`);
	return a.v.map((f, i) => {
		if (types[i] !== 'any' && f.t !== types[i])
			throw new TermsError('ETYPE', `${what}: field ${i + 1} is not ${types[i]}`);
		return f.v;
	});
}

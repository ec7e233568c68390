// keyfile.js: members' key files (FORMAT.md section 9) and signatures
// (FORMAT.md section 2), in the browser. A key file is opened and made here,
// with libsodium's Argon2id and XSalsa20-Poly1305, exactly as the C code does,
// so a file made by `tally` opens here and one made here opens with `tally`.
// The passphrase and the secret key never leave the browser: nothing in this
// module talks to the network. Callers wipe a secret key they are done with
// (wipe(sk)).
//
// Errors are Error objects with .code: 'EKEYFILE' (not a key file, or cost
// parameters out of bounds), 'EPASSPHRASE' (wrong passphrase, or the file was
// altered), 'EINVAL' (an empty or too long passphrase), 'ENOMEM'.
import { sodium, sodiumNow } from './sodium.js';
import { concat } from './terms.js';

export const KEYFILE_LEN = 140;
const MAGIC = [0x54, 0x41, 0x4c, 0x4c, 0x59, 0x4b, 0x45, 0x59]; // "TALLYKEY"
const OPS_MAX = 16;
const MEM_MIN_KIB = 8;
const MEM_MAX_KIB = 1048576;
const PASS_MAX = 1023; // bytes, as the command line

// Signing contexts (FORMAT.md section 2).
export const CTX = {
	EXCHANGE: 'tally/exchange/v1',
	REVERSAL: 'tally/reversal/v1',
	XPREPARE: 'tally/xprepare/v1',
	SIGNIN: 'tally/signin/v1',
	LISTING: 'tally/listing/v1',
	ANSWER: 'tally/answer/v1',
};

function fail(code, message) {
	const e = new Error(message);
	e.code = code;
	return e;
}

function bytesOf(b) {
	if (b instanceof Uint8Array) return b;
	if (b instanceof ArrayBuffer || ArrayBuffer.isView(b)) return new Uint8Array(b.buffer || b, b.byteOffset || 0, b.byteLength);
	throw fail('EKEYFILE', 'a key file is bytes (a Uint8Array or an ArrayBuffer)');
}

function passBytes(s, passphrase) {
	const pw = typeof passphrase === 'string' ? s.from_string(passphrase) : bytesOf(passphrase);
	if (!pw.length) throw fail('EINVAL', 'the passphrase is empty');
	if (pw.length > PASS_MAX) throw fail('EINVAL', `the passphrase is over ${PASS_MAX} bytes`);
	if (pw.includes(0)) throw fail('EINVAL', 'the passphrase holds a NUL byte');
	return pw;
}

// Checks 1-3 of FORMAT.md 9; the public key is in clear.
export function parseKeyFile(bytes) {
	const b = bytesOf(bytes);
	if (b.length !== KEYFILE_LEN)
		throw fail('EKEYFILE', `not a Tally key file: it has ${b.length} bytes, a key file has exactly ${KEYFILE_LEN}`);
	if (MAGIC.some((x, i) => b[i] !== x)) throw fail('EKEYFILE', 'not a Tally key file: it does not start with TALLYKEY');
	if (b[8] !== 1 || b[9] !== 1 || b[10] || b[11])
		throw fail('EKEYFILE', 'unknown key file version, key derivation or reserved bytes');
	const dv = new DataView(b.buffer, b.byteOffset, KEYFILE_LEN);
	const opslimit = dv.getUint32(12);
	const memlimit = dv.getUint32(16);
	if (opslimit < 1 || opslimit > OPS_MAX || memlimit < MEM_MIN_KIB || memlimit > MEM_MAX_KIB)
		throw fail('EKEYFILE', `key file cost out of bounds (opslimit ${opslimit}, memlimit ${memlimit} KiB)`);
	return { pub: b.slice(60, 92), opslimit, memlimit };
}

function derive(s, pw, salt, opslimit, memlimit) {
	try {
		return s.crypto_pwhash(32, pw, salt, opslimit, memlimit * 1024, s.crypto_pwhash_ALG_ARGON2ID13);
	} catch (e) {
		throw fail('ENOMEM', 'the browser could not give Argon2id the memory the key file asks for');
	}
}

// Opens a key file: {pub, sk} (sk: libsodium's 64-byte secret key).
export async function openKeyFile(bytes, passphrase) {
	const kf = parseKeyFile(bytes);
	const b = bytesOf(bytes);
	const s = await sodium();
	const pw = passBytes(s, passphrase);
	const key = derive(s, pw, b.slice(20, 36), kf.opslimit, kf.memlimit);
	if (typeof passphrase === 'string') s.memzero(pw);
	let seed;
	try {
		seed = s.crypto_secretbox_open_easy(b.slice(92, 140), b.slice(36, 60), key);
	} catch (e) {
		throw fail('EPASSPHRASE', 'wrong passphrase (or the key file was altered)');
	} finally {
		s.memzero(key);
	}
	const kp = s.crypto_sign_seed_keypair(seed);
	s.memzero(seed);
	if (!s.memcmp(kp.publicKey, kf.pub)) {
		s.memzero(kp.privateKey);
		throw fail('EPASSPHRASE', 'the key file was altered: its public key does not match its secret key');
	}
	return { pub: kf.pub, sk: kp.privateKey };
}

// Makes a new key pair and its key file at libsodium's INTERACTIVE cost, as
// `tally` does: {bytes (140), pub, sk}.
export async function makeKeyFile(passphrase) {
	const s = await sodium();
	const pw = passBytes(s, passphrase);
	const opslimit = s.crypto_pwhash_OPSLIMIT_INTERACTIVE;
	const memlimit = s.crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024;
	const seed = s.randombytes_buf(32);
	const salt = s.randombytes_buf(16);
	const nonce = s.randombytes_buf(24);
	const kp = s.crypto_sign_seed_keypair(seed);
	const key = derive(s, pw, salt, opslimit, memlimit);
	if (typeof passphrase === 'string') s.memzero(pw);
	const box = s.crypto_secretbox_easy(seed, nonce, key);
	s.memzero(key);
	s.memzero(seed);
	const bytes = new Uint8Array(KEYFILE_LEN);
	bytes.set(MAGIC, 0);
	bytes[8] = 1;
	bytes[9] = 1;
	const dv = new DataView(bytes.buffer);
	dv.setUint32(12, opslimit);
	dv.setUint32(16, memlimit);
	bytes.set(salt, 20);
	bytes.set(nonce, 36);
	bytes.set(kp.publicKey, 60);
	bytes.set(box, 92);
	return { bytes, pub: kp.publicKey, sk: kp.privateKey };
}

// The signature of tag(tagContext) || msgBytes (FORMAT.md 2: the tag's ASCII
// bytes and its NUL). libsodium must be ready (it is once a key file was
// opened or made).
export function sign(tagContext, msgBytes, sk) {
	const s = sodiumNow();
	const tag = concat(new TextEncoder().encode(tagContext), Uint8Array.of(0));
	return s.crypto_sign_detached(concat(tag, msgBytes), sk);
}

// Checks a signature made by sign().
export function verify(tagContext, msgBytes, sig, pub) {
	const s = sodiumNow();
	const tag = concat(new TextEncoder().encode(tagContext), Uint8Array.of(0));
	return s.crypto_sign_verify_detached(sig, concat(tag, msgBytes), pub);
}

// Overwrites a secret (a secret key) with zeros.
export function wipe(bytes) {
	if (bytes) bytes.fill(0);
}

// checks.js: what a member's page checks before it lets the member sign the
// terms the node drafted (API.md 3b). The node's answer gives the exact
// bytes and their decoded fields; the page encodes the bytes again here from
// the fields (web/js/lib/terms.js) and refuses when they differ, then checks
// the fields against what the member typed and against the session: the
// own community's log, the member's own number on their side, the other
// member or community the node resolved from the typed name, the amount,
// category, date, and the memo hash it computes from the memo and its salt.
// The pages show only these checked fields, never the node's display copies.
//
// These checks catch a buggy API, or a proxy that alters answers between
// the node and the browser. They cannot guard against the node's operator,
// who also serves this code.
import { t, today } from '../lib/i18n.js';
import { sodium } from '../lib/sodium.js';
import * as T from '../lib/terms.js';

// The own community {id, name}, as the member's session answer names it.
export function ownCommunity(session) {
	const c = session && session.community;
	if (!c || typeof c.id !== 'string') throw mismatch('log_id');
	return c;
}

// A refusal: what = the field that differs (said in words, msign.what.*).
function mismatch(what, key = 'msign.mismatch') {
	const e = new T.TermsError('ETERMS', t(key, { what: t('msign.what.' + what) }));
	e.what = what;
	return e;
}

// Names as people type them: the same text in any Unicode form or case.
const sameName = (a, b) => a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase();

// yyyymmdd of today (the browser's day) moved by `days`.
function dayNumber(days) {
	const d = new Date(`${today()}T00:00:00Z`);
	d.setUTCDate(d.getUTCDate() + days);
	return T.dateNumber(d.toISOString().slice(0, 10));
}

// A date the node chose for "today": the browser's today or a day either
// side of it (the node's clock may be in another time zone).
const aboutToday = (n) => n >= dayNumber(-1) && n <= dayNumber(1);

function checkDate(f, entered) {
	if (entered.date ? f.date !== T.dateNumber(entered.date) : !aboutToday(f.date)) throw mismatch('date');
}

async function checkMemo(salt, memo, hash, key) {
	const s = await sodium();
	if (typeof salt !== 'string' || T.toHex(T.memoHash(s, T.fromHex(salt, 16), memo || '')) !== hash)
		throw mismatch('memo', key);
}

// Who the member typed ("bob", or "#2") against the number the node put in the
// terms and the name it resolved that number to (receiver_name). Resolves to
// the name to show.
function receiverName(typed, number, resolved) {
	const n = /^#(\d+)$/.exec(typed);
	if (n ? Number(n[1]) !== number : typeof resolved !== 'string' || !sameName(resolved, typed))
		throw mismatch('receiver');
	return typeof resolved === 'string' ? resolved : typed;
}

// The node's draft of an exchange proposal (the member is the provider),
// checked against what the member entered ({receiver, minutes, category,
// memo, date}). Resolves to {terms, receiver} (the bytes to sign, the other
// member's name to show with the number f.receiver).
export async function checkedExchange(draft, entered, session) {
	const f = draft.fields;
	const me = session.member;
	if (f.log_id !== ownCommunity(session).id) throw mismatch('log_id');
	if (f.provider !== me.number) throw mismatch('provider');
	if (f.receiver === me.number) throw mismatch('receiver');
	const receiver = receiverName(entered.receiver, f.receiver, draft.receiver_name);
	if (f.minutes !== entered.minutes) throw mismatch('minutes');
	checkDate(f, entered);
	if (!sameName(f.category, entered.category)) throw mismatch('category');
	await checkMemo(draft.memo_salt, entered.memo, f.memo_hash);
	return { terms: sameBytes(draft.terms, exchangeOf(f)), receiver };
}

// A pending proposal the member is party to (GET /api/v1/me/proposals): its
// terms encoded here from its fields, the member's own number on their side,
// the node's display copies (amount, category, date) agreeing with the
// fields, the memo checked against its hash with the salt the node sends
// (none once the memo is erased: then no memo may be shown). Resolves to the
// terms to sign when confirming.
export async function checkedPending(p, session) {
	const f = p.fields;
	const me = session.member;
	const key = 'msign.pending_mismatch';
	if (f.log_id !== ownCommunity(session).id) throw mismatch('log_id', key);
	const side = p.mine === 'receiver' ? 'receiver' : 'provider';
	if (f[side] !== me.number || f.provider === f.receiver) throw mismatch(side, key);
	if (p.minutes !== f.minutes) throw mismatch('minutes', key);
	if ((p.category || '') !== f.category) throw mismatch('category', key);
	if (p.date !== isoDate(f.date)) throw mismatch('date', key);
	if (p.memo_salt !== null) await checkMemo(p.memo_salt, p.memo, f.memo_hash, key);
	else if (p.memo) throw mismatch('memo', key);
	return sameBytes(p.terms, exchangeOf(f), key);
}

function exchangeOf(f) {
	return T.exchangeTerms({ logId: T.fromHex(f.log_id, 32), txid: T.fromHex(f.txid, 16), provider: f.provider,
		receiver: f.receiver, minutes: f.minutes, category: f.category, memoHash: T.fromHex(f.memo_hash, 32),
		date: f.date });
}

// The community the member typed after the '@' against the log the node put
// in the terms (never the own one) and the community it resolved that log to
// (to_community). Resolves to the name to show with the log id.
function communityName(typed, toLog, own, resolved) {
	if (toLog === own.id || !resolved || resolved.id !== toLog || typeof resolved.name !== 'string' ||
		!sameName(resolved.name, typed))
		throw mismatch('to_log');
	return resolved.name;
}

const YEAR_SECONDS = 366 * 86400;

// The draft of a payment to another community, checked likewise. Resolves to
// {terms, community} (the bytes, the other community's name to show).
export async function checkedPayment(draft, entered, session) {
	const f = draft.fields;
	const me = session.member;
	const own = ownCommunity(session);
	const at = entered.to.lastIndexOf('@');
	if (f.log_id !== own.id) throw mismatch('log_id');
	if (f.member !== me.number) throw mismatch('member');
	const community = communityName(entered.to.slice(at + 1), f.to_log, own, draft.to_community);
	if (f.to_name !== entered.to.slice(0, at)) throw mismatch('to_name');
	if (f.minutes !== entered.minutes) throw mismatch('minutes');
	if (!sameName(f.category, entered.category || '')) throw mismatch('category');
	checkDate(f, entered);
	const now = Date.now() / 1000;
	if (!(f.expires > now && f.expires <= now + YEAR_SECONDS)) throw mismatch('expires');
	await checkMemo(draft.memo_salt, entered.memo, f.memo_hash);
	const mine = T.xprepareTerms({ logId: T.fromHex(f.log_id, 32), txid: T.fromHex(f.txid, 16), member: f.member,
		toLog: T.fromHex(f.to_log, 32), toName: f.to_name, minutes: f.minutes, category: f.category,
		memoHash: T.fromHex(f.memo_hash, 32), date: f.date, expires: f.expires });
	return { terms: sameBytes(draft.terms, mine), community };
}

function sameBytes(nodeHex, mine, key) {
	if (T.toHex(mine) !== nodeHex) throw mismatch('terms', key);
	return mine;
}

// yyyymmdd -> "YYYY-MM-DD"
export const isoDate = (n) => String(n).replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');

// A log id as people can compare it: its first 8 hex digits.
export const idPrefix = (hex) => String(hex).slice(0, 8) + '…';

// A member as the pages show them: "bob (#2)" (the name with the number the
// terms carry), or "#2" alone when no name is known.
export const who = (name, number) => (!name || name === '#' + number ? '#' + number : `${name} (#${number})`);

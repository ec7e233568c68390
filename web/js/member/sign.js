// sign.js: what the member's pages share to sign in this browser. The node's
// draft gives the exact terms bytes and their fields; checkedTerms() encodes
// the fields again here (web/js/lib/terms.js), with the memo hash computed
// here from the memo the member typed, and refuses to go on when the node's
// bytes differ. <SignBox> shows those bytes, opens the member's key file with
// the passphrase (the file this browser keeps, or one chosen now), checks
// that it is the key the node holds for the signed-in member, signs, wipes
// the secret key and hands back the signature. Nothing secret leaves here.
import { html, useState } from '../lib/preact.js';
import { get } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { Field, ErrorNote } from '../lib/ui.js';
import { sodium } from '../lib/sodium.js';
import { openKeyFile, sign, wipe } from '../lib/keyfile.js';
import * as T from '../lib/terms.js';
import { keptKeyFile, KeyFileField } from './signin.js';

let community = null;
// The own community {id, name} (from the statement, which every member reads).
export async function ownCommunity() {
	if (!community) community = (await get('/me/statement')).community;
	return community;
}

function mismatch(what) {
	return new T.TermsError('ETERMS', t('msign.mismatch', { what }));
}

// The node's draft of an exchange proposal, checked against what the member
// entered ({receiver, minutes, category, memo, date}): the bytes to sign.
export async function checkedExchange(draft, entered, me) {
	const s = await sodium();
	const f = draft.fields;
	const c = await ownCommunity();
	if (f.log_id !== c.id) throw mismatch('log_id');
	if (f.provider !== me.number) throw mismatch('provider');
	if (f.minutes !== entered.minutes) throw mismatch('minutes');
	if (entered.date && f.date !== T.dateNumber(entered.date)) throw mismatch('date');
	if (f.category.toLowerCase() !== entered.category.toLowerCase()) throw mismatch('category');
	const memoHash = T.memoHash(s, T.fromHex(draft.memo_salt, 16), entered.memo);
	if (T.toHex(memoHash) !== f.memo_hash) throw mismatch('memo');
	return sameBytes(draft.terms, exchangeOf(f));
}

// A pending proposal's terms, encoded here from the fields shown.
export function checkedPending(p) {
	return sameBytes(p.terms, exchangeOf(p.fields));
}

function exchangeOf(f) {
	return T.exchangeTerms({ logId: T.fromHex(f.log_id, 32), txid: T.fromHex(f.txid, 16), provider: f.provider,
		receiver: f.receiver, minutes: f.minutes, category: f.category, memoHash: T.fromHex(f.memo_hash, 32),
		date: f.date });
}

// The draft of a payment to another community, checked likewise.
export async function checkedPayment(draft, entered, me) {
	const s = await sodium();
	const f = draft.fields;
	const c = await ownCommunity();
	if (f.log_id !== c.id) throw mismatch('log_id');
	if (f.member !== me.number) throw mismatch('member');
	if (f.minutes !== entered.minutes) throw mismatch('minutes');
	if (f.to_name !== entered.to.slice(0, entered.to.lastIndexOf('@'))) throw mismatch('to_name');
	const memoHash = T.memoHash(s, T.fromHex(draft.memo_salt, 16), entered.memo);
	if (T.toHex(memoHash) !== f.memo_hash) throw mismatch('memo');
	const mine = T.xprepareTerms({ logId: T.fromHex(f.log_id, 32), txid: T.fromHex(f.txid, 16), member: f.member,
		toLog: T.fromHex(f.to_log, 32), toName: f.to_name, minutes: f.minutes, category: f.category,
		memoHash: T.fromHex(f.memo_hash, 32), date: f.date, expires: f.expires });
	return sameBytes(draft.terms, mine);
}

function sameBytes(nodeHex, mine) {
	if (T.toHex(mine) !== nodeHex) throw mismatch('terms');
	return mine;
}

// yyyymmdd -> "YYYY-MM-DD"
export const isoDate = (n) => String(n).replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');

// Shows the bytes to sign and signs them with the member's own key:
// onSigned(signatureHex) is awaited; what it throws is shown.
export function SignBox({ terms, context, me, onSigned, label }) {
	const kept = keptKeyFile();
	const [file, setFile] = useState(kept);
	const [pass, setPass] = useState('');
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	const submit = async (e) => {
		e.preventDefault();
		setError(null);
		setBusy(true);
		let key = null;
		try {
			key = await openKeyFile(file, pass);
			if (T.toHex(key.pub) !== me.key) throw new T.TermsError('EKEY', t('msign.other_key'));
			const sig = sign(context, terms, key.sk);
			wipe(key.sk);
			key = null;
			setPass('');
			await onSigned(T.toHex(sig));
		} catch (err) {
			setError(err);
		} finally {
			if (key) wipe(key.sk);
			setBusy(false);
		}
	};
	const local = error && ['EPASSPHRASE', 'EKEYFILE', 'EKEY', 'EINVAL', 'ETERMS'].includes(error.code) && !error.status;
	return html`<form class="card sign" onSubmit=${submit}>
		<details class="terms-bytes"><summary>${t('msign.bytes', { n: terms.length })}</summary>
			<code class="hex" data-terms>${T.toHex(terms)}</code>
			<p class="muted">${t('msign.bytes_about', { context })}</p></details>
		<${KeyFileField} id="sign-file" kept=${!!kept} onFile=${setFile} />
		<${Field} label=${t('member.signin.passphrase')} type="password" value=${pass} onInput=${setPass}
			autocomplete="current-password" name="sign-passphrase" required />
		${local ? html`<p class="note error" role="alert">${error.code === 'EPASSPHRASE'
			? t('member.signin.wrong_passphrase') : error.message}</p>` : html`<${ErrorNote} error=${error} />`}
		<button type="submit" class="primary" disabled=${busy || !file}>${busy ? t('msign.busy') : label}</button>
	</form>`;
}

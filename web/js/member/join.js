// join.js: accepting an invitation (#/join/TOKEN, the link a coordinator
// made with `tally member invite` or the console). The new member chooses a
// passphrase; this browser makes the key pair and its key file (FORMAT.md 9)
// and sends the node only the public key. As soon as the node has recorded
// the member, the file is offered for download (and kept, encrypted, if
// asked, in this browser; and, if asked, at the node for the member's other
// devices: the encrypted file only, sent once signed in, devices.js), with the
// plain advice to keep it: the invitation is spent, and this file is the
// member's only key. Signing in with the new key is a step of its
// own after that: when it fails (a throttle, the network), the member keeps
// the file and signs in with it later. The passphrase and the secret key
// never leave the browser.
import { html, useEffect, useRef, useState } from '../lib/preact.js';
import { get, post, seg } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { Field, Check, ErrorNote } from '../lib/ui.js';
import { makeKeyFile, wipe } from '../lib/keyfile.js';
import { toHex } from '../lib/terms.js';
import { keepKeyFile, signInWithKey } from './signin.js';
import { keepAtNode } from './devices.js';

const PASS_MIN = 8;

// The joined member's page: the key file to download, whether this browser
// keeps a copy, and the sign-in under way, done (go on) or failed (sign in
// again with the file). signin: {busy} | {session} | {error}.
function Joined({ inv, done, signin, onGo }) {
	const failed = signin.error;
	return html`
		<p class="note ok" role="status">${t('member.join.done', { name: inv.name, community: inv.community })}</p>
		<p><strong>${t('member.join.keep_file')}</strong></p>
		<p>${t(done.kept ? 'member.join.kept' : 'member.join.not_kept')}</p>
		${signin.atNode ? html`<p data-kept-at-node>${t(signin.atNode === 'kept' ? 'member.join.at_node' : 'member.join.at_node_failed')}</p>` : null}
		<p><a class="button" href=${done.url} download=${done.file} data-keyfile>${t('member.join.download')}</a></p>
		${failed ? html`<div class="note error" role="alert" data-signin-failed>
				<p>${t('member.join.signin_failed', { message: failed.message })}</p>
				<p><a href="#/signin">${t('member.join.signin_later')}</a></p></div>`
			: html`<button type="button" class="primary" onClick=${onGo} aria-busy=${signin.busy ? 'true' : undefined}>
				${t(signin.busy ? 'member.join.signing_in' : 'member.join.continue')}</button>`}`;
}

// Keeps the key file in this browser when asked; false when it could not
// (storage full or disabled): the page then says the browser keeps no copy.
function keepIf(keep, bytes) {
	if (!keep) return false;
	try {
		keepKeyFile(bytes);
		return true;
	} catch (e) {
		return false;
	}
}

export function Join({ parts, onSession }) {
	const token = parts[1] || '';
	const [inv, setInv] = useState(undefined); // undefined: loading; null: refused
	const [loadErr, setLoadErr] = useState(null);
	const [pass, setPass] = useState('');
	const [again, setAgain] = useState('');
	const [keep, setKeep] = useState(true);
	const [atNode, setAtNode] = useState(false);
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	const [done, setDone] = useState(null); // {url, file, kept}: joined
	const [signin, setSignin] = useState({ busy: true });
	const [go, setGo] = useState(false);
	// A join sent whose answer never came (status 0, or the node failed):
	// sent again with the same key, which the node answers with the member it
	// made if the first one got through.
	const unanswered = useRef(null); // {key, pass}
	useEffect(() => {
		get('/invites/' + seg(token)).then(setInv, (e) => {
			setLoadErr(e);
			setInv(null);
		});
	}, [token]);
	useEffect(() => {
		if (go && signin.session) onSession(signin.session);
	}, [go, signin]);
	document.title = t('member.join.title') + ' · Tally';
	const mismatch = again && pass !== again;
	const submit = async (e) => {
		e.preventDefault();
		if (done || pass.length < PASS_MIN || pass !== again) return;
		setBusy(true);
		setError(null);
		let key = null;
		const was = unanswered.current;
		unanswered.current = null;
		try {
			if (was && was.pass === pass) key = was.key;
			else {
				if (was) wipe(was.key.sk);
				key = await makeKeyFile(pass);
			}
			await post('/invites/' + seg(token), { public_key: toHex(key.pub) });
		} catch (err) {
			if (key && (err.status === 0 || err.status >= 500)) unanswered.current = { key, pass };
			else if (key) wipe(key.sk);
			setError(err);
			setBusy(false);
			return;
		}
		// A member now: the file is theirs whatever happens next.
		const url = URL.createObjectURL(new Blob([key.bytes], { type: 'application/octet-stream' }));
		setPass('');
		setAgain('');
		setDone({ url, file: `${inv.name}.key`, kept: keepIf(keep, key.bytes) });
		try {
			const session = await signInWithKey(key.pub, key.sk);
			let kept;
			if (atNode) kept = await keepAtNode(key.bytes, session).then(() => 'kept', () => 'failed');
			setSignin({ session, atNode: kept });
		} catch (err) {
			setSignin({ error: err });
		} finally {
			wipe(key.sk);
		}
	};
	let body;
	if (inv === undefined) body = html`<p class="muted" role="status">${t('common.loading')}</p>`;
	else if (!inv) body = html`<p class="note error" role="alert">${loadErr && loadErr.status === 404
		? t('member.join.unknown') : (loadErr && loadErr.message)}</p>`;
	else if (done) body = html`<${Joined} inv=${inv} done=${done} signin=${signin} onGo=${() => setGo(true)} />`;
	else body = html`
		<p>${t('member.join.welcome', { name: inv.name, community: inv.community })}</p>
		<p class="muted">${t('member.join.about')}</p>
		<${Field} label=${t('member.join.passphrase')} type="password" value=${pass} onInput=${setPass}
			autocomplete="new-password" name="passphrase" minlength=${PASS_MIN} required
			hint=${t('member.join.passphrase_hint', { n: PASS_MIN })} />
		<${Field} label=${t('member.join.again')} type="password" value=${again} onInput=${setAgain}
			autocomplete="new-password" name="again" required />
		${mismatch ? html`<p class="note error" role="alert">${t('member.join.mismatch')}</p>` : null}
		<${Check} label=${t('member.signin.keep')} checked=${keep} onChange=${setKeep} />
		<${Check} label=${t('member.join.keep_at_node')} checked=${atNode} onChange=${setAtNode} />
		${atNode ? html`<p class="hint">${t('devices.risk')}</p>` : null}
		<${ErrorNote} error=${error} />
		<button type="submit" class="primary" disabled=${busy || pass.length < PASS_MIN || pass !== again}>
			${busy ? t('member.join.busy') : t('member.join.submit')}</button>`;
	return html`<main id="main" class="login">
		<form class="card" onSubmit=${submit}>
			<h1><img class="logo" src="/img/tally.svg" alt="" width="24" height="24" /> ${t('member.join.title')}</h1>
			${body}
		</form>
	</main>`;
}

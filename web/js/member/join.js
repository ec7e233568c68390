// join.js: accepting an invitation (#/join/TOKEN, the link a coordinator
// made with `tally member invite` or the console). The new member chooses a
// passphrase; this browser makes the key pair and its key file (FORMAT.md 9),
// sends the node only the public key, offers the file for download (and
// keeps it, encrypted, if asked), then signs in with the new key. The
// passphrase and the secret key never leave the browser.
import { html, useEffect, useState } from '../lib/preact.js';
import { get, post, seg } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { Field, Check, ErrorNote } from '../lib/ui.js';
import { makeKeyFile, wipe } from '../lib/keyfile.js';
import { toHex } from '../lib/terms.js';
import { keepKeyFile, signInWithKey } from './signin.js';

const PASS_MIN = 8;

export function Join({ parts, onSession }) {
	const token = parts[1] || '';
	const [inv, setInv] = useState(undefined); // undefined: loading; null: refused
	const [loadErr, setLoadErr] = useState(null);
	const [pass, setPass] = useState('');
	const [again, setAgain] = useState('');
	const [keep, setKeep] = useState(true);
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	const [done, setDone] = useState(null); // {url, file, session}
	useEffect(() => {
		get('/invites/' + seg(token)).then(setInv, (e) => {
			setLoadErr(e);
			setInv(null);
		});
	}, [token]);
	document.title = t('member.join.title') + ' · Tally';
	const mismatch = again && pass !== again;
	const submit = async (e) => {
		e.preventDefault();
		if (pass.length < PASS_MIN || pass !== again) return;
		setBusy(true);
		setError(null);
		let key = null;
		try {
			key = await makeKeyFile(pass);
			await post('/invites/' + seg(token), { public_key: toHex(key.pub) });
			if (keep) keepKeyFile(key.bytes);
			const url = URL.createObjectURL(new Blob([key.bytes], { type: 'application/octet-stream' }));
			const session = await signInWithKey(key.pub, key.sk);
			setPass('');
			setAgain('');
			setDone({ url, file: `${inv.name}.key`, session });
		} catch (err) {
			setError(err);
			setBusy(false);
		} finally {
			if (key) wipe(key.sk);
		}
	};
	let body;
	if (inv === undefined) body = html`<p class="muted" role="status">${t('common.loading')}</p>`;
	else if (!inv) body = html`<p class="note error" role="alert">${loadErr && loadErr.status === 404
		? t('member.join.unknown') : (loadErr && loadErr.message)}</p>`;
	else if (done) body = html`
		<p class="note">${t('member.join.done', { name: inv.name, community: inv.community })}</p>
		<p>${t('member.join.download_about')}</p>
		<p><a class="button" href=${done.url} download=${done.file}>${t('member.join.download')}</a></p>
		<button type="button" class="primary" onClick=${() => onSession(done.session)}>${t('member.join.continue')}</button>`;
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

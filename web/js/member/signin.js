// signin.js: signing in with the member's own key. The key file (chosen from
// the device, or the copy this browser keeps) is opened here with the
// passphrase; only then does the page ask the node for a challenge and send
// back the signature of the sign-in terms (FORMAT.md 6.6). A wrong
// passphrase is said at once and nothing is sent. The passphrase and the
// secret key never leave this browser.
import { html, useState } from '../lib/preact.js';
import { post } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { Field, Check, ErrorNote } from '../lib/ui.js';
import { openKeyFile, parseKeyFile, sign, wipe, CTX } from '../lib/keyfile.js';
import { encArray, encBin, encUint, encStr, fromHex, toHex } from '../lib/terms.js';

const STORE_KEY = 'tally.keyfile';

// The key file this browser keeps (encrypted, as it is), or null.
export function keptKeyFile() {
	try {
		const b64 = localStorage.getItem(STORE_KEY);
		if (!b64) return null;
		const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
		parseKeyFile(bytes);
		return bytes;
	} catch (e) {
		return null;
	}
}

export function keepKeyFile(bytes) {
	localStorage.setItem(STORE_KEY, btoa(String.fromCharCode(...bytes)));
}

// The sign-in terms (FORMAT.md 6.6) for a challenge's answer.
export function signinTerms(ch, host) {
	return encArray([encBin(fromHex(ch.log_id, 32)), encUint(ch.member.number),
		encBin(fromHex(ch.member.key, 32)), encBin(fromHex(ch.challenge, 32)), encStr(host)]);
}

// Signs in with an opened key: {pub, sk}. Resolves to the session.
export async function signInWithKey(pub, sk, name) {
	const body = { key: toHex(pub) };
	if (name) body.member = name;
	const ch = await post('/signin/challenge', body);
	const sig = sign(CTX.SIGNIN, signinTerms(ch, location.host), sk);
	return post('/signin', { challenge: ch.challenge, signature: toHex(sig) });
}

// Opens a key file with the passphrase (nothing is sent before it opens),
// signs in with its key and keeps the file in this browser when asked.
// Resolves to the session; the secret key is wiped either way.
export async function signInWithFile(file, pass, keep) {
	const key = await openKeyFile(file, pass);
	try {
		const s = await signInWithKey(key.pub, key.sk);
		if (keep) keepKeyFile(file);
		return s;
	} finally {
		wipe(key.sk);
	}
}

// The key file to open: the one this browser keeps (said above the field), or
// one the member chooses now, parsed at once (a file that is not a key file
// is said here and gives onFile(null)). Shared by signing in and <SignBox>.
export function KeyFileField({ id, kept, onFile }) {
	const [bad, setBad] = useState(false);
	const pick = async (e) => {
		setBad(false);
		const f = e.currentTarget.files[0];
		if (!f) return;
		try {
			const bytes = new Uint8Array(await f.arrayBuffer());
			parseKeyFile(bytes);
			onFile(bytes);
		} catch (err) {
			setBad(true);
			onFile(null);
		}
	};
	return html`
		${kept ? html`<p class="note">${t('member.signin.kept')}</p>` : null}
		<div class="field"><label for=${id}>${t(kept ? 'member.signin.other_file' : 'member.signin.file')}</label>
			<input id=${id} type="file" name="keyfile" accept=".key,application/octet-stream" onChange=${pick} /></div>
		${bad ? html`<p class="note error" role="alert">${t('member.signin.not_keyfile')}</p>` : null}`;
}

export function SignIn({ onSession }) {
	const kept = keptKeyFile();
	const [file, setFile] = useState(kept);
	const [pass, setPass] = useState('');
	const [keep, setKeep] = useState(!kept);
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	const submit = async (e) => {
		e.preventDefault();
		setError(null);
		setBusy(true);
		try {
			const s = await signInWithFile(file, pass, keep);
			setPass('');
			onSession(s);
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};
	document.title = t('member.signin.title') + ' · Tally';
	const wrong = error && (error.code === 'EPASSPHRASE' || error.code === 'EKEYFILE');
	return html`<main id="main" class="login">
		<form class="card" onSubmit=${submit} aria-describedby="signin-about">
			<h1><img class="logo" src="/img/tally.svg" alt="" width="24" height="24" /> ${t('member.signin.title')}</h1>
			<p id="signin-about" class="muted">${t('member.signin.about')}</p>
			<${KeyFileField} id="signin-file" kept=${!!kept} onFile=${setFile} />
			<${Field} label=${t('member.signin.passphrase')} type="password" value=${pass} onInput=${setPass}
				autocomplete="current-password" name="passphrase" required />
			<${Check} label=${t('member.signin.keep')} checked=${keep} onChange=${setKeep} />
			${wrong
				? html`<p class="note error" role="alert">${t(error.code === 'EPASSPHRASE'
					? 'member.signin.wrong_passphrase' : 'member.signin.not_keyfile')}</p>`
				: html`<${ErrorNote} error=${error} />`}
			<button type="submit" class="primary" disabled=${busy || !file}>
				${busy ? t('member.signin.busy') : t('member.signin.submit')}</button>
		</form>
	</main>`;
}

// sign.js: signing in this browser. <SignBox> gets terms bytes that
// checks.js made and checked, shows them, opens the member's key file with
// the passphrase (the file this browser keeps, or one chosen now), checks
// that it is the key the node holds for the signed-in member, signs, wipes
// the secret key and hands back the signature. Nothing secret leaves here.
import { html, useState } from '../lib/preact.js';
import { t } from '../lib/i18n.js';
import { Field, ErrorNote } from '../lib/ui.js';
import { openKeyFile, sign, wipe } from '../lib/keyfile.js';
import * as T from '../lib/terms.js';
import { keptKeyFile, KeyFileField } from './signin.js';

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

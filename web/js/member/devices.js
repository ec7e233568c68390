// devices.js: the member's key file on their other devices, optionally.
// #/devices ("Add a device", signed in): keep the ENCRYPTED key file at the
// node (as this browser holds it, or a file chosen now; never the
// passphrase), delete it there, and make a one-time device link, valid for
// minutes, shown as a link and its QR code. #/device/TOKEN (open, on the new
// device): the link's token fetches the file once; it is opened here with
// the passphrase (a wrong one is said, and the file stays in this page to try
// again: the link is spent), then the member signs in by signature as on the
// sign-in page. The node hands the file out only for such a link, because
// whoever holds it can try passphrases offline.
import { html, useState } from '../lib/preact.js';
import { get, post, del, seg, setCsrf } from '../lib/api.js';
import { t, fmtMoment } from '../lib/i18n.js';
import { Page, Field, Check, ErrorNote, Loading, Action, useLoad } from '../lib/ui.js';
import { parseKeyFile } from '../lib/keyfile.js';
import { fromHex, toHex } from '../lib/terms.js';
import { ShareBox } from '../lib/share.js';
import { KeyFileField, keptKeyFile, signInWithFile } from './signin.js';

// Keeps the key file at the node for a session s (its CSRF token set here:
// the join page calls this before the session is the page's).
export async function keepAtNode(bytes, s) {
	if (s) setCsrf(s.csrf_token);
	return post('/me/keyfile', { key_file: toHex(bytes) });
}

export function Devices() {
	const kept = useLoad(() => get('/me/keyfile'));
	const local = keptKeyFile();
	const [file, setFile] = useState(local);
	const [link, setLink] = useState(null);
	const [error, setError] = useState(null);
	const run = (fn) => async () => {
		setError(null);
		try {
			await fn();
		} catch (e) {
			setError(e);
		}
	};
	const store = run(async () => {
		await keepAtNode(file);
		kept.reload();
	});
	const remove = run(async () => {
		if (!confirm(t('devices.delete_confirm'))) return;
		await del('/me/keyfile');
		setLink(null);
		kept.reload();
	});
	const make = run(async () => setLink(await post('/me/device-links', {})));
	const k = kept.data;
	return html`<${Page} title=${t('devices.title')}>
		<p class="muted">${t('devices.about')}</p>
		<${Loading} state=${kept} />
		<${ErrorNote} error=${error} />
		${k && !k.stored ? html`<div class="card" data-keyfile-absent>
			<p>${t('devices.not_kept')}</p>
			<p class="hint">${t('devices.risk')}</p>
			<${KeyFileField} id="devices-file" kept=${!!local} onFile=${setFile} />
			<${Action} kind="primary" onRun=${store} disabled=${!file}>${t('devices.keep')}</${Action}>
		</div>` : null}
		${k && k.stored ? html`<div class="card" data-keyfile-kept>
			<p>${t('devices.kept', { when: fmtMoment(k.stored_at) })}</p>
			<p><${Action} kind="primary" onRun=${make}>${t('devices.make_link')}</${Action}></p>
			${link ? html`<div data-devlink><${ShareBox} url=${link.link} qr=${link.qr_svg}
				about=${t('devices.link_about', { when: fmtMoment(link.expires) })} label=${t('devices.qr')} /></div>` : null}
			<p><${Action} kind="link" onRun=${remove}>${t('devices.delete')}</${Action}></p>
		</div>` : null}
	</${Page}>`;
}

// The new device: fetch the file once, open it, sign in.
export function Device({ parts, onSession }) {
	const token = parts[1] || '';
	const [bytes, setBytes] = useState(null); // the fetched file: the link is spent
	const [who, setWho] = useState(null);
	const [url, setUrl] = useState(null);
	const [pass, setPass] = useState('');
	const [keep, setKeep] = useState(true);
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	document.title = t('device.title') + ' · Tally';
	const submit = async (e) => {
		e.preventDefault();
		setError(null);
		setBusy(true);
		let file = bytes;
		try {
			if (!file) {
				const r = await post('/device/' + seg(token), {});
				file = fromHex(r.key_file, 140);
				parseKeyFile(file);
				setBytes(file);
				setUrl(URL.createObjectURL(new Blob([file], { type: 'application/octet-stream' })));
				setWho(r);
			}
			const s = await signInWithFile(file, pass, keep);
			setPass('');
			onSession(s);
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};
	const wrong = error && error.code === 'EPASSPHRASE';
	return html`<main id="main" class="login">
		<form class="card" onSubmit=${submit}>
			<h1><img class="logo" src="/img/tally.svg" alt="" width="24" height="24" /> ${t('device.title')}</h1>
			<p class="muted">${t('device.about')}</p>
			${who ? html`<p class="note ok" role="status" data-device-fetched>${t('device.fetched', { name: who.member, community: who.community.name })}</p>
				<p><a class="button" href=${url} download=${who.member + '.key'} data-keyfile>${t('member.join.download')}</a></p>` : null}
			<${Field} label=${t('member.signin.passphrase')} type="password" value=${pass} onInput=${setPass}
				autocomplete="current-password" name="passphrase" required />
			<${Check} label=${t('member.signin.keep')} checked=${keep} onChange=${setKeep} />
			${wrong ? html`<p class="note error" role="alert">${t('member.signin.wrong_passphrase')}</p>`
				: html`<${ErrorNote} error=${error} />`}
			<button type="submit" class="primary" disabled=${busy || (!!error && error.status === 404 && !bytes)}>
				${busy ? t('member.signin.busy') : t(bytes ? 'member.signin.submit' : 'device.submit')}</button>
		</form>
	</main>`;
}

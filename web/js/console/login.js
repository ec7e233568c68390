// login.js: the console's login page. A coordinator made with
// `tally coordinator add` logs in with name and password; the answer carries
// the CSRF token the other requests need. Wrong names and wrong passwords get
// the same answer (the server's), and slowed logins say how long to wait.
import { html, useState } from '../lib/preact.js';
import { post } from '../lib/api.js';
import { t, currentLang, languages } from '../lib/i18n.js';
import { Field, ErrorNote } from '../lib/ui.js';

export function Login({ onSession, onLang }) {
	const [name, setName] = useState('');
	const [password, setPassword] = useState('');
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	const submit = async (e) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			onSession(await post('/session', { name, password }));
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};
	document.title = t('login.title') + ' · Tally';
	return html`<main id="main" class="login">
		<form class="card" onSubmit=${submit} aria-describedby="login-about">
			<h1><img class="logo" src="/img/tally.svg" alt="" width="24" height="24" /> Tally</h1>
			<p id="login-about" class="muted">${t('login.about')}</p>
			<${Field} label=${t('login.name')} value=${name} onInput=${setName}
				autocomplete="username" autocapitalize="none" required />
			<${Field} label=${t('login.password')} type="password" value=${password}
				onInput=${setPassword} autocomplete="current-password" required />
			${error && error.code === 'EAUTH'
				? html`<p class="note error" role="alert">${t('login.wrong')}</p>`
				: html`<${ErrorNote} error=${error} />`}
			<button type="submit" class="primary" disabled=${busy}>${t('login.submit')}</button>
			<label class="lang"><span>${t('lang.label')}</span>
				<select value=${currentLang()} onChange=${(e) => onLang(e.currentTarget.value)}>
					${languages.map((l) => html`<option value=${l.code} lang=${l.code}>${l.name}</option>`)}
				</select></label>
		</form>
	</main>`;
}

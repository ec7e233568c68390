// home.js: the member's first page after signing in. A placeholder for the
// member's pages (balance, statement, exchanges) to come.
import { html } from '../lib/preact.js';
import { t } from '../lib/i18n.js';

export function Home({ session }) {
	document.title = t('member.nav.home') + ' · Tally';
	return html`<section class="card">
		<h1>${t('member.home.hello', { name: session.member.name })}</h1>
		<p class="muted">${t('member.home.about')}</p>
	</section>`;
}

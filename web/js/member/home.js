// home.js: the member's first page: the balance, what waits for them
// (proposals to confirm, their own waiting for the other member), and the
// way to everything else. It only reads; the pages it links to act.
import { html } from '../lib/preact.js';
import { get } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { Page, Hours, Loading, useLoad } from '../lib/ui.js';

async function load() {
	const [st, p] = await Promise.all([get('/me/statement'), get('/me/proposals')]);
	return { member: st.member, community: st.community, proposals: p.proposals };
}

export function Home({ session }) {
	const st = useLoad(load);
	const d = st.data;
	const toConfirm = d ? d.proposals.filter((p) => p.mine === 'receiver') : [];
	const mine = d ? d.proposals.filter((p) => p.mine === 'provider') : [];
	return html`<${Page} title=${t('member.home.hello', { name: session.member.name })}>
		<${Loading} state=${st} />
		${d ? html`<section class="card">
			<p class="balance-big" data-balance>${t('mx.balance_now')} <${Hours} minutes=${d.member.balance_minutes} /></p>
			${d.member.held_minutes ? html`<p class="muted">${t('mx.held')} <${Hours} minutes=${d.member.held_minutes} /></p>` : null}
			<p class="muted">${d.community.name}</p>
		</section>
		<section class="card" aria-labelledby="waits">
			<h2 id="waits">${t('mx.waits')}</h2>
			${toConfirm.length
				? html`<p><a href="#/pending" data-to-confirm>${t('mx.to_confirm', { n: toConfirm.length })}</a></p>`
				: html`<p class="muted">${t('mx.nothing_waits')}</p>`}
			${mine.length ? html`<p class="muted">${t('mx.mine_waiting', { n: mine.length })}</p>` : null}
			<p><a href="#/notices" data-notices-link>${t('notice.see_all')}</a></p>
		</section>
		<nav class="card actions" aria-label=${t('mx.do')}>
			<a class="button primary" href="#/propose">${t('mx.propose')}</a>
			<a class="button" href="#/pay">${t('mx.pay')}</a>
			<a class="button" href="#/statement">${t('mx.statement')}</a>
			<a class="button" href="#/receipts">${t('mx.receipts')}</a>
		</nav>` : null}
	</${Page}>`;
}

// dashboard.js: the community at a glance: members, hours exchanged this
// month, confirmations waiting, exchanges with other communities still in
// flight, and each peer's state and how far behind it is. Each figure comes
// from its own request, so one that fails (or that this node does not serve)
// leaves the others standing.
import { html } from '../lib/preact.js';
import { get, query } from '../lib/api.js';
import { t, fmtInt, fmtMoment, fmtHours, thisMonth } from '../lib/i18n.js';
import { Page, Table, useLoad, Loading, errorText, unoffered } from '../lib/ui.js';

function Figure({ label, state, value, href }) {
	let shown;
	if (state.error) shown = '—';
	else if (!state.data) shown = html`<span class="muted" data-loading>…</span>`;
	else shown = value(state.data);
	const body = html`<span class="figure-value">${shown}</span><span class="figure-label">${label}</span>
		${state.error ? html`<span class="figure-note">${errorText(state.error)}</span>` : null}`;
	return html`<li class="figure">${href ? html`<a href=${href}>${body}</a>` : body}</li>`;
}

// The lag of a peer: how many entries of the logs it holds we are behind
// (or it is behind us), the largest of its logs.
export function peerLag(p) {
	let lag = null;
	for (const l of p.logs || []) if (typeof l.lag === 'number') lag = Math.max(lag ?? 0, Math.abs(l.lag));
	return lag;
}

// When a peer was last heard from; a connected peer the node keeps no time
// for (one that called us) is heard from now.
export function lastContact(p) {
	if (p.last_contact) return fmtMoment(p.last_contact);
	return p.connected ? t('fed.now') : '—';
}

export function PeerState({ p }) {
	return p.connected
		? html`<span class="badge ok">${t('fed.connected')}</span>`
		: html`<span class="badge warn">${t('fed.disconnected')}</span>`;
}

// Minutes exchanged in the period: the hours report, or on a node without
// reports the sum of the period's exchanges less their reversals.
async function monthMinutes(period) {
	try {
		const d = await get('/reports/hours' + query(period));
		return (d.by_month || []).reduce((s, m) => s + m.minutes, 0);
	} catch (e) {
		if (!unoffered(e)) throw e;
	}
	const d = await get('/exchanges' + query({ ...period, limit: 1000 }));
	return d.exchanges.reduce((s, x) => s + (x.kind === 'reversal' ? -x.minutes : x.minutes), 0);
}

export function Dashboard() {
	const month = thisMonth();
	const community = useLoad(() => get('/community'), []);
	const hours = useLoad(() => monthMinutes(month), []);
	const pending = useLoad(() => get('/exchanges/pending'), []);
	const cross = useLoad(() => get('/cross?open=true'), []);
	const peers = useLoad(() => get('/peers'), []);
	return html`<${Page} title=${t('dash.title')}>
		<ul class="figures">
			<${Figure} label=${t('dash.members')} state=${community} href="#/members"
				value=${(c) => fmtInt(c.active_members ?? c.members)} />
			<${Figure} label=${t('dash.hours_month')} state=${hours} href="#/reports"
				value=${(m) => fmtHours(m)} />
			<${Figure} label=${t('dash.pending')} state=${pending} href="#/pending"
				value=${(d) => fmtInt(d.pending.length)} />
			<${Figure} label=${t('dash.in_flight')} state=${cross} href="#/links"
				value=${(d) => fmtInt((d.cross || d.exchanges || []).length)} />
		</ul>
		<h2>${t('dash.federation')}</h2>
		<${Loading} state=${peers} />
		${peers.data ? html`<${Table} rows=${peers.data.peers} empty=${t('fed.no_peers')}
			rowKey=${(p) => p.address}
			columns=${[
				{ label: t('fed.community'), cell: (p) => p.community_name || p.address },
				{ label: t('fed.state'), cell: (p) => html`<${PeerState} p=${p} />` },
				{ label: t('fed.lag'), num: true, cell: (p) => (peerLag(p) === null ? '—' : fmtInt(peerLag(p))) },
				{ label: t('fed.last_contact'), cell: lastContact },
			]} />` : null}
	</${Page}>`;
}

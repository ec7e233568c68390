// federation.js: the node among its peers: each peer's connection, when it
// was last heard from and how far apart the logs are; every log this node
// holds with its head; and the forks found (two signed entries of one log at
// one seq), which stop that log and are kept as proof.
import { html } from '../lib/preact.js';
import { get } from '../lib/api.js';
import { t, fmtInt } from '../lib/i18n.js';
import { Page, Table, Loading, useLoad } from '../lib/ui.js';
import { peerLag, PeerState, lastContact } from './dashboard.js';

const short = (hex) => (hex ? hex.slice(0, 12) + '…' : '—');

export function Federation() {
	const peers = useLoad(() => get('/peers'), []);
	const logs = useLoad(() => get('/logs'), []);
	const forks = useLoad(() => get('/forks'), []);
	return html`<${Page} title=${t('fed.title')} wide>
		<h2>${t('fed.peers')}</h2>
		<${Loading} state=${peers} />
		${peers.data ? html`<${Table} rows=${peers.data.peers} rowKey=${(p) => p.address} empty=${t('fed.no_peers')}
			columns=${[
				{ label: t('fed.community'), cell: (p) => p.community_name || short(p.id) },
				{ label: t('fed.address'), cell: (p) => html`<code>${p.address}</code>` },
				{ label: t('fed.state'), cell: (p) => html`<${PeerState} p=${p} />` },
				{ label: t('fed.direction'), cell: (p) => t(p.outbound ? 'fed.outbound' : 'fed.inbound') },
				{ label: t('fed.lag'), num: true, cell: (p) => (peerLag(p) === null ? '—' : fmtInt(peerLag(p))) },
				{ label: t('fed.last_contact'), cell: lastContact },
				{ label: t('fed.traffic'), num: true, cell: (p) => t('fed.bytes', { in: fmtInt(p.bytes_in || 0), out: fmtInt(p.bytes_out || 0) }) },
			]} />` : null}
		<h2>${t('fed.logs')}</h2>
		<${Loading} state=${logs} />
		${logs.data ? html`<${Table} rows=${logs.data.logs} rowKey=${(l) => l.log} empty=${t('fed.no_logs')}
			columns=${[
				{ label: t('fed.community'), cell: (l) => html`${l.community_name || short(l.log)}
					${l.own ? html` <span class="badge">${t('fed.own')}</span>` : null}` },
				{ label: t('fed.entries'), num: true, cell: (l) => fmtInt(l.seq) },
				{ label: t('fed.head'), cell: (l) => html`<code title=${l.head}>${short(l.head)}</code>` },
				{ label: t('fed.state'), cell: (l) => (l.forked
					? html`<span class="badge bad">${t('fed.forked')}</span>`
					: html`<span class="badge ok">${t('fed.ok')}</span>`) },
			]} />` : null}
		<h2>${t('fed.forks')}</h2>
		<${Loading} state=${forks} />
		${forks.data ? html`<${Table} rows=${forks.data.forks} rowKey=${(f) => f.log + f.seq} empty=${t('fed.no_forks')}
			columns=${[
				{ label: t('fed.community'), cell: (f) => f.community_name || short(f.log) },
				{ label: t('field.seq'), num: true, cell: (f) => fmtInt(f.seq) },
				{ label: t('fed.proof'), cell: (f) => html`<code class="wrap">${short(f.entry_a)} / ${short(f.entry_b)}</code>` },
			]} />` : null}
	</${Page}>`;
}

// statement.js: the member's balance and every entry that moved it (GET
// /api/v1/me/statement), newest first, each exchange with its receipt to
// download (GET /api/v1/me/receipts/TXID: the file `tally receipt` writes).
import { html } from '../lib/preact.js';
import { get } from '../lib/api.js';
import { t, fmtDate } from '../lib/i18n.js';
import { Page, Table, Hours, Loading, useLoad } from '../lib/ui.js';

export const loadStatement = () => get('/me/statement');

export function Statement() {
	const st = useLoad(loadStatement);
	const d = st.data;
	const lines = d ? d.lines.slice().reverse() : [];
	const columns = [
		{ label: t('mx.date'), cell: (l) => fmtDate(l.date) },
		{ label: t('mx.with'), cell: (l) => l.counterparty || '—' },
		{ label: t('mx.what'), cell: (l) => [l.category, l.memo].filter(Boolean).join(' · ') || t('mx.kind.' + l.kind) },
		{ label: t('mx.amount'), num: true, cell: (l) => html`<${Hours} minutes=${l.delta_minutes} sign />` },
		{ label: t('mx.balance'), num: true, cell: (l) => html`<${Hours} minutes=${l.balance_minutes} />` },
		{ label: t('mx.receipt'), cell: (l) => l.txid && l.kind !== 'opening'
			? html`<a href=${'/api/v1/me/receipts/' + l.txid} download=${'receipt-' + l.txid + '.bin'}
				aria-label=${t('mx.receipt_of', { date: fmtDate(l.date) })}>${t('mx.download')}</a>` : '' },
	];
	return html`<${Page} title=${t('mx.statement')}>
		<${Loading} state=${st} />
		${d ? html`<p class="balance-big">${t('mx.balance_now')} <${Hours} minutes=${d.member.balance_minutes} /></p>
			<${Table} caption=${t('mx.statement_caption')} columns=${columns} rows=${lines} rowKey=${(l) => l.seq}
				empty=${t('mx.no_lines')} />` : null}
	</${Page}>`;
}

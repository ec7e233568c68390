// reports.js: the community's reports for a period: hours by month and by
// category, each member's totals with opening and closing balances, members
// with no exchange for a number of days and members near their limits; each
// downloads as CSV or JSON from the same API request with format=csv.
import { html, useState } from '../lib/preact.js';
import { get, query, downloadUrl } from '../lib/api.js';
import { t, fmtInt, fmtDate, fmtMonth, thisMonth } from '../lib/i18n.js';
import { Page, Table, Hours, Field, Loading, useLoad } from '../lib/ui.js';

function Downloads({ path, params, name }) {
	return html`<span class="downloads">
		<a class="button small" href=${downloadUrl(path, { ...params, format: 'csv' })} download=${name + '.csv'}
			aria-label=${t('reports.csv_of', { report: t('reports.' + name) })}>CSV</a>
		<a class="button small" href=${downloadUrl(path, params)} download=${name + '.json'}
			aria-label=${t('reports.json_of', { report: t('reports.' + name) })}>JSON</a>
	</span>`;
}

function Section({ name, path, params, children }) {
	return html`<section class="report" aria-labelledby=${'r-' + name}>
		<div class="section-head"><h2 id=${'r-' + name}>${t('reports.' + name)}</h2>
			<${Downloads} path=${path} params=${params} name=${name} /></div>
		${children}
	</section>`;
}

export function Reports() {
	const month = thisMonth();
	const [f, setF] = useState({ from: month.from, to: month.to, days: '90', within: '60' });
	const [p, setP] = useState({ ...f });
	const set = (k) => (v) => setF((o) => ({ ...o, [k]: v }));
	const period = { from: p.from, to: p.to };
	const hours = useLoad(() => get('/reports/hours' + query(period)), [p.from, p.to]);
	const members = useLoad(() => get('/reports/members' + query(period)), [p.from, p.to]);
	const inactive = useLoad(() => get('/reports/inactive' + query({ days: p.days })), [p.days]);
	const near = useLoad(() => get('/reports/near-limit' + query({ within_minutes: p.within })), [p.within]);
	const list = (d, k) => (d ? d[k] || d.members || [] : []);
	return html`<${Page} title=${t('reports.title')} wide>
		<form class="filters" aria-label=${t('common.period')} onSubmit=${(e) => {
			e.preventDefault();
			setP({ ...f });
		}}>
			<${Field} label=${t('field.from')} type="date" value=${f.from} onInput=${set('from')} required />
			<${Field} label=${t('field.to')} type="date" value=${f.to} onInput=${set('to')} required />
			<${Field} label=${t('reports.days')} type="number" min="1" max="3650" value=${f.days} onInput=${set('days')} />
			<${Field} label=${t('reports.within')} type="number" min="0" value=${f.within} onInput=${set('within')} />
			<button type="submit">${t('common.show')}</button>
		</form>
		<${Section} name="hours" path="/reports/hours" params=${period}>
			<${Loading} state=${hours} />
			${hours.data ? html`<div class="two">
				<${Table} caption=${t('reports.by_month')} rows=${hours.data.by_month} rowKey=${(r) => r.month}
					columns=${[
						{ label: t('reports.month'), cell: (r) => fmtMonth(r.month) },
						{ label: t('reports.exchanges'), num: true, cell: (r) => fmtInt(r.exchanges) },
						{ label: t('field.time'), num: true, cell: (r) => html`<${Hours} minutes=${r.minutes} />` },
					]} />
				<${Table} caption=${t('reports.by_category')} rows=${hours.data.by_category} rowKey=${(r) => r.category}
					columns=${[
						{ label: t('field.category'), cell: (r) => r.category || t('reports.no_category') },
						{ label: t('reports.exchanges'), num: true, cell: (r) => fmtInt(r.exchanges) },
						{ label: t('field.time'), num: true, cell: (r) => html`<${Hours} minutes=${r.minutes} />` },
					]} />
			</div>` : null}
		</${Section}>
		<${Section} name="members" path="/reports/members" params=${period}>
			<${Loading} state=${members} />
			${members.data ? html`<${Table} rows=${list(members.data, 'members')} rowKey=${(r) => r.name}
				columns=${[
					{ label: t('field.name'), cell: (r) => r.name },
					{ label: t('statement.opening'), num: true, cell: (r) => html`<${Hours} minutes=${r.opening_balance_minutes} />` },
					{ label: t('reports.earned'), num: true, cell: (r) => html`<${Hours} minutes=${r.earned_minutes} />` },
					{ label: t('reports.spent'), num: true, cell: (r) => html`<${Hours} minutes=${r.spent_minutes} />` },
					{ label: t('statement.closing'), num: true, cell: (r) => html`<${Hours} minutes=${r.closing_balance_minutes} />` },
					{ label: t('reports.exchanges'), num: true, cell: (r) => fmtInt(r.exchanges) },
				]} />` : null}
		</${Section}>
		<${Section} name="inactive" path="/reports/inactive" params=${{ days: p.days }}>
			<${Loading} state=${inactive} />
			${inactive.data ? html`<${Table} rows=${list(inactive.data, 'inactive')} rowKey=${(r) => r.name}
				empty=${t('reports.none_inactive')} columns=${[
					{ label: t('field.name'), cell: (r) => r.name },
					{ label: t('reports.last_exchange'), cell: (r) => (r.last_exchange ? fmtDate(r.last_exchange) : t('reports.never')) },
					{ label: t('field.balance'), num: true, cell: (r) => html`<${Hours} minutes=${r.balance_minutes} sign />` },
				]} />` : null}
		</${Section}>
		<${Section} name="near_limit" path="/reports/near-limit" params=${{ within_minutes: p.within }}>
			<${Loading} state=${near} />
			${near.data ? html`<${Table} rows=${list(near.data, 'near_limit')} rowKey=${(r) => r.name}
				empty=${t('reports.none_near')} columns=${[
					{ label: t('field.name'), cell: (r) => r.name },
					{ label: t('field.balance'), num: true, cell: (r) => html`<${Hours} minutes=${r.balance_minutes} sign />` },
					{ label: t('members.debt_limit'), num: true, cell: (r) => html`<${Hours} minutes=${r.debt_limit_minutes} />` },
					{ label: t('members.ceiling'), num: true, cell: (r) => html`<${Hours} minutes=${r.ceiling_minutes} />` },
					{ label: t('reports.room'), num: true, cell: (r) => html`<${Hours} minutes=${r.room_minutes} />` },
				]} />` : null}
		</${Section}>
	</${Page}>`;
}

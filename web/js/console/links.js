// links.js: trust lines with other communities (how much each may owe the
// other), the clearing accounts that mirror each other across two ledgers,
// and exchanges with members of other communities: sending one, and following
// those still in flight until both ledgers have recorded them (or neither).
import { html, useState } from '../lib/preact.js';
import { get, post } from '../lib/api.js';
import { t, fmtMoment } from '../lib/i18n.js';
import {
	Page, Table, Hours, Field, Select, HoursInput, amountOf, FormStatus, Loading, useForm, useLoad, useCan,
} from '../lib/ui.js';

function AddLink({ onDone }) {
	const [community, setCommunity] = useState('');
	const [hours, setHours] = useState('');
	const form = useForm(async () => {
		await post('/links', { community: community.trim(), limit_minutes: Math.round(Number(hours) * 60) });
		onDone();
		return t('links.saved', { community: community.trim() });
	});
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="add-link-h">
		<h2 id="add-link-h">${t('links.add')}</h2>
		<p class="hint">${t('links.add_about')}</p>
		<div class="row">
			<${Field} label=${t('links.community')} value=${community} onInput=${setCommunity} required
				name="link-community" />
			<${Field} label=${t('links.limit_hours')} type="number" min="0" step="0.5" value=${hours}
				onInput=${setHours} required name="link-hours" />
		</div>
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('links.save')}</button>
	</form>`;
}

function SendCross({ members, onDone }) {
	const [f, setF] = useState({ from: '', to: '', hours: '', minutes: '', memo: '', category: '' });
	const set = (k) => (v) => setF((o) => ({ ...o, [k]: v }));
	const form = useForm(async () => {
		const minutes = amountOf(f.hours, f.minutes);
		const r = await post('/cross', {
			from: f.from, to: f.to.trim(), minutes, memo: f.memo, category: f.category.trim(), attest: true,
		});
		onDone();
		return t('cross.sent', { txid: r.txid });
	});
	const opts = [{ value: '', label: t('record.choose') },
		...((members.data && members.data.members) || []).map((m) => ({ value: m.name, label: m.name }))];
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="cross-h">
		<h2 id="cross-h">${t('cross.send')}</h2>
		<p class="hint">${t('cross.about')}</p>
		<div class="row">
			<${Select} label=${t('cross.payer')} value=${f.from} onChange=${set('from')} options=${opts} required
				name="cross-from" />
			<${Field} label=${t('cross.payee')} value=${f.to} onInput=${set('to')} required
				placeholder="alice@Hilltop" pattern=".+@.+" name="cross-to" />
		</div>
		<div class="row">
			<${HoursInput} legend=${t('field.time')} hours=${f.hours} minutes=${f.minutes}
				onHours=${set('hours')} onMinutes=${set('minutes')} />
			<${Field} label=${t('field.category')} value=${f.category} onInput=${set('category')}
				name="cross-category" />
			<${Field} label=${t('field.memo')} value=${f.memo} onInput=${set('memo')} name="cross-memo" />
		</div>
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('cross.submit')}</button>
	</form>`;
}

const STATE_BADGE = { held: 'warn', committed: 'warn', refused: 'bad', completed: 'ok', released: '' };

export function Links() {
	const can = useCan();
	const links = useLoad(() => get('/links'), []);
	const balances = useLoad(() => get('/balances'), []);
	const cross = useLoad(() => get('/cross'), []);
	const members = useLoad(() => get('/members'), []);
	const community = useLoad(() => get('/community'), []);
	// The list holds every cross exchange whose legs are held here, other
	// communities' between themselves too: this page shows this community's.
	const own = community.data ? community.data.id : null;
	const crossRows = (cross.data ? cross.data.cross || cross.data.exchanges || [] : [])
		.filter((x) => !own || x.payer_community === own || x.payee_community === own);
	return html`<${Page} title=${t('links.title')} wide>
		<h2>${t('links.lines')}</h2>
		<${Loading} state=${links} />
		${links.data ? html`<${Table} rows=${links.data.links} rowKey=${(l) => l.community} empty=${t('links.none')}
			columns=${[
				{ label: t('links.community'), cell: (l) => l.community_name || l.community.slice(0, 16) },
				// Both sides agreed once their line to us is held here too.
				{ label: t('links.state'), cell: (l) => (l.linked && l.their_limit_minutes !== null
					? html`<span class="badge ok">${t('links.linked')}</span>`
					: html`<span class="badge warn">${t('links.one_sided')}</span>`) },
				{ label: t('links.limit'), num: true, cell: (l) => html`<${Hours} minutes=${l.limit_minutes} />` },
				{ label: t('links.their_limit'), num: true, cell: (l) => html`<${Hours} minutes=${l.their_limit_minutes} />` },
				{ label: t('field.balance'), num: true, cell: (l) => html`<${Hours} minutes=${l.balance_minutes} sign />` },
				{ label: t('links.mirror'), num: true, cell: (l) => html`<${Hours} minutes=${l.mirror_minutes} sign />` },
				{ label: t('members.held'), num: true, cell: (l) => html`<${Hours} minutes=${l.held_minutes} />` },
			]} />` : null}
		${can('admin') ? html`<${AddLink} onDone=${links.reload} />` : null}
		<h2>${t('links.clearing')}</h2>
		<p class="muted">${t('links.clearing_about')}</p>
		<${Loading} state=${balances} />
		${balances.data ? html`<${Table} rows=${balances.data.clearing || []} rowKey=${(c) => c.community}
			empty=${t('links.no_clearing')} columns=${[
				{ label: t('links.community'), cell: (c) => c.community_name || c.community.slice(0, 16) },
				{ label: t('field.balance'), num: true, cell: (c) => html`<${Hours} minutes=${c.balance_minutes} sign />` },
				{ label: t('members.held'), num: true, cell: (c) => html`<${Hours} minutes=${c.held_minutes} />` },
				{ label: t('links.limit'), num: true, cell: (c) => html`<${Hours} minutes=${c.limit_minutes} />` },
				{ label: t('links.exchanges'), num: true, cell: (c) => c.exchanges },
			]} />` : null}
		<h2>${t('cross.title')}</h2>
		${can('coordinator') ? html`<${SendCross} members=${members} onDone=${cross.reload} />` : null}
		<${Loading} state=${cross} />
		${cross.data ? html`<${Table} rows=${crossRows} rowKey=${(x) => x.txid} empty=${t('cross.none')}
			columns=${[
				{ label: t('cross.col_payer'), cell: (x) => x.payer },
				{ label: t('cross.col_payee'), cell: (x) => x.payee },
				{ label: t('field.time'), num: true, cell: (x) => html`<${Hours} minutes=${x.minutes} />` },
				{ label: t('links.state'), cell: (x) => html`<span class=${'badge ' + (STATE_BADGE[x.state] ?? '')}>
					${t('cross.state.' + x.state)}</span>
					${x.refusal ? html`<br /><small>${t('error.refused', x.refusal)}</small>` : null}` },
				{ label: t('cross.expires'), cell: (x) => fmtMoment(x.expires) },
			]} />` : null}
	</${Page}>`;
}

// members.js: the members' page (balances, add, remove) and a member's
// statement, which prints as a clean page for the member to keep. Adding a
// member either has the node make and keep the member's key under a
// passphrase, or takes the public key of a member who keeps their own.
import { html, useState } from '../lib/preact.js';
import { get, post, del, seg, query } from '../lib/api.js';
import { t, fmtDate, fmtMoment, thisMonth } from '../lib/i18n.js';
import { Page, Table, Hours, Field, Select, ErrorNote, FormStatus, Loading, useForm, useLoad, useCan } from '../lib/ui.js';

function AddMember({ onAdded }) {
	const [name, setName] = useState('');
	const [limit, setLimit] = useState('');
	const [ceiling, setCeiling] = useState('');
	const [keyMode, setKeyMode] = useState('node');
	const [secret, setSecret] = useState('');
	const form = useForm(async () => {
		const body = { name: name.trim() };
		if (limit !== '') body.debt_limit_minutes = Math.round(Number(limit) * 60);
		if (ceiling !== '') body.ceiling_minutes = Math.round(Number(ceiling) * 60);
		if (keyMode === 'node') body.passphrase = secret;
		else body.public_key = secret.trim().toLowerCase();
		const m = await post('/members', body);
		setName('');
		setLimit('');
		setCeiling('');
		setSecret('');
		onAdded();
		return t('members.added', { name: m.name || body.name });
	});
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="add-member-h">
		<h2 id="add-member-h">${t('members.add')}</h2>
		<div class="row">
			<${Field} label=${t('field.name')} value=${name} onInput=${setName} required maxlength="64"
				autocomplete="off" name="member-name" />
			<${Field} label=${t('members.debt_limit')} aria-describedby="limit-hint" type="number" min="0"
				step="0.5" value=${limit} onInput=${setLimit} name="debt-limit" />
			<${Field} label=${t('members.ceiling')} aria-describedby="limit-hint" type="number" min="0"
				step="0.5" value=${ceiling} onInput=${setCeiling} name="ceiling" />
		</div>
		<p class="hint" id="limit-hint">${t('members.limit_hint')}</p>
		<div class="row">
			<${Select} label=${t('members.key')} value=${keyMode} onChange=${setKeyMode} name="key-mode"
				options=${[
					{ value: 'node', label: t('members.key_node') },
					{ value: 'own', label: t('members.key_own') },
				]} />
			${keyMode === 'node'
				? html`<${Field} label=${t('members.passphrase')} type="password" value=${secret} onInput=${setSecret}
					required autocomplete="new-password" aria-describedby="passphrase-hint" name="passphrase" />`
				: html`<${Field} label=${t('members.public_key')} value=${secret} onInput=${setSecret} required
					pattern="[0-9a-fA-F]{64}" autocomplete="off" spellcheck="false" name="public-key" />`}
		</div>
		${keyMode === 'node' ? html`<p class="hint" id="passphrase-hint">${t('members.passphrase_hint')}</p>` : null}
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('members.add_submit')}</button>
	</form>`;
}

export function Members() {
	const can = useCan();
	const [all, setAll] = useState(false);
	const balances = useLoad(() => get('/balances'), []);
	const members = useLoad(() => get('/members' + query({ all })), [all]);
	const [error, setError] = useState(null);
	const byName = {};
	for (const m of (balances.data && balances.data.members) || []) byName[m.name] = m;
	const rows = ((members.data && members.data.members) || []).map((m) => ({ ...m, ...(byName[m.name] || {}) }));
	const remove = async (m) => {
		if (!window.confirm(t('members.remove_confirm', { name: m.name }))) return;
		setError(null);
		try {
			await del('/members/' + seg(m.name));
			members.reload();
			balances.reload();
		} catch (err) {
			setError(err);
		}
	};
	const columns = [
		{ label: t('field.number'), num: true, cell: (m) => m.number },
		{ label: t('field.name'), cell: (m) => html`<a href=${'#/members/' + seg(m.name)}>${m.name}</a>
			${m.active === false ? html` <span class="badge">${t('members.left')}</span>` : null}` },
		{ label: t('field.balance'), num: true, cell: (m) => html`<${Hours} minutes=${m.balance_minutes} sign />` },
		{ label: t('members.held'), num: true, cell: (m) => html`<${Hours} minutes=${m.held_minutes} />` },
		{ label: t('members.debt_limit'), num: true, cell: (m) => html`<${Hours} minutes=${m.debt_limit_minutes} />` },
		{ label: t('members.ceiling'), num: true, cell: (m) => html`<${Hours} minutes=${m.ceiling_minutes} />` },
		{ label: t('common.actions'), cell: (m) => html`<span class="actions">
			<a href=${'#/members/' + seg(m.name)}>${t('members.statement')}</a>
			${can('admin') && m.active !== false ? html`<button type="button" class="danger small"
				aria-label=${t('members.remove_named', { name: m.name })}
				onClick=${() => remove(m)}>${t('members.remove')}</button>` : null}</span>` },
	];
	return html`<${Page} title=${t('members.title')}>
		${can('admin') ? html`<${AddMember} onAdded=${() => { members.reload(); balances.reload(); }} />` : null}
		<h2>${t('members.list')}</h2>
		<label class="inline"><input type="checkbox" checked=${all} onChange=${(e) => setAll(e.currentTarget.checked)} />
			${' ' + t('members.show_left')}</label>
		<${ErrorNote} error=${error} />
		<${Loading} state=${members} />
		${members.data ? html`<${Table} rows=${rows} columns=${columns} rowKey=${(m) => m.name}
			empty=${t('members.none')} />` : null}
		${balances.data ? html`<p class="muted small">${t('members.sum', {})} <${Hours} minutes=${balances.data.sum_minutes} /></p>` : null}
	</${Page}>`;
}

const KIND = { exchange: 'kind.exchange', reversal: 'kind.reversal', cross: 'kind.cross', opening: 'kind.opening' };

export function Statement({ name, params }) {
	const month = thisMonth();
	const [from, setFrom] = useState(params.get('from') || '');
	const [to, setTo] = useState(params.get('to') || '');
	const [period, setPeriod] = useState({ from: params.get('from') || '', to: params.get('to') || '' });
	const community = useLoad(() => get('/community'), []);
	const st = useLoad(() => get('/members/' + seg(name) + '/statement' + query(period)), [name, period.from, period.to]);
	const d = st.data;
	const apply = (e) => {
		e.preventDefault();
		setPeriod({ from, to });
	};
	const columns = [
		{ label: t('field.date'), cell: (l) => fmtDate(l.date) },
		{ label: t('field.kind'), cell: (l) => t(KIND[l.kind] || 'kind.exchange') },
		{ label: t('field.counterparty'), cell: (l) => l.counterparty || '—' },
		{ label: t('field.category'), cell: (l) => l.category || '—' },
		// Only an exchange's (or its reversal's) memo is ever erased; other
		// lines, such as an imported opening balance, have none (null).
		{ label: t('field.memo'), cell: (l) => l.memo ?? (l.kind === 'exchange' || l.kind === 'reversal'
			? html`<span class="muted">${t('common.erased')}</span>` : '—') },
		{ label: t('statement.change'), num: true, cell: (l) => html`<${Hours} minutes=${l.delta_minutes} sign />` },
		{ label: t('field.balance'), num: true, cell: (l) => html`<${Hours} minutes=${l.balance_minutes} />` },
	];
	return html`<${Page} title=${t('statement.title', { name })} wide
		actions=${html`<a class="button" href="#/members">${t('statement.back')}</a>
			<button type="button" onClick=${() => window.print()}>${t('statement.print')}</button>`}>
		<div class="print-only">
			<p><strong>${community.data ? community.data.name : ''}</strong> · ${t('statement.printed', { when: fmtMoment(new Date().toISOString()) })}</p>
		</div>
		<form class="filters no-print" onSubmit=${apply} aria-label=${t('common.period')}>
			<${Field} label=${t('field.from')} type="date" value=${from} onInput=${setFrom} placeholder=${month.from} />
			<${Field} label=${t('field.to')} type="date" value=${to} onInput=${setTo} />
			<button type="submit">${t('common.show')}</button>
		</form>
		<${Loading} state=${st} />
		${d ? html`<dl class="summary">
			<div><dt>${t('field.number')}</dt><dd>${d.member.number}</dd></div>
			<div><dt>${t('statement.period')}</dt><dd>${period.from || period.to
				? `${period.from ? fmtDate(period.from) : '…'} – ${period.to ? fmtDate(period.to) : '…'}`
				: t('statement.all_time')}</dd></div>
			<div><dt>${t('statement.opening')}</dt><dd><${Hours} minutes=${d.opening_balance_minutes} /></dd></div>
			<div><dt>${t('statement.closing')}</dt><dd><${Hours} minutes=${d.closing_balance_minutes} /></dd></div>
			<div><dt>${t('members.debt_limit')}</dt><dd><${Hours} minutes=${d.member.debt_limit_minutes} /></dd></div>
		</dl>
		<${Table} caption=${t('statement.lines')} rows=${d.lines} columns=${columns} rowKey=${(l) => l.seq + l.txid}
			empty=${t('statement.no_lines')} />` : null}
	</${Page}>`;
}

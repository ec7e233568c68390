// exchanges.js: recording an exchange (attested by the coordinator, or
// proposed with the provider's key), the proposals waiting for the
// receiver's confirmation, and the list of exchanges with filters and the
// reversal of one. A refusal by a ledger rule shows the rule's own sentence
// (the same the command line prints) and leaves the form filled in.
import { html, useState } from '../lib/preact.js';
import { get, post, seg, query, downloadUrl } from '../lib/api.js';
import { t, fmtDate, fmtMoment, today } from '../lib/i18n.js';
import {
	Page, Table, Hours, Field, Select, Check, HoursInput, amountOf, ErrorNote, FormStatus, Loading,
	useForm, useLoad, useCan,
} from '../lib/ui.js';

function memberOptions(state, blank) {
	const list = (state.data && state.data.members) || [];
	const opts = list.map((m) => ({ value: m.name, label: m.name }));
	return [{ value: '', label: blank }, ...opts];
}

export function Record() {
	const members = useLoad(() => get('/members'), []);
	const [f, setF] = useState({
		provider: '', receiver: '', hours: '', minutes: '', date: today(), category: '', memo: '',
		attest: true, passphrase: '',
	});
	const set = (k) => (v) => setF((o) => ({ ...o, [k]: v }));
	const form = useForm(async () => {
		const minutes = amountOf(f.hours, f.minutes);
		const body = {
			provider: f.provider, receiver: f.receiver, minutes, memo: f.memo, category: f.category.trim(),
			date: f.date || today(), attest: f.attest,
		};
		if (!f.attest) body.provider_passphrase = f.passphrase;
		const r = await post('/exchanges', body);
		setF((o) => ({ ...o, hours: '', minutes: '', memo: '', passphrase: '' }));
		return r.pending ? t('record.proposed', { txid: r.txid }) : t('record.recorded', { seq: r.seq, txid: r.txid });
	});
	const opts = memberOptions(members, t('record.choose'));
	return html`<${Page} title=${t('record.title')}>
		<form class="card form" onSubmit=${form.onSubmit}>
			<div class="row">
				<${Select} label=${t('field.provider')} value=${f.provider} onChange=${set('provider')} options=${opts}
					required name="provider" />
				<${Select} label=${t('field.receiver')} value=${f.receiver} onChange=${set('receiver')} options=${opts}
					required name="receiver" />
			</div>
			<p class="hint">${t('record.direction')}</p>
			<div class="row">
				<${HoursInput} legend=${t('field.time')} hours=${f.hours} minutes=${f.minutes}
					onHours=${set('hours')} onMinutes=${set('minutes')} />
				<${Field} label=${t('field.date')} type="date" value=${f.date} onInput=${set('date')} max=${today()}
					name="date" />
			</div>
			<div class="row">
				<${Field} label=${t('field.category')} value=${f.category} onInput=${set('category')} maxlength="64"
					name="category" />
				<${Field} label=${t('field.memo')} value=${f.memo} onInput=${set('memo')} maxlength="500" name="memo" />
			</div>
			<${Check} label=${t('record.attest')} checked=${f.attest} onChange=${set('attest')} />
			${f.attest ? html`<p class="hint">${t('record.attest_hint')}</p>` : html`<${Field}
				label=${t('record.provider_passphrase')} type="password" value=${f.passphrase}
				onInput=${set('passphrase')} required autocomplete="off" />`}
			<${FormStatus} form=${form} />
			<button type="submit" class="primary">${t('record.submit')}</button>
		</form>
	</${Page}>`;
}

function ConfirmPending({ p, onDone }) {
	const [pass, setPass] = useState('');
	const confirm = useForm(async () => {
		await post('/exchanges/' + seg(p.txid) + '/confirm', { receiver_passphrase: pass });
		onDone();
	});
	const reject = useForm(async () => {
		if (!window.confirm(t('pending.reject_confirm'))) return;
		await post('/exchanges/' + seg(p.txid) + '/reject', {});
		onDone();
	});
	return html`<form class="inline-form" onSubmit=${confirm.onSubmit}>
		<${Field} label=${t('pending.receiver_passphrase', { name: p.receiver })} type="password" value=${pass}
			onInput=${setPass} required autocomplete="off" />
		<button type="submit" class="primary small">${t('pending.confirm')}</button>
		<button type="button" class="danger small" onClick=${reject.onSubmit}>${t('pending.reject')}</button>
		<${ErrorNote} error=${confirm.error || reject.error} />
	</form>`;
}

export function Pending() {
	const can = useCan();
	const pending = useLoad(() => get('/exchanges/pending'), []);
	const columns = [
		{ label: t('field.date'), cell: (p) => fmtDate(p.date) },
		{ label: t('col.provider'), cell: (p) => p.provider },
		{ label: t('col.receiver'), cell: (p) => p.receiver },
		{ label: t('field.time'), num: true, cell: (p) => html`<${Hours} minutes=${p.minutes} />` },
		{ label: t('field.category'), cell: (p) => p.category || '—' },
		{ label: t('field.memo'), cell: (p) => p.memo || '—' },
		{ label: t('pending.proposed'), cell: (p) => fmtMoment(p.created) },
	];
	if (can('coordinator'))
		columns.push({ label: t('common.actions'), cell: (p) => html`<${ConfirmPending} p=${p} onDone=${pending.reload} />` });
	return html`<${Page} title=${t('pending.title')} wide>
		<p class="muted">${t('pending.about')}</p>
		<${Loading} state=${pending} />
		${pending.data ? html`<${Table} rows=${pending.data.pending} columns=${columns} rowKey=${(p) => p.txid}
			empty=${t('pending.none')} />` : null}
	</${Page}>`;
}

function Reverse({ x, onDone }) {
	const [open, setOpen] = useState(false);
	const [pp, setPp] = useState('');
	const [rp, setRp] = useState('');
	const form = useForm(async () => {
		let body = { provider_passphrase: pp, receiver_passphrase: rp };
		if (x.attested) {
			if (!window.confirm(t('exchanges.reverse_confirm', { provider: x.provider, receiver: x.receiver }))) return;
			body = { attest: true };
		}
		await post('/exchanges/' + seg(x.txid) + '/reverse', body);
		onDone();
	});
	if (x.attested) {
		return html`<span><button type="button" class="small" onClick=${form.onSubmit}
			aria-label=${t('exchanges.reverse_named', { txid: x.txid.slice(0, 8) })}>${t('exchanges.reverse')}</button>
			<${ErrorNote} error=${form.error} /></span>`;
	}
	if (!open)
		return html`<button type="button" class="small" onClick=${() => setOpen(true)}
			aria-label=${t('exchanges.reverse_named', { txid: x.txid.slice(0, 8) })}>${t('exchanges.reverse')}</button>`;
	return html`<form class="inline-form" onSubmit=${form.onSubmit}>
		<${Field} label=${t('exchanges.passphrase_of', { name: x.provider })} type="password" value=${pp}
			onInput=${setPp} required autocomplete="off" />
		<${Field} label=${t('exchanges.passphrase_of', { name: x.receiver })} type="password" value=${rp}
			onInput=${setRp} required autocomplete="off" />
		<button type="submit" class="primary small">${t('exchanges.reverse')}</button>
		<button type="button" class="small" onClick=${() => setOpen(false)}>${t('common.cancel')}</button>
		<${ErrorNote} error=${form.error} />
	</form>`;
}

export function Exchanges({ params }) {
	const can = useCan();
	const members = useLoad(() => get('/members'), []);
	const [f, setF] = useState({ member: params.get('member') || '', category: '', from: '', to: '' });
	const [shown, setShown] = useState({ ...f });
	const [before, setBefore] = useState([]); // pages back: the 'before' of each page shown
	const set = (k) => (v) => setF((o) => ({ ...o, [k]: v }));
	const at = before.length ? before[before.length - 1] : undefined;
	const list = useLoad(() => get('/exchanges' + query({ ...shown, before: at, limit: 50 })),
		[shown.member, shown.category, shown.from, shown.to, at]);
	const columns = [
		{ label: t('field.seq'), num: true, cell: (x) => x.seq },
		// A reversal has no date of service: the day it was recorded.
		{ label: t('field.date'), cell: (x) => fmtDate(x.date || (x.recorded || '').slice(0, 10)) },
		{ label: t('field.kind'), cell: (x) => html`${t(x.kind === 'reversal' ? 'kind.reversal' : 'kind.exchange')}
			${x.reversed_by ? html` <span class="badge">${t('exchanges.reversed')}</span>` : null}` },
		{ label: t('col.provider'), cell: (x) => x.provider },
		{ label: t('col.receiver'), cell: (x) => x.receiver },
		{ label: t('field.time'), num: true, cell: (x) => html`<${Hours} minutes=${x.minutes} />` },
		{ label: t('field.category'), cell: (x) => x.category || '—' },
		{ label: t('field.memo'), cell: (x) => x.memo ?? html`<span class="muted">${t('common.erased')}</span>` },
		{ label: t('exchanges.signed'), cell: (x) => (x.attested
			? t('exchanges.attested_by', { name: x.attested_by || t('exchanges.coordinator') })
			: t('exchanges.by_members')) },
		{ label: t('common.actions'), cell: (x) => html`<span class="actions">
			<a href=${downloadUrl('/receipts/' + seg(x.txid))} download=${x.txid + '.receipt'}
				aria-label=${t('exchanges.receipt_named', { txid: x.txid.slice(0, 8) })}>${t('exchanges.receipt')}</a>
			${can('coordinator') && x.kind === 'exchange' && !x.reversed_by
				? html`<${Reverse} x=${x} onDone=${list.reload} />` : null}</span>` },
	];
	return html`<${Page} title=${t('exchanges.title')} wide>
		<form class="filters" aria-label=${t('exchanges.filters')} onSubmit=${(e) => {
			e.preventDefault();
			setBefore([]);
			setShown({ ...f });
		}}>
			<${Select} label=${t('field.member')} value=${f.member} onChange=${set('member')}
				options=${memberOptions(members, t('exchanges.everyone'))} />
			<${Field} label=${t('field.category')} value=${f.category} onInput=${set('category')} />
			<${Field} label=${t('field.from')} type="date" value=${f.from} onInput=${set('from')} />
			<${Field} label=${t('field.to')} type="date" value=${f.to} onInput=${set('to')} />
			<button type="submit">${t('common.show')}</button>
		</form>
		<${Loading} state=${list} />
		${list.data ? html`<${Table} rows=${list.data.exchanges} columns=${columns} rowKey=${(x) => x.txid}
			empty=${t('exchanges.none')} />
		<div class="pager">
			${before.length ? html`<button type="button" onClick=${() => setBefore(before.slice(0, -1))}>${t('common.newer')}</button>` : null}
			${list.data.next_before ? html`<button type="button"
				onClick=${() => setBefore([...before, list.data.next_before])}>${t('common.older')}</button>` : null}
		</div>` : null}
	</${Page}>`;
}

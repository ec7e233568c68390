// propose.js: the member proposes an exchange in which they helped someone
// (they are the provider; FORMAT.md 6.3 keeps the provider's signature, so
// the one who was helped confirms). The node drafts it (POST
// /api/v1/me/proposals/draft: txid, memo salt, the exact terms); this page
// checks those bytes against what the member typed, shows them, signs them
// in the browser and sends the signature (POST /api/v1/me/proposals). The
// proposal can then be shared as a link the other member opens to confirm.
import { html, useState } from '../lib/preact.js';
import { post } from '../lib/api.js';
import { t, fmtDate } from '../lib/i18n.js';
import { Page, Field, HoursInput, FormStatus, useForm, amountOf, Hours } from '../lib/ui.js';
import { CTX } from '../lib/keyfile.js';
import { SignBox } from './sign.js';
import { checkedExchange, isoDate, who } from './checks.js';
import { ShareLink } from './pending.js';

export function Propose({ session, params }) {
	const pre = (k) => (params && params.get(k)) || ''; // prefilled by a response to a listing
	const me = session.member;
	const [receiver, setReceiver] = useState(pre('receiver'));
	const [hours, setHours] = useState('');
	const [minutes, setMinutes] = useState('');
	const [memo, setMemo] = useState(pre('memo'));
	const [category, setCategory] = useState(pre('category'));
	const [date, setDate] = useState('');
	const [draft, setDraft] = useState(null); // {draft, terms, entered}
	const [sent, setSent] = useState(null);
	const form = useForm(async () => {
		const entered = { receiver: receiver.trim(), minutes: amountOf(hours, minutes), memo, category, date };
		const body = { receiver: entered.receiver, minutes: entered.minutes, memo, category };
		if (date) body.date = date;
		const d = await post('/me/proposals/draft', body);
		const { terms, receiver: name } = await checkedExchange(d, entered, session);
		setDraft({ draft: d, terms, entered, name });
	});
	const signed = async (signature) => {
		const { draft: d, entered } = draft;
		const r = await post('/me/proposals', { receiver: entered.receiver, minutes: entered.minutes, memo: entered.memo,
			category: entered.category, date: isoDate(d.fields.date), txid: d.fields.txid,
			memo_salt: d.memo_salt, signature });
		setSent(r.txid);
	};
	if (sent) return html`<${Page} title=${t('mx.propose')}>
		<p class="note ok" role="status" data-proposed>${t('mx.proposed', { name: who(draft.name, draft.draft.fields.receiver) })}</p>
		<${ShareLink} txid=${sent} />
		<p><a href="#/">${t('mx.back_home')}</a></p>
	</${Page}>`;
	if (draft) {
		const f = draft.draft.fields;
		return html`<${Page} title=${t('mx.check_title')}>
			<p>${t('mx.check_about')}</p>
			<dl class="terms card" data-terms-shown>
				<dt>${t('mx.you_helped')}</dt><dd data-receiver>${who(draft.name, f.receiver)}</dd>
				<dt>${t('mx.amount')}</dt><dd><${Hours} minutes=${f.minutes} /></dd>
				<dt>${t('mx.date')}</dt><dd>${fmtDate(isoDate(f.date))}</dd>
				<dt>${t('mx.category')}</dt><dd>${f.category || '—'}</dd>
				<dt>${t('mx.memo')}</dt><dd>${draft.entered.memo || '—'}</dd>
				<dt>${t('mx.txid')}</dt><dd><code>${f.txid}</code></dd>
			</dl>
			<${SignBox} terms=${draft.terms} context=${CTX.EXCHANGE} me=${me} onSigned=${signed} label=${t('mx.sign_propose')} />
			<p><button type="button" class="link" onClick=${() => setDraft(null)}>${t('common.cancel')}</button></p>
		</${Page}>`;
	}
	return html`<${Page} title=${t('mx.propose')}>
		<p class="muted">${t('mx.propose_about')}</p>
		<form class="card" onSubmit=${form.onSubmit}>
			<${Field} label=${t('mx.receiver')} value=${receiver} onInput=${setReceiver} name="receiver" required
				autocomplete="off" hint=${t('mx.receiver_hint')} />
			<${HoursInput} legend=${t('mx.amount')} hours=${hours} minutes=${minutes} onHours=${setHours} onMinutes=${setMinutes} />
			<${Field} label=${t('mx.memo')} value=${memo} onInput=${setMemo} name="memo" maxlength="1024" />
			<${Field} label=${t('mx.category')} value=${category} onInput=${setCategory} name="category" maxlength="32" />
			<${Field} label=${t('mx.date')} type="date" value=${date} onInput=${setDate} name="date" hint=${t('mx.date_hint')} />
			<${FormStatus} form=${form} />
			<button type="submit" class="primary">${t('mx.review')}</button>
		</form>
	</${Page}>`;
}

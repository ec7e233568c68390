// pay.js: the member pays a member of another community (who helped them).
// The node drafts the payment (POST /api/v1/me/payments/draft: the exact
// xprepare terms, FORMAT.md 6.4, with the offer's expiry); this page checks
// the bytes against what the member typed, signs them in the browser and
// sends the signature (POST /api/v1/me/payments). The minutes are held until
// the other community decides; the page shows the state until it is final.
import { html, useEffect, useState } from '../lib/preact.js';
import { get, post } from '../lib/api.js';
import { t, fmtDate, fmtMoment } from '../lib/i18n.js';
import { Page, Field, HoursInput, FormStatus, useForm, amountOf, Hours, ErrorNote } from '../lib/ui.js';
import { CTX } from '../lib/keyfile.js';
import { SignBox } from './sign.js';
import { checkedPayment, isoDate, idPrefix } from './checks.js';

const FINAL = ['completed', 'released'];

function Status({ txid }) {
	const [x, setX] = useState(null);
	const [error, setError] = useState(null);
	useEffect(() => {
		let live = true, timer = null;
		const poll = async () => {
			try {
				const v = await get('/me/payments/' + txid);
				if (!live) return;
				setX(v);
				if (!FINAL.includes(v.state)) timer = setTimeout(poll, 1000);
			} catch (e) {
				if (live) setError(e);
			}
		};
		poll();
		return () => {
			live = false;
			clearTimeout(timer);
		};
	}, [txid]);
	if (error) return html`<${ErrorNote} error=${error} />`;
	if (!x) return html`<p class="muted" role="status">${t('common.loading')}</p>`;
	return html`<div class="card" aria-live="polite">
		<p class=${'state state-' + x.state} data-state=${x.state}>${t('mx.state.' + x.state)}</p>
		<p>${x.payer} → ${x.payee}: <${Hours} minutes=${x.minutes} /></p>
		${x.refusal ? html`<p class="note error">${x.refusal.message} (${x.refusal.code})</p>` : null}
		${!FINAL.includes(x.state) ? html`<p class="muted">${t('mx.offer_until', { when: fmtMoment(x.expires) })}</p>` : null}
	</div>`;
}

export function Pay({ session, parts, params }) {
	const pre = (k) => (params && params.get(k)) || ''; // prefilled by a response to a listing
	const me = session.member;
	const [to, setTo] = useState(pre('to'));
	const [hours, setHours] = useState('');
	const [minutes, setMinutes] = useState('');
	const [memo, setMemo] = useState(pre('memo'));
	const [category, setCategory] = useState(pre('category'));
	const [draft, setDraft] = useState(null);
	const [sent, setSent] = useState(parts[1] || null);
	const form = useForm(async () => {
		const entered = { to: to.trim(), minutes: amountOf(hours, minutes), memo, category };
		if (entered.to.lastIndexOf('@') < 1) throw new Error(t('mx.to_hint'));
		const d = await post('/me/payments/draft', entered);
		const { terms, community } = await checkedPayment(d, entered, session);
		setDraft({ draft: d, terms, entered, community });
	});
	const signed = async (signature) => {
		const { draft: d, entered } = draft;
		const r = await post('/me/payments', { ...entered, date: isoDate(d.fields.date), expires: d.fields.expires,
			txid: d.fields.txid, memo_salt: d.memo_salt, signature });
		location.hash = '#/pay/' + r.txid;
		setSent(r.txid);
	};
	if (sent) return html`<${Page} title=${t('mx.pay')}><${Status} txid=${sent} />
		<p><a href="#/">${t('mx.back_home')}</a></p></${Page}>`;
	if (draft) {
		const f = draft.draft.fields;
		return html`<${Page} title=${t('mx.check_title')}>
			<p>${t('mx.check_pay_about')}</p>
			<dl class="terms card" data-terms-shown>
				<dt>${t('mx.to')}</dt><dd data-to>${f.to_name}@${draft.community} <span class="muted">(${t('mx.community_id',
					{ id: idPrefix(f.to_log) })})</span></dd>
				<dt>${t('mx.amount')}</dt><dd><${Hours} minutes=${f.minutes} /></dd>
				<dt>${t('mx.date')}</dt><dd>${fmtDate(isoDate(f.date))}</dd>
				<dt>${t('mx.category')}</dt><dd>${f.category || '—'}</dd>
				<dt>${t('mx.pay_memo')}</dt><dd>${draft.entered.memo || '—'}</dd>
				<dt>${t('mx.offer_until_label')}</dt><dd>${fmtMoment(new Date(f.expires * 1000).toISOString())}</dd>
			</dl>
			<${SignBox} terms=${draft.terms} context=${CTX.XPREPARE} me=${me} onSigned=${signed} label=${t('mx.sign_pay')} />
			<p><button type="button" class="link" onClick=${() => setDraft(null)}>${t('common.cancel')}</button></p>
		</${Page}>`;
	}
	return html`<${Page} title=${t('mx.pay')}>
		<p class="muted">${t('mx.pay_about')}</p>
		<form class="card" onSubmit=${form.onSubmit}>
			<${Field} label=${t('mx.to')} value=${to} onInput=${setTo} name="to" required autocomplete="off"
				hint=${t('mx.to_hint')} />
			<${HoursInput} legend=${t('mx.amount')} hours=${hours} minutes=${minutes} onHours=${setHours} onMinutes=${setMinutes} />
			<${Field} label=${t('mx.pay_memo')} value=${memo} onInput=${setMemo} name="memo" maxlength="1024" />
			<${Field} label=${t('mx.category')} value=${category} onInput=${setCategory} name="category" maxlength="32" />
			<${FormStatus} form=${form} />
			<button type="submit" class="primary">${t('mx.review')}</button>
		</form>
	</${Page}>`;
}

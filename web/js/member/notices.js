// notices.js: "Waiting for me" (GET /api/v1/me/notices): proposals to
// confirm, payments to and from other communities that ended, listings about
// to expire, answers to the member's listings; newest first, the new ones
// marked, and "Mark as seen". The menu's badge (NoticeBadge) counts the new
// ones (told when they are marked seen). Both reload when the page's event stream says something changed
// (main.js). Below the list, the member's email digest: none, daily or
// weekly, and the address (kept at the node only).
import { html, useEffect, useState } from '../lib/preact.js';
import { get, post } from '../lib/api.js';
import { t, fmtMoment } from '../lib/i18n.js';
import { Page, Hours, Loading, Action, ErrorNote, Field, Select, useForm, FormStatus, useLoad } from '../lib/ui.js';

// Said by the notices page when the member marked them seen.
const SEEN = 'tally-notices-seen';

export function NoticeBadge() {
	const st = useLoad(() => get('/me/notices'));
	useEffect(() => {
		window.addEventListener(SEEN, st.reload);
		return () => window.removeEventListener(SEEN, st.reload);
	}, []);
	const n = st.data ? st.data.unseen : 0;
	if (!n) return null;
	return html` <span class="badge warn" data-unseen=${n} aria-label=${t('notice.unseen', { n })}>${n}</span>`;
}

// One notice as a sentence, with its amount and where to act.
function Notice({ n }) {
	const amount = n.minutes ? html` <${Hours} minutes=${n.minutes} />` : null;
	let text;
	let act = null;
	switch (n.kind) {
	case 'proposal':
		text = t(n.title ? 'notice.proposal_listing' : 'notice.proposal', { who: n.who, title: n.title || '' });
		act = html`<a href=${'#/pending/' + n.txid} data-act>${t('notice.confirm_or_reject')}</a>`;
		break;
	case 'answer':
		text = t('notice.answer', { who: n.who, title: n.title || '' });
		act = html`<a href="#/listings/answers" data-act>${t('notice.see_answers')}</a>`;
		break;
	case 'paid':
		text = t('notice.paid', { who: n.who });
		break;
	case 'refused':
		text = t('notice.refused', { who: n.who, reason: n.reason || '' });
		break;
	case 'received':
		text = t('notice.received', { who: n.who });
		break;
	case 'expiring':
		text = t('notice.expiring', { title: n.title || '', date: fmtMoment(n.until) });
		break;
	default:
		text = n.kind;
	}
	return html`<li class=${'notice' + (n.new ? ' new' : '')} data-kind=${n.kind}>
		${n.new ? html`<span class="badge warn">${t('notice.new')}</span> ` : null}
		<span>${text}</span>${amount}
		<small class="muted"> · ${fmtMoment(n.time)}</small>
		${act ? html`<div>${act}</div>` : null}
	</li>`;
}

function Digest() {
	const st = useLoad(() => get('/me/digest'));
	const [digest, setDigest] = useState('none');
	const [email, setEmail] = useState('');
	const d = st.data;
	useEffect(() => {
		if (!d) return;
		setDigest(d.digest);
		setEmail(d.email || '');
	}, [d && d.digest, d && d.email]);
	const form = useForm(async () => {
		await post('/me/digest', digest === 'none' && !email ? { digest } : { digest, email });
		return t('notice.digest_saved');
	});
	const options = ['none', 'daily', 'weekly'].map((v) => ({ value: v, label: t('notice.digest.' + v) }));
	return html`<section class="card" aria-labelledby="digest-h">
		<h2 id="digest-h">${t('notice.digest_title')}</h2>
		<${Loading} state=${st} />
		${d && !d.available ? html`<p class="note info">${t('notice.digest_off')}</p>` : null}
		<form onSubmit=${form.onSubmit} novalidate>
			<${Select} label=${t('notice.digest_label')} value=${digest} onChange=${setDigest} options=${options} name="digest" />
			<${Field} label=${t('notice.email')} hint=${t('notice.email_hint')} type="email" value=${email}
				onInput=${setEmail} name="email" autocomplete="email" />
			<button type="submit" class="primary">${t('notice.digest_save')}</button>
			<${FormStatus} form=${form} />
		</form>
	</section>`;
}

export function Notices() {
	const st = useLoad(() => get('/me/notices'));
	const [error, setError] = useState(null);
	const d = st.data;
	const seen = async () => {
		setError(null);
		try {
			await post('/me/notices/seen');
			st.reload();
			window.dispatchEvent(new Event(SEEN));
		} catch (e) {
			setError(e);
		}
	};
	return html`<${Page} title=${t('notice.title')}>
		<${Loading} state=${st} />
		${d ? html`<section class="card" aria-labelledby="notices-h">
			<h2 id="notices-h" class="sr">${t('notice.title')}</h2>
			${d.notices.length
				? html`<ul class="notices" data-notices>${d.notices.map((n) => html`<${Notice} key=${n.kind + (n.txid || n.listing)} n=${n} />`)}</ul>`
				: html`<p class="muted" data-no-notices>${t('notice.none')}</p>`}
			${d.left_out ? html`<p class="muted">${t('notice.left_out', { n: d.left_out })}</p>` : null}
			${d.unseen ? html`<p data-mark-seen><${Action} onRun=${seen}>${t('notice.mark_seen')}</${Action}></p>` : null}
			<${ErrorNote} error=${error} />
		</section>` : null}
		<${Digest} />
	</${Page}>`;
}

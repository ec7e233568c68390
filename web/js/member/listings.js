// listings.js: offers and requests (API.md, "Members' own listings"). The
// member searches every listing this node shows (text, category, community,
// offers or requests), posts, renews and withdraws their own, and answers
// another's. Each version of a listing is drafted by the node (POST
// .../draft: the exact listing terms, FORMAT.md 16.2); this page encodes the
// terms again from the fields (web/js/lib/terms.js), checks them against
// what the member chose, shows them, signs them in the browser and sends
// the signature. Answering goes through the member's own node: the member
// first signs an answer with a short message (FORMAT.md 17, checked and
// signed like a listing), which reaches the poster wherever they are; the
// node says whether the responder then proposes, pays or waits for the
// poster, and the proposal or payment page opens filled in, its memo naming
// the listing. The poster sees the answers to their listings, each with a
// button to their own next step (a proposal to the responder, or a payment
// to name@community).
//
// Routes: #/listings (search), #/listings/mine, #/listings/new,
// #/listings/answers, #/listings/respond/ID?community=HEX.
import { html, useState } from '../lib/preact.js';
import { get, post, seg, query } from '../lib/api.js';
import { t, fmtMoment } from '../lib/i18n.js';
import { Page, Field, Select, FormStatus, useForm, useLoad, Loading, ErrorNote } from '../lib/ui.js';
import { CTX } from '../lib/keyfile.js';
import * as T from '../lib/terms.js';
import { SignBox } from './sign.js';
import { ownCommunity } from './checks.js';

const DAY = 86400;
const nfc = (s) => String(s).normalize('NFC');
const sameName = (a, b) => nfc(a).toLowerCase() === nfc(b).toLowerCase();

function mismatch(what) {
	const e = new T.TermsError('ETERMS', t('ml.mismatch', { what: t('ml.what.' + what) }));
	e.what = what;
	return e;
}

// The node's draft of a listing version checked against what the member
// chose: want = {kind, title, description, category, visibility, days,
// version, id?, state}. Resolves to the bytes to sign.
export function checkedListing(d, want, session) {
	const f = d.fields;
	if (d.context !== CTX.LISTING) throw mismatch('terms');
	if (f.log_id !== ownCommunity(session).id) throw mismatch('log_id');
	if (f.member !== session.member.number) throw mismatch('member');
	if (want.id && f.id !== want.id) throw mismatch('id');
	if (f.version !== want.version || f.state !== want.state) throw mismatch('version');
	if (f.kind !== want.kind) throw mismatch('kind');
	if (f.title !== nfc(want.title) || f.description !== nfc(want.description)) throw mismatch('texts');
	if (!sameName(f.category, want.category)) throw mismatch('category');
	if (f.visibility !== want.visibility) throw mismatch('visibility');
	const now = Date.now() / 1000;
	if (Math.abs(f.created - now) > DAY) throw mismatch('created');
	if (want.days ? f.expires - f.created !== want.days * DAY : f.expires !== want.expires) throw mismatch('expires');
	const mine = T.listingTerms({ logId: T.fromHex(f.log_id, 32), id: T.fromHex(f.id, 16), version: f.version,
		member: f.member, kind: f.kind, title: f.title, description: f.description, category: f.category,
		visibility: f.visibility, created: f.created, expires: f.expires, state: f.state });
	if (T.toHex(mine) !== d.terms) throw mismatch('terms');
	return mine;
}

// The node's draft of an answer checked against the listing answered, the
// message typed and the session. Resolves to the bytes to sign.
export function checkedAnswer(d, want, session) {
	const f = d.fields;
	if (d.context !== CTX.ANSWER) throw mismatch('terms');
	if (f.from_log !== ownCommunity(session).id) throw mismatch('log_id');
	if (f.member !== session.member.number || f.name !== session.member.name) throw mismatch('member');
	if (f.listing_id !== want.id || f.listing_log !== want.community) throw mismatch('id');
	if (f.message !== nfc(want.message)) throw mismatch('texts');
	if (Math.abs(f.created - Date.now() / 1000) > DAY) throw mismatch('created');
	const mine = T.answerTerms({ listingLog: T.fromHex(f.listing_log, 32), listingId: T.fromHex(f.listing_id, 16),
		fromLog: T.fromHex(f.from_log, 32), member: f.member, name: f.name, message: f.message, created: f.created });
	if (T.toHex(mine) !== d.terms) throw mismatch('terms');
	return mine;
}

const kindName = (k) => t(k === 'request' || k === 1 ? 'ml.request' : 'ml.offer');

function SubNav({ here }) {
	const items = [['', 'ml.search'], ['mine', 'ml.mine'], ['answers', 'ml.answers'], ['new', 'ml.new']];
	return html`<nav class="card actions" aria-label=${t('ml.nav')}>${items.map(([p, k]) => html`
		<a href=${'#/listings' + (p ? '/' + p : '')} aria-current=${here === p ? 'page' : undefined}>${t(k)}</a>`)}</nav>`;
}

// One listing as a card; children are its actions.
function ListingCard({ l, children }) {
	return html`<article class="card listing" data-listing=${l.id}>
		<h2><span class=${'badge' + (l.kind === 'offer' ? ' ok' : ' warn')}>${kindName(l.kind)}</span> ${l.title}</h2>
		${l.description ? html`<p>${l.description}</p>` : null}
		<p class="muted"><span data-at>${l.at}</span>${[l.category, t('ml.until', { when: fmtMoment(l.expires) }),
			l.visibility === 'federation' ? t('ml.federation') : ''].filter(Boolean).map((x) => ' · ' + x).join('')}</p>
		${children}
	</article>`;
}

function Search({ session }) {
	const [text, setText] = useState('');
	const [category, setCategory] = useState('');
	const [community, setCommunity] = useState('');
	const [kind, setKind] = useState('');
	const [found, setFound] = useState(null);
	const form = useForm(async () => {
		const q = { text: text.trim(), category: category.trim(), community: community.trim(), kind };
		for (const k of Object.keys(q)) if (!q[k]) delete q[k];
		setFound(await get('/me/listings' + query(q)));
	});
	const own = ownCommunity(session).id;
	const mineToo = (l) => l.community === own && l.member === session.member.number;
	return html`<form class="card" onSubmit=${form.onSubmit} role="search">
			<${Field} label=${t('ml.text')} value=${text} onInput=${setText} name="ml-text" type="search" />
			<${Select} label=${t('ml.kind')} value=${kind} onChange=${setKind} name="ml-kind"
				options=${[{ value: '', label: t('ml.any') }, { value: 'offer', label: t('ml.offers') },
					{ value: 'request', label: t('ml.requests') }]} />
			<${Field} label=${t('mx.category')} value=${category} onInput=${setCategory} name="ml-category" maxlength="32" />
			<${Field} label=${t('ml.community')} value=${community} onInput=${setCommunity} name="ml-community"
				hint=${t('ml.community_hint')} />
			<${FormStatus} form=${form} />
			<button type="submit" class="primary">${t('ml.find')}</button>
		</form>
		${found ? html`<p role="status" data-found=${found.listings.length}>${t('ml.found', { n: found.listings.length })}</p>
			${found.listings.map((l) => html`<${ListingCard} key=${l.community + l.id} l=${l}>
				${mineToo(l) ? html`<p class="muted">${t('ml.yours')}</p>` : html`<a class="button primary" data-respond
					href=${'#/listings/respond/' + l.id + '?community=' + l.community}>${t('ml.respond')}</a>`}
			</${ListingCard}>`)}` : null}`;
}

// Signs a drafted version: shows what changes, then the SignBox.
function SignDraft({ draft, session, onSigned, onCancel, label }) {
	const f = draft.d.fields;
	return html`<dl class="terms card" data-terms-shown>
			<dt>${t('ml.kind')}</dt><dd>${kindName(f.kind)}</dd>
			<dt>${t('ml.title')}</dt><dd data-title>${f.title}</dd>
			${f.description ? html`<dt>${t('ml.description')}</dt><dd>${f.description}</dd>` : null}
			<dt>${t('mx.category')}</dt><dd>${f.category || '—'}</dd>
			<dt>${t('ml.visibility')}</dt><dd>${t(f.visibility ? 'ml.federation' : 'ml.community_only')}</dd>
			<dt>${t('ml.expires')}</dt><dd>${fmtMoment(new Date(f.expires * 1000).toISOString())}</dd>
		</dl>
		<${SignBox} terms=${draft.terms} context=${CTX.LISTING} me=${session.member} onSigned=${onSigned} label=${label} />
		<p><button type="button" class="link" onClick=${onCancel}>${t('common.cancel')}</button></p>`;
}

function NewListing({ session }) {
	const [kind, setKind] = useState('offer');
	const [title, setTitle] = useState('');
	const [description, setDescription] = useState('');
	const [category, setCategory] = useState('');
	const [days, setDays] = useState('30');
	const [visibility, setVisibility] = useState('community');
	const [draft, setDraft] = useState(null);
	const [done, setDone] = useState(null);
	const form = useForm(async () => {
		const body = { kind, title, description, category, days: Number(days), visibility };
		const d = await post('/me/listings/draft', body);
		const terms = checkedListing(d, { ...body, kind: kind === 'offer' ? 0 : 1, visibility: visibility === 'federation'
			? 1 : 0, version: 1, state: 0 }, session);
		setDraft({ d, terms, body });
	});
	const signed = async (signature) => {
		const { d, body } = draft;
		setDone(await post('/me/listings', { ...body, id: d.fields.id, created: d.fields.created, signature }));
	};
	if (done) return html`<p class="note ok" role="status" data-posted>${t('ml.posted')}</p>
		<${ListingCard} l=${done} /><p><a href="#/listings/mine">${t('ml.mine')}</a></p>`;
	if (draft) return html`<p>${t('ml.check_about')}</p>
		<${SignDraft} draft=${draft} session=${session} onSigned=${signed} onCancel=${() => setDraft(null)}
			label=${t('ml.sign_post')} />`;
	return html`<form class="card" onSubmit=${form.onSubmit}>
		<${Select} label=${t('ml.kind')} value=${kind} onChange=${setKind} name="ml-new-kind"
			options=${[{ value: 'offer', label: t('ml.offer_long') }, { value: 'request', label: t('ml.request_long') }]} />
		<${Field} label=${t('ml.title')} value=${title} onInput=${setTitle} name="ml-title" required maxlength="80" />
		<div class="field"><label for="ml-description">${t('ml.description')}</label>
			<textarea id="ml-description" name="ml-description" rows="3" maxlength="1000" value=${description}
				onInput=${(e) => setDescription(e.currentTarget.value.replace(/[\r\n]+/g, ' '))}></textarea></div>
		<${Field} label=${t('mx.category')} value=${category} onInput=${setCategory} name="ml-new-category" maxlength="32" />
		<${Field} label=${t('ml.days')} type="number" min="1" max="90" value=${days} onInput=${setDays} name="ml-days" required />
		<${Select} label=${t('ml.visibility')} value=${visibility} onChange=${setVisibility} name="ml-visibility"
			options=${[{ value: 'community', label: t('ml.community_only') }, { value: 'federation', label: t('ml.federation') }]} />
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('mx.review')}</button>
	</form>`;
}

function Mine({ session }) {
	const st = useLoad(() => get('/me/listings?mine=1'), []);
	const [days, setDays] = useState('30');
	const [draft, setDraft] = useState(null); // {d, terms, l, action}
	const [error, setError] = useState(null);
	const [said, setSaid] = useState('');
	const start = async (l, action) => {
		setError(null);
		setSaid('');
		try {
			const n = Number(days);
			const d = await post(`/me/listings/${seg(l.id)}/${action}/draft`, action === 'renew' ? { days: n } : {});
			const base = { id: l.id, kind: l.kind === 'offer' ? 0 : 1, visibility: l.visibility === 'federation' ? 1 : 0,
				version: l.version + 1 };
			const want = action === 'renew'
				? { ...base, title: l.title, description: l.description, category: l.category, days: n, state: 0 }
				: { ...base, title: 'withdrawn', description: '', category: '', expires: d.fields.expires, state: 1 };
			setDraft({ d, terms: checkedListing(d, want, session), l, action });
		} catch (e) {
			setError(e);
		}
	};
	const signed = async (signature) => {
		const { d, l, action } = draft;
		const body = { created: d.fields.created, version: d.fields.version, signature };
		if (action === 'renew') body.days = Number(days);
		await post(`/me/listings/${seg(l.id)}/${action}`, body);
		setDraft(null);
		setSaid(t(action === 'renew' ? 'ml.renewed' : 'ml.withdrawn', { title: l.title }));
		st.reload();
	};
	if (draft) return html`<p>${t(draft.action === 'renew' ? 'ml.renew_about' : 'ml.withdraw_about', { title: draft.l.title })}</p>
		<${SignDraft} draft=${draft} session=${session} onSigned=${signed} onCancel=${() => setDraft(null)}
			label=${t(draft.action === 'renew' ? 'ml.sign_renew' : 'ml.sign_withdraw')} />`;
	if (!st.data) return html`<${Loading} state=${st} />`;
	return html`${said ? html`<p class="note ok" role="status" data-changed>${said}</p>` : null}
		<${ErrorNote} error=${error} />
		${st.data.listings.length ? html`<div class="card"><${Field} label=${t('ml.renew_days')} type="number" min="1"
			max="90" value=${days} onInput=${setDays} name="ml-renew-days" /></div>`
		: html`<p class="muted" data-none>${t('ml.none_mine')}</p>`}
		${st.data.listings.map((l) => html`<${ListingCard} key=${l.id} l=${l}>
			<p class="row-actions"><button type="button" data-renew onClick=${() => start(l, 'renew')}>${t('ml.renew')}</button>
			<button type="button" class="danger" data-withdraw onClick=${() => start(l, 'withdraw')}>${t('ml.withdraw')}</button></p>
		</${ListingCard}>`)}`;
}

// Where a next step goes: a proposal or a payment filled in.
const nextHref = (n) => (n.action === 'propose' ? '#/propose' + query({ receiver: n.to, memo: n.memo, category: n.category })
	: n.action === 'pay' ? '#/pay' + query({ to: n.to, memo: n.memo, category: n.category }) : null);

function Respond({ id, community, session }) {
	const st = useLoad(() => get(`/me/listings/${seg(id)}/response` + query({ community })), [id, community]);
	const [message, setMessage] = useState('');
	const [draft, setDraft] = useState(null);
	const [sent, setSent] = useState(null);
	const form = useForm(async () => {
		const r = st.data;
		const body = { community: r.community, message };
		const d = await post(`/me/listings/${seg(id)}/answer/draft`, body);
		setDraft({ d, body, terms: checkedAnswer(d, { id: r.id, community: r.community, message }, session) });
	});
	if (!st.data) return html`<${Loading} state=${st} />`;
	const r = st.data;
	const next = nextHref(r);
	if (draft && !sent) {
		const signed = async (signature) => {
			setSent(await post(`/me/listings/${seg(id)}/answer`, { ...draft.body, created: draft.d.fields.created, signature }));
		};
		return html`<p>${t('ml.answer_check', { at: r.at })}</p>
			<dl class="terms card" data-terms-shown>
				<dt>${t('ml.answer_to')}</dt><dd>${r.at}</dd>
				<dt>${t('ml.answer_from')}</dt><dd>${r.you}</dd>
				<dt>${t('ml.message')}</dt><dd data-message>${draft.d.fields.message || '—'}</dd>
			</dl>
			<${SignBox} terms=${draft.terms} context=${CTX.ANSWER} me=${session.member} onSigned=${signed}
				label=${t('ml.sign_answer')} />
			<p><button type="button" class="link" onClick=${() => setDraft(null)}>${t('common.cancel')}</button></p>`;
	}
	return html`<div class="card" data-response=${r.action}>
		<p>${t('ml.posted_by', { at: r.at })}</p>
		${sent ? html`<p class="note ok" role="status" data-answered=${sent.delivery}>${t('ml.answered.' + sent.delivery, { at: r.at })}</p>
			<p>${r.action === 'await' ? t(r.to.includes('@') ? 'ml.await.pays' : 'ml.await.proposes', { at: r.at, you: r.you })
		: t('ml.action.' + r.action, { at: r.at, you: r.you })}</p>
			<p class="muted">${t('ml.memo_names', { memo: r.memo })}</p>
			${next ? html`<a class="button primary" href=${next} data-go>${t('ml.go.' + r.action)}</a>` : null}`
		: html`<p>${t('ml.answer_about')}</p>
			<form onSubmit=${form.onSubmit}>
				<div class="field"><label for="ml-message">${t('ml.message')}</label>
					<textarea id="ml-message" name="ml-message" rows="3" maxlength="280" value=${message}
						onInput=${(e) => setMessage(e.currentTarget.value.replace(/[\r\n]+/g, ' '))}></textarea></div>
				<${FormStatus} form=${form} />
				<button type="submit" class="primary" data-answer>${t('ml.answer_review')}</button>
			</form>`}
	</div>`;
}

// The answers to the member's own listings, each with the poster's next step.
function Answers() {
	const st = useLoad(() => get('/me/listings/answers'), []);
	if (!st.data) return html`<${Loading} state=${st} />`;
	const list = st.data.answers;
	if (!list.length) return html`<p class="muted" data-none>${t('ml.no_answers')}</p>`;
	return html`${list.map((a) => {
		const next = nextHref(a.next);
		return html`<article class="card answer" data-answer-from=${a.at} key=${a.listing + a.at}>
			<h2><span class=${'badge' + (a.kind === 'offer' ? ' ok' : ' warn')}>${kindName(a.kind)}</span> ${a.title}</h2>
			<p>${t('ml.answered_by', { who: a.from })}</p>
			${a.message ? html`<blockquote data-message>${a.message}</blockquote>` : null}
			<p class="muted">${fmtMoment(new Date(a.created * 1000).toISOString())}</p>
			${next ? html`<a class="button primary" href=${next} data-next=${a.next.action}>${t('ml.next.' + a.next.action, { who: a.next.to })}</a>`
		: html`<p class="muted" data-next="await">${t('ml.next.await', { who: a.from })}</p>`}
		</article>`;
	})}`;
}

export function Listings({ session, parts, params }) {
	const sub = parts[1] || '';
	const body = sub === 'mine' ? html`<${Mine} session=${session} />`
		: sub === 'new' ? html`<${NewListing} session=${session} />`
			: sub === 'answers' ? html`<${Answers} />`
				: sub === 'respond' ? html`<${Respond} id=${parts[2] || ''} community=${params.get('community') || undefined}
					session=${session} />`
					: html`<${Search} session=${session} />`;
	return html`<${Page} title=${t('ml.title_page')}>
		<${SubNav} here=${sub} />
		${body}
	</${Page}>`;
}

// listings.js: members' offers and requests (FORMAT.md 16) for coordinators.
// Search what this node holds of the federation's listings (text, kind,
// community, category, and those hidden here); post one for a member of this
// community, attested by the coordinator; withdraw or renew one of this
// community's (attested too: a member who left can sign nothing); hide one
// on this node, or show it again, naming it by its community and id (an id is
// unique only within its community). The server decides who may do what; the
// page only leaves out buttons that would be refused.
import { html, useState } from '../lib/preact.js';
import { get, post, seg, query } from '../lib/api.js';
import { t, fmtMoment } from '../lib/i18n.js';
import {
	Page, Table, Field, Select, Check, FormStatus, Loading, Action, ErrorNote, Note, useForm, useLoad, useCan,
} from '../lib/ui.js';

const NO_SEARCH = { text: '', kind: '', community: '', category: '', hidden: false };

function Search({ q, onSearch, can }) {
	const [f, setF] = useState(q);
	const set = (k) => (v) => setF((o) => ({ ...o, [k]: v }));
	const submit = (e) => {
		e.preventDefault();
		onSearch({ ...f, text: f.text.trim(), community: f.community.trim(), category: f.category.trim() });
	};
	return html`<form class="card form" role="search" onSubmit=${submit} aria-labelledby="lst-search-h">
		<h2 id="lst-search-h">${t('listings.search')}</h2>
		<div class="row">
			<${Field} label=${t('listings.text')} type="search" value=${f.text} onInput=${set('text')}
				name="lst-text" />
			<${Select} label=${t('listings.kind')} value=${f.kind} onChange=${set('kind')} name="lst-kind"
				options=${[{ value: '', label: t('listings.kind_all') },
		{ value: 'offer', label: t('listings.offers') }, { value: 'request', label: t('listings.requests') }]} />
		</div>
		<div class="row">
			<${Field} label=${t('listings.community')} value=${f.community} onInput=${set('community')}
				name="lst-community" placeholder=${t('listings.community_any')} />
			<${Field} label=${t('field.category')} value=${f.category} onInput=${set('category')}
				name="lst-category" />
		</div>
		${can('coordinator') ? html`<${Check} label=${t('listings.with_hidden')} checked=${f.hidden}
			onChange=${set('hidden')} />` : null}
		<button type="submit" class="primary">${t('listings.find')}</button>
	</form>`;
}

function PostListing({ members, onDone }) {
	const blank = { member: '', kind: 'offer', title: '', description: '', category: '', days: '30',
		visibility: 'federation' };
	const [f, setF] = useState(blank);
	const set = (k) => (v) => setF((o) => ({ ...o, [k]: v }));
	const form = useForm(async () => {
		const l = await post('/listings', {
			member: f.member, kind: f.kind, title: f.title, description: f.description, category: f.category.trim(),
			days: Number(f.days), visibility: f.visibility, attest: true,
		});
		setF((o) => ({ ...o, title: '', description: '' }));
		onDone();
		return t('listings.posted', { title: l.title, at: l.at });
	});
	const opts = [{ value: '', label: t('record.choose') },
		...((members.data && members.data.members) || []).filter((m) => m.active !== false)
			.map((m) => ({ value: m.name, label: m.name }))];
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="lst-post-h">
		<h2 id="lst-post-h">${t('listings.post')}</h2>
		<p class="hint">${t('listings.post_about')}</p>
		<div class="row">
			<${Select} label=${t('listings.member')} value=${f.member} onChange=${set('member')} options=${opts}
				required name="lst-member" />
			<${Select} label=${t('listings.kind')} value=${f.kind} onChange=${set('kind')} name="lst-post-kind"
				options=${[{ value: 'offer', label: t('listings.offer') },
		{ value: 'request', label: t('listings.request') }]} />
		</div>
		<${Field} label=${t('listings.title_field')} value=${f.title} onInput=${set('title')} required
			maxlength="80" name="lst-title" />
		<${Field} label=${t('listings.description')} value=${f.description} onInput=${set('description')}
			name="lst-description" />
		<div class="row">
			<${Field} label=${t('field.category')} value=${f.category} onInput=${set('category')}
				name="lst-post-category" />
			<${Field} label=${t('listings.days')} type="number" min="1" max="90" step="1" value=${f.days}
				onInput=${set('days')} required name="lst-days" />
			<${Select} label=${t('listings.visibility')} value=${f.visibility} onChange=${set('visibility')}
				name="lst-visibility" options=${[{ value: 'federation', label: t('listings.vis_federation') },
		{ value: 'community', label: t('listings.vis_community') }]} />
		</div>
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('listings.submit')}</button>
	</form>`;
}

export function Listings() {
	const can = useCan();
	const [q, setQ] = useState(NO_SEARCH);
	const [err, setErr] = useState(null);
	const [said, setSaid] = useState('');
	const community = useLoad(() => get('/community'), []);
	const members = useLoad(() => (can('coordinator') ? get('/members') : Promise.resolve(null)), []);
	const found = useLoad(() => get('/listings' + query({
		text: q.text, kind: q.kind, community: q.community, category: q.category, hidden: q.hidden ? 1 : '',
	})), [q.text, q.kind, q.community, q.category, q.hidden]);
	const own = community.data ? community.data.id : null;
	// Each button: the request, then the sentence that says it was done.
	const act = (fn, done) => async () => {
		setErr(null);
		setSaid('');
		try {
			await fn();
			setSaid(done);
			found.reload();
		} catch (e) {
			setErr(e);
		}
	};
	const actions = (l) => {
		const b = [];
		if (can('coordinator') && l.community === own) {
			b.push(html`<${Action} kind="danger" label=${t('listings.withdraw_label', { title: l.title })}
				onRun=${act(async () => {
		if (!window.confirm(t('listings.withdraw_confirm', { title: l.title }))) throw null;
		await post('/listings/' + seg(l.id) + '/withdraw', { attest: true });
	}, t('listings.withdrawn', { title: l.title }))}>${t('listings.withdraw')}</${Action}>`);
			b.push(html`<${Action} label=${t('listings.renew_label', { title: l.title })}
				onRun=${act(() => post('/listings/' + seg(l.id) + '/renew', { attest: true, days: 30 }),
		t('listings.renewed', { title: l.title }))}>${t('listings.renew')}</${Action}>`);
		}
		if (can('coordinator')) {
			const how = l.hidden ? 'show' : 'hide';
			b.push(html`<${Action} label=${t('listings.' + how + '_label', { title: l.title })}
				onRun=${act(() => post('/listings/' + seg(l.community) + '/' + seg(l.id) + '/' + how),
		t('listings.' + (l.hidden ? 'shown' : 'hidden_done'), { title: l.title }))}>${t('listings.' + how)}</${Action}>`);
		}
		return html`<div class="actions">${b}</div>`;
	};
	const rows = found.data ? found.data.listings : [];
	return html`<${Page} title=${t('listings.title')} wide>
		<p class="muted">${t('listings.about')}</p>
		<${Search} q=${q} onSearch=${setQ} can=${can} />
		<h2>${t('listings.found')}</h2>
		<${ErrorNote} error=${err} /><${Note}>${said}</${Note}>
		<${Loading} state=${found} />
		${found.data ? html`<${Table} rows=${rows} rowKey=${(l) => l.community + l.id} empty=${t('listings.none')}
			columns=${[
				{ label: t('listings.col_who'), cell: (l) => l.at },
				{ label: t('listings.kind'), cell: (l) => t('listings.' + l.kind) },
				{ label: t('listings.col_title'), cell: (l) => html`<strong>${l.title}</strong>
					${l.description ? html`<br /><small>${l.description}</small>` : null}` },
				{ label: t('field.category'), cell: (l) => l.category || html`<span class="muted">—</span>` },
				{ label: t('listings.col_expires'), cell: (l) => fmtMoment(l.expires) },
				{ label: t('listings.col_state'), cell: (l) => (l.hidden
					? html`<span class="badge warn">${t('listings.hidden')}</span>`
					: html`<span class="badge ok">${t('listings.shown_badge')}</span>`) },
				...(can('coordinator') ? [{ label: t('listings.col_actions'), cell: actions }] : []),
			]} />` : null}
		${found.data && found.data.more ? html`<p class="muted">${t('listings.more')}</p>` : null}
		${can('coordinator') ? html`<${PostListing} members=${members} onDone=${found.reload} />` : null}
	</${Page}>`;
}

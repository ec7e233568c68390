// main.js: the coordinators' console, a single page served by tallyd. It
// checks for a session (else shows the login), lays out the header, the
// navigation and the page of the address's #fragment, follows the event
// stream so pages reload when an entry arrives, and switches the language.
// Nothing here decides what a coordinator may do: the server enforces roles;
// the pages only hide buttons that would be refused.
import { html, render, useEffect, useState } from '../lib/preact.js';
import { get, del, setCsrf, setUnauthorizedHandler, followEntries } from '../lib/api.js';
import { t, setLang, currentLang, languages } from '../lib/i18n.js';
import { SessionCtx, TickCtx, useCan, useLoad, ErrorNote } from '../lib/ui.js';
import { parseHash } from '../lib/route.js';
import { Login } from './login.js';
import { Dashboard } from './dashboard.js';
import { Members, Statement } from './members.js';
import { Record, Pending, Exchanges } from './exchanges.js';
import { Links } from './links.js';
import { Listings } from './listings.js';
import { Reports } from './reports.js';
import { Federation } from './federation.js';
import { Audit } from './audit.js';
import { Coordinators } from './coordinators.js';
import { Invites } from './invites.js';

// Routes: #/path -> page. A page's least role only hides its link.
const PAGES = [
	{ path: '', key: 'nav.dashboard', page: Dashboard },
	{ path: 'members', key: 'nav.members', page: Members },
	{ path: 'invites', key: 'nav.invites', page: Invites, role: 'coordinator' },
	{ path: 'record', key: 'nav.record', page: Record, role: 'coordinator' },
	{ path: 'pending', key: 'nav.pending', page: Pending },
	{ path: 'exchanges', key: 'nav.exchanges', page: Exchanges },
	{ path: 'links', key: 'nav.links', page: Links },
	{ path: 'listings', key: 'nav.listings', page: Listings },
	{ path: 'reports', key: 'nav.reports', page: Reports },
	{ path: 'federation', key: 'nav.federation', page: Federation },
	{ path: 'audit', key: 'nav.audit', page: Audit },
	{ path: 'coordinators', key: 'nav.coordinators', page: Coordinators, role: 'admin' },
];

function Page({ route }) {
	const [first, second] = route.parts;
	if (first === 'members' && second !== undefined) return html`<${Statement} name=${second} params=${route.params} />`;
	const p = PAGES.find((x) => x.path === (first || '')) || PAGES[0];
	const C = p.page;
	return html`<${C} params=${route.params} />`;
}

function Nav({ route, open, onPick }) {
	const can = useCan();
	const here = route.parts[0] || '';
	return html`<nav id="nav" class=${open ? 'open' : ''} aria-label=${t('nav.label')}>
		<ul>${PAGES.filter((p) => !p.role || can(p.role)).map((p) => html`<li key=${p.path}>
			<a href=${'#/' + p.path} aria-current=${here === p.path ? 'page' : undefined}
				onClick=${onPick}>${t(p.key)}</a></li>`)}
		</ul>
	</nav>`;
}

function LangSwitch({ onLang }) {
	return html`<label class="lang"><span class="sr">${t('lang.label')}</span>
		<select value=${currentLang()} onChange=${(e) => onLang(e.currentTarget.value)}>
			${languages.map((l) => html`<option value=${l.code} lang=${l.code}>${l.name}</option>`)}
		</select></label>`;
}

function Shell({ session, route, onLang, onLogout }) {
	const [open, setOpen] = useState(false);
	const community = useLoad(() => get('/community'), []);
	const [err, setErr] = useState(null);
	const logout = async () => {
		try {
			await del('/session');
		} catch (e) {
			if (e.status !== 401) return setErr(e);
		}
		onLogout();
	};
	const c = session.coordinator;
	return html`
		<a class="skip" href="#main" onClick=${(e) => {
			e.preventDefault();
			document.getElementById('main').focus();
		}}>${t('nav.skip')}</a>
		<header class="top">
			<div class="brand"><img class="logo" src="/img/tally.svg" alt="" width="24" height="24" /> Tally
				${community.data ? html`<span class="community">${community.data.name}</span>` : null}</div>
			<button type="button" class="menu-toggle" aria-expanded=${open ? 'true' : 'false'} aria-controls="nav"
				onClick=${() => setOpen(!open)}>${t('nav.menu')}</button>
			<${Nav} route=${route} open=${open} onPick=${() => setOpen(false)} />
			<div class="who">
				<span class="me">${c.name} <span class="role">${t('role.' + c.role)}</span></span>
				<${LangSwitch} onLang=${onLang} />
				<button type="button" class="link" onClick=${logout}>${t('nav.logout')}</button>
			</div>
		</header>
		<${ErrorNote} error=${err} />
		<main id="main" tabindex="-1"><${Page} route=${route} /></main>`;
}

function App() {
	const [session, setSession] = useState(undefined); // undefined: still asking
	const [tick, setTick] = useState(0);
	const [route, setRoute] = useState(parseHash());
	const [, setLangShown] = useState(currentLang());
	const onLang = (code) => {
		setLang(code);
		setLangShown(code);
	};
	const enter = (s) => {
		setCsrf(s ? s.csrf_token : null);
		setSession(s);
	};
	useEffect(() => {
		setUnauthorizedHandler(() => enter(null));
		get('/session').then(enter, () => enter(null));
		const f = () => setRoute(parseHash());
		window.addEventListener('hashchange', f);
		return () => window.removeEventListener('hashchange', f);
	}, []);
	useEffect(() => (session ? followEntries(() => setTick((n) => n + 1)) : undefined), [session]);
	if (session === undefined) return html`<p class="muted boot" role="status">${t('common.loading')}</p>`;
	if (!session) return html`<${Login} onSession=${enter} onLang=${onLang} />`;
	return html`<${SessionCtx.Provider} value=${session}><${TickCtx.Provider} value=${tick}>
		<${Shell} session=${session} route=${route} onLang=${onLang} onLogout=${() => enter(null)} />
	</${TickCtx.Provider}></${SessionCtx.Provider}>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);

// main.js: the members' pages (member.html), a single page served by tallyd.
// A member signs in with their own key file (signin.js: the key is opened and
// used in this browser only); then the page of the address's #fragment is
// shown. Nothing here decides what a member may do: the server binds the
// session to one member and refuses the rest.
//
// Routes: add a page by adding a line to ROUTES. `path` is the first segment
// of #/path/...; the page gets {parts, params, session}. `open: true` pages
// are shown without a session (signing in, joining); `nav` puts a link in the
// menu (`badge`, a component, after its name).
import { html, render, useEffect, useState } from '../lib/preact.js';
import { get, del, setCsrf, setUnauthorizedHandler, followEntries } from '../lib/api.js';
import { t, setLang, currentLang, languages } from '../lib/i18n.js';
import { SessionCtx, TickCtx, ErrorNote } from '../lib/ui.js';
import { parseHash } from '../lib/route.js';
import { SignIn } from './signin.js';
import { Home } from './home.js';
import { Join } from './join.js';
import { Statement } from './statement.js';
import { Propose } from './propose.js';
import { Pending } from './pending.js';
import { Pay } from './pay.js';
import { Receipts } from './receipts.js';
import { Notices, NoticeBadge } from './notices.js';
import { Devices, Device } from './devices.js';
import { Listings } from './listings.js';

export const ROUTES = [
	{ path: '', key: 'member.nav.home', page: Home, nav: true },
	{ path: 'signin', key: 'member.signin.title', page: SignIn, open: true },
	{ path: 'join', key: 'member.join.title', page: Join, open: true },
	{ path: 'statement', key: 'member.nav.statement', page: Statement, nav: true },
	{ path: 'propose', key: 'member.nav.propose', page: Propose, nav: true },
	{ path: 'pending', key: 'member.nav.pending', page: Pending, nav: true },
	{ path: 'pay', key: 'member.nav.pay', page: Pay, nav: true },
	{ path: 'receipts', key: 'member.nav.receipts', page: Receipts, nav: true },
	{ path: 'notices', key: 'member.nav.notices', page: Notices, nav: true, badge: NoticeBadge },
	{ path: 'devices', key: 'member.nav.devices', page: Devices, nav: true },
	{ path: 'device', key: 'device.title', page: Device, open: true },
	{ path: 'listings', key: 'member.nav.listings', page: Listings, nav: true },
];

const routeOf = (route) => ROUTES.find((r) => r.path === (route.parts[0] || '')) || ROUTES[0];

function LangSwitch({ onLang }) {
	return html`<label class="lang"><span class="sr">${t('lang.label')}</span>
		<select value=${currentLang()} onChange=${(e) => onLang(e.currentTarget.value)}>
			${languages.map((l) => html`<option value=${l.code} lang=${l.code}>${l.name}</option>`)}
		</select></label>`;
}

function Shell({ session, route, onLang, onSignOut, children }) {
	const [open, setOpen] = useState(false);
	const [err, setErr] = useState(null);
	const here = route.parts[0] || '';
	const signOut = async () => {
		try {
			await del('/session');
		} catch (e) {
			if (e.status !== 401) return setErr(e);
		}
		onSignOut();
	};
	return html`
		<header class="top">
			<div class="brand"><img class="logo" src="/img/tally.svg" alt="" width="24" height="24" /> Tally</div>
			<button type="button" class="menu-toggle" aria-expanded=${open ? 'true' : 'false'} aria-controls="nav"
				onClick=${() => setOpen(!open)}>${t('nav.menu')}<${NoticeBadge} /></button>
			<nav id="nav" class=${open ? 'open' : ''} aria-label=${t('member.nav.label')}>
				<ul>${ROUTES.filter((r) => r.nav).map((r) => html`<li key=${r.path}>
					<a href=${'#/' + r.path} aria-current=${here === r.path ? 'page' : undefined}
						onClick=${() => setOpen(false)}>${t(r.key)}${r.badge ? html`<${r.badge} />` : null}</a></li>`)}</ul>
			</nav>
			<div class="who">
				<span class="me">${session.member.name}</span>
				<${LangSwitch} onLang=${onLang} />
				<button type="button" class="link" onClick=${signOut}>${t('member.signout')}</button>
			</div>
		</header>
		<${ErrorNote} error=${err} />
		<main id="main" tabindex="-1">${children}</main>`;
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
		const member = s && s.member ? s : null; // a coordinator's session is not a member's
		setCsrf(member ? member.csrf_token : null);
		setSession(member);
	};
	useEffect(() => {
		setUnauthorizedHandler(() => enter(null));
		get('/session').then(enter, () => enter(null));
		const f = () => setRoute(parseHash());
		window.addEventListener('hashchange', f);
		return () => window.removeEventListener('hashchange', f);
	}, []);
	// Pages reload when the own log grows, a notice is meant for this
	// member, or a dropped stream opens again (not for other logs' entries);
	// without a stream, when the member's notices change.
	useEffect(() => (session ? followEntries((e) => {
		if (!e.checkpoint && (e.own || e.notice || e.reconnected || e.polled)) setTick((n) => n + 1);
	}, 15000, '/me/notices') : undefined), [session]);
	if (session === undefined) return html`<p class="muted boot" role="status">${t('common.loading')}</p>`;
	const r = routeOf(route);
	const P = r.open || session ? r.page : SignIn;
	const page = html`<${P} parts=${route.parts} params=${route.params} session=${session}
		onSession=${(s) => {
			enter(s);
			if (r.open) location.hash = '#/';
		}} onLang=${onLang} />`;
	if (!session) return page;
	return html`<${SessionCtx.Provider} value=${session}><${TickCtx.Provider} value=${tick}>
		<${Shell} session=${session} route=${route} onLang=${onLang} onSignOut=${() => enter(null)}>${page}</${Shell}>
	</${TickCtx.Provider}></${SessionCtx.Provider}>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);

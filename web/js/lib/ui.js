// ui.js: the pieces every page is built from (console and member pages
// alike): a page frame that names itself, a table that becomes cards on a
// phone, form fields with labels, amounts and errors worded from the
// catalogue, and the data hook that reloads when a new entry arrives. Pages
// never write their own error wording or number formatting.
import { html, createContext, useContext, useEffect, useRef, useState } from './preact.js';
import { t, fmtHours } from './i18n.js';
import { ApiError } from './api.js';

// The session ({coordinator: {name, role}, csrf_token, expires}) and a tick
// that grows with each new entry announced (pages reload on it).
export const SessionCtx = createContext(null);
export const TickCtx = createContext(0);

const RANK = { viewer: 1, coordinator: 2, admin: 3 };
// May the logged-in person do what needs role? (The server decides; this
// only hides what would be refused.)
export function useCan() {
	const s = useContext(SessionCtx);
	const have = s && s.coordinator ? RANK[s.coordinator.role] || 0 : 0;
	return (role) => have >= (RANK[role] || 99);
}

// Loads data with fn() now, when deps change and when an entry arrives.
// Keeps the last data while reloading so pages do not flicker.
export function useLoad(fn, deps = []) {
	const tick = useContext(TickCtx);
	const [state, setState] = useState({ loading: true, data: null, error: null });
	const [again, setAgain] = useState(0);
	useEffect(() => {
		let live = true;
		setState((s) => ({ ...s, loading: true }));
		fn().then(
			(data) => live && setState({ loading: false, data, error: null }),
			(error) => live && setState((s) => ({ loading: false, data: s.data, error })),
		);
		return () => {
			live = false;
		};
	}, [...deps, tick, again]);
	return { ...state, reload: () => setAgain((n) => n + 1) };
}

// A page: its heading takes the focus when the page opens (screen readers
// hear where they are) and names the window.
export function Page({ title, actions, children, wide }) {
	const h1 = useRef(null);
	useEffect(() => {
		document.title = title + ' · Tally';
		if (h1.current) h1.current.focus({ preventScroll: true });
	}, [title]);
	return html`<section class=${'page' + (wide ? ' wide' : '')}>
		<div class="page-head">
			<h1 tabindex="-1" ref=${h1}>${title}</h1>
			${actions ? html`<div class="page-actions">${actions}</div>` : null}
		</div>
		${children}
	</section>`;
}

// Whether an ApiError says this node has no such endpoint (a node older than
// the console): the router's 404 for a path it does not know, or its 405 for
// a method it does not take there. A 404 from an endpoint that exists names
// what it did not find (a member, a proposal, an audit not yet run).
export const unoffered = (e) => !!e && ((e.status === 404 && e.code === 'ENOTFOUND' &&
	/^no such resource/.test(e.message || '')) || (e.status === 405 && e.code === 'EMETHOD'));

// How an ApiError reads: a ledger refusal gives the rule's own sentence, the
// one the command line prints; an endpoint the node lacks, a quiet note.
export function errorText(e) {
	if (!e) return '';
	if (e.status === 0) return t('error.network');
	if (e.status === 409) return t('error.refused', { message: e.message, code: e.code });
	if (e.status === 401) return t('error.session');
	if (e.status === 403 && e.code === 'ECSRF') return t('error.csrf');
	if (e.status === 403) return t('error.denied', { message: e.message, code: e.code });
	if (unoffered(e)) return t('error.unavailable');
	if (e.status === 429) return t('error.throttled', { s: e.retryAfter || 1 });
	if (e.status === 503) return t('error.busy', { message: e.message, code: e.code });
	return t('error.other', { message: e.message || String(e), code: e.code || '' });
}

export function ErrorNote({ error }) {
	if (!error) return null;
	if (unoffered(error)) return html`<p class="note info">${errorText(error)}</p>`;
	return html`<p class="note error" role="alert">${errorText(error)}</p>`;
}

export function Note({ kind = 'ok', children }) {
	if (!children) return null;
	return html`<p class=${'note ' + kind} role="status">${children}</p>`;
}

export function Loading({ state }) {
	if (state.error) return html`<${ErrorNote} error=${state.error} />`;
	if (state.loading && !state.data) return html`<p class="muted" role="status" data-loading>${t('common.loading')}</p>`;
	return null;
}

// An amount of minutes as hours; negative balances are marked.
export function Hours({ minutes, sign }) {
	if (minutes === null || minutes === undefined) return html`<span class="muted">—</span>`;
	const cls = 'hours' + (minutes < 0 ? ' neg' : minutes > 0 && sign ? ' pos' : '');
	return html`<span class=${cls}>${fmtHours(minutes, { sign })}</span>`;
}

// A table: columns [{label, cell: row => content, num}]; on a phone each row
// becomes a card whose cells say their column's name.
export function Table({ caption, columns, rows, empty, rowKey }) {
	if (!rows || !rows.length) return html`<p class="muted empty">${empty || t('common.none')}</p>`;
	return html`<table class="data">
		${caption ? html`<caption>${caption}</caption>` : null}
		<thead><tr>${columns.map((c) => html`<th scope="col" class=${c.num ? 'num' : ''}>${c.label}</th>`)}</tr></thead>
		<tbody>${rows.map((r, i) => html`<tr key=${rowKey ? rowKey(r) : i}>
			${columns.map((c) => html`<td class=${c.num ? 'num' : ''} data-label=${c.label}>${c.cell(r)}</td>`)}
		</tr>`)}</tbody>
	</table>`;
}

let nextId = 0;
const useId = (prefix) => useRef(prefix + '-' + ++nextId).current;

// A labelled input. Extra props go to the input.
export function Field({ label, hint, value, onInput, type = 'text', ...rest }) {
	const id = useId('f');
	return html`<div class="field">
		<label for=${id}>${label}</label>
		<input id=${id} type=${type} value=${value}
			aria-describedby=${hint ? id + '-h' : undefined}
			onInput=${(e) => onInput(e.currentTarget.value)} ...${rest} />
		${hint ? html`<small id=${id + '-h'} class="hint">${hint}</small>` : null}
	</div>`;
}

export function Select({ label, value, onChange, options, ...rest }) {
	const id = useId('s');
	return html`<div class="field">
		<label for=${id}>${label}</label>
		<select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)} ...${rest}>
			${options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}
		</select>
	</div>`;
}

export function Check({ label, checked, onChange }) {
	const id = useId('c');
	return html`<div class="field check">
		<input id=${id} type="checkbox" checked=${checked} onChange=${(e) => onChange(e.currentTarget.checked)} />
		<label for=${id}>${label}</label>
	</div>`;
}

// An amount typed as hours and minutes; value and onChange are in minutes
// (null while empty or not a whole number).
export function HoursInput({ legend, hours, minutes, onHours, onMinutes }) {
	return html`<fieldset class="hours-input">
		<legend>${legend}</legend>
		<${Field} label=${t('field.hours')} type="number" min="0" max="10000" step="1" inputmode="numeric"
			value=${hours} onInput=${onHours} name="hours" />
		<${Field} label=${t('field.minutes')} type="number" min="0" max="59" step="1" inputmode="numeric"
			value=${minutes} onInput=${onMinutes} name="minutes" />
	</fieldset>`;
}

// Whole minutes from the hours and minutes fields, or null.
export function toMinutes(hours, minutes) {
	const h = hours === '' ? 0 : Number(hours);
	const m = minutes === '' ? 0 : Number(minutes);
	if (!Number.isInteger(h) || !Number.isInteger(m) || h < 0 || m < 0 || m > 59) return null;
	return h * 60 + m;
}

// The minutes of an amount field pair, or an error to show (thrown).
export function amountOf(hours, minutes) {
	const m = toMinutes(hours, minutes);
	if (!m) throw new ApiError(400, 'EAMOUNT', t('record.amount_needed'));
	return m;
}

// A form's submission: action() runs on submit (the default prevented) and
// returns the sentence to show on success, or nothing; what it throws (an
// ApiError, or one made here for a field) is kept to show. <FormStatus> shows
// either.
export function useForm(action) {
	const [error, setError] = useState(null);
	const [done, setDone] = useState('');
	const onSubmit = async (e) => {
		if (e && e.preventDefault) e.preventDefault();
		setError(null);
		setDone('');
		try {
			const said = await action();
			if (said) setDone(said);
		} catch (err) {
			setError(err);
		}
	};
	return { error, done, onSubmit };
}

export function FormStatus({ form }) {
	return html`<${ErrorNote} error=${form.error} /><${Note}>${form.done}</${Note}>`;
}

// A button that runs an async action once at a time.
export function Action({ onRun, children, kind = '', label, disabled }) {
	const [busy, setBusy] = useState(false);
	const run = async () => {
		if (busy) return;
		setBusy(true);
		try {
			await onRun();
		} finally {
			setBusy(false);
		}
	};
	return html`<button type="button" class=${kind} disabled=${busy || disabled} aria-label=${label}
		aria-busy=${busy ? 'true' : undefined} onClick=${run}>${children}</button>`;
}

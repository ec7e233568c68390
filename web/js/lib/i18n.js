// i18n.js: every word the pages show comes from a message catalogue
// (js/i18n/LANG.js, one flat object of keys), and every number and date is
// written the language's way with Intl. The language is the one chosen with
// the switch (kept in localStorage), else the browser's first language we
// have, else English. A key missing from a catalogue falls back to English,
// then to the key itself, so a gap shows and never breaks a page.
import en from '../i18n/en.js';
import es from '../i18n/es.js';

export const catalogues = { en, es };
export const languages = [
	{ code: 'en', name: 'English' },
	{ code: 'es', name: 'Español' },
];

const STORE_KEY = 'tally.lang';

function pick() {
	try {
		const saved = localStorage.getItem(STORE_KEY);
		if (saved && catalogues[saved]) return saved;
	} catch (e) {
		/* storage refused: the browser's languages decide */
	}
	for (const l of navigator.languages || [navigator.language || 'en']) {
		const base = String(l).toLowerCase().split('-')[0];
		if (catalogues[base]) return base;
	}
	return 'en';
}

let lang = pick();
document.documentElement.lang = lang;

export const currentLang = () => lang;

export function setLang(code) {
	if (!catalogues[code]) return;
	lang = code;
	document.documentElement.lang = code;
	try {
		localStorage.setItem(STORE_KEY, code);
	} catch (e) {
		/* not kept across visits, still switched */
	}
}

function lookup(key) {
	const c = catalogues[lang];
	if (c && Object.prototype.hasOwnProperty.call(c, key)) return c[key];
	if (Object.prototype.hasOwnProperty.call(en, key)) return en[key];
	return key;
}

// t('members.count', {n: 3}): the message with {name} placeholders filled.
// A message that is an object is chosen by plural category of vars.n
// ({one: ..., other: ...}).
export function t(key, vars) {
	let m = lookup(key);
	if (m && typeof m === 'object') {
		const n = vars && typeof vars.n === 'number' ? vars.n : 0;
		const cat = new Intl.PluralRules(lang).select(n);
		m = m[cat] !== undefined ? m[cat] : m.other;
		if (vars && typeof vars.n === 'number' && !('count' in vars)) vars = { ...vars, count: fmtInt(n) };
	}
	if (typeof m !== 'string') return key;
	if (!vars) return m;
	return m.replace(/\{(\w+)\}/g, (all, name) => (vars[name] === undefined ? all : String(vars[name])));
}

export const fmtInt = (n) => new Intl.NumberFormat(lang).format(n);

// Minutes as whole hours and minutes, exactly (a decimal would round:
// 20 minutes is not "0.33 h"): 90 -> "1 h 30 min", 20 -> "20 min",
// 120 -> "2 h"; with opts.sign a "+" before a credit.
export function fmtHours(minutes, opts = {}) {
	if (minutes === null || minutes === undefined) return '—';
	const sign = minutes < 0 ? '-' : minutes > 0 && opts.sign ? '+' : '';
	const a = Math.abs(minutes);
	const h = Math.floor(a / 60);
	const m = a % 60;
	const text = h && m ? t('unit.hours_minutes', { h: fmtInt(h), m: fmtInt(m) })
		: m ? t('unit.minutes', { m: fmtInt(m) })
		: t('unit.hours', { h: fmtInt(h) });
	return sign + text;
}

// A date of service "YYYY-MM-DD", written the language's way.
export function fmtDate(s) {
	if (!s) return '—';
	const d = new Date(s + 'T00:00:00Z');
	if (Number.isNaN(d.getTime())) return s;
	return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

// A moment "YYYY-MM-DDTHH:MM:SSZ", in the browser's time zone.
export function fmtMoment(s) {
	if (!s) return '—';
	const d = new Date(s);
	if (Number.isNaN(d.getTime())) return s;
	return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

// "YYYY-MM" as the month's name and year.
export function fmtMonth(s) {
	const d = new Date(s + '-01T00:00:00Z');
	if (Number.isNaN(d.getTime())) return s;
	return new Intl.DateTimeFormat(lang, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d);
}

// Today and the first and last day of this month, as "YYYY-MM-DD" (local).
export function today() {
	const d = new Date();
	return iso(d.getFullYear(), d.getMonth(), d.getDate());
}

export function thisMonth() {
	const d = new Date();
	const last = new Date(d.getFullYear(), d.getMonth() + 1, 0).getDate();
	return { from: iso(d.getFullYear(), d.getMonth(), 1), to: iso(d.getFullYear(), d.getMonth(), last) };
}

function iso(y, m, d) {
	return `${y}-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

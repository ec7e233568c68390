// api.js: the client of tallyd's JSON API (docs/API.md), shared by every page.
// It sends the CSRF token on state changes, turns every refusal into an
// ApiError carrying the API's code and sentence (the same sentence the
// command line prints), and follows the event stream of new entries. It never
// shows anything itself: pages decide how to word and place an error.

export class ApiError extends Error {
	constructor(status, code, message, retryAfter) {
		super(message);
		this.status = status; // 0 when the node could not be reached
		this.code = code;
		this.retryAfter = retryAfter; // seconds, with 429
	}
}

let csrf = null;
let onUnauthorized = null;

export function setCsrf(token) {
	csrf = token;
}

// Called with the error when a request answers 401 (the session ended).
export function setUnauthorizedHandler(fn) {
	onUnauthorized = fn;
}

// One request. body is sent as JSON when given. Resolves to the decoded JSON
// answer; rejects with an ApiError.
export async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	const opts = { method, headers, credentials: 'same-origin', cache: 'no-store' };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
	let r;
	try {
		r = await fetch('/api/v1' + path, opts);
	} catch (e) {
		throw new ApiError(0, 'ENETWORK', String(e && e.message ? e.message : e));
	}
	let data = null;
	try {
		data = await r.json();
	} catch (e) {
		data = null;
	}
	if (!r.ok) {
		const err = data && data.error ? data.error : {};
		const retry = parseInt(r.headers.get('Retry-After') || '', 10);
		const e = new ApiError(r.status, err.code || 'EHTTP', err.message || 'HTTP ' + r.status,
			Number.isFinite(retry) ? retry : undefined);
		if (r.status === 401 && path !== '/session' && onUnauthorized) onUnauthorized(e);
		throw e;
	}
	return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const del = (path) => api('DELETE', path);

// A path segment that is a name: percent-encoded ('/' too).
export const seg = (s) => encodeURIComponent(s);

// A query string from an object, leaving out empty values: "?a=1&b=x" or "".
export function query(params) {
	const parts = [];
	for (const [k, v] of Object.entries(params || {})) {
		if (v === undefined || v === null || v === '' || v === false) continue;
		parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
	}
	return parts.length ? '?' + parts.join('&') : '';
}

// The URL of a download (a report as CSV, a receipt): the browser fetches it
// with the session cookie.
export const downloadUrl = (path, params) => '/api/v1' + path + query(params);

// Follows new entries: calls onEntry({log, seq, own, ...}) for each event of
// GET /api/v1/events (and onEntry({log, size, own, checkpoint: true}) for each
// newer checkpoint held, onEntry({notice: true}) when something new may wait
// for the signed-in member, and onEntry({reconnected: true}) when a stream that
// dropped opens again). When the stream cannot be had (a node without it, a
// proxy that buffers, a node whose 64 streams are taken), polls instead so
// pages still update: the community's counters, or what pollPath answers
// (a member's session cannot read the community's). Returns a function that
// stops following.
export function followEntries(onEntry, pollMs = 5000, pollPath = '/community') {
	let es = null;
	let timer = null;
	let stopped = false;
	let last = null;
	const poll = async () => {
		try {
			const c = await get(pollPath);
			const key = pollPath === '/community'
				? [c.members, c.exchanges, c.reversals, c.exchanged_minutes].join('/')
				: JSON.stringify(c);
			if (last !== null && key !== last) onEntry({ polled: true });
			last = key;
		} catch (e) {
			/* the next poll tries again; 401 reaches the unauthorized handler */
		}
		if (!stopped) timer = setTimeout(poll, pollMs);
	};
	const startPolling = () => {
		if (es) es.close();
		es = null;
		if (!stopped && timer === null) poll();
	};
	if (typeof EventSource === 'function') {
		es = new EventSource('/api/v1/events');
		es.addEventListener('entry', (ev) => {
			let data = {};
			try {
				data = JSON.parse(ev.data);
			} catch (e) {
				data = {};
			}
			onEntry(data);
		});
		// Something new may wait for this member (members' streams only).
		es.addEventListener('notice', () => onEntry({ notice: true }));
		// A newer checkpoint held (signed here or kept from a peer).
		es.addEventListener('checkpoint', (ev) => {
			let data = {};
			try {
				data = JSON.parse(ev.data);
			} catch (e) {
				data = {};
			}
			onEntry({ ...data, checkpoint: true });
		});
		// A newer stream of the same coordinator or member (another tab) took
		// this one's place: poll rather than reconnect and end another.
		es.addEventListener('replaced', () => startPolling());
		// A stream that dropped and opened again (a phone woke, a proxy cut
		// it) missed what happened meanwhile: the page loads again.
		let opened = false;
		es.addEventListener('open', () => {
			if (opened) onEntry({ reconnected: true });
			opened = true;
		});
		// A stream that fails before it opened (404, 503: too many streams) is
		// closed by the browser for good; one that drops is retried by it.
		es.addEventListener('error', () => {
			if (es && es.readyState === EventSource.CLOSED) startPolling();
		});
	} else {
		startPolling();
	}
	return () => {
		stopped = true;
		if (es) es.close();
		if (timer !== null) clearTimeout(timer);
	};
}

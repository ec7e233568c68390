// route.js: the address's #fragment as the pages' route, shared by the
// console (web/js/console/main.js) and the members' pages
// (web/js/member/main.js). "#/members/bob?from=2026-01-01" gives
// {parts: ['members', 'bob'], params: URLSearchParams('from=2026-01-01')};
// each part is percent-decoded (kept as it is when it does not decode).
export function parseHash(hash = location.hash) {
	const raw = (hash || '').replace(/^#\/?/, '');
	const [path, qs] = raw.split('?');
	const parts = path.split('/').filter(Boolean).map((p) => {
		try {
			return decodeURIComponent(p);
		} catch (e) {
			return p;
		}
	});
	return { parts, params: new URLSearchParams(qs || '') };
}

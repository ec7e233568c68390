// share.js: a link to hand to someone else (an invitation, a device link, a
// proposal to confirm), with its QR code drawn by the node (an SVG image:
// the pages make none themselves) and a button that copies it.
import { html, useState } from './preact.js';
import { t } from './i18n.js';

// The image of an SVG text the node answered (img-src allows data: URLs).
export const svgUrl = (svg) => 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);

// url: the link; qr: an SVG text or an image's URL; about: a sentence above.
export function ShareBox({ url, qr, about, label, children }) {
	const [copied, setCopied] = useState(false);
	const copy = async () => {
		try {
			await navigator.clipboard.writeText(url);
			setCopied(true);
		} catch (e) {
			setCopied(false);
		}
	};
	const src = qr && qr.startsWith('<svg') ? svgUrl(qr) : qr;
	return html`<div class="card share">
		${about ? html`<p>${about}</p>` : null}
		${src ? html`<img class="qr" src=${src} width="200" height="200" alt=${label || t('share.qr')} data-qr />` : null}
		<p class="share-link"><a href=${url} data-share>${url}</a></p>
		<button type="button" onClick=${copy}>${copied ? t('share.copied') : t('share.copy')}</button>
		${children}
	</div>`;
}

// receipts.js: checks a receipt file here, offline (web/js/lib/receipt.js:
// the checks of `tally receipt verify`, in the same order), against this
// community's key unless the member asks for any community. Nothing is sent
// to the node: the file is read in the browser.
import { html, useState } from '../lib/preact.js';
import { t, fmtDate } from '../lib/i18n.js';
import { Page, Check, Hours } from '../lib/ui.js';
import { sodium } from '../lib/sodium.js';
import { verifyReceipt, RECEIPT_MAX } from '../lib/receipt.js';
import { ownCommunity, isoDate } from './checks.js';

export function Receipts({ session }) {
	const [result, setResult] = useState(null);
	const [any, setAny] = useState(false);
	const pick = async (e) => {
		const f = e.currentTarget.files[0];
		setResult(null);
		if (!f) return;
		try {
			if (f.size > RECEIPT_MAX) throw Object.assign(new Error(t('mx.receipt_too_big')), { code: 'ETOOBIG' });
			const bytes = new Uint8Array(await f.arrayBuffer());
			const s = await sodium();
			const c = any ? undefined : ownCommunity(session).id;
			setResult({ ok: verifyReceipt(s, bytes, c), name: f.name });
		} catch (err) {
			setResult({ error: err, name: f.name });
		}
	};
	const r = result && result.ok;
	return html`<${Page} title=${t('mx.receipts')}>
		<p class="muted">${t('mx.receipts_about')}</p>
		<div class="card">
			<div class="field"><label for="receipt-file">${t('mx.receipt_file')}</label>
				<input id="receipt-file" type="file" accept=".bin,application/octet-stream" onChange=${pick} /></div>
			<${Check} label=${t('mx.any_community')} checked=${any} onChange=${setAny} />
		</div>
		${result && result.error ? html`<p class="note error" role="alert" data-receipt="bad">
			${t('mx.receipt_bad', { name: result.name, code: result.error.code || 'EINVAL', message: result.error.message })}</p>` : null}
		${r ? html`<div class="note ok" role="status" data-receipt="good">
			<p><strong>${t('mx.receipt_good', { name: result.name })}</strong></p>
			<dl class="terms">
				<dt>${t('mx.entry')}</dt><dd>${t('mx.entry_of', { seq: r.seq, size: r.size })}</dd>
				<dt>${t('mx.kind')}</dt><dd>${r.entry.kindName}${r.entry.attested ? ' · ' + t('mx.attested') : ''}</dd>
				${r.entry.minutes ? html`<dt>${t('mx.amount')}</dt><dd><${Hours} minutes=${r.entry.minutes} /></dd>` : null}
				${r.entry.date ? html`<dt>${t('mx.date')}</dt><dd>${fmtDate(isoDate(r.entry.date))}</dd>` : null}
				${r.entry.txid ? html`<dt>${t('mx.txid')}</dt><dd><code>${r.entry.txid}</code></dd>` : null}
				<dt>${t('mx.community_key')}</dt><dd><code>${r.log}</code></dd>
			</dl>
			<p class="muted">${t('mx.receipt_members')}</p>
		</div>` : null}
	</${Page}>`;
}

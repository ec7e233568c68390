// pending.js: the proposals that wait, the member's own and those made to
// them (GET /api/v1/me/proposals); one of them alone at #/pending/TXID (the
// link a proposer shares). The receiver confirms by signing the same terms
// in the browser (checked here against the fields shown) or rejects; the
// proposer may withdraw their own.
import { html, useState } from '../lib/preact.js';
import { get, post } from '../lib/api.js';
import { t, fmtDate } from '../lib/i18n.js';
import { Page, Hours, Loading, ErrorNote, Action, useLoad } from '../lib/ui.js';
import { CTX } from '../lib/keyfile.js';
import { checkedPending, isoDate, SignBox } from './sign.js';

// The link to a proposal that the other member opens to confirm it.
export function ShareLink({ txid }) {
	const url = location.origin + location.pathname + '#/pending/' + txid;
	const [copied, setCopied] = useState(false);
	const copy = async () => {
		try {
			await navigator.clipboard.writeText(url);
			setCopied(true);
		} catch (e) {
			setCopied(false);
		}
	};
	return html`<div class="card share">
		<p>${t('mx.share_about')}</p>
		<p><a href=${url} data-share>${url}</a></p>
		<button type="button" onClick=${copy}>${copied ? t('mx.copied') : t('mx.copy')}</button>
	</div>`;
}

function One({ p, me, onDone }) {
	const [signing, setSigning] = useState(false);
	const [error, setError] = useState(null);
	const [done, setDone] = useState('');
	let terms = null, bad = null;
	try {
		terms = checkedPending(p);
	} catch (e) {
		bad = e;
	}
	const confirm = async (signature) => {
		await post('/me/proposals/' + p.txid + '/confirm', { signature });
		setDone(t('mx.confirmed'));
		onDone();
	};
	const reject = async () => {
		setError(null);
		try {
			await post('/me/proposals/' + p.txid + '/reject', {});
			setDone(p.mine === 'receiver' ? t('mx.rejected') : t('mx.withdrawn'));
			onDone();
		} catch (e) {
			setError(e);
		}
	};
	const other = p.mine === 'receiver' ? p.provider : p.receiver;
	return html`<article class="card proposal" data-txid=${p.txid}>
		<h2>${p.mine === 'receiver' ? t('mx.helped_you', { name: other }) : t('mx.you_helped_name', { name: other })}</h2>
		<dl class="terms">
			<dt>${t('mx.amount')}</dt><dd><${Hours} minutes=${p.minutes} /></dd>
			<dt>${t('mx.date')}</dt><dd>${fmtDate(isoDate(p.fields.date))}</dd>
			<dt>${t('mx.category')}</dt><dd>${p.category || '—'}</dd>
			<dt>${t('mx.memo_done')}</dt><dd>${p.memo || '—'}</dd>
		</dl>
		${done ? html`<p class="note ok" role="status">${done}</p>` : null}
		${bad ? html`<p class="note error" role="alert">${bad.message}</p>` : null}
		<${ErrorNote} error=${error} />
		${!done && p.mine === 'receiver' && terms && signing
			? html`<${SignBox} terms=${terms} context=${CTX.EXCHANGE} me=${me} onSigned=${confirm} label=${t('mx.sign_confirm')} />`
			: null}
		${!done ? html`<div class="row-actions">
			${p.mine === 'receiver' && terms && !signing
				? html`<button type="button" class="primary" onClick=${() => setSigning(true)}>${t('mx.confirm')}</button>` : null}
			<${Action} onRun=${reject}>${p.mine === 'receiver' ? t('mx.reject') : t('mx.withdraw')}</${Action}>
		</div>` : null}
		${p.mine === 'provider' && !done ? html`<${ShareLink} txid=${p.txid} />` : null}
	</article>`;
}

export function Pending({ parts, session }) {
	const txid = parts[1];
	const st = useLoad(() => (txid ? get('/me/proposals/' + txid).then((p) => ({ proposals: [p] }))
		: get('/me/proposals')), [txid]);
	const list = st.data ? st.data.proposals : [];
	return html`<${Page} title=${t('mx.pending')}>
		<${Loading} state=${st} />
		${st.data && !list.length ? html`<p class="muted">${t('mx.nothing_waits')}</p>` : null}
		${list.map((p) => html`<${One} key=${p.txid} p=${p} me=${session.member} onDone=${() => {}} />`)}
		${txid ? html`<p><a href="#/pending">${t('mx.all_pending')}</a></p>` : null}
	</${Page}>`;
}

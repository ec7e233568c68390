// pending.js: the proposals that wait, the member's own and those made to
// them (GET /api/v1/me/proposals); one of them alone at #/pending/TXID (the
// link a proposer shares). Each is shown from its checked fields only
// (checks.js: the terms encoded here, the member's own number on their side,
// the node's display copies and the memo agreeing with them); the receiver
// confirms by signing those terms in the browser, or rejects; the proposer
// may withdraw their own.
import { html, useEffect, useState } from '../lib/preact.js';
import { get, post } from '../lib/api.js';
import { t, fmtDate } from '../lib/i18n.js';
import { Page, Hours, Loading, ErrorNote, Action, useLoad } from '../lib/ui.js';
import { CTX } from '../lib/keyfile.js';
import { SignBox } from './sign.js';
import { ShareBox } from '../lib/share.js';
import { checkedPending, isoDate, who } from './checks.js';

// The link to a proposal that the other member opens to confirm it, with its
// QR code (made by the node, for the proposal's two members only).
export function ShareLink({ txid }) {
	const url = location.origin + location.pathname + '#/pending/' + txid;
	return html`<${ShareBox} url=${url} qr=${'/api/v1/me/proposals/' + txid + '/qr.svg'} about=${t('mx.share_about')}
		label=${t('mx.share_qr')} />`;
}

// The terms of p to sign, once checked: {terms} or {bad} (the refusal).
function useChecked(p, session) {
	const [c, setC] = useState(null);
	useEffect(() => {
		let live = true;
		checkedPending(p, session).then((terms) => live && setC({ terms }), (bad) => live && setC({ bad }));
		return () => {
			live = false;
		};
	}, [p, session]);
	return c;
}

function One({ p, session, onDone }) {
	const [signing, setSigning] = useState(false);
	const [error, setError] = useState(null);
	const [done, setDone] = useState('');
	const checked = useChecked(p, session);
	const terms = checked && checked.terms;
	const bad = checked && checked.bad;
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
	const f = p.fields;
	const receiver = p.mine === 'receiver';
	const [name, number] = receiver ? [p.provider, f.provider] : [p.receiver, f.receiver];
	if (!checked) return html`<p class="muted" role="status" data-loading>${t('common.loading')}</p>`;
	return html`<article class="card proposal" data-txid=${p.txid}>
		<h2>${receiver ? t('mx.helped_you', { name }) : t('mx.you_helped_name', { name })}</h2>
		${bad ? html`<p class="note error" role="alert" data-refused>${bad.message}</p>` : null}
		${terms ? html`<dl class="terms">
			<dt>${receiver ? t('mx.to') : t('mx.you_helped')}</dt><dd data-other>${who(name, number)}</dd>
			<dt>${t('mx.amount')}</dt><dd data-amount><${Hours} minutes=${f.minutes} /></dd>
			<dt>${t('mx.date')}</dt><dd>${fmtDate(isoDate(f.date))}</dd>
			<dt>${t('mx.category')}</dt><dd>${f.category || '—'}</dd>
			<dt>${t('mx.memo_done')}</dt><dd>${p.memo || '—'}</dd>
		</dl>` : null}
		${done ? html`<p class="note ok" role="status">${done}</p>` : null}
		<${ErrorNote} error=${error} />
		${!done && receiver && terms && signing
			? html`<${SignBox} terms=${terms} context=${CTX.EXCHANGE} me=${session.member} onSigned=${confirm}
				label=${t('mx.sign_confirm')} />`
			: null}
		${!done ? html`<div class="row-actions">
			${receiver && terms && !signing
				? html`<button type="button" class="primary" onClick=${() => setSigning(true)}>${t('mx.confirm')}</button>` : null}
			<${Action} onRun=${reject}>${receiver ? t('mx.reject') : t('mx.withdraw')}</${Action}>
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
		${list.map((p) => html`<${One} key=${p.txid} p=${p} session=${session} onDone=${() => {}} />`)}
		${txid ? html`<p><a href="#/pending">${t('mx.all_pending')}</a></p>` : null}
	</${Page}>`;
}

// invites.js: inviting new members (#/invites). A coordinator names the new
// member and how long the invitation lasts; the node answers a one-time link
// and its QR code, shown once (the node keeps only the token's hash), to copy
// or show on a phone. The open invitations are listed, soonest to expire
// first, and any can be revoked. A device link hands a member's key file,
// kept at the node, to a new device of theirs when they have no signed-in
// device to make one.
import { html, useState } from '../lib/preact.js';
import { get, post, del, seg } from '../lib/api.js';
import { t, fmtMoment } from '../lib/i18n.js';
import { Page, Table, Field, FormStatus, Loading, Action, ErrorNote, useForm, useLoad, useCan } from '../lib/ui.js';
import { ShareBox } from '../lib/share.js';

function NewInvite({ onDone }) {
	const [name, setName] = useState('');
	const [days, setDays] = useState('7');
	const [made, setMade] = useState(null);
	const form = useForm(async () => {
		setMade(null);
		const r = await post('/invites', { name: name.trim(), valid_days: Number(days) });
		setMade(r);
		setName('');
		onDone();
	});
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="invite-h">
		<h2 id="invite-h">${t('invites.new')}</h2>
		<p class="hint">${t('invites.about')}</p>
		<div class="row">
			<${Field} label=${t('invites.name')} value=${name} onInput=${setName} required name="invite-name"
				maxlength="64" autocomplete="off" />
			<${Field} label=${t('invites.days')} type="number" min="1" max="30" step="1" value=${days}
				onInput=${setDays} required name="invite-days" />
		</div>
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('invites.make')}</button>
		${made ? html`<div data-invite-made>
			<p class="note ok" role="status">${t('invites.made', { name: made.name, when: fmtMoment(made.expires) })}</p>
			<${ShareBox} url=${made.link} qr=${made.qr_svg} about=${t('invites.once', { name: made.name })}
				label=${t('invites.qr', { name: made.name })} /></div>` : null}
	</form>`;
}

function DeviceLink() {
	const [name, setName] = useState('');
	const [made, setMade] = useState(null);
	const form = useForm(async () => {
		setMade(null);
		setMade(await post('/members/' + seg(name.trim()) + '/device-links', {}));
	});
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="devlink-h">
		<h2 id="devlink-h">${t('invites.device')}</h2>
		<p class="hint">${t('invites.device_about')}</p>
		<${Field} label=${t('invites.member')} value=${name} onInput=${setName} required name="devlink-name"
			autocomplete="off" />
		<${FormStatus} form=${form} />
		<button type="submit">${t('invites.device_make')}</button>
		${made ? html`<div data-devlink-made><${ShareBox} url=${made.link} qr=${made.qr_svg}
			about=${t('invites.device_once', { name: made.member, when: fmtMoment(made.expires) })}
			label=${t('invites.qr', { name: made.member })} /></div>` : null}
	</form>`;
}

export function Invites() {
	const can = useCan();
	const open = useLoad(() => get('/invites'));
	const [err, setErr] = useState(null);
	const revoke = async (inv) => {
		setErr(null);
		if (!confirm(t('invites.revoke_confirm', { name: inv.name }))) return;
		try {
			await del('/invites/' + seg(inv.id));
		} catch (e) {
			setErr(e);
		}
		open.reload();
	};
	const rows = open.data ? open.data.invites : [];
	return html`<${Page} title=${t('invites.title')}>
		${can('coordinator') ? html`<${NewInvite} onDone=${open.reload} />` : null}
		<section class="card" aria-labelledby="open-h" data-open-invites>
			<h2 id="open-h">${t('invites.open')}</h2>
			<${Loading} state=${open} />
			<${ErrorNote} error=${err} />
			<${Table} rows=${rows} rowKey=${(r) => r.id} empty=${t('invites.none')}
				columns=${[
					{ label: t('invites.name'), cell: (r) => r.name },
					{ label: t('invites.expires'), cell: (r) => fmtMoment(r.expires) },
					{ label: t('invites.actions'), cell: (r) => html`<${Action} kind="link" onRun=${() => revoke(r)}
						label=${t('invites.revoke_label', { name: r.name })}>${t('invites.revoke')}</${Action}>` },
				]} />
		</section>
		${can('coordinator') ? html`<${DeviceLink} />` : null}
	</${Page}>`;
}

// coordinators.js: the admins' page of the people who log in to this
// console (GET/POST/DELETE /api/v1/coordinators): who they are, their role
// and since when; an admin adds one with a name, a role and a password,
// changes one's role or password (a new password ends their sessions), and
// removes one (their sessions end at once); the node's only admin is never
// demoted or removed. Only admins see the page's link; anyone else who opens
// it gets the API's refusal, worded like every other.
import { html, useContext, useState } from '../lib/preact.js';
import { get, post, del, seg } from '../lib/api.js';
import { t, fmtMoment } from '../lib/i18n.js';
import { Page, Table, Field, Select, ErrorNote, FormStatus, Loading, SessionCtx, useForm, useLoad, useCan } from '../lib/ui.js';

const ROLES = ['viewer', 'coordinator', 'admin'];

function AddCoordinator({ onAdded }) {
	const [name, setName] = useState('');
	const [role, setRole] = useState('coordinator');
	const [password, setPassword] = useState('');
	const form = useForm(async () => {
		const c = await post('/coordinators', { name: name.trim(), role, password });
		setName('');
		setPassword('');
		onAdded();
		return t('coord.added', { name: c.name, role: t('role.' + c.role) });
	});
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="add-coord-h">
		<h2 id="add-coord-h">${t('coord.add')}</h2>
		<div class="row">
			<${Field} label=${t('field.name')} value=${name} onInput=${setName} required maxlength="64"
				autocomplete="off" autocapitalize="none" spellcheck="false" name="coord-name" />
			<${Select} label=${t('coord.role')} value=${role} onChange=${setRole} name="coord-role"
				options=${ROLES.map((r) => ({ value: r, label: t('role.' + r) }))} />
			<${Field} label=${t('login.password')} type="password" value=${password} onInput=${setPassword}
				required minlength="8" autocomplete="new-password" aria-describedby="coord-password-hint"
				name="coord-password" />
		</div>
		<p class="hint" id="coord-password-hint">${t('coord.password_hint')}</p>
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('coord.add_submit')}</button>
	</form>`;
}

function ChangeCoordinator({ rows, onChanged }) {
	const [name, setName] = useState('');
	const [role, setRole] = useState('');
	const [password, setPassword] = useState('');
	const who = name || (rows[0] ? rows[0].name : '');
	const form = useForm(async () => {
		const body = {};
		if (role) body.role = role;
		if (password) body.password = password;
		const c = await post('/coordinators/' + seg(who), body);
		setPassword('');
		setRole('');
		onChanged();
		return t(password ? 'coord.changed_password' : 'coord.changed', { name: c.name, role: t('role.' + c.role) });
	});
	return html`<form class="card form" onSubmit=${form.onSubmit} aria-labelledby="change-coord-h">
		<h2 id="change-coord-h">${t('coord.change')}</h2>
		<div class="row">
			<${Select} label=${t('field.name')} value=${who} onChange=${setName} name="change-name"
				options=${rows.map((c) => ({ value: c.name, label: c.name }))} />
			<${Select} label=${t('coord.role')} value=${role} onChange=${setRole} name="change-role"
				options=${[{ value: '', label: t('coord.keep_role') }, ...ROLES.map((r) => ({ value: r, label: t('role.' + r) }))]} />
			<${Field} label=${t('coord.new_password')} type="password" value=${password} onInput=${setPassword}
				minlength="8" autocomplete="new-password" name="change-password" />
		</div>
		<${FormStatus} form=${form} />
		<button type="submit" class="primary">${t('coord.change_submit')}</button>
	</form>`;
}

export function Coordinators() {
	const can = useCan();
	const session = useContext(SessionCtx);
	const me = session && session.coordinator ? session.coordinator.name : '';
	const list = useLoad(() => get('/coordinators'), []);
	const [error, setError] = useState(null);
	const [done, setDone] = useState('');
	const remove = async (c) => {
		const ask = c.name === me ? 'coord.remove_self_confirm' : 'coord.remove_confirm';
		if (!window.confirm(t(ask, { name: c.name }))) return;
		setError(null);
		setDone('');
		try {
			await del('/coordinators/' + seg(c.name));
			setDone(t('coord.removed', { name: c.name }));
			list.reload();
		} catch (err) {
			setError(err);
		}
	};
	const columns = [
		{ label: t('field.name'), cell: (c) => html`${c.name}${c.name === me
			? html` <span class="badge">${t('coord.you')}</span>` : null}` },
		{ label: t('coord.role'), cell: (c) => t('role.' + c.role) },
		{ label: t('coord.may'), cell: (c) => t('coord.may.' + c.role) },
		{ label: t('coord.created'), cell: (c) => (c.created ? fmtMoment(c.created) : '—') },
		{ label: t('common.actions'), cell: (c) => html`<button type="button" class="danger small"
			aria-label=${t('coord.remove_named', { name: c.name })} onClick=${() => remove(c)}>${t('coord.remove')}</button>` },
	];
	const rows = list.data ? list.data.coordinators : null;
	return html`<${Page} title=${t('coord.title')} wide>
		<p class="muted">${t('coord.about')}</p>
		${can('admin') ? html`<${AddCoordinator} onAdded=${() => list.reload()} />` : null}
		<h2>${t('coord.list')}</h2>
		<${ErrorNote} error=${error} />
		${done ? html`<p class="note ok" role="status">${done}</p>` : null}
		<${Loading} state=${list} />
		${rows ? html`<${Table} rows=${rows} rowKey=${(c) => c.name} empty=${t('coord.none')}
			columns=${can('admin') ? columns : columns.slice(0, 4)} />` : null}
		${rows && rows.length && can('admin') ? html`<${ChangeCoordinator} rows=${rows} onChanged=${() => list.reload()} />` : null}
	</${Page}>`;
}

// audit.js: re-checking every log this node holds from scratch (as
// `tally audit` does), the last result with its violations, and the signed
// checkpoints of each log, with the own log's signed now on request and each
// downloadable for an auditor to check offline.
import { html } from '../lib/preact.js';
import { get, post, seg, downloadUrl } from '../lib/api.js';
import { t, fmtInt, fmtMoment, fmtHours } from '../lib/i18n.js';
import { Page, Table, FormStatus, Loading, Action, useForm, useLoad, useCan, unoffered } from '../lib/ui.js';

const SUMMARY = ['logs', 'entries', 'members', 'exchanges', 'reversals', 'forks', 'checkpoints', 'violations',
	'legs_unmatched', 'legs_in_flight'];

function Result({ r }) {
	return html`<div class="card">
		<p class=${'verdict ' + (r.clean ? 'ok' : 'bad')} role="status">
			${r.clean ? t('audit.clean') : t('audit.dirty', { n: r.summary.violations })}</p>
		<p class="muted">${t('audit.ran', { when: fmtMoment(r.ran), ms: fmtInt(r.took_ms) })}</p>
		<dl class="summary">
			${SUMMARY.filter((k) => k in r.summary).map((k) => html`<div key=${k}><dt>${t('audit.s.' + k)}</dt>
				<dd>${fmtInt(r.summary[k])}</dd></div>`)}
			${'minutes' in r.summary ? html`<div><dt>${t('audit.s.minutes')}</dt><dd>${fmtHours(r.summary.minutes)}</dd></div>` : null}
		</dl>
		${r.violations && r.violations.length ? html`<${Table} caption=${t('audit.violations')}
			rows=${r.violations} rowKey=${(v) => v.log + v.seq + v.code} columns=${[
				{ label: t('fed.log'), cell: (v) => html`<code>${v.log.slice(0, 12)}…</code>` },
				{ label: t('field.seq'), num: true, cell: (v) => v.seq },
				{ label: t('audit.rule'), cell: (v) => html`<code>${v.code}</code>` },
				{ label: t('audit.message'), cell: (v) => v.message },
			]} />` : null}
	</div>`;
}

export function Audit() {
	const can = useCan();
	const last = useLoad(() => get('/audit'), []);
	const cps = useLoad(() => get('/checkpoints'), []);
	const run = useForm(async () => {
		await post('/audit', {});
		last.reload();
	});
	const sign = useForm(async () => {
		await post('/checkpoints', {});
		cps.reload();
		return t('audit.signed');
	});
	const never = last.error && last.error.status === 404 && !unoffered(last.error);
	return html`<${Page} title=${t('audit.title')} wide
		actions=${can('coordinator') ? html`<${Action} kind="primary" onRun=${run.onSubmit}>${t('audit.run')}</${Action}>` : null}>
		<p class="muted">${t('audit.about')}</p>
		<${FormStatus} form=${run} />
		<${FormStatus} form=${sign} />
		${never ? html`<p class="muted">${t('audit.never')}</p>` : html`<${Loading} state=${last} />`}
		${last.data && !never ? html`<${Result} r=${last.data} />` : null}
		<div class="section-head"><h2>${t('audit.checkpoints')}</h2>
			${can('coordinator') ? html`<${Action} kind="small" onRun=${sign.onSubmit}>${t('audit.sign')}</${Action}>` : null}</div>
		<p class="muted">${t('audit.checkpoints_about')}</p>
		<${Loading} state=${cps} />
		${cps.data ? html`<${Table} rows=${cps.data.checkpoints} rowKey=${(c) => c.log} empty=${t('audit.no_checkpoints')}
			columns=${[
				{ label: t('fed.community'), cell: (c) => c.community_name || c.log.slice(0, 12) },
				{ label: t('audit.size'), num: true, cell: (c) => fmtInt(c.size) },
				{ label: t('audit.root'), cell: (c) => html`<code title=${c.root}>${c.root.slice(0, 12)}…</code>` },
				{ label: t('audit.time'), cell: (c) => fmtMoment(c.time) },
				{ label: t('common.actions'), cell: (c) => html`<a href=${downloadUrl('/checkpoints/' + seg(c.log), { format: 'bin' })}
					download=${(c.community_name || c.log.slice(0, 12)) + '.checkpoint'}
					aria-label=${t('audit.download_of', { name: c.community_name || c.log.slice(0, 12) })}>${t('audit.download')}</a>` },
			]} />` : null}
	</${Page}>`;
}

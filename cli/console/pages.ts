/**
 * The console's pages as HTML, from the page models (model.ts). Every value goes through the escaping template
 * (html.ts); the pages carry no script of their own (console.js is served as a file, under the CSP). One module,
 * one function per page, so every page's markup goes through the same escaping in one place; hence its length.
 */
import { formatBytes, formatDuration, formatTime, readableCause } from '../format';
import type { ManifestRecord } from '../../handlers/common/state-store';
import { MANIFEST_STATUSES } from '../../contracts/table-schema';
import { layoutDefinition, renderGraph, stateMarks } from './asl-graph';
import { html, q, safeHref, SafeHtml } from './html';
import type { AwsLink, DatasetModel, ExecutionView, ManifestPageModel, OverviewModel } from './model';

function layout(title: string, body: SafeHtml, opts: { refresh?: boolean; mode: string } = { mode: '' }): string {
  return `<!doctype html>\n${
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · pipeline console</title><link rel="stylesheet" href="/static/console.css"><script src="/static/console.js" defer></script></head>
<body${opts.refresh ? html` data-refresh="15"` : ''}><header><nav><a href="/" class="brand">pipeline console</a> <a href="/">Overview</a> <a href="/manifests">Manifests</a></nav><span class="mode">${opts.mode}</span></header>
<main>${body}</main></body></html>`.text
  }\n`;
}

function statusBadge(status: string): SafeHtml {
  return html`<span class="status status-${status.replace(/[^A-Z_]/g, '')}">${status}</span>`;
}

function manifestLink(id: string): SafeHtml {
  return html`<a href="${safeHref(`/manifests/${q(id)}`)}">${id}</a>`;
}

function datasetLink(name: string): SafeHtml {
  return html`<a href="${safeHref(`/datasets/${q(name)}`)}">${name}</a>`;
}

function links(list: readonly AwsLink[]): SafeHtml {
  if (list.length === 0) return html``;
  return html`<span class="aws-links"
    >${list.map((l) => html` <a class="aws" href="${safeHref(l.url)}" rel="noopener noreferrer" target="_blank">${l.label} ↗</a>`)}</span
  >`;
}

function num(v: unknown): string {
  if (v === undefined || v === null) return '–';
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? v.toString() : JSON.stringify(v);
}

function manifestRows(list: readonly ManifestRecord[], now: Date): SafeHtml {
  return html`<table class="manifests">
    <thead>
      <tr>
        <th>manifest</th>
        <th>dataset</th>
        <th>status</th>
        <th>files</th>
        <th>opened</th>
        <th>sealed</th>
        <th>duration</th>
        <th>rows</th>
        <th>quarantined</th>
        <th>replays</th>
      </tr>
    </thead>
    <tbody>
      ${list.map((m) => {
        const end = m.finishedAt ? Date.parse(m.finishedAt) : now.getTime();
        const duration = m.startedAt ? formatDuration(end - Date.parse(m.startedAt)) : undefined;
        return html`<tr data-manifest="${m.manifestId}">
          <td>${manifestLink(m.manifestId)}</td>
          <td>${datasetLink(m.dataset)}</td>
          <td>${statusBadge(m.status)}</td>
          <td class="n">
            ${num(m.fileCount)}${m.status === 'PARTIAL' && m.filesFailed !== undefined ? html` (${num(m.filesFailed)} failed)` : ''}
          </td>
          <td>${formatTime(m.openedAt) ?? ''}</td>
          <td>${formatTime(m.sealedAt) ?? ''}</td>
          <td>${duration ?? ''}</td>
          <td class="n">${num(m.rowsOut)}</td>
          <td class="n">${num(m.rowsQuarantined)}</td>
          <td class="n">${num(m.replayCount)}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

export function overviewPage(o: OverviewModel, now: Date): string {
  const body = html`<h1>Overview <small>since ${formatTime(o.since)}</small></h1>
    <form class="filters" method="get" action="/">
      <label
        >window
        <select name="since">
          ${['1h', '6h', '24h', '7d', '30d'].map((s) => html`<option value="${s}">${s}</option>`)}
        </select></label
      >
      <button type="submit">show</button>
    </form>
    <section>
      <h2>Manifests by status</h2>
      <div class="counts">
        ${o.byStatus.map(
          (s) =>
            html`<a class="count" data-status="${s.status}" href="${safeHref(`/manifests?status=${q(s.status)}&since=${q(o.since)}`)}"
              >${statusBadge(s.status)}<b>${s.count}</b></a
            >`,
        )}<span class="count total" data-status="total">total <b>${o.total}</b></span>
      </div>
    </section>
    <section>
      <h2>Datasets</h2>
      ${
        o.datasets.length === 0
          ? html`<p class="empty">No manifests in this window.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>dataset</th>
                  <th>manifests</th>
                  <th>files</th>
                  ${MANIFEST_STATUSES.map((s) => html`<th>${s}</th>`)}
                </tr>
              </thead>
              <tbody>
                ${o.datasets.map(
                  (d) =>
                    html`<tr data-dataset="${d.dataset}">
                      <td>${datasetLink(d.dataset)}</td>
                      <td class="n">${d.manifests}</td>
                      <td class="n">${d.files}</td>
                      ${MANIFEST_STATUSES.map((s) => html`<td class="n">${d.byStatus[s] ?? ''}</td>`)}
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>
    <section>
      <h2>Queued (${o.queued.length}) and running (${o.running.length})</h2>
      ${
        o.queued.length + o.running.length === 0
          ? html`<p class="empty">Nothing waiting or converting.</p>`
          : manifestRows([...o.running, ...o.queued], now)
      }
    </section>
    <section>
      <h2>Dead-letter queues</h2>
      <table>
        <thead>
          <tr>
            <th>queue</th>
            <th>waiting</th>
            <th>in flight</th>
          </tr>
        </thead>
        <tbody>
          ${o.dlqs.map(
            (d) =>
              html`<tr data-dlq="${d.queue}">
                <td>${d.queue}${d.link ? links([{ label: 'SQS', url: d.link }]) : ''}</td>
                <td class="n ${d.visible > 0 ? 'bad' : ''}">${d.visible}</td>
                <td class="n">${d.inFlight}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${o.dlqs.some((d) => d.visible > 0) ? html`<p>See them with <code>npx pipeline dlq</code>.</p>` : ''}
    </section>
    <section>
      <h2>Latest alerts</h2>
      ${
        o.alerts.length === 0
          ? html`<p class="empty">
              No alert${o.mode === 'local' ? ' in the outbox' : ' (no manifest ended FAILED or PARTIAL in this window)'}.
            </p>`
          : html`<ul class="alerts">
              ${o.alerts.map((a) => html`<li><time>${formatTime(a.at) ?? ''}</time> ${a.manifestId ? html`<a href="${safeHref(`/manifests/${q(a.manifestId)}`)}">${a.subject}</a>` : a.subject}</li>`)}
            </ul>`
      }
    </section>`;
  return layout('Overview', body, { refresh: true, mode: o.mode });
}

export function manifestsPage(
  list: readonly ManifestRecord[],
  filter: { since: string; sinceText: string; dataset?: string; status?: string },
  mode: string,
  now: Date,
): string {
  const body = html`<h1>Manifests <small>opened since ${formatTime(filter.since)}</small></h1>
    <form class="filters" method="get" action="/manifests">
      <label>dataset <input name="dataset" value="${filter.dataset ?? ''}" size="16" /></label>
      <label
        >status
        <select name="status">
          <option value="">any</option>
          ${MANIFEST_STATUSES.map((s) => html`<option value="${s}" ${s === filter.status ? html` selected` : ''}>${s}</option>`)}
        </select></label
      >
      <label>since <input name="since" value="${filter.sinceText}" size="22" title="30m, 24h, 7d or an ISO time" /></label>
      <button type="submit">filter</button>
    </form>
    ${list.length === 0 ? html`<p class="empty">No manifests.</p>` : manifestRows(list, now)}
    <p class="note">${list.length} manifests.</p>`;
  return layout('Manifests', body, { mode });
}

function executionSection(e: ExecutionView, failedState: string | undefined): SafeHtml {
  const marks = stateMarks(e.steps);
  const graph = e.definition
    ? renderGraph(layoutDefinition(e.definition), marks, `state machine of ${e.name}`)
    : html`<p class="empty">The definition could not be read.</p>`;
  const ran = e.startDate && e.stopDate ? formatDuration(Date.parse(e.stopDate) - Date.parse(e.startDate)) : undefined;
  return html`<section class="execution" data-execution="${e.name}">
    <h3>${e.name} ${statusBadge(e.status)} ${e.consoleUrl ? links([{ label: 'Step Functions', url: e.consoleUrl }]) : ''}</h3>
    <p>
      started
      ${formatTime(e.startDate) ?? '–'}${e.stopDate ? html`, stopped ${formatTime(e.stopDate)} (${ran})` : ''}${e.redriveCount ? html`, redriven ${e.redriveCount}×` : ''}
    </p>
    ${e.error ? html`<p class="error"><b>${e.error}</b>${failedState ? html` in <b>${failedState}</b>` : ''}: ${readableCause(e.cause) ?? 'no cause given'}</p>` : ''}
    <div class="graph-wrap">
      <div class="legend">
        <span class="mark-succeeded">succeeded</span><span class="mark-retried">retried</span><span class="mark-failed">failed</span
        ><span class="mark-running">current</span><span class="mark-not-entered">not entered</span>
      </div>
      ${graph}
    </div>
    <h4>States</h4>
    <table class="steps">
      <thead>
        <tr>
          <th>state</th>
          <th>type</th>
          <th>outcome</th>
          <th>attempts</th>
          <th>retries</th>
          <th>error</th>
          <th>entered</th>
          <th>took</th>
        </tr>
      </thead>
      <tbody>
        ${e.steps.map(
          (s) =>
            html`<tr class="outcome-${s.outcome}" data-step="${s.name}">
              <td>${s.name}</td>
              <td>${s.type}</td>
              <td>${s.outcome}</td>
              <td class="n">${s.attempts || ''}</td>
              <td>${s.retries.map((r) => r.error ?? '?').join(', ')}</td>
              <td>${s.failure ? html`<b>${s.failure.error ?? 'error'}</b>: ${readableCause(s.failure.cause) ?? ''}` : ''}</td>
              <td>${formatTime(s.enteredAt) ?? ''}</td>
              <td>${s.enteredAt && s.exitedAt ? formatDuration(Date.parse(s.exitedAt) - Date.parse(s.enteredAt)) : ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h4>Glue runs (${e.glueRuns.length})</h4>
    ${e.glueRuns.map(
      (r) =>
        html`<div class="glue-run" data-run="${r.runId}">
          <p>
            <code>${r.runId}</code> ${r.state ? statusBadge(r.state) : ''} ${links(r.links)}<br />started ${formatTime(r.startedOn) ?? '–'},
            completed ${formatTime(r.completedOn) ?? '–'}; ran ${r.executionSeconds !== undefined ? `${r.executionSeconds} s` : '–'};
            ${r.dpuSeconds !== undefined ? html`${r.dpuSecondsEstimated ? '≤ ' : ''}${r.dpuSeconds.toFixed(0)} DPU-seconds` : 'DPU-seconds not reported'}
          </p>
          ${r.errorMessage ? html`<p class="error">${r.errorMessage}</p>` : ''}
          <details class="log" open>
            <summary>log (${r.logNote ?? ''})</summary>
            ${r.logTail ? html`<pre class="log-tail">${r.logTail.join('\n')}</pre>` : ''}
          </details>
        </div>`,
    )}
    <details class="events">
      <summary>Events (${e.events.length}), with each state's input and output</summary>
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>type</th>
            <th>state</th>
            <th>at</th>
            <th>data</th>
          </tr>
        </thead>
        <tbody>
          ${e.events.map(
            (ev) =>
              html`<tr>
                <td class="n">${ev.id}</td>
                <td>${ev.type}</td>
                <td>${ev.state ?? ''}</td>
                <td>${formatTime(ev.at) ?? ''}</td>
                <td>
                  ${
                    ev.data !== undefined
                      ? html`<details>
                          <summary>${ev.data.length} chars${ev.dataTruncated ? ' (cut)' : ''}</summary>
                          <pre>${ev.data}</pre>
                        </details>`
                      : ''
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </details>
  </section>`;
}

export function manifestPage(p: ManifestPageModel): string {
  const m = p.manifest;
  const failedFiles = p.files.filter((f) => f.outcome === 'failed');
  const rows: [string, unknown][] = [
    ['dataset', datasetLink(m.dataset)],
    ['status', statusBadge(m.status)],
    ['opened', formatTime(m.openedAt)],
    ['sealed', m.sealedAt ? `${formatTime(m.sealedAt)}${m.sealReason ? ` (${m.sealReason})` : ''}` : undefined],
    ['started', formatTime(m.startedAt)],
    ['finished', formatTime(m.finishedAt)],
    ['files', m.fileCount !== undefined ? `${m.fileCount} (${formatBytes(Number(m.totalBytes)) ?? '?'})` : undefined],
    ['files read', m.filesRead !== undefined ? `${num(m.filesRead)} read, ${num(m.filesFailed)} could not be read` : undefined],
    [
      'output',
      m.outputFiles !== undefined ? `${num(m.outputFiles)} Parquet files (${formatBytes(Number(m.outputBytes)) ?? '?'})` : undefined,
    ],
    ['manifest file', m.manifestUri],
    ['replays', m.replayCount],
  ];
  const lc = p.lineCheck;
  const body = html`<h1>Manifest <span class="id">${m.manifestId}</span> ${statusBadge(m.status)}</h1>
    ${links(p.links)}
    ${m.error ? html`<p class="error" id="manifest-error"><b>${m.error}</b>${m.failedState ? html` in state <b>${m.failedState}</b>` : ''}: ${readableCause(m.cause) ?? 'no cause given'}</p>` : ''}
    ${p.replayCommand ? html`<p class="replay">Replay it (reads every file again at its pinned version): <code id="replay-command">${p.replayCommand}</code></p>` : ''}
    <section>
      <h2>Record</h2>
      <table class="record">
        ${rows
          .filter(([, v]) => v !== undefined && v !== '')
          .map(
            ([k, v]) =>
              html`<tr>
                <th>${k}</th>
                <td>${v}</td>
              </tr>`,
          )}
      </table>
      ${lc ? html`<p class="line-check ${lc.holds ? 'ok' : 'bad'}" id="line-check">linesIn ${lc.linesIn} ${lc.holds ? '=' : '≠'} rowsOut ${lc.rowsOut} + rowsQuarantined ${lc.rowsQuarantined} + blankLines ${lc.blankLines} ${lc.holds ? '✓' : '✗'}</p>` : ''}
    </section>
    ${
      failedFiles.length > 0 || p.failedFilesProblem
        ? html`<section id="failed-files">
            <h2>Files that could not be read (${failedFiles.length})</h2>
            ${p.failedFilesProblem ? html`<p class="error">Cannot tell which: ${p.failedFilesProblem}</p>` : ''}
            <table>
              <thead>
                <tr>
                  <th>key</th>
                  <th>version</th>
                  <th>reason</th>
                  <th>message</th>
                </tr>
              </thead>
              <tbody>
                ${failedFiles.map(
                  (f) =>
                    html`<tr class="failed-file">
                      <td class="key">${f.key}</td>
                      <td>${f.versionId ?? ''}</td>
                      <td class="reason">${f.reason ?? ''}</td>
                      <td>${f.message ?? ''}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </section>`
        : ''
    }
    <section id="files">
      <h2>Files (${p.files.length})</h2>
      <table>
        <thead>
          <tr>
            <th>key</th>
            <th>version</th>
            <th>size</th>
            <th>outcome</th>
          </tr>
        </thead>
        <tbody>
          ${p.files.map(
            (f) =>
              html`<tr class="file outcome-${f.outcome ?? 'unknown'}">
                <td class="key">${f.key}</td>
                <td>${f.versionId ?? ''}</td>
                <td class="n">${formatBytes(f.size) ?? ''}</td>
                <td>
                  ${f.outcome ?? (m.status === 'FAILED' ? 'not converted (the manifest failed)' : '')}${f.outcome === 'failed' ? html`: <span class="reason">${f.reason}</span>${f.message ? html` (${f.message})` : ''}` : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section id="executions">
      <h2>Executions (${p.executions.length})</h2>
      ${p.executions.map((e) => executionSection(e, e.executionArn === m.executionArn ? m.failedState : undefined))}
    </section>
    <section id="parquet">
      <h2>Parquet rows</h2>
      ${
        p.parquet.problem
          ? html`<p class="empty">${p.parquet.problem}</p>`
          : p.parquet.items.length === 0
            ? html`<p class="empty">No rows (the manifest has no converted output).</p>`
            : html`<p class="note">First ${p.parquet.items.length} rows of ${p.parquet.object} (one of ${p.parquet.objects} files).</p>
                <div class="scroll">
                  <table class="preview">
                    <thead>
                      <tr>
                        ${(p.parquet.columns ?? []).map((c) => html`<th>${c}</th>`)}
                      </tr>
                    </thead>
                    <tbody>
                      ${p.parquet.items.map(
                        (r) =>
                          html`<tr>
                            ${(p.parquet.columns ?? []).map((c) => html`<td>${r[c]}</td>`)}
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
      }
    </section>
    <section id="quarantine">
      <h2>Quarantined lines</h2>
      ${
        p.quarantine.problem
          ? html`<p class="empty">${p.quarantine.problem}</p>`
          : p.quarantine.items.length === 0
            ? html`<p class="empty">None.</p>`
            : html`<p class="note">First ${p.quarantine.items.length} lines of ${p.quarantine.object}.</p>
                <table class="preview">
                  <thead>
                    <tr>
                      <th>file</th>
                      <th>line</th>
                      <th>reason</th>
                      <th>text</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${p.quarantine.items.map(
                      (l) =>
                        html`<tr>
                          <td class="key">${l.sourceFile ?? ''}</td>
                          <td class="n">${l.lineNumber ?? ''}</td>
                          <td class="reason">${l.reason ?? ''}</td>
                          <td><code>${l.line ?? ''}</code></td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
      }
    </section>
    <section id="outcome">
      <h2>Outcome document</h2>
      ${
        p.outcomeDocument
          ? p.outcomeDocument.text !== undefined
            ? html`<details>
                <summary>s3://…/${p.outcomeDocument.key}</summary>
                <pre>${p.outcomeDocument.text}</pre>
              </details>`
            : html`<p class="empty">${p.outcomeDocument.key}: ${p.outcomeDocument.problem}</p>`
          : html`<p class="empty">Not yet: the manifest has not ended.</p>`
      }
    </section>
    <section id="alert">
      <h2>Alert</h2>
      ${
        p.mode === 'local'
          ? p.alert.emails.length === 0
            ? html`<p class="empty">No email in the outbox names this manifest.</p>`
            : p.alert.emails.map(
                (e) =>
                  html`<div class="email">
                    <p><b class="subject">${e.subject}</b> <time>${formatTime(e.date) ?? ''}</time></p>
                    <pre class="email-body">${e.body}</pre>
                  </div>`,
              )
          : m.status === 'FAILED' || m.status === 'PARTIAL'
            ? html`<p>
                One alert was published to
                <code>${p.alert.topicArn}</code> ${p.alert.link ? links([{ label: 'SNS', url: p.alert.link }]) : ''}; SNS keeps no copy of
                it.
              </p>`
            : html`<p class="empty">No alert: the manifest did not fail.</p>`
      }
    </section>`;
  return layout(m.manifestId, body, { mode: p.mode });
}

export function datasetPage(d: DatasetModel, mode: string, now: Date): string {
  const body = html`<h1>Dataset <span class="id">${d.dataset}</span></h1>
    ${d.link ? links([{ label: 'Glue table', url: d.link }]) : ''}
    <section>
      <h2>Schema of ${d.database}.${d.dataset}</h2>
      ${
        d.problem
          ? html`<p class="empty">${d.problem}</p>`
          : html`<table id="schema">
              <thead>
                <tr>
                  <th>column</th>
                  <th>type</th>
                  <th>arrived</th>
                </tr>
              </thead>
              <tbody>
                ${d.columns.map(
                  (c) =>
                    html`<tr>
                      <td>${c.name}</td>
                      <td><code>${c.type}</code></td>
                      <td>${c.partition ? 'partition key' : (formatTime(c.since) ?? '')}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>
    <section>
      <h2>Table versions (${d.versions.length})</h2>
      <table id="versions">
        <thead>
          <tr>
            <th>version</th>
            <th>updated</th>
            <th>columns added</th>
          </tr>
        </thead>
        <tbody>
          ${d.versions.map(
            (v) =>
              html`<tr>
                <td>${v.versionId}</td>
                <td>${formatTime(v.updatedAt) ?? ''}</td>
                <td>${v.added.join(', ')}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Manifests</h2>
      ${d.manifests.length === 0 ? html`<p class="empty">None in this window.</p>` : manifestRows(d.manifests, now)}
    </section>`;
  return layout(d.dataset, body, { mode });
}

export function errorPage(status: number, message: string): string {
  return layout(
    String(status),
    html`<h1>${status}</h1>
      <p class="error">${message}</p>`,
    { mode: '' },
  );
}

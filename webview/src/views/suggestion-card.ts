/**
 * One suggestion as a card: title, evidence with share bars, the exact command (copyable) — or for a
 * change to the user's program the snippet in a code block with where it goes —, the estimate
 * labelled ESTIMATE with its basis folded away, warnings, and Apply. Once the suggestion
 * has been applied the figures table gains MEASURED and off-by columns, with how it was measured
 * and the accuracy a graph pass kept.
 */
import type { Suggestion, SuggestionsReport } from '../../../engine/src/schema/advice';
import type { ApplyResult } from '../../../engine/src/schema/apply';
import { formatPercent } from '../../../engine/src/util/format';
import { Child, h } from '../dom';
import { accuracyLine, cardFigures, codeChange, estimateDrift, FigureRow, riskClass, signedPercent, topEvidence } from '../model/suggestion-card';

/** An estimate off by more than this (relative) is highlighted. */
const FAR_OFF = 0.25;

/** The parts of a card the view updates in place while a job runs (so open sections stay open). */
export interface CardHandles {
  el: HTMLElement;
  apply: HTMLElement & { disabled: boolean };
  note: HTMLElement;
  job: HTMLElement;
}

export interface CardOptions {
  report: SuggestionsReport;
  suggestion: Suggestion;
  /** 1-based rank in the report. */
  rank: number;
  result?: ApplyResult;
  onApply(): void;
}

const badge = (kind: 'estimate' | 'measured', text = kind.toUpperCase()) => h('span', { class: `twb-badge twb-badge-${kind}` }, text);

function evidenceBlock(s: Suggestion): HTMLElement {
  const { items, more } = topEvidence(s);
  return h(
    'div',
    { class: 'twb-suggestion-evidence' },
    h('h3', {}, 'Evidence'),
    h('p', { class: 'twb-evidence-summary' }, s.evidence.summary),
    items.length
      ? h(
          'div',
          { class: 'twb-bars twb-evidence-items' },
          ...items.map((it) =>
            h(
              'div',
              { class: 'twb-bar-row twb-evidence-item' },
              h('span', { class: 'twb-bar-label twb-mono', attrs: { title: it.what } }, it.what),
              h('span', { class: 'twb-bar-track' }, h('span', { class: 'twb-bar-fill', css: { width: `${Math.min(100, it.share * 100).toFixed(2)}%` } })),
              h('span', { class: 'twb-bar-value' }, formatPercent(it.share)),
            ),
          ),
        )
      : null,
    more ? h('p', { class: 'twb-dim twb-evidence-more' }, `and ${more} more`) : null,
  );
}

/** Puts the command on the clipboard where the webview allows it, else selects it for Ctrl+C. */
function copyCommand(code: HTMLElement, status: HTMLElement): void {
  const select = () => {
    const range = document.createRange();
    range.selectNodeContents(code);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    status.textContent = 'Selected: press Ctrl+C to copy.';
  };
  const clip = navigator.clipboard as Clipboard | undefined;
  if (!clip) return select();
  clip.writeText(code.textContent ?? '').then(
    () => void (status.textContent = 'Copied.'),
    () => select(),
  );
}

function copyButton(code: HTMLElement, status: HTMLElement, title: string): HTMLElement {
  const copy = h('vscode-button', { class: 'twb-copy', attrs: { secondary: true, title } }, 'Copy');
  copy.addEventListener('click', () => copyCommand(code, status));
  return copy;
}

/** A change to the user's program: where it goes, the snippet (copyable), then how to check it. */
function codeBlock(s: Suggestion, change: NonNullable<ReturnType<typeof codeChange>>): HTMLElement {
  const snippet = h('code', { class: `twb-snippet-text language-${change.language}` }, change.snippet);
  const status = h('span', { class: 'twb-dim twb-copy-status', attrs: { role: 'status' } });
  return h(
    'div',
    { class: 'twb-suggestion-change twb-code-change' },
    h('h3', {}, 'The change'),
    h('p', { class: 'twb-code-where' }, `In your ${change.language === 'python' ? 'Python' : change.language} program, at `, h('code', { class: 'twb-mono' }, change.where), ':'),
    h('pre', { class: 'twb-snippet' }, snippet),
    h('div', { class: 'twb-command' }, copyButton(snippet, status, 'Copy the snippet'), status),
    h('p', { class: 'twb-dim twb-code-next' }, s.command),
  );
}

function changeBlock(s: Suggestion): HTMLElement {
  const code = codeChange(s.change);
  if (code) return codeBlock(s, code);
  const command = h('code', { class: 'twb-command-text' }, s.command);
  const status = h('span', { class: 'twb-dim twb-copy-status', attrs: { role: 'status' } });
  return h('div', { class: 'twb-suggestion-change' }, h('h3', {}, 'The change'), h('div', { class: 'twb-command' }, command, copyButton(command, status, 'Copy the command'), status));
}

function figuresTable(rows: FigureRow[], measured: boolean): HTMLElement {
  const head = [h('th', {}, ''), h('th', { class: 'twb-num' }, 'now'), h('th', { class: 'twb-num' }, 'estimated', badge('estimate')), ...(measured ? [h('th', { class: 'twb-num' }, 'measured', badge('measured')), h('th', { class: 'twb-num' }, 'off by')] : [])];
  return h(
    'table',
    { class: 'twb-table twb-figures' },
    h('thead', {}, h('tr', {}, ...head)),
    h(
      'tbody',
      {},
      ...rows.map((r) =>
        h(
          'tr',
          { attrs: { 'data-figure': r.key } },
          h('th', { attrs: { scope: 'row' } }, r.label),
          h('td', { class: 'twb-num twb-before-value' }, r.before ?? ''),
          h('td', { class: 'twb-num twb-estimated-value' }, r.estimated),
          ...(measured
            ? [
                h('td', { class: 'twb-num twb-measured-value' }, r.measured ?? '—'),
                h('td', { class: `twb-num twb-off-by${r.error != null && Math.abs(r.error) > FAR_OFF ? ' twb-off-far' : ''}`, attrs: { title: 'measured ÷ estimated − 1' } }, signedPercent(r.error ?? null)),
              ]
            : []),
        ),
      ),
    ),
  );
}

function estimateBlock(o: CardOptions): HTMLElement {
  const { report, suggestion: s, result } = o;
  const e = result ? result.estimate : s.estimate;
  const rows = cardFigures(report, s, result);
  const drift = result ? estimateDrift(s, result) : null;
  const accuracy = result ? accuracyLine(result.measured) : null;
  const parts: Child[] = [
    h('h3', { class: 'twb-estimate-head' }, result ? 'Estimated and measured' : 'Estimate', badge('estimate'), result ? badge('measured') : null, ' ', h('span', { class: riskClass(e.accuracyRisk), attrs: { title: 'how likely the change is to cost task accuracy' } }, `accuracy risk ${e.accuracyRisk}`)),
    figuresTable(rows, !!result),
    drift ? h('p', { class: 'twb-drift twb-dim' }, drift) : null,
    h('details', { class: 'twb-basis' }, h('summary', {}, 'How this was estimated'), h('p', {}, e.basis)),
  ];
  if (result) {
    parts.push(
      accuracy ? h('p', { class: 'twb-accuracy' }, badge('measured'), ' accuracy: ', accuracy, ` (risk estimated ${e.accuracyRisk})`) : null,
      h('details', { class: 'twb-measured-basis' }, h('summary', {}, 'How it was measured'), h('p', {}, result.measured.basis), result.artifacts.modelPath ? h('p', {}, 'Model written to ', h('code', {}, result.artifacts.modelPath)) : null),
      result.warnings.length ? h('ul', { class: 'twb-warnings twb-apply-warnings' }, ...result.warnings.map((w) => h('li', {}, w))) : null,
    );
  }
  return h('div', { class: `twb-suggestion-estimate${result ? ' twb-has-measured' : ''}` }, ...parts);
}

/** The card, with the handles the view updates in place. */
export function suggestionCard(o: CardOptions): CardHandles {
  const s = o.suggestion;
  const apply = h('vscode-button', { class: 'twb-apply', attrs: { 'data-suggestion': s.id } }, o.result ? 'Apply again' : 'Apply');
  apply.addEventListener('click', () => o.onApply());
  const note = h('span', { class: 'twb-dim twb-apply-note' });
  const job = h('div', { class: 'twb-job-host' });
  const el = h(
    'section',
    { class: `twb-card twb-suggestion${o.result ? ' twb-applied' : ''}`, attrs: { 'data-suggestion': s.id, 'data-change': s.change.kind } },
    h('header', { class: 'twb-suggestion-head' }, h('span', { class: 'twb-suggestion-rank' }, String(o.rank)), h('h2', { class: 'twb-suggestion-title' }, s.title), h('code', { class: 'twb-suggestion-id' }, s.id), h('span', { class: 'twb-dim twb-suggestion-rule' }, s.rule), o.result ? badge('measured', 'applied') : null),
    evidenceBlock(s),
    changeBlock(s),
    estimateBlock(o),
    s.warnings.length ? h('div', { class: 'twb-suggestion-warnings' }, h('h3', {}, 'Warnings'), h('ul', { class: 'twb-warnings' }, ...s.warnings.map((w) => h('li', {}, w)))) : null,
    h('div', { class: 'twb-actions' }, apply, note),
    job,
  );
  return { el, apply: apply as HTMLElement & { disabled: boolean }, note, job };
}

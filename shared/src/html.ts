/** The html kit: the pieces every service's fragments are made of, so the shop looks like one. */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export { html, raw };
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Content type of every fragment and page. */
export const htmlContentType = 'text/html; charset=utf-8';

/** The box shown in place of a part of a page whose service did not answer. */
export function unavailableBox(what: string, retryUrl?: string): Html {
  return html`<div class="unavailable" role="status">
    <p><strong>${what} is unavailable right now.</strong> Please try again shortly.</p>
    ${retryUrl ? html`<a class="button" href="${retryUrl}">Retry</a>` : ''}
  </div>`;
}

export interface FieldOptions {
  label: string;
  name: string;
  type?: 'text' | 'email' | 'password' | 'number' | 'search' | 'file' | 'hidden';
  value?: string | number;
  error?: string;
  required?: boolean;
  autocomplete?: string;
  maxlength?: number;
  min?: number;
  max?: number;
  step?: string;
  accept?: string;
  /** Put the cursor here when the page or swapped fragment opens: the first field with an error. */
  autofocus?: boolean;
}

/** A labelled input with its error message beneath, linked for screen readers. */
export function field(options: FieldOptions): Html {
  const id = `field-${options.name}`;
  const errorId = `${id}-error`;
  return html`<div class="field${options.error ? ' has-error' : ''}">
    <label for="${id}">${options.label}</label>
    <input id="${id}" name="${options.name}" type="${options.type ?? 'text'}"${options.value !== undefined ? html` value="${String(options.value)}"` : ''}${options.required ? raw(' required') : ''}${options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''}${options.maxlength ? html` maxlength="${options.maxlength}"` : ''}${options.min !== undefined ? html` min="${options.min}"` : ''}${options.max !== undefined ? html` max="${options.max}"` : ''}${options.step ? html` step="${options.step}"` : ''}${options.accept ? html` accept="${options.accept}"` : ''}${options.error ? html` aria-invalid="true" aria-describedby="${errorId}"` : ''}${options.autofocus ? raw(' autofocus') : ''}>
    ${options.error ? html`<p class="field-error" id="${errorId}">${options.error}</p>` : ''}
  </div>`;
}

/** A short message in place of content: not found, not allowed, log in first. */
export function notice(message: string): Html {
  return html`<div class="notice" role="status"><p>${message}</p></div>`;
}

/** A labelled multi-line text box with its error message beneath. */
export function textArea(options: { label: string; name: string; value?: string; error?: string; maxlength?: number; rows?: number }): Html {
  const id = `field-${options.name}`;
  return html`<div class="field${options.error ? ' has-error' : ''}">
    <label for="${id}">${options.label}</label>
    <textarea id="${id}" name="${options.name}" rows="${options.rows ?? 6}"${options.maxlength ? html` maxlength="${options.maxlength}"` : ''}${options.error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>${options.value ?? ''}</textarea>
    ${options.error ? html`<p class="field-error" id="${id}-error">${options.error}</p>` : ''}
  </div>`;
}

/** A message as a sentence: a full stop added unless it already ends one. */
export function endSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * A message above a form: what went wrong as a whole. It takes the focus when the page (or the
 * fragment htmx swaps in) opens, so a keyboard or screen-reader user lands on it; pass
 * `{ focus: false }` when a field below is focused instead.
 */
export function formAlert(message: string | undefined, options: { focus?: boolean } = {}): Html | string {
  if (!message) return '';
  return html`<p class="alert" role="alert"${options.focus === false ? '' : raw(' tabindex="-1" autofocus')}>${message}</p>`;
}

/** Links to the pages of a listing; `hrefFor(page)` keeps the listing's other parameters. */
export function pagination(options: { page: number; pageSize: number; total: number; hrefFor: (page: number) => string; target?: string }): Html | string {
  const pages = Math.max(1, Math.ceil(options.total / options.pageSize));
  if (pages <= 1) return '';
  const link = (page: number, label: string, rel?: string) =>
    html`<a href="${options.hrefFor(page)}"${rel ? html` rel="${rel}"` : ''}${options.target ? html` hx-get="${options.hrefFor(page)}" hx-target="${options.target}" hx-push-url="true"` : ''}>${label}</a>`;
  return html`<nav class="pagination" aria-label="Pages">
    ${options.page > 1 ? link(options.page - 1, '← Previous', 'prev') : ''}
    <span>Page ${options.page} of ${pages}</span>
    ${options.page < pages ? link(options.page + 1, 'Next →', 'next') : ''}
  </nav>`;
}

/** Money in cents, shown as dollars: 1999 → "$19.99". */
export function formatPrice(cents: number): string {
  return `$${dollars.format(cents / 100)}`;
}
// Built once: toLocaleString builds a formatter per call (15 µs, a third of a bare page's render).
const dollars = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A query string from the defined, non-empty values: `{ q: 'war', page: 2 }` → "?q=war&page=2". */
export function queryString(values: Record<string, string | number | boolean | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '' && value !== false) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

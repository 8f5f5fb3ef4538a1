/**
 * HTML built from templates that escape every interpolated value: data from producers and AWS (object keys,
 * dataset names, lines, causes) is text on the page, never markup. Only values already made by `html` (or
 * `raw`, for the server's own constant markup) pass through unescaped.
 */

/** A piece of HTML this module made: safe to put in a page as it is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** A value as it goes into a template: HTML made here as it is, a list joined, anything else escaped as text. */
function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return escapeHtml(value.toString());
  return escapeHtml(JSON.stringify(value) ?? '');
}

/** The template tag: `html\`<td>${key}</td>\`` escapes `key`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Constant markup of the server's own (never data). */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/**
 * A URL for an `href`: only the console's own paths (`/...`, not `//host`) and https links (the AWS console) are
 * kept; anything else (`javascript:`, `data:`) becomes `#`. The result is escaped by the template like any value.
 */
export function safeHref(url: string): string {
  if (/^\/(?!\/)/.test(url)) return url;
  if (/^https:\/\/[^\s"'<>]+$/i.test(url)) return url;
  return '#';
}

/** A path segment or query value for a console URL. */
export function q(value: string): string {
  return encodeURIComponent(value);
}

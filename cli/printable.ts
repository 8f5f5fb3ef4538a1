/** Text and JSON made safe to print on a terminal: the one place every command's output goes through. */

/**
 * Characters that would act on a terminal rather than print, or reorder or split what is printed: C0 and C1 controls,
 * DEL, and the bidirectional and line-separator marks of Unicode.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** The same characters but C0 controls, which `JSON.stringify` escapes itself (and whose \n indents its output). */
const UNPRINTABLE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * A text safe to print on a terminal: each control character is shown as an escape (`\x1b`, `\u202e`) instead, so
 * an object key (which may hold any character) or an error cause cannot move the cursor, recolour nor rewrite
 * the lines around it, and two keys differing only by such a character still print differently.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * JSON text safe to print on a terminal, with the same value: `JSON.stringify` escapes C0 controls but writes DEL,
 * C1 controls (`\u009b` is a CSI on some terminals) and the bidirectional marks as they are. Those can only occur
 * inside strings, where `\uXXXX` denotes the same character, so `JSON.parse` gives back the same data.
 */
export function printableJson(data: unknown, indent = 2): string {
  return JSON.stringify(data, null, indent).replace(UNPRINTABLE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

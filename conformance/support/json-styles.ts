/**
 * Other valid JSON encodings of a message than JSON.stringify's, to check that a server parses JSON
 * rather than matching text (ECP-FR-04).
 */
import { stringifyAscii } from '../../protocol/index.ts';

interface JsonStyle {
  string: (text: string) => string;
  comma: string;
  colon: string;
}

function writeJson(value: unknown, style: JsonStyle): string {
  if (Array.isArray(value)) return `[${value.map((item) => writeJson(item, style)).join(style.comma)}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.entries(value).map(
      ([key, item]) => `${style.string(key)}${style.colon}${writeJson(item, style)}`,
    );
    return `{${fields.join(style.comma)}}`;
  }
  return typeof value === 'string' ? style.string(value) : JSON.stringify(value);
}

/** Python's json.dumps defaults: `", "` and `": "` separators, every non-ASCII character as \uXXXX. */
export function pythonStyleJson(value: unknown): string {
  return writeJson(value, { string: stringifyAscii, comma: ', ', colon: ': ' });
}

/** Every character of every string (keys included) written as a \uXXXX escape. */
export function fullyEscapedJson(value: unknown): string {
  return writeJson(value, { string: escapedString, comma: ',', colon: ':' });
}

/** The same object with its fields in reverse order. */
export function reversedFields(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).reverse());
}

function escapedString(text: string): string {
  // Code units, so characters outside the BMP become surrogate pairs, as JSON requires.
  return `"${[...Array(text.length).keys()].map((index) => unicodeEscape(text[index]!)).join('')}"`;
}

function unicodeEscape(unit: string): string {
  return `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

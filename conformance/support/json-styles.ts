/**
 * Other valid JSON encodings of a message than JSON.stringify's, to check that a server parses JSON
 * rather than matching text (ECP-FR-04).
 */

/** Python's json.dumps defaults: `", "` and `": "` separators, every non-ASCII character as \uXXXX. */
export function pythonStyleJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonStyleJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.entries(value).map(
      ([key, item]) => `${asciiString(key)}: ${pythonStyleJson(item)}`,
    );
    return `{${fields.join(', ')}}`;
  }
  return typeof value === 'string' ? asciiString(value) : JSON.stringify(value);
}

/** Every character of every string (keys included) written as a \uXXXX escape. */
export function fullyEscapedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(fullyEscapedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.entries(value).map(
      ([key, item]) => `${escapedString(key)}:${fullyEscapedJson(item)}`,
    );
    return `{${fields.join(',')}}`;
  }
  return typeof value === 'string' ? escapedString(value) : JSON.stringify(value);
}

/** The same object with its fields in reverse order. */
export function reversedFields(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).reverse());
}

function asciiString(text: string): string {
  return JSON.stringify(text).replace(/[\u0080-\uffff]/g, unicodeEscape);
}

function escapedString(text: string): string {
  // Code units, so characters outside the BMP become surrogate pairs, as JSON requires.
  return `"${[...Array(text.length).keys()].map((index) => unicodeEscape(text[index]!)).join('')}"`;
}

function unicodeEscape(unit: string): string {
  return `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

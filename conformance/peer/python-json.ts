/**
 * JSON as the prototype writes it: Python's json.dumps with its defaults, that is ", " and ": "
 * separators and every non-ASCII character as a \uXXXX escape. A client must read it as readily as
 * compact JSON. Covers what ECP messages hold: objects, arrays, strings, numbers, booleans, null.
 */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`);
    return `{${entries.join(', ')}}`;
  }
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  return JSON.stringify(value);
}

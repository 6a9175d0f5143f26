/**
 * Finds a member name that occurs twice in one JSON object of a JSON text (ECP-MSG-04).
 * JSON.parse keeps the last of two equal names without a word, so the text itself is scanned.
 */

type Container = { kind: 'object'; names: Set<string>; expectingName: boolean } | { kind: 'array' };

/** The first name found twice in one object; undefined when there is none, or for text that is not JSON. */
export function duplicateMember(text: string): string | undefined {
  const stack: Container[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    const top = stack.at(-1);
    if (char === '"') {
      const end = endOfString(text, index);
      if (end < 0) return undefined;
      if (top?.kind === 'object' && top.expectingName) {
        const name = JSON.parse(text.slice(index, end + 1)) as string;
        if (top.names.has(name)) return name;
        top.names.add(name);
        top.expectingName = false;
      }
      index = end;
    } else if (char === '{') stack.push({ kind: 'object', names: new Set(), expectingName: true });
    else if (char === '[') stack.push({ kind: 'array' });
    else if (char === '}' || char === ']') stack.pop();
    else if (char === ',' && top?.kind === 'object') top.expectingName = true;
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start`; -1 if it never closes. */
function endOfString(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index++) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === '"') return index;
  }
  return -1;
}

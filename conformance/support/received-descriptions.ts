/**
 * How failure messages describe what a client received: a line abbreviated with the decrypted text
 * beside it, and everything since a point in the conversation with how the connection stands.
 */
import type { ReceivedLine } from './received-line.ts';
import type { WireClient } from './wire-client.ts';
import { abbreviate, quoteShort } from './wire-log.ts';

export function describeLine(line: ReceivedLine | undefined): string {
  if (!line) return 'none';
  return (
    abbreviate(line.text) +
    (line.decrypted !== undefined ? ` (decrypted: ${quoteShort(line.decrypted)})` : '')
  );
}

/**
 * What a client received from line `from` on (leaving out `isForeign` lines, another scenario's
 * traffic), and how its connection stands.
 */
export function describeSince(
  client: WireClient,
  from: number,
  waitedMs: number,
  isForeign: (line: ReceivedLine) => boolean,
): string {
  const lines = client.lines.slice(from).filter((line) => !isForeign(line));
  const parts: string[] = [];
  if (lines.length === 0) {
    parts.push(
      `nothing received${client.isOpen ? ` within ${Math.round(waitedMs)} ms` : ''} (last line from ${client.label}: ${describeLine(client.lastLine)})`,
    );
  } else {
    const shown = lines.slice(0, 4).map(describeLine);
    parts.push(`${client.label} received ${lines.length} other line(s): ${shown.join('\n')}`);
    if (lines.length > shown.length) parts.push(`… and ${lines.length - shown.length} more`);
  }
  if (!client.isOpen) parts.push(`then ${client.ended?.how ?? 'the connection ended'}`);
  return parts.join('\n');
}

import { describe, expect, it } from 'vitest';
import { LineInbox } from '../../../conformance/support/line-inbox.ts';
import type { ReceivedLine } from '../../../conformance/support/received-line.ts';

function line(index: number, text: string): ReceivedLine {
  return { order: index, index, turn: 0, atMs: 0, text, validUtf8: true, terminated: true };
}

function inboxOf(...texts: string[]): { inbox: LineInbox; close: () => void } {
  let open = true;
  const inbox = new LineInbox(() => open);
  for (const [index, text] of texts.entries()) inbox.add(line(index, text));
  return {
    inbox,
    close: () => {
      open = false;
      inbox.changed();
    },
  };
}

describe('LineInbox', () => {
  it('consumes every line up to the one that matches, so the next wait sees only what came after', async () => {
    const { inbox } = inboxOf('a', 'b', 'c');
    expect((await inbox.next((item) => item.text === 'b', 0))?.text).toBe('b');
    expect(inbox.unread.map((item) => item.text)).toEqual(['c']);
    expect(await inbox.next((item) => item.text === 'a', 0)).toBeUndefined();
  });

  it('wakes a wait when the line it waits for arrives', async () => {
    const { inbox } = inboxOf();
    const waiting = inbox.next((item) => item.text === 'late', 5000);
    inbox.add(line(0, 'early'));
    inbox.add(line(1, 'late'));
    expect((await waiting)?.index).toBe(1);
  });

  it('ends every wait when the connection ends, whatever time is left', async () => {
    const { inbox, close } = inboxOf('a');
    const started = performance.now();
    const line = inbox.next((item) => item.text === 'never', 60_000);
    const unread = inbox.waitForUnread(5, 60_000);
    const ended = inbox.waitForEnd(60_000);
    close();
    expect(await line).toBeUndefined();
    expect((await unread).length).toBe(1);
    expect(await ended).toBe(true);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('gives up after the timeout while the connection stays open', async () => {
    const { inbox } = inboxOf();
    expect(await inbox.next(() => true, 10)).toBeUndefined();
    expect(await inbox.waitUntil(() => false, 10)).toBe(false);
    expect(await inbox.waitForEnd(10)).toBe(false);
  });

  it('marks lines read by position, never moving back', () => {
    const { inbox } = inboxOf('a', 'b', 'c', 'd');
    inbox.readPast(inbox.lines[2]!);
    inbox.readPast(inbox.lines[0]!);
    expect(inbox.unread.map((item) => item.text)).toEqual(['d']);
    inbox.consume(5);
    expect(inbox.unread).toEqual([]);
  });
});

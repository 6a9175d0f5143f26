import { describe, expect, it } from 'vitest';
import { joinShared } from '../../transport/shared-batch.ts';

const line = (text: string) => Buffer.from(`${text}\n`, 'latin1');

describe('joinShared', () => {
  it('joins a batch into its bytes, in order', () => {
    const parts = [line('a'), line('bc'), line('def')];
    expect(joinShared(parts, 9).toString('latin1')).toBe('a\nbc\ndef\n');
  });

  it('gives every connection writing the same lines the same Buffer, not a copy each', () => {
    const [a, b] = [line('one'), line('two')];
    const first = joinShared([a, b], 8);
    expect(joinShared([a, b], 8)).toBe(first);
  });

  it('joins anew when a line, the order or the count differs, even with equal bytes', () => {
    const [a, b] = [line('one'), line('two')];
    const first = joinShared([a, b], 8);
    const reordered = joinShared([b, a], 8);
    expect(reordered).not.toBe(first);
    expect(reordered.toString('latin1')).toBe('two\none\n');
    const equalCopy = joinShared([Buffer.from(b), a], 8);
    expect(equalCopy).not.toBe(reordered);
    expect(joinShared([a, b, a], 12).toString('latin1')).toBe('one\ntwo\none\n');
  });

  it('is not fooled by a caller that reuses its array', () => {
    const [a, b, c] = [line('one'), line('two'), line('six')];
    const parts = [a, b];
    const first = joinShared(parts, 8);
    parts[1] = c;
    const second = joinShared(parts, 8);
    expect(second).not.toBe(first);
    expect(second.toString('latin1')).toBe('one\nsix\n');
    expect(first.toString('latin1')).toBe('one\ntwo\n');
  });
});

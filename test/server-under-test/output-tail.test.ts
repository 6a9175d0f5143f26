import { describe, expect, it } from 'vitest';
import { OutputTail } from '../../server-under-test/output-tail.ts';

describe('OutputTail', () => {
  it('gives what was written between two positions', () => {
    const tail = new OutputTail();
    tail.append(Buffer.from('one\n'));
    const mark = tail.end;
    tail.append(Buffer.from('two\nthr'));
    tail.append(Buffer.from('ee\n'));
    expect(mark).toBe(4);
    expect(tail.end).toBe(14);
    expect(tail.between(mark, tail.end)).toBe('two\nthree\n');
    expect(tail.between(0, mark)).toBe('one\n');
    expect(tail.between(tail.end, tail.end)).toBe('');
  });

  it('says how much was dropped when the start of a range is no longer kept', () => {
    const tail = new OutputTail(8);
    tail.append(Buffer.from('aaaa'));
    tail.append(Buffer.from('bbbb'));
    tail.append(Buffer.from('cccc'));
    expect(tail.between(2, tail.end)).toBe('[... 2 earlier bytes dropped ...]\nbbbbcccc');
    expect(tail.text()).toBe('[... 4 earlier bytes dropped ...]\nbbbbcccc');
  });
});

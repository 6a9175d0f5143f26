import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueCount, nextDueAt, type Schedule, scheduledAt, totalCount } from '../../bench/schedule.ts';

const schedule: Schedule = { startMicros: 1_000_000, rate: 1000, senders: 4, endMicros: 2_000_000 };

describe('the open-loop schedule', () => {
  it('interleaves senders evenly: message k of the run is due at start + k / rate', () => {
    // k = seq * senders + sender
    expect(scheduledAt(schedule, 0, 0)).toBe(1_000_000);
    expect(scheduledAt(schedule, 1, 0)).toBe(1_001_000);
    expect(scheduledAt(schedule, 3, 0)).toBe(1_003_000);
    expect(scheduledAt(schedule, 0, 1)).toBe(1_004_000);
    expect(scheduledAt(schedule, 2, 5)).toBe(1_022_000);
  });

  it('counts what is due, including a message due exactly now, and nothing before the start', () => {
    expect(dueCount(schedule, 0, 999_999)).toBe(0);
    expect(dueCount(schedule, 0, 1_000_000)).toBe(1);
    expect(dueCount(schedule, 1, 1_000_999)).toBe(0);
    expect(dueCount(schedule, 1, 1_001_000)).toBe(1);
    expect(dueCount(schedule, 0, 1_004_000)).toBe(2);
    expect(dueCount(schedule, 0, 1_003_999)).toBe(1);
  });

  it('stops at the end: a second at 1000/s is 1000 messages, 250 per sender', () => {
    for (let s = 0; s < 4; s++) {
      expect(totalCount(schedule, s)).toBe(250);
      expect(dueCount(schedule, s, 10_000_000)).toBe(250);
      expect(nextDueAt(schedule, s, 250)).toBeUndefined();
    }
  });

  it('never bursts: at any moment the senders together have sent the messages due by rate x elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 1, max: 100_000, noNaN: true }),
        fc.double({ min: 0, max: 3_000_000, noNaN: true }),
        (senders, rate, elapsed) => {
          const s: Schedule = { startMicros: 0, rate, senders, endMicros: 1e12 };
          let due = 0;
          for (let i = 0; i < senders; i++) due += dueCount(s, i, elapsed);
          // Messages 0..floor(ideal) are due; one either way where floating point meets a boundary.
          const ideal = (elapsed * rate) / 1e6;
          return Math.abs(due - (Math.floor(ideal) + 1)) <= 1;
        },
      ),
    );
  });

  it('agrees with itself: the next due time of a sender is when its due count grows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 19 }),
        fc.integer({ min: 0, max: 500 }),
        (senders, sender, sent) => {
          const s: Schedule = { startMicros: 5_000, rate: 777, senders, endMicros: 1e12 };
          const index = sender % senders;
          const at = nextDueAt(s, index, sent);
          return (
            at !== undefined && dueCount(s, index, at) === sent + 1 && dueCount(s, index, at - 1) === sent
          );
        },
      ),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { DeliveryLedger, lastRecipientLatency } from '../../bench/delivery-ledger.ts';

const window = { startMicros: 1000, endMicros: 2000 };

describe('DeliveryLedger', () => {
  it('counts first arrivals, duplicates and reordering per recipient and sender', () => {
    const ledger = new DeliveryLedger({ recipients: 2, senders: 2, window });
    // recipient 0 gets sender 0's 0, 1, 1 (dup), then sender 1's 1 then 0 (reordered)
    ledger.record(0, 0, 0, 1100, 1200, true);
    ledger.record(0, 0, 1, 1150, 1250, true);
    ledger.record(0, 0, 1, 1150, 1300, true);
    ledger.record(0, 1, 1, 1160, 1300, false);
    ledger.record(0, 1, 0, 1110, 1310, false);
    // recipient 1 gets sender 0's 1 only; a late duplicate of a reordered one is a duplicate, not a reorder
    ledger.record(1, 0, 1, 1150, 1400, false);
    ledger.record(1, 0, 1, 1150, 1500, false);
    expect(ledger.totals).toMatchObject({
      received: 5,
      duplicated: 2,
      reordered: 1,
      windowArrivals: 7,
      windowEchoes: 3,
    });
    expect(Array.from(ledger.perRecipientWindowArrivals)).toEqual([5, 2]);
    expect(ledger.latency.totalCount).toBe(5);
    expect(ledger.latency.maxValue).toBeGreaterThanOrEqual(249);
  });

  it('accounts only for messages scheduled in the window, and for arrivals by receive time', () => {
    const ledger = new DeliveryLedger({ recipients: 1, senders: 1, window });
    ledger.record(0, 0, 0, 900, 1050, false); // warm-up message, arrives in the window
    ledger.record(0, 0, 1, 1990, 2100, false); // window message, arrives after it
    expect(ledger.totals).toMatchObject({ received: 1, windowArrivals: 1 });
  });

  it('refuses senders that are not part of the run', () => {
    const ledger = new DeliveryLedger({ recipients: 1, senders: 1, window });
    expect(ledger.record(0, 5, 0, 1100, 1200, false)).toBe(false);
    expect(ledger.totals.unrecognised).toBe(1);
  });

  it('merges tables across workers into the latency to the last recipient', () => {
    const a = new DeliveryLedger({ recipients: 1, senders: 1, window });
    const b = new DeliveryLedger({ recipients: 2, senders: 1, window });
    a.record(0, 0, 0, 1000, 1100, true);
    b.record(0, 0, 0, 1000, 1300, false);
    b.record(1, 0, 0, 1000, 1200, false);
    a.record(0, 0, 1, 1500, 1510, true); // message 1 never reaches b's clients
    const { histogram, incomplete } = lastRecipientLatency(
      [a.lastArrivals(), b.lastArrivals()],
      1,
      3,
      [2],
      [0],
    );
    expect(incomplete).toBe(1);
    expect(histogram.totalCount).toBe(1);
    expect(histogram.maxValue).toBeGreaterThanOrEqual(299);
    expect(histogram.maxValue).toBeLessThanOrEqual(301);
  });
});

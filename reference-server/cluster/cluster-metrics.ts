/**
 * The cluster's own counters, and how /metrics shows them. Plain numbers on the hot path; the
 * publish-to-deliver histogram is observed once per message this node published.
 */
import { Histogram, type Registry } from 'prom-client';
import { counterReading, gaugeReading } from '../metrics.ts';

export interface ClusterStats {
  linkUp: boolean;
  /** Connections to Redis re-established after a drop. */
  reconnects: number;
  /** Log entries delivered while catching up after a drop (what the members would have missed). */
  recoveredEvents: number;
  /** Log entries this node never saw: trimmed away before it caught up, or lost with Redis's data. */
  lostEvents: number;
  /** Times the room's Redis was found empty and the room restored from this node's memory. */
  resets: number;
  /** Chat messages refused with a notice because the queue for Redis was full. */
  refusedMessages: number;
  /** Leaves this node appended for members of nodes whose lease expired. */
  reapedMembers: number;
  /** Chat messages waiting to be seen in the log, now. */
  unconfirmedMessages: number;
}

export function createClusterStats(): ClusterStats {
  return {
    linkUp: false,
    reconnects: 0,
    recoveredEvents: 0,
    lostEvents: 0,
    resets: 0,
    refusedMessages: 0,
    reapedMembers: 0,
    unconfirmedMessages: 0,
  };
}

/** Seconds from this node's publish of a message to its delivery by this node, read back from the log. */
export function createLatencyHistogram(): Histogram {
  return new Histogram({
    name: 'ecp_cluster_publish_to_deliver_seconds',
    help: 'From publishing a chat message to Redis to delivering it, read back from the room log (own messages).',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [],
  });
}

export function registerClusterMetrics(registry: Registry, stats: ClusterStats, latency: Histogram): void {
  const gauge = gaugeReading(registry);
  const counter = counterReading(registry);
  gauge('ecp_cluster_link_up', '1 while both connections to Redis are ready, else 0.', () =>
    stats.linkUp ? 1 : 0,
  );
  counter(
    'ecp_cluster_reconnects_total',
    'Connections to Redis re-established after a drop.',
    () => stats.reconnects,
  );
  counter(
    'ecp_cluster_recovered_events_total',
    'Room log entries delivered while catching up after the link to Redis dropped.',
    () => stats.recoveredEvents,
  );
  counter(
    'ecp_cluster_lost_events_total',
    'Room log entries this node never delivered (trimmed before it caught up); members were told.',
    () => stats.lostEvents,
  );
  counter(
    'ecp_cluster_resets_total',
    'Times Redis had lost the room and this node restored it.',
    () => stats.resets,
  );
  counter(
    'ecp_cluster_refused_messages_total',
    'Chat messages refused with a notice because the queue for Redis was full.',
    () => stats.refusedMessages,
  );
  counter(
    'ecp_cluster_reaped_members_total',
    'Members of dead nodes this node removed (their leaves appended).',
    () => stats.reapedMembers,
  );
  gauge(
    'ecp_cluster_unconfirmed_messages',
    'Chat messages published or queued but not yet read back from the room log.',
    () => stats.unconfirmedMessages,
  );
  registry.registerMetric(latency);
}

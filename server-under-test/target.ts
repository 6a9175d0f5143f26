/**
 * What the server under test is, as the kit and the bench name it (TargetSpec) and reach it
 * (Target), and how an in-process server is started (EmbeddedStarter). Types only: the options
 * parser and the module's index both use them, without importing each other.
 */
import type { Limits } from '../protocol/index.ts';
import type { ConnectOptions, Endpoint, TransportName } from '../transport/index.ts';
import type { OutputTail } from './output-tail.ts';

/**
 * Starts an in-process server listening on `endpoint` (port 0: any free one) and returns how to
 * reach and stop it. What it logs goes to `output`, so reports can show it as they show a spawned
 * server's output. `tls` is set for tls:// and wss:// endpoints.
 */
export type EmbeddedStarter = (options: {
  endpoint: Endpoint;
  password: string;
  limits: Partial<Limits>;
  output: OutputTail;
  tls: { cert: string; key: string } | undefined;
}) => Promise<{ port: number; close(): Promise<void> }>;

/** How the kit's clients trust a TLS server: its CA, or no verification at all. */
export interface TargetTls {
  ca?: string;
  insecure?: boolean;
}

export type TargetSpec =
  | {
      kind: 'embedded';
      password?: string;
      limits?: Partial<Limits>;
      /** The transport the embedded server listens on. Default tcp. */
      transport?: TransportName;
      /** Another in-process server, e.g. a test fixture; the reference server by default. */
      start?: EmbeddedStarter;
      label?: string;
    }
  | {
      kind: 'running';
      endpoint: Endpoint;
      /**
       * More endpoints of the same room: other listeners of the server, or other nodes of a
       * cluster. The kit's clients are spread over `endpoint` and these, in this order.
       */
      otherEndpoints?: Endpoint[];
      password: string;
      tls?: TargetTls;
    }
  | {
      kind: 'spawned';
      /**
       * Shell command; `{port}` is replaced by a free port (without `{port}`, `port` must be given),
       * `{password}` by the password as one shell word.
       */
      command: string;
      password: string;
      /** Where the started server is reached; its port is replaced. Default tcp://127.0.0.1. */
      endpoint?: Endpoint;
      port?: number;
      startTimeoutMs?: number;
      tls?: TargetTls;
    };

export interface Target {
  readonly kind: TargetSpec['kind'];
  /** For people: what is being tested and where. */
  readonly description: string;
  /** Where clients connect when one endpoint is meant: the first of `endpoints`. */
  readonly endpoint: Endpoint;
  /** Every endpoint of the room (several for a running room on several listeners or nodes). */
  readonly endpoints: readonly Endpoint[];
  readonly password: string;
  /** What the kit's clients pass to connect(): how they trust a TLS server. */
  readonly connectOptions: ConnectOptions;
  /** Embedded and spawned targets can be restarted (e.g. per feature); a running one cannot. */
  readonly canRestart: boolean;
  restart(): Promise<void>;
  /** What the server printed or logged (the last 256 KiB); empty for a running server. */
  serverOutput(): string;
  /**
   * Reads what the server has written so far and returns where its output stands: a mark for
   * outputBetween(). What a spawned server writes reaches the kit through a pipe, later.
   */
  settleOutput(): Promise<number>;
  /** What the server wrote between two marks of settleOutput(). */
  outputBetween(from: number, to: number): string;
  close(): Promise<void>;
}

/**
 * How fast a test client reads: fully, at a set rate (a healthy reader slower than the fastest
 * sender), or not at all (a slow reader, whose pending output then backs up in the server).
 */
import type { Connection } from '../../transport/index.ts';

export class ReadPace {
  #stopped = false;

  constructor(private readonly connection: Connection) {}

  /** False once reading has stopped. */
  get reading(): boolean {
    return !this.#stopped;
  }

  /** Stops reading from the connection; the server's writes then back up. */
  stop(): void {
    this.#stopped = true;
    this.connection.pause();
  }

  /**
   * Reads no faster than `bytesPerSecond`: after what one read brought, it stops reading for as
   * long as those bytes take at that rate.
   */
  limitTo(bytesPerSecond: number): void {
    let owed = 0;
    let sleeping = false;
    const wake = () => {
      if (owed > 0) {
        const ms = (owed / bytesPerSecond) * 1000;
        owed = 0;
        setTimeout(wake, ms);
        return;
      }
      sleeping = false;
      if (!this.#stopped) this.connection.resume();
    };
    this.connection.on('message', (text: string) => {
      if (this.#stopped) return;
      owed += Buffer.byteLength(text) + 1;
      if (sleeping) return;
      sleeping = true;
      this.connection.pause();
      // The rest of this read arrives first; then the sleep covers all of it.
      setImmediate(wake);
    });
  }
}

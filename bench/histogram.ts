/**
 * HDR histograms of microseconds (hdr-histogram-js), and what the report keeps of them.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

let webAssembly = false;

/**
 * From now on this thread builds WebAssembly histograms: a load worker records a latency per
 * delivery, a million a second, and the WebAssembly recordValue costs about 16 ns where the
 * JavaScript one costs about 100 (measured on the bench machine). Their memory lives until the
 * thread ends, which for a load worker is the end of its run.
 */
export async function useWebAssemblyHistograms(): Promise<void> {
  await hdr.initWebAssembly();
  webAssembly = true;
}

/** A histogram for microseconds, 3 significant digits, from 1 µs up to an hour (it resizes beyond). */
export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: webAssembly,
  });
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Encodes a histogram this thread no longer needs and frees it (WebAssembly memory is not collected). */
export function encodeAndFree(histogram: Histogram): string {
  const encoded = encodeHistogram(histogram);
  histogram.destroy();
  return encoded;
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/** Adds every encoded histogram into a new one. */
export function mergeHistograms(encoded: string[]): Histogram {
  const total = newHistogram();
  for (const text of encoded) total.add(decodeHistogram(text));
  return total;
}

/** Latency figures in milliseconds, as the report shows them. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export function summarizeMicros(histogram: Histogram): LatencySummary {
  const ms = (micros: number) => Math.round(micros) / 1000;
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  return {
    count,
    meanMs: ms(histogram.mean),
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p90Ms: ms(histogram.getValueAtPercentile(90)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    maxMs: ms(histogram.maxValue),
  };
}

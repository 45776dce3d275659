/** min / median / max (and p95) of a sample, in the sample's unit. */
export interface Summary {
    n: number;
    min: number;
    median: number;
    p95: number;
    max: number;
}

/** Nearest-rank percentile of an ascending sample. */
function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Summarises a sample; a median of an even sample is the mean of the two middle values. */
export function summarize(values: number[]): Summary {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return { n: sorted.length, min: sorted[0] ?? Number.NaN, median, p95: percentile(sorted, 95), max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** Milliseconds as seconds with one decimal. */
export function seconds(ms: number): string {
    return Number.isFinite(ms) ? (ms / 1000).toFixed(1) : "-";
}

/** Bytes as MiB. */
export function mib(bytes: number): string {
    return (bytes / 1024 / 1024).toFixed(0);
}

import { Raster, Rgb } from "./png";
import type { BenchResults } from "./run";

const BLUE: Rgb = [31, 119, 180];
const ORANGE: Rgb = [255, 127, 14];
const GREEN: Rgb = [44, 160, 44];
const GREY: Rgb = [200, 200, 200];
const BLACK: Rgb = [0, 0, 0];

/**
 * Latency against N as a PNG, 640x400, no text (the legend is in the markdown): blue = total
 * wall time of N previews at once, orange = per-preview median, green dashed = the floor's
 * apply median, grey dashed = the serial preview up median. x: N on a log2 scale; y: seconds
 * from 0, one grey grid line every 10 s.
 */
export function renderChart(r: BenchResults): Buffer {
    const width = 640, height = 400, left = 50, right = 20, top = 20, bottom = 40;
    const image = new Raster(width, height);
    const levels = r.concurrency.map((c) => c.n);
    const maxMs = Math.max(1, ...r.concurrency.map((c) => c.totalMs), r.floor.apply.median, r.catalyst.previewUp.median) * 1.1;
    const maxLog = Math.max(1, Math.log2(Math.max(...levels, 2)));
    const x = (n: number) => left + (Math.log2(n) / maxLog) * (width - left - right);
    const y = (ms: number) => height - bottom - (ms / maxMs) * (height - top - bottom);
    for (let s = 10_000; s < maxMs; s += 10_000) image.line(left, y(s), width - right, y(s), GREY, 1);
    image.line(left, top, left, height - bottom, BLACK, 2);
    image.line(left, height - bottom, width - right, height - bottom, BLACK, 2);
    for (const n of levels) image.line(x(n), height - bottom, x(n), height - bottom + 8, BLACK, 2);
    image.line(left, y(r.floor.apply.median), width - right, y(r.floor.apply.median), GREEN, 2, true);
    image.line(left, y(r.catalyst.previewUp.median), width - right, y(r.catalyst.previewUp.median), GREY.map((c) => c - 80) as Rgb, 2, true);
    const series: [Rgb, (c: BenchResults["concurrency"][number]) => number][] = [
        [BLUE, (c) => c.totalMs],
        [ORANGE, (c) => c.perPreview.median],
    ];
    for (const [colour, value] of series) {
        r.concurrency.forEach((c, i) => {
            image.rect(x(c.n) - 4, y(value(c)) - 4, 9, 9, colour);
            const next = r.concurrency[i + 1];
            if (next) image.line(x(c.n), y(value(c)), x(next.n), y(value(next)), colour, 3);
        });
    }
    return image.encode();
}

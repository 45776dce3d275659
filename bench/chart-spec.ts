import type { TopLevelSpec } from "vega-lite/build/index";
import type { BenchResults } from "./run";

/**
 * The bench chart as a Vega-Lite spec (rendered by bench/chart.ts). Two panels side by side,
 * seconds on both y axes:
 * - left, one operation at a time: wall time of a new preview up, a no-op up, an update and a
 *   down, for catalyst against the Pulumi floor (the smallest program on the same engine and
 *   provider) and the kubectl floor (apply / delete of the same objects); every bar labelled
 *   with its value;
 * - right, N previews at once: the total wall time of N and the per-preview median against N,
 *   with catalyst's serial preview up and both floors' new-stack times as labelled dashed lines.
 * The colour of catalyst and of each floor is the same in both panels, in one legend.
 * Kept free of vega imports, so that it can be unit-tested without rendering.
 */

/** The series names, in legend order; each keeps its colour in both panels. */
export const SERIES = {
    catalyst: "catalyst (one at a time)",
    pulumiFloor: "Pulumi floor: smallest program, same engine",
    kubectlFloor: "kubectl floor: apply / delete",
    total: "N at once: total wall time",
    perPreview: "N at once: per-preview median",
} as const;

const COLOURS: Record<keyof typeof SERIES, string> = {
    catalyst: "#1f77b4",
    pulumiFloor: "#9467bd",
    kubectlFloor: "#2ca02c",
    total: "#d62728",
    perPreview: "#ff7f0e",
};

/** One bar of the left panel. */
export interface OperationBar {
    operation: string;
    series: string;
    seconds: number;
}

/** One point of the right panel. */
export interface ConcurrencyPoint {
    n: number;
    series: string;
    seconds: number;
}

/** One labelled horizontal line of the right panel. */
export interface FloorLine {
    series: string;
    label: string;
    seconds: number;
}

const OPERATIONS = ["new preview up", "no-op up", "update (image)", "preview down"] as const;

const s = (ms: number) => Math.round(ms / 100) / 10;

/** The left panel's bars: only measured values (a floor has no update, kubectl no no-op). */
export function operationBars(r: BenchResults): OperationBar[] {
    const rows: [typeof OPERATIONS[number], keyof typeof SERIES, number | undefined][] = [
        ["new preview up", "catalyst", r.catalyst.previewUp.median],
        ["new preview up", "pulumiFloor", r.pulumiFloor?.up.median],
        ["new preview up", "kubectlFloor", r.floor.apply.median],
        ["no-op up", "catalyst", r.catalyst.noopUp.median],
        ["no-op up", "pulumiFloor", r.pulumiFloor?.noop.median],
        ["update (image)", "catalyst", r.catalyst.update.median],
        ["preview down", "catalyst", r.catalyst.previewDown.median],
        ["preview down", "pulumiFloor", r.pulumiFloor?.down.median],
        ["preview down", "kubectlFloor", r.floor.delete.median],
    ];
    return rows
        .filter((row): row is [typeof row[0], typeof row[1], number] => row[2] !== undefined && Number.isFinite(row[2]))
        .map(([operation, key, ms]) => ({ operation, series: SERIES[key], seconds: s(ms) }));
}

/** The right panel's points: total and per-preview median for every N measured. */
export function concurrencyPoints(r: BenchResults): ConcurrencyPoint[] {
    return r.concurrency.flatMap((c) => [
        { n: c.n, series: SERIES.total, seconds: s(c.totalMs) },
        { n: c.n, series: SERIES.perPreview, seconds: s(c.perPreview.median) },
    ]);
}

/** The right panel's reference lines: one new preview up, serially, by catalyst and by each floor. */
export function floorLines(r: BenchResults): FloorLine[] {
    const lines: [keyof typeof SERIES, string, number | undefined][] = [
        ["catalyst", "catalyst, one preview up", r.catalyst.previewUp.median],
        ["pulumiFloor", "Pulumi floor, pulumi up", r.pulumiFloor?.up.median],
        ["kubectlFloor", "kubectl floor, apply + wait", r.floor.apply.median],
    ];
    return lines
        .filter((line): line is [typeof line[0], string, number] => line[2] !== undefined && Number.isFinite(line[2]))
        .map(([key, label, ms]) => ({ series: SERIES[key], label: `${label}: ${s(ms).toFixed(1)} s`, seconds: s(ms) }));
}

/** The whole chart: both panels, one shared colour legend, a title naming the run. */
export function chartSpec(r: BenchResults): TopLevelSpec {
    const keys = Object.keys(SERIES) as (keyof typeof SERIES)[];
    const color = {
        field: "series",
        type: "nominal" as const,
        title: null,
        scale: { domain: keys.map((k) => SERIES[k]), range: keys.map((k) => COLOURS[k]) },
        legend: { orient: "bottom" as const, columns: 2, labelLimit: 0, columnPadding: 24, symbolType: "square" },
    };
    const seconds = { field: "seconds", type: "quantitative" as const };
    const levels = r.concurrency.map((c) => c.n);
    return {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title: {
            text: "Catalyst preview environments: time per operation against the floors",
            subtitle: `${r.startedAt}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.objects} Kubernetes objects per preview, ` +
                `medians of ${r.settings.reps} run(s); lower is better`,
            anchor: "start",
            fontSize: 18,
            subtitleFontSize: 12,
        },
        background: "white",
        padding: 16,
        config: { font: "DejaVu Sans", axis: { labelFontSize: 12, titleFontSize: 13 }, legend: { labelFontSize: 12 } },
        hconcat: [
            {
                title: { text: "One operation at a time", fontSize: 14 },
                width: 420,
                height: 320,
                data: { values: operationBars(r) },
                encoding: {
                    x: { field: "operation", type: "nominal", sort: [...OPERATIONS], title: "operation", axis: { labelAngle: 0 } },
                    xOffset: { field: "series", sort: keys.map((k) => SERIES[k]) },
                    y: { ...seconds, title: "wall time, seconds (median)" },
                    color,
                },
                layer: [
                    { mark: { type: "bar" } },
                    { mark: { type: "text", dy: -7, fontSize: 11 }, encoding: { text: { ...seconds, format: ".1f" } } },
                ],
            },
            {
                title: { text: "N previews started at once", fontSize: 14 },
                width: 420,
                height: 320,
                layer: [
                    {
                        data: { values: concurrencyPoints(r) },
                        encoding: {
                            x: {
                                field: "n", type: "quantitative", title: "previews at once (N, log2 scale)",
                                scale: { type: "log", base: 2, domain: [Math.min(1, ...levels), Math.max(2, ...levels)], nice: false },
                                axis: { values: levels, format: "d" },
                            },
                            y: { ...seconds, title: "wall time, seconds" },
                            color,
                        },
                        layer: [
                            { mark: { type: "line", point: { size: 60 }, strokeWidth: 3 } },
                            // Totals labelled above their points, per-preview medians below.
                            {
                                transform: [{ filter: { field: "series", equal: SERIES.total } }],
                                mark: { type: "text", dy: -11, fontSize: 11 },
                                encoding: { text: { ...seconds, format: ".1f" } },
                            },
                            {
                                transform: [{ filter: { field: "series", equal: SERIES.perPreview } }],
                                mark: { type: "text", dy: 15, fontSize: 11 },
                                encoding: { text: { ...seconds, format: ".1f" } },
                            },
                        ],
                    },
                    {
                        data: { values: floorLines(r) },
                        layer: [
                            { mark: { type: "rule", strokeDash: [6, 4], strokeWidth: 2 }, encoding: { y: seconds, color } },
                            {
                                // At the right end of the x axis (its last N), above the line.
                                mark: { type: "text", align: "right", baseline: "bottom", dx: -4, dy: -2, fontSize: 11 },
                                encoding: { x: { datum: Math.max(2, ...levels), type: "quantitative" }, y: seconds, text: { field: "label" }, color },
                            },
                        ],
                    },
                ],
            },
        ],
        resolve: { scale: { color: "shared" } },
    };
}

/**
 * Before/after of one run (tools/bench-compare.sh): reads the `bench:profile` and, when given,
 * `bench` results of the two checkouts and prints one markdown table with each figure's ratio.
 *   node --require ./tools/register.js bench/compare.ts <output.md> <title> <before profile.json> <after profile.json> [<before bench.json> <after bench.json>]
 */
import { readFileSync, writeFileSync } from "fs";
import type { OperationProfile } from "./profile";
import type { BenchResults } from "./run";

/** One row: a measure, its value before and after (NaN when not measured), and its unit. */
export interface CompareRow {
    measure: string;
    before: number;
    after: number;
    unit: "s" | "MiB" | "count";
}

const MS = 1000;
const MIB = 2 ** 20;

/** The rows of two profiles: per operation, wall, CPU, peak tree RSS, and the `pulumi` processes. */
export function profileRows(before: OperationProfile[], after: OperationProfile[]): CompareRow[] {
    const rows: CompareRow[] = [];
    for (const b of before) {
        const a = after.find((p) => p.label === b.label);
        if (a === undefined) continue;
        const others = (p: OperationProfile) => p.cli.filter((c) => !/^(up|destroy)$/.test(c.command));
        const othersMs = (p: OperationProfile) => others(p).reduce((sum, c) => sum + (c.endMs - c.startMs), 0);
        rows.push(
            { measure: `${b.label}: wall`, before: b.totalMs / MS, after: a.totalMs / MS, unit: "s" },
            { measure: `${b.label}: CPU of the tree`, before: (b.cpuMs ?? NaN) / MS, after: (a.cpuMs ?? NaN) / MS, unit: "s" },
            { measure: `${b.label}: peak RSS of the tree`, before: (b.treeBytes ?? NaN) / MIB, after: (a.treeBytes ?? NaN) / MIB, unit: "MiB" },
            { measure: `${b.label}: \`pulumi\` processes`, before: b.cli.length, after: a.cli.length, unit: "count" },
            { measure: `${b.label}: their time outside the up/destroy, summed`, before: othersMs(b) / MS, after: othersMs(a) / MS, unit: "s" },
        );
    }
    return rows;
}

/** The rows of two bench runs: the serial operations' medians, and the floors of the after run. */
export function benchRows(before: BenchResults, after: BenchResults): CompareRow[] {
    const ops: [string, keyof BenchResults["catalyst"], string][] = [
        ["preview up (new stack)", "previewUp", "previewUp"],
        ["no-op up", "noopUp", "noopUp"],
        ["update (image change)", "update", "update"],
        ["preview down", "previewDown", "previewDown"],
    ];
    const rows: CompareRow[] = [];
    const cost = (r: BenchResults, key: string) => r.costs?.[key];
    for (const [label, key, costKey] of ops) {
        rows.push({ measure: `bench ${label}: wall (median)`, before: before.catalyst[key].median / MS, after: after.catalyst[key].median / MS, unit: "s" });
        rows.push({ measure: `bench ${label}: CPU (median)`, before: (cost(before, costKey)?.cpu.median ?? NaN) / MS, after: (cost(after, costKey)?.cpu.median ?? NaN) / MS, unit: "s" });
    }
    rows.push({ measure: "bench preview up: peak RSS of the tree (median)", before: (cost(before, "previewUp")?.treeRss.median ?? NaN) / MIB, after: (cost(after, "previewUp")?.treeRss.median ?? NaN) / MIB, unit: "MiB" });
    for (const c of after.concurrency) {
        const b = before.concurrency.find((x) => x.n === c.n);
        rows.push({ measure: `bench N=${c.n} at once: total`, before: (b?.totalMs ?? NaN) / MS, after: c.totalMs / MS, unit: "s" });
        rows.push({ measure: `bench N=${c.n} at once: all downs`, before: (b?.downTotalMs ?? NaN) / MS, after: c.downTotalMs / MS, unit: "s" });
    }
    const floors: [string, number, number][] = [
        ["floor: kubectl apply + wait", before.floor.apply.median, after.floor.apply.median],
        ["floor: kubectl delete --wait", before.floor.delete.median, after.floor.delete.median],
        ["Pulumi floor: pulumi up (new stack)", before.pulumiFloor?.up.median ?? NaN, after.pulumiFloor?.up.median ?? NaN],
        ["Pulumi floor: no-op pulumi up", before.pulumiFloor?.noop.median ?? NaN, after.pulumiFloor?.noop.median ?? NaN],
    ];
    for (const [measure, b, a] of floors) rows.push({ measure: `bench ${measure} (same code both sides: noise)`, before: b / MS, after: a / MS, unit: "s" });
    return rows;
}

function format(value: number, unit: CompareRow["unit"]): string {
    if (!Number.isFinite(value)) return "-";
    if (unit === "count") return String(value);
    return unit === "MiB" ? `${value.toFixed(0)} MiB` : `${value.toFixed(2)} s`;
}

/** The markdown table: before, after, after / before. */
export function renderCompare(title: string, rows: CompareRow[]): string {
    const lines = [`### ${title}`, "", "| measure | before | after | after / before |", "|---|---|---|---|"];
    for (const r of rows) {
        const ratio = Number.isFinite(r.before) && Number.isFinite(r.after) && r.before > 0 ? (r.after / r.before).toFixed(2) : "-";
        lines.push(`| ${r.measure} | ${format(r.before, r.unit)} | ${format(r.after, r.unit)} | ${ratio} |`);
    }
    return lines.join("\n") + "\n";
}

if (require.main === module) {
    const [output, title, beforeProfile, afterProfile, beforeBench, afterBench] = process.argv.slice(2);
    if (output === undefined || title === undefined || beforeProfile === undefined || afterProfile === undefined) {
        process.stderr.write("usage: bench/compare.ts <output.md> <title> <before profile.json> <after profile.json> [<before bench.json> <after bench.json>]\n");
        process.exit(2);
    }
    const read = <T>(file: string) => JSON.parse(readFileSync(file, "utf8")) as T;
    const rows = profileRows(read<OperationProfile[]>(beforeProfile), read<OperationProfile[]>(afterProfile));
    if (beforeBench && afterBench) rows.push(...benchRows(read<BenchResults>(beforeBench), read<BenchResults>(afterBench)));
    const markdown = renderCompare(title, rows);
    writeFileSync(output, markdown);
    process.stdout.write(markdown);
}

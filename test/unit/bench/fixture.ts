import type { BenchResults } from "../../../bench/run";
import { summarize } from "../../../bench/stats";

/** A bench result with the figures of docs/performance.md's issue-18 run (medians only matter). */
export function benchFixture(levels: number[] = [1, 2, 4, 8]): BenchResults {
    const one = (ms: number) => summarize([ms]);
    return {
        startedAt: "2026-12-07T04:00:00.000Z",
        machine: { cores: 2, node: "v24.21.0" },
        settings: { reps: 2, levels, libraryConcurrency: "default (2)" },
        objects: 27,
        floor: { apply: one(700), delete: one(5000) },
        catalyst: { previewUp: one(10_300), noopUp: one(9100), update: one(10_100), previewDown: one(12_700) },
        pulumiFloor: { up: one(3700), noop: one(3300), down: one(8000) },
        costs: {},
        noopProfiles: [],
        concurrency: levels.map((n) => ({
            n, totalMs: 8300 * n / 1.6, perPreview: one(8300 * n / 2.4), downTotalMs: 10_000 * n, cpuMs: 9000 * n,
            memory: { selfBytes: 2 ** 27, treeBytes: 2 ** 30 },
        })),
        platformPreview: one(11_300),
        memory: {},
        ratios: {},
        aims: [],
    };
}

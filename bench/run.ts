/**
 * `npm run bench`: what one preview costs (wall time, CPU seconds and peak RSS of the whole
 * process tree) against two floors: applying the same objects with kubectl, and creating them
 * with the smallest Pulumi program on the same engine and provider (bench/pulumi-floor.ts);
 * how previews scale when run at once, and the memory they take. Writes
 * results/bench-<time>.{json,md,png}. Settings (environment):
 *   BENCH_REPS        repetitions of each serial measurement (default 3)
 *   BENCH_N           concurrency levels, comma-separated (default 1,2,4,8)
 *   BENCH_PR_BASE     first PR number used; previews pr-<base>.. are created and destroyed (default 9100)
 *   CATALYST_CONCURRENCY  the library's own cap on operations at once (default: number of cores),
 *                     and each controller replica's (--concurrency)
 *   BENCH_CONTROLLER_N        Environments applied at once in the controller section (default 1,12)
 *   BENCH_CONTROLLER_REPLICAS controller replicas (default 1,3)
 *   BENCH_CONTROLLER_PR_BASE  first PR number of the controller section (default 9400)
 *   BENCH_ONLY=controller     only the controller section (with its own direct-mode baseline);
 *   BENCH_ONLY=direct         everything but the controller section
 * Run it through tools/bench.sh, which sets up the toolchain, cluster and platform stack.
 */
import { execFile } from "child_process";
import { mkdirSync, writeFileSync } from "fs";
import { availableParallelism } from "os";
import path from "path";
import { promisify } from "util";
import { Automation, CatalystEvent, OperationResult } from "../stacks/automation";
import { floorApply, floorDelete, KubeObject, stackObjects } from "./floor";
import { renderChart } from "./chart";
import { benchController, ControllerResults } from "./controller";
import { renderControllerMarkdown, renderMarkdown } from "./report";
import { pulumiFloor } from "./pulumi-floor";
import { Cost, measure, RssPeaks, RssSampler, treeCpuMs } from "./sampler";
import { summarize, Summary } from "./stats";

const run = promisify(execFile);

function envList(name: string, fallback: number[]): number[] {
    const value = process.env[name];
    if (value === undefined || value.trim() === "") return fallback;
    const list = value.split(",").map((item) => Number(item.trim()));
    if (list.some((n) => !Number.isInteger(n) || n < 1)) {
        throw new Error(`${name} must be positive whole numbers separated by commas, got "${value}"`);
    }
    return list;
}

/** Time from the start of an operation to each of its steps and resource events, in ms. */
export interface Profile {
    steps: Record<string, number>;
    firstResourceMs?: number;
    lastResourceMs?: number;
    totalMs: number;
}

/** One measured operation. */
interface Timed {
    ms: number;
    result: OperationResult;
    profile: Profile;
}

/** A serial operation: its {@link Timed} with its {@link Cost} (CPU and RSS of the whole tree). */
async function costed(sampler: RssSampler, start: (onEvent: (event: CatalystEvent) => void) => PromiseLike<OperationResult>): Promise<Timed & { cost: Cost }> {
    const { value, cost } = await measure(sampler, () => timed(start));
    return { ...value, cost };
}

async function timed(start: (onEvent: (event: CatalystEvent) => void) => PromiseLike<OperationResult>): Promise<Timed> {
    const started = Date.now();
    const steps: Record<string, number> = {};
    let firstResourceMs: number | undefined;
    let lastResourceMs: number | undefined;
    const result = await start((event) => {
        const at = Date.parse(event.time) - started;
        if (event.type === "step" && steps[event.step] === undefined) steps[event.step] = at;
        if (event.type === "resource") {
            firstResourceMs ??= at;
            lastResourceMs = at;
        }
    });
    const ms = Date.now() - started;
    if (result.status !== "succeeded") {
        throw new Error(`${result.action} ${result.stack} ${result.status}: ${result.error ?? "no error line"}`);
    }
    return { ms, result, profile: { steps, firstResourceMs, lastResourceMs, totalMs: ms } };
}

/** The whole benchmark's results, written as JSON. */
export interface BenchResults {
    startedAt: string;
    machine: { cores: number; node: string };
    settings: { reps: number; levels: number[]; libraryConcurrency: number | string };
    objects: number;
    floor: { apply: Summary; delete: Summary };
    catalyst: { previewUp: Summary; noopUp: Summary; update: Summary; previewDown: Summary };
    /** The second baseline (bench/pulumi-floor.ts): the same objects by the smallest Pulumi program. */
    pulumiFloor: { up: Summary; noop: Summary; down: Summary };
    /** CPU seconds (ms) and peak tree RSS (bytes) of each serial operation, by {@link COST_ROWS} key. */
    costs: Record<string, { cpu: Summary; treeRss: Summary }>;
    noopProfiles: Profile[];
    concurrency: { n: number; totalMs: number; perPreview: Summary; downTotalMs: number; cpuMs: number; memory: RssPeaks }[];
    platformPreview: Summary;
    memory: Record<string, RssPeaks>;
    ratios: Record<string, number>;
    aims: { name: string; value: string; aim: string; met: boolean }[];
    /** The controller section (bench/controller.ts), unless BENCH_ONLY=direct. */
    controller?: ControllerResults;
}

const SECTIONS = ["all", "direct", "controller"];

function sectionsToRun(): string {
    const only = process.env.BENCH_ONLY ?? "all";
    if (!SECTIONS.includes(only)) throw new Error(`BENCH_ONLY must be one of ${SECTIONS.join(", ")}, got "${only}"`);
    return only;
}

/** The controller section alone: its tables and JSON as results/bench-controller-<time>.*. */
async function controllerOnly(automation: Automation, startedAt: string, log: (line: string) => void): Promise<void> {
    const results = await runControllerSection(automation, log);
    const dir = path.join(automation.repoRoot, "results");
    mkdirSync(dir, { recursive: true });
    const base = path.join(dir, `bench-controller-${startedAt.replace(/[:.]/g, "-")}`);
    const markdown = `### Benchmark ${startedAt}: controller section only\n\nMachine: ${availableParallelism()} cores, Node ${process.version}.\n\n${renderControllerMarkdown(results)}`;
    writeFileSync(`${base}.json`, JSON.stringify({ startedAt, machine: { cores: availableParallelism(), node: process.version }, controller: results }, null, 2) + "\n");
    writeFileSync(`${base}.md`, markdown);
    process.stdout.write(markdown);
    log(`wrote ${base}.{json,md}`);
}

function runControllerSection(automation: Automation, log: (line: string) => void): Promise<ControllerResults> {
    return benchController({
        automation,
        counts: envList("BENCH_CONTROLLER_N", [1, 12]),
        replicas: envList("BENCH_CONTROLLER_REPLICAS", [1, 3]),
        prBase: envList("BENCH_CONTROLLER_PR_BASE", [9400])[0],
        namespace: process.env.CATALYST_CONTROLLER_NAMESPACE ?? "catalyst-system",
        log,
    });
}

async function main(): Promise<void> {
    const reps = envList("BENCH_REPS", [3])[0];
    const levels = envList("BENCH_N", [1, 2, 4, 8]);
    const prBase = envList("BENCH_PR_BASE", [9100])[0];
    const automation = new Automation({ actor: "catalyst-bench" });
    const sampler = new RssSampler();
    const memory: Record<string, RssPeaks> = {};
    const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
    const startedAt = new Date().toISOString();
    const only = sectionsToRun();
    if (only === "controller") {
        sampler.stop();
        return controllerOnly(automation, startedAt, log);
    }

    // 2. catalyst, serially: new preview, no-op up, image update, down.
    const previewUp: number[] = [], noopUp: number[] = [], update: number[] = [], previewDown: number[] = [];
    const costs: Record<string, Cost[]> = {};
    const record = (key: string, cost: Cost) => (costs[key] ??= []).push(cost);
    const noopProfiles: Profile[] = [];
    let objects: KubeObject[] = [];
    sampler.takePeaks();
    for (let rep = 0; rep < reps; rep++) {
        const pr = prBase + rep;
        const args = { pr, branch: `bench/${rep}` };
        const up = await costed(sampler, (onEvent) => automation.upPreview(args, { onEvent }));
        previewUp.push(up.ms);
        record("previewUp", up.cost);
        const noop = await costed(sampler, (onEvent) => automation.upPreview(args, { onEvent }));
        if (noop.result.changed) log(`warning: the second up of pr-${pr} changed something: ${JSON.stringify(noop.result.changes)}`);
        noopUp.push(noop.ms);
        record("noopUp", noop.cost);
        noopProfiles.push(noop.profile);
        const updated = await costed(sampler, (onEvent) => automation.upPreview({ ...args, image: `nginxinc/nginx-unprivileged:1.27.${5 + rep}-alpine` }, { onEvent }));
        update.push(updated.ms);
        record("update", updated.cost);
        if (rep === 0) objects = await stackObjects(`pr-${pr}`, automation.repoRoot);
        const down = await costed(sampler, (onEvent) => automation.destroyPreview(pr, { onEvent }));
        previewDown.push(down.ms);
        record("previewDown", down.cost);
        log(`catalyst rep ${rep + 1}/${reps}: up ${previewUp[rep]} ms, no-op ${noopUp[rep]} ms, update ${update[rep]} ms, down ${previewDown[rep]} ms`);
    }
    memory.catalyst = sampler.takePeaks();

    // 1. The floor: the same objects with kubectl.
    const applies: number[] = [], deletes: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
        const apply = await measure(sampler, () => floorApply(objects));
        applies.push(apply.value);
        record("floorApply", apply.cost);
        const remove = await measure(sampler, () => floorDelete(objects));
        deletes.push(remove.value);
        record("floorDelete", remove.cost);
        log(`floor rep ${rep + 1}/${reps} (${objects.length} objects): apply ${applies[rep].toFixed(0)} ms, delete ${deletes[rep].toFixed(0)} ms`);
    }
    memory.floor = sampler.takePeaks();

    // 1b. The Pulumi floor: the same objects, the smallest program, the same engine and provider.
    for (let rep = 0; rep < reps; rep++) {
        const floor = await pulumiFloor(objects, sampler);
        record("pulumiFloorUp", floor.up);
        record("pulumiFloorNoop", floor.noop);
        record("pulumiFloorDown", floor.down);
        log(`pulumi floor rep ${rep + 1}/${reps}: up ${floor.up.ms.toFixed(0)} ms (CPU ${floor.up.cpuMs.toFixed(0)} ms), no-op ${floor.noop.ms.toFixed(0)} ms, down ${floor.down.ms.toFixed(0)} ms`);
    }
    memory.pulumiFloor = sampler.takePeaks();

    // 3. Concurrency: N previews at once, then all their downs at once.
    const concurrency: BenchResults["concurrency"] = [];
    for (const n of levels) {
        const prs = Array.from({ length: n }, (_, i) => prBase + 100 + i);
        sampler.takePeaks();
        const cpuBefore = treeCpuMs(process.pid);
        const started = Date.now();
        const ups = await Promise.all(prs.map((pr) => timed((onEvent) => automation.upPreview({ pr, branch: `bench/n${n}` }, { onEvent }))));
        const totalMs = Date.now() - started;
        const cpuMs = treeCpuMs(process.pid) - cpuBefore;
        const peaks = sampler.takePeaks();
        const downStarted = Date.now();
        await Promise.all(prs.map((pr) => timed((onEvent) => automation.destroyPreview(pr, { onEvent }))));
        const downTotalMs = Date.now() - downStarted;
        concurrency.push({ n, totalMs, perPreview: summarize(ups.map((u) => u.ms)), downTotalMs, cpuMs, memory: peaks });
        log(`N=${n}: total ${totalMs} ms, down ${downTotalMs} ms, tree RSS ${(peaks.treeBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    memory.concurrency = sampler.takePeaks();

    // 4. The controller: kubectl apply to Ready through 1 and 3 replicas, against direct mode.
    const controller = only === "all" ? await runControllerSection(automation, log) : undefined;

    // 5. `pulumi preview` of the platform stack.
    const platform: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
        const started = Date.now();
        await run("pulumi", ["preview", "--stack", automation.platformStack, "--non-interactive", "--diff=false"], { cwd: automation.repoRoot, maxBuffer: 64 * 1024 * 1024 });
        platform.push(Date.now() - started);
        log(`platform preview rep ${rep + 1}/${reps}: ${platform[rep]} ms`);
    }
    memory.platformPreview = sampler.takePeaks();
    sampler.stop();

    const results = assemble({
        startedAt, reps, levels, objects: objects.length, applies, deletes, previewUp, noopUp, update, previewDown, costs, noopProfiles, concurrency, platform, memory,
    });
    results.controller = controller;
    const dir = path.join(automation.repoRoot, "results");
    mkdirSync(dir, { recursive: true });
    const base = path.join(dir, `bench-${startedAt.replace(/[:.]/g, "-")}`);
    writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + "\n");
    const markdown = renderMarkdown(results);
    writeFileSync(`${base}.md`, markdown);
    writeFileSync(`${base}.png`, await renderChart(results));
    process.stdout.write(markdown);
    log(`wrote ${base}.{json,md,png}`);
}

interface Raw {
    startedAt: string;
    reps: number;
    levels: number[];
    objects: number;
    applies: number[];
    deletes: number[];
    previewUp: number[];
    noopUp: number[];
    update: number[];
    previewDown: number[];
    costs: Record<string, Cost[]>;
    noopProfiles: Profile[];
    concurrency: BenchResults["concurrency"];
    platform: number[];
    memory: Record<string, RssPeaks>;
}

/** Summaries, ratios against the floor of the same run, and the aims (recorded, not asserted). */
function assemble(raw: Raw): BenchResults {
    const floor = { apply: summarize(raw.applies), delete: summarize(raw.deletes) };
    const catalyst = { previewUp: summarize(raw.previewUp), noopUp: summarize(raw.noopUp), update: summarize(raw.update), previewDown: summarize(raw.previewDown) };
    const byN = new Map(raw.concurrency.map((c) => [c.n, c]));
    const one = byN.get(1);
    const cost = (key: string) => raw.costs[key] ?? [];
    const pulumiFloor = {
        up: summarize(cost("pulumiFloorUp").map((c) => c.ms)),
        noop: summarize(cost("pulumiFloorNoop").map((c) => c.ms)),
        down: summarize(cost("pulumiFloorDown").map((c) => c.ms)),
    };
    const costs = Object.fromEntries(Object.entries(raw.costs).map(([key, list]) =>
        [key, { cpu: summarize(list.map((c) => c.cpuMs)), treeRss: summarize(list.map((c) => c.treeBytes)) }]));
    const cpuMedian = (key: string) => costs[key]?.cpu.median ?? Number.NaN;
    const ratios: Record<string, number> = {
        "preview up / floor apply": catalyst.previewUp.median / floor.apply.median,
        "preview down / floor delete": catalyst.previewDown.median / floor.delete.median,
        "preview up / Pulumi floor up": catalyst.previewUp.median / pulumiFloor.up.median,
        "no-op up / Pulumi floor no-op up": catalyst.noopUp.median / pulumiFloor.noop.median,
        "preview down / Pulumi floor destroy": catalyst.previewDown.median / pulumiFloor.down.median,
        "preview up CPU / Pulumi floor up CPU": cpuMedian("previewUp") / cpuMedian("pulumiFloorUp"),
        "no-op up CPU / Pulumi floor no-op CPU": cpuMedian("noopUp") / cpuMedian("pulumiFloorNoop"),
    };
    for (const c of raw.concurrency) {
        if (one && c.n !== 1) ratios[`N=${c.n} total / N=1 total`] = c.totalMs / one.totalMs;
    }
    const peakSelf = Math.max(...Object.values(raw.memory).map((m) => m.selfBytes));
    const largest = raw.concurrency[raw.concurrency.length - 1];
    // The goals of issue #18 (medians of this run), then the older ones that still stand.
    const goal = (name: string, ms: number, limitMs: number, unit: (v: number) => string) =>
        ({ name, value: unit(ms), aim: `<= ${unit(limitMs)}`, met: ms <= limitMs });
    const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const mebi = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
    const eight = byN.get(8);
    const aims: BenchResults["aims"] = [
        goal("preview up, wall", catalyst.previewUp.median, 4000, s1),
        goal("no-op up, wall", catalyst.noopUp.median, 2500, s1),
        goal("update (image change), wall", catalyst.update.median, 3500, s1),
        { name: "preview down / floor delete", value: ratios["preview down / floor delete"].toFixed(2), aim: "<= 1.5", met: ratios["preview down / floor delete"] <= 1.5 },
        goal("CPU per new preview (whole tree)", cpuMedian("previewUp"), 4000, s1),
        goal("CPU per no-op up (whole tree)", cpuMedian("noopUp"), 2000, s1),
        ...(eight ? [goal("8 previews at once, total", eight.totalMs, 20_000, s1)] : []),
        goal("peak RSS of the tree, one preview up", costs.previewUp?.treeRss.median ?? Number.NaN, 500 * 2 ** 20, mebi),
        goal("orchestrator peak RSS", peakSelf, 300 * 2 ** 20, mebi),
    ];
    if (one && largest && largest.n > 1) {
        const ratio = largest.totalMs / one.totalMs;
        aims.push({ name: `N=${largest.n} total / N=1 total`, value: ratio.toFixed(2), aim: largest.n === 16 ? "<= 4" : "<= 4 (aim is for N=16)", met: ratio <= 4 });
    }
    return {
        startedAt: raw.startedAt,
        machine: { cores: availableParallelism(), node: process.version },
        settings: { reps: raw.reps, levels: raw.levels, libraryConcurrency: process.env.CATALYST_CONCURRENCY ?? `default (${availableParallelism()})` },
        objects: raw.objects,
        floor,
        catalyst,
        pulumiFloor,
        costs,
        noopProfiles: raw.noopProfiles,
        concurrency: raw.concurrency,
        platformPreview: summarize(raw.platform),
        memory: raw.memory,
        ratios,
        aims,
    };
}

main().catch((error: unknown) => {
    process.stderr.write(`bench: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});

/**
 * `npm run bench:profile`: where the time of one preview goes. Runs a new `upPreview`, a no-op
 * `upPreview` and a `destroyPreview` of one PR (BENCH_PR_BASE, default 9300) through the library
 * and prints, per operation, a timeline that merges two real sources:
 *   - every `pulumi` CLI process the worker starts (through a logging wrapper put first on PATH:
 *     start, duration, exit code, the sub-command), and
 *   - the layer's step events and each resource's start and end (engine events, as received).
 * Resources that take longest and the share of time spent in CLI processes other than the
 * up/destroy itself come last. Writes results/profile-<time>.json as well.
 * Run it through tools/bench.sh's environment: `bash tools/bench.sh --profile`.
 */
import { execFileSync } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import path from "path";
import { Automation, CatalystEvent, OperationResult } from "../stacks/automation";
import { measure as measureCost, RssSampler } from "./sampler";

/** One `pulumi` process the wrapper saw. */
export interface CliCall {
    startMs: number;
    endMs: number;
    exitCode: number;
    command: string;
}

/** One resource's span, from its first to its last event. */
export interface ResourceSpan {
    name: string;
    type: string;
    op: string;
    startMs: number;
    endMs: number;
}

/** The profile of one operation; times are ms from the call. */
export interface OperationProfile {
    label: string;
    totalMs: number;
    /** CPU (user + system) of the whole process tree during the operation (bench/sampler.ts). */
    cpuMs?: number;
    /** Peak summed RSS of the whole process tree during the operation. */
    treeBytes?: number;
    steps: { name: string; atMs: number }[];
    cli: CliCall[];
    resources: ResourceSpan[];
}

/**
 * Parses the wrapper's log: `<start ns> <end ns> <exit code> <sub-command words>` per line, made
 * relative to `originMs` (epoch ms). Only the sub-command's first words are logged, never values.
 */
export function parseCliLog(text: string, originMs: number): CliCall[] {
    return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
        const [start, end, code, ...words] = line.split(" ");
        return {
            startMs: Number(BigInt(start) / 1_000_000n) - originMs,
            endMs: Number(BigInt(end) / 1_000_000n) - originMs,
            exitCode: Number(code),
            command: words.join(" "),
        };
    });
}

/** Resource spans from the layer's resource events. */
export function resourceSpans(events: CatalystEvent[], originMs: number): ResourceSpan[] {
    const spans = new Map<string, ResourceSpan>();
    for (const event of events) {
        if (event.type !== "resource") continue;
        const at = Date.parse(event.time) - originMs;
        const span = spans.get(event.urn) ?? { name: event.name, type: event.resourceType, op: event.op, startMs: at, endMs: at };
        span.endMs = at;
        spans.set(event.urn, span);
    }
    return [...spans.values()];
}

/** The wrapper script: times the real `pulumi` and appends one line per process. */
function wrapperScript(realPulumi: string, log: string): string {
    // Only the sub-command (`up`, `stack export`, `stack tag set`): its first word, the second
    // after `stack`, `config` or `plugin`, the third after `stack tag`; never a value.
    return `#!/usr/bin/env bash
start=$(date +%s%N)
"${realPulumi}" "$@"
code=$?
words=()
for a in "$@"; do
  [[ "$a" == -* ]] && continue
  words+=("$a")
  [[ ! "\${words[0]}" =~ ^(stack|config|plugin)$ || \${#words[@]} -ge 3 ]] && break
  [[ \${#words[@]} -eq 2 && "\${words[1]}" != tag ]] && break
done
printf '%s %s %s %s\\n' "$start" "$(date +%s%N)" "$code" "\${words[*]}" >> "${log}"
exit $code
`;
}

function seconds(ms: number): string {
    return (ms / 1000).toFixed(2);
}

/** The printed report of one operation. */
export function renderProfile(p: OperationProfile): string {
    const cost = p.cpuMs === undefined ? "" : `, CPU ${seconds(p.cpuMs)} s, peak tree RSS ${((p.treeBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`;
    const lines = [`## ${p.label}: ${seconds(p.totalMs)} s${cost}`, "", "| at s | until s | what |", "|---|---|---|"];
    const rows: { at: number; until?: number; what: string }[] = [
        ...p.steps.map((s) => ({ at: s.atMs, what: `step ${s.name}` })),
        ...p.cli.map((c) => ({ at: c.startMs, until: c.endMs, what: `pulumi ${c.command} (${seconds(c.endMs - c.startMs)} s${c.exitCode === 0 ? "" : `, exit ${c.exitCode}`})` })),
    ];
    const slowest = [...p.resources].sort((a, b) => (b.endMs - b.startMs) - (a.endMs - a.startMs)).slice(0, 8);
    for (const r of p.resources) {
        if (slowest.includes(r) || r === p.resources[0] || r === p.resources[p.resources.length - 1]) {
            rows.push({ at: r.startMs, until: r.endMs, what: `${r.op} ${r.type} ${r.name} (${seconds(r.endMs - r.startMs)} s)` });
        }
    }
    rows.sort((a, b) => a.at - b.at);
    for (const row of rows) lines.push(`| ${seconds(row.at)} | ${row.until === undefined ? "" : seconds(row.until)} | ${row.what} |`);
    const main = p.cli.filter((c) => /^(up|destroy)$/.test(c.command));
    const others = p.cli.filter((c) => !main.includes(c));
    const othersMs = others.reduce((sum, c) => sum + (c.endMs - c.startMs), 0);
    const mainMs = main.reduce((sum, c) => sum + (c.endMs - c.startMs), 0);
    lines.push("", `pulumi processes: ${p.cli.length}; up/destroy ${seconds(mainMs)} s; the ${others.length} others ${seconds(othersMs)} s ` +
        `(${others.length > 0 ? seconds(othersMs / others.length) : "0"} s each); outside any pulumi process ${seconds(p.totalMs - mainMs - othersMs)} s`, "");
    return lines.join("\n");
}

async function main(): Promise<void> {
    const pr = Number(process.env.BENCH_PR_BASE ?? "9300");
    const realPulumi = execFileSync("bash", ["-c", "command -v pulumi"], { encoding: "utf8" }).trim();
    const shimDir = mkdtempSync(path.join(tmpdir(), "catalyst-profile-"));
    const log = path.join(shimDir, "calls.log");
    writeFileSync(path.join(shimDir, "pulumi"), wrapperScript(realPulumi, log));
    chmodSync(path.join(shimDir, "pulumi"), 0o755);
    // Workers inherit this process's environment, so their pulumi is the wrapper.
    process.env.PATH = `${shimDir}:${process.env.PATH}`;
    const automation = new Automation({ actor: "catalyst-profile" });
    const profiles: OperationProfile[] = [];
    const sampler = new RssSampler();
    const measure = async (label: string, start: (onEvent: (e: CatalystEvent) => void) => PromiseLike<OperationResult>) => {
        writeFileSync(log, "");
        const events: CatalystEvent[] = [];
        const origin = Date.now();
        const { value: result, cost } = await measureCost(sampler, () => start((event) => events.push(event)));
        const totalMs = Date.now() - origin;
        if (result.status !== "succeeded") throw new Error(`${label}: ${result.status}: ${result.error ?? ""}`);
        const steps = events.filter((e) => e.type === "step").map((e) => ({ name: e.step, atMs: Date.parse(e.time) - origin }));
        profiles.push({
            label, totalMs, cpuMs: cost.cpuMs, treeBytes: cost.treeBytes, steps,
            cli: parseCliLog(readFileSync(log, "utf8"), origin), resources: resourceSpans(events, origin),
        });
        process.stdout.write(renderProfile(profiles[profiles.length - 1]) + "\n");
    };
    try {
        const args = { pr, branch: "bench/profile" };
        await measure("preview up (new stack)", (onEvent) => automation.upPreview(args, { onEvent }));
        await measure("no-op up", (onEvent) => automation.upPreview(args, { onEvent }));
        await measure("preview down", (onEvent) => automation.destroyPreview(pr, { onEvent }));
    } finally {
        sampler.stop();
        rmSync(shimDir, { recursive: true, force: true });
    }
    const dir = path.join(automation.repoRoot, "results");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `profile-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(profiles, null, 2) + "\n");
    process.stderr.write(`profile: wrote ${file}\n`);
}

if (require.main === module) {
    main().catch((error: unknown) => {
        process.stderr.write(`profile: failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    });
}

import type { ControllerResults } from "./controller";
import type { BenchResults, Profile } from "./run";
import { mib, seconds, summarize, Summary } from "./stats";

/** A serial measurement: wall time, and (when measured) median CPU and peak tree RSS. */
function row(name: string, s: Summary, cost: BenchResults["costs"][string] | undefined, note = ""): string {
    const cpu = cost ? seconds(cost.cpu.median) : "-";
    const rss = cost ? mib(cost.treeRss.median) : "-";
    return `| ${name} | ${s.n} | ${seconds(s.min)} | ${seconds(s.median)} | ${seconds(s.max)} | ${cpu} | ${rss} | ${note} |`;
}

/** Medians of the no-op up's phases, from the layer's step and resource events. */
function profileRows(profiles: Profile[]): string[] {
    const phase = (from: (p: Profile) => number | undefined, to: (p: Profile) => number | undefined) =>
        summarize(profiles.map((p) => (to(p) ?? Number.NaN) - (from(p) ?? Number.NaN)).filter(Number.isFinite));
    const phases: [string, Summary][] = [
        ["call to `configuring` (queue, lock, worker process start, workspace)", phase(() => 0, (p) => p.steps.configuring)],
        ["`configuring` to `updating` (stack config and tags written)", phase((p) => p.steps.configuring, (p) => p.steps.updating)],
        ["`updating` to first resource event (pulumi CLI, engine, language host, Node + program load)", phase((p) => p.steps.updating, (p) => p.firstResourceMs)],
        ["first to last resource event (program registrations, engine and provider diffs)", phase((p) => p.firstResourceMs, (p) => p.lastResourceMs)],
        ["last resource event to result (summary, state write, processes exit)", phase((p) => p.lastResourceMs, (p) => p.totalMs)],
    ];
    return phases.map(([name, s]) => `| ${name} | ${seconds(s.min)} | ${seconds(s.median)} | ${seconds(s.max)} |`);
}

/** The markdown report of one run. */
export function renderMarkdown(r: BenchResults): string {
    const lines = [
        `### Benchmark ${r.startedAt}`,
        "",
        `Machine: ${r.machine.cores} cores, Node ${r.machine.node}; ${r.settings.reps} repetitions; ` +
            `library concurrency ${r.settings.libraryConcurrency}; one preview = ${r.objects} Kubernetes objects.`,
        "",
        "CPU: user + system seconds of the bench process and every descendant during the operation " +
            "(`/proc/<pid>/stat`: live processes' own and reaped children's times). RSS: the peak, sampled every 250 ms, of the tree's summed RSS.",
        "",
        "| measurement | n | min s | median s | max s | median CPU s | median peak RSS tree MiB | note |",
        "|---|---|---|---|---|---|---|---|",
        row("floor: `kubectl apply --server-side` + wait", r.floor.apply, r.costs.floorApply, "Deployments Available, PVCs Bound"),
        row("floor: `kubectl delete --wait`", r.floor.delete, r.costs.floorDelete),
        row("Pulumi floor: `pulumi up` (new stack)", r.pulumiFloor.up, r.costs.pulumiFloorUp, "same objects, smallest program, same engine and provider"),
        row("Pulumi floor: no-op `pulumi up`", r.pulumiFloor.noop, r.costs.pulumiFloorNoop),
        row("Pulumi floor: `pulumi destroy`", r.pulumiFloor.down, r.costs.pulumiFloorDown),
        row("catalyst: preview up (new stack)", r.catalyst.previewUp, r.costs.previewUp),
        row("catalyst: no-op up", r.catalyst.noopUp, r.costs.noopUp),
        row("catalyst: update (image change)", r.catalyst.update, r.costs.update),
        row("catalyst: preview down", r.catalyst.previewDown, r.costs.previewDown),
        row("`pulumi preview` of the platform stack", r.platformPreview, undefined),
        "",
        "| N at once | total s | per preview p50 s | p95 s | all downs s | CPU of the ups s | peak RSS orchestrator MiB | peak RSS tree MiB |",
        "|---|---|---|---|---|---|---|---|",
        ...r.concurrency.map((c) => `| ${c.n} | ${seconds(c.totalMs)} | ${seconds(c.perPreview.median)} | ${seconds(c.perPreview.p95)} | ${seconds(c.downTotalMs)} | ${seconds(c.cpuMs)} | ${mib(c.memory.selfBytes)} | ${mib(c.memory.treeBytes)} |`),
        "",
        "| phase | peak RSS orchestrator MiB | peak RSS tree MiB |",
        "|---|---|---|",
        ...Object.entries(r.memory).map(([name, m]) => `| ${name} | ${mib(m.selfBytes)} | ${mib(m.treeBytes)} |`),
        "",
        "| ratio (medians, same run) | value |",
        "|---|---|",
        ...Object.entries(r.ratios).map(([name, value]) => `| ${name} | ${value.toFixed(2)} |`),
        "",
        "| aim (recorded, not asserted) | measured | aim | met |",
        "|---|---|---|---|",
        ...r.aims.map((a) => `| ${a.name} | ${a.value} | ${a.aim} | ${a.met ? "yes" : "no"} |`),
        "",
        "No-op up, split by the layer's events:",
        "",
        "| phase | min s | median s | max s |",
        "|---|---|---|---|",
        ...profileRows(r.noopProfiles),
        "",
    ];
    if (r.controller !== undefined) lines.push(renderControllerMarkdown(r.controller));
    return lines.join("\n");
}

/** The controller section's tables: direct mode and the controllers, side by side, and the ratios. */
export function renderControllerMarkdown(c: ControllerResults): string {
    const cpu = (ms: number) => (ms / 1000).toFixed(1);
    const lines = [
        `Controller: \`kubectl apply\` of N Environments to all Ready, ${c.settings.concurrencyPerReplica} reconciles at once per replica, ` +
            `state backend ${c.settings.backend}; direct mode is N \`upPreview\` calls at once in one process, same run, same previews.`,
        "",
        "| mode | N | to all Ready s | per preview p50 s | CPU s | peak RSS orchestrator(s) MiB | largest replica MiB | replica idle MiB | peak RSS tree MiB | delete s |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ...c.direct.map((d) => `| direct | ${d.n} | ${seconds(d.wallMs)} | ${seconds(d.perPreview.median)} | ${cpu(d.cpuMs)} | ${mib(d.memory.selfBytes)} | - | - | ${mib(d.memory.treeBytes)} | ${seconds(d.downMs)} |`),
        ...c.controller.map((m) => `| controller, ${m.replicas} replica${m.replicas === 1 ? "" : "s"} | ${m.n} | ${seconds(m.wallMs)} | ${seconds(m.perPreview.median)} | ${cpu(m.cpuMs)} | ${mib(m.memory.selfBytes)} | ` +
            `${mib(m.replicaPeakBytes)} | ${m.idleRssBytes.map(mib).join(", ")} | ${mib(m.memory.treeBytes)} | ${seconds(m.downMs)} |`),
        "",
        "| ratio (same run) | value |",
        "|---|---|",
        ...Object.entries(c.ratios).map(([name, value]) => `| ${name} | ${value.toFixed(2)} |`),
        "",
    ];
    return lines.join("\n");
}

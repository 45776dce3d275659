import { ENVIRONMENT_LABEL, TYPE_LABEL } from "../../components/environment/labels";
import { stackOfNamespace } from "../../components/naming";
import { EnvironmentRecord, OperationResult } from "./types";

/**
 * Garbage collection of previews: which previews to destroy (a pure function of the stacks, the
 * time, a TTL and the open pull requests) and the run that destroys them, always through Pulumi.
 * Namespaces labelled as previews that no stack owns are reported, and deleted only on request.
 */

/** Label the environment component puts on preview namespaces (components/environment/labels.ts). */
export const PREVIEW_NAMESPACE_SELECTOR = `${TYPE_LABEL}=preview`;
/** Label naming the stack a namespace belongs to. */
export { ENVIRONMENT_LABEL };

/** Why a preview is collected. */
export type GcReason = "closed" | "expired" | "ttl";

/** A preview chosen for destruction. */
export interface GcCandidate {
    stack: string;
    pr: number;
    reason: GcReason;
    /** One line for people: `PR closed`, `expired at ...`, `idle 3d > ttl 72h`. */
    detail: string;
}

/** Inputs of {@link selectGarbage}. */
export interface GcSelection {
    /** Stacks as listed; only previews are ever selected. */
    stacks: readonly EnvironmentRecord[];
    now: Date;
    /** Destroy previews idle (no `up`) for at least this long; unset: only their own expiresAt counts. */
    ttlMs?: number;
    /** Open pull requests; unset means unknown, and no preview is collected for being closed. */
    openPullRequests?: readonly number[];
}

function time(value: string | undefined): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Chooses the previews to destroy, each once with its first reason, closed ones first, then the
 * oldest expired (by expiresAt), then the longest idle: the order in which they are destroyed, so
 * that a run stopped halfway, or an owner at a preview cap (limits.ts), gets the stalest back first:
 * 1. `closed`: its pull request is not among `openPullRequests` (when those are known);
 * 2. `expired`: its `catalyst:expiresAt` tag is in the past;
 * 3. `ttl`: its last `up` (`updatedAt`, else `createdAt`, else the backend's last update) is at
 *    least `ttlMs` ago; a preview of unknown age counts as idle. A TTL of 0 selects every preview.
 */
export function selectGarbage(selection: GcSelection): GcCandidate[] {
    const now = selection.now.getTime();
    const open = selection.openPullRequests ? new Set(selection.openPullRequests) : undefined;
    const candidates: (GcCandidate & { since: number })[] = [];
    // Only the default Project's previews: another Project's pull requests are of its own
    // repository (not the open ones given here), and its Environments expire in the controller.
    const previews = selection.stacks
        .filter((s): s is EnvironmentRecord & { pr: number } => s.kind === "preview" && s.pr !== undefined && s.project === undefined)
        .sort((a, b) => a.pr - b.pr);
    for (const preview of previews) {
        const base = { stack: preview.stack, pr: preview.pr };
        if (open && !open.has(preview.pr)) {
            candidates.push({ ...base, reason: "closed", detail: `pull request #${preview.pr} is not open`, since: preview.pr });
            continue;
        }
        const expiresAt = time(preview.expiresAt);
        if (expiresAt !== undefined && now >= expiresAt) {
            candidates.push({ ...base, reason: "expired", detail: `expired at ${preview.expiresAt}`, since: expiresAt });
            continue;
        }
        if (selection.ttlMs !== undefined) {
            const last = time(preview.updatedAt) ?? time(preview.createdAt) ?? time(preview.lastUpdate);
            const idle = last === undefined ? Number.POSITIVE_INFINITY : now - last;
            if (idle >= selection.ttlMs) {
                const age = last === undefined ? "of unknown age" : `idle ${Math.round(idle / 1000)}s`;
                candidates.push({ ...base, reason: "ttl", detail: `${age} >= ttl ${Math.round(selection.ttlMs / 1000)}s`, since: last ?? Number.NEGATIVE_INFINITY });
            }
        }
    }
    const rank: Record<GcReason, number> = { closed: 0, expired: 1, ttl: 2 };
    // A stable sort: equal keys keep pull request order.
    return candidates.sort((a, b) => rank[a.reason] - rank[b.reason] || a.since - b.since).map(({ since: _since, ...candidate }) => candidate);
}

/** A namespace as the cluster lists it. */
export interface NamespaceInfo {
    name: string;
    labels: Record<string, string>;
    /** True while the namespace is being deleted. */
    terminating?: boolean;
}

/** Preview namespaces whose stack does not exist (by their environment label, else by name). */
export function findOrphanNamespaces(namespaces: readonly NamespaceInfo[], stacks: readonly string[]): NamespaceInfo[] {
    const known = new Set(stacks);
    return namespaces.filter((ns) => {
        const stack = ns.labels[ENVIRONMENT_LABEL] ?? stackOfNamespace(ns.name);
        return stack === undefined || !known.has(stack);
    });
}

/** What a gc run needs from the rest of the layer; tests pass fakes. */
export interface GcDependencies {
    listPreviews(): Promise<EnvironmentRecord[]>;
    destroyPreview(candidate: GcCandidate): Promise<OperationResult>;
    /** Lists namespaces labelled as previews; may throw when the cluster is unreachable. */
    listPreviewNamespaces(): Promise<NamespaceInfo[]>;
    deleteNamespace(name: string): Promise<void>;
}

/** Options of a gc run. */
export interface GcOptions {
    now?: Date;
    ttlMs?: number;
    /** Open pull requests, or a function that looks them up; when it throws, nothing is changed. */
    openPullRequests?: readonly number[] | (() => Promise<readonly number[]>);
    /** Report what would be destroyed, destroy nothing. */
    dryRun?: boolean;
    /** Also delete preview namespaces that no stack owns (otherwise they are only reported). */
    deleteOrphanNamespaces?: boolean;
}

/** The outcome of a gc run. */
export interface GcReport {
    status: "succeeded" | "failed";
    dryRun: boolean;
    candidates: GcCandidate[];
    /** Results of the destroys, in candidate order (empty on a dry run). */
    destroyed: OperationResult[];
    /** Preview namespaces with no stack. */
    orphanNamespaces: string[];
    /** Orphan namespaces deleted (only with deleteOrphanNamespaces). */
    deletedNamespaces: string[];
    /** Problems, one line each (a failed PR lookup, an unreachable cluster, failed destroys). */
    errors: string[];
}

/**
 * Runs garbage collection: looks up open pull requests first (a failed lookup ends the run with
 * nothing changed), selects candidates, destroys them through Pulumi, then reports preview
 * namespaces left without a stack and deletes them only when asked.
 */
export async function runGarbageCollection(deps: GcDependencies, options: GcOptions = {}): Promise<GcReport> {
    const dryRun = options.dryRun ?? false;
    const report: GcReport = { status: "succeeded", dryRun, candidates: [], destroyed: [], orphanNamespaces: [], deletedNamespaces: [], errors: [] };
    let open: readonly number[] | undefined;
    try {
        open = typeof options.openPullRequests === "function" ? await options.openPullRequests() : options.openPullRequests;
    } catch (err) {
        report.status = "failed";
        report.errors.push(`looking up open pull requests failed, nothing was changed: ${(err as Error).message}`);
        return report;
    }
    const previews = await deps.listPreviews();
    report.candidates = selectGarbage({ stacks: previews, now: options.now ?? new Date(), ttlMs: options.ttlMs, openPullRequests: open });
    if (!dryRun) {
        report.destroyed = await Promise.all(report.candidates.map((candidate) => deps.destroyPreview(candidate)));
        for (const result of report.destroyed.filter((r) => r.status !== "succeeded")) {
            report.status = "failed";
            report.errors.push(`${result.stack}: destroy ${result.status}: ${result.error ?? ""}`.trim());
        }
    }
    try {
        const remaining = dryRun ? previews : await deps.listPreviews();
        const namespaces = (await deps.listPreviewNamespaces()).filter((ns) => !ns.terminating);
        const orphans = findOrphanNamespaces(namespaces, remaining.map((p) => p.stack));
        report.orphanNamespaces = orphans.map((ns) => ns.name);
        if (options.deleteOrphanNamespaces && !dryRun) {
            for (const ns of orphans) {
                try {
                    await deps.deleteNamespace(ns.name);
                    report.deletedNamespaces.push(ns.name);
                } catch (err) {
                    report.status = "failed";
                    report.errors.push(`deleting namespace ${ns.name} failed: ${(err as Error).message.split("\n")[0]}`);
                }
            }
        }
    } catch (err) {
        // Only a failure of what was asked for fails the run: orphans are otherwise just reported.
        if (options.deleteOrphanNamespaces && !dryRun) report.status = "failed";
        report.errors.push(`listing preview namespaces failed: ${(err as Error).message.split("\n")[0]}`);
    }
    return report;
}

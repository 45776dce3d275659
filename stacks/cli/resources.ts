import { formatDuration } from "../automation/duration";
import { CommandContext, EXIT } from "../command";
import { EnvironmentResources, environmentState, EnvironmentState, previewEnvironmentName, WaitResult } from "../resources/client";
import { EnvironmentObject } from "../resources/types";

/**
 * `catalyst preview up|down|list` in resource mode: they write and read Environment resources
 * of the control-plane namespace and wait on the status `catalyst controller` writes, instead of
 * running stacks on this machine (stacks/resources/client.ts holds the calls).
 */

/** Default bound on a wait in resource mode (as a direct operation's timeout). */
export const DEFAULT_RESOURCE_WAIT_MS = 30 * 60_000;

/** How a preview in resource mode was asked for. */
export interface ResourcePreviewUp {
    pr: number;
    branch: string;
    sha?: string;
    image?: string;
    ttlMs?: number;
    owners?: string[];
    project: string;
    timeoutMs?: number;
    json: boolean;
}

/** What `--json` prints for one Environment, and the fields `list` shows. */
export interface EnvironmentSummary {
    environment: string;
    namespace: string;
    status: "succeeded" | "failed" | "timeout" | "deleted" | "ready" | "progressing" | "pending" | "deleting";
    message: string;
    generation?: number;
    observedGeneration?: number;
    pr?: number;
    branch?: string;
    owners?: string[];
    stack?: string;
    environmentNamespace?: string;
    url?: string;
}

function summary(resources: EnvironmentResources, name: string, status: EnvironmentSummary["status"], message: string, state?: EnvironmentState, object?: EnvironmentObject): EnvironmentSummary {
    return {
        environment: name, namespace: resources.namespace, status, message,
        generation: state?.generation, observedGeneration: state?.observedGeneration,
        pr: object?.spec.pullRequest, branch: object?.spec.branch, owners: object?.spec.owners,
        stack: state?.stack, environmentNamespace: state?.namespace, url: state?.url,
    };
}

/** Progress lines on stderr, one per new state: `[+4s] pr-12: progressing: running up on stack pr-12 (generation 1)`. */
function progress(context: CommandContext, name: string): (state: EnvironmentState) => void {
    const started = Date.now();
    return (state) => context.io.stderr(`[+${formatDuration(Date.now() - started)}] ${name}: ${state.phase}: ${state.message}\n`);
}

/** A duration as the CRD's `spec.ttl` takes it. */
function ttlText(ms: number): string {
    return ms === 0 ? "0" : formatDuration(ms);
}

const EXIT_OF: Record<WaitResult["outcome"], number> = { ready: EXIT.ok, gone: EXIT.ok, failed: EXIT.failed, timeout: EXIT.busy };

function finish(context: CommandContext, json: boolean, result: EnvironmentSummary, human: string, code: number): number {
    context.io.stdout(json ? `${JSON.stringify(result)}\n` : human);
    if (code !== EXIT.ok && !json) context.io.stderr(`catalyst preview: ${result.environment}: ${result.message}\n`);
    return code;
}

/** Creates or patches the preview's Environment and waits until it is Ready (or failed, or the time is up). */
export async function resourcePreviewUp(resources: EnvironmentResources, input: ResourcePreviewUp, context: CommandContext): Promise<number> {
    const name = previewEnvironmentName(input.pr, input.project);
    const applied = await resources.applyPreview({
        pr: input.pr, branch: input.branch, sha: input.sha, image: input.image, owners: input.owners,
        ttl: input.ttlMs === undefined ? undefined : ttlText(input.ttlMs), project: input.project, createdBy: "cli",
    });
    context.io.stderr(`${name}: Environment ${resources.namespace}/${name} at generation ${applied.metadata.generation ?? 1}; waiting for the controller\n`);
    const result = await resources.waitUntilReady(name, { timeoutMs: input.timeoutMs ?? DEFAULT_RESOURCE_WAIT_MS, onProgress: progress(context, name), signal: context.signal });
    const status = result.outcome === "ready" ? "succeeded" : result.outcome === "gone" ? "failed" : result.outcome;
    const out = summary(resources, name, status, result.message, result.state, applied);
    const human = result.outcome === "ready" ? `${name}: ready${out.url ? ` at ${out.url}` : ""}\n` : `${name}: ${status}\n`;
    return finish(context, input.json, out, human, result.outcome === "gone" ? EXIT.failed : EXIT_OF[result.outcome]);
}

/** Deletes the preview's Environment and waits until the controller destroyed its stack and it is gone. */
export async function resourcePreviewDown(resources: EnvironmentResources, input: { pr: number; project: string; timeoutMs?: number; json: boolean }, context: CommandContext): Promise<number> {
    const name = previewEnvironmentName(input.pr, input.project);
    if (!(await resources.delete(name))) {
        return finish(context, input.json, summary(resources, name, "deleted", "no such Environment: nothing to do"), `${name}: no such Environment: nothing to do\n`, EXIT.ok);
    }
    context.io.stderr(`${name}: deleting Environment ${resources.namespace}/${name}; waiting for the controller to destroy its stack\n`);
    const result = await resources.waitUntilGone(name, { timeoutMs: input.timeoutMs ?? DEFAULT_RESOURCE_WAIT_MS, onProgress: progress(context, name), signal: context.signal });
    const status = result.outcome === "gone" ? "deleted" : result.outcome === "ready" ? "failed" : result.outcome;
    return finish(context, input.json, summary(resources, name, status, result.message, result.state), `${name}: ${status}\n`, EXIT_OF[result.outcome]);
}

/** The preview Environments of the namespace with their state. */
export async function listResourcePreviews(resources: EnvironmentResources): Promise<EnvironmentSummary[]> {
    return (await resources.list("preview")).map((object) => {
        const state = environmentState(object);
        return summary(resources, object.metadata.name, state.phase, state.message, state, object);
    });
}

/** A table of {@link listResourcePreviews}. */
export function describeResourcePreviews(previews: EnvironmentSummary[], namespace: string): string {
    if (previews.length === 0) return `no preview Environments in ${namespace}\n`;
    const rows = previews.map((p) => [p.environment, String(p.pr ?? ""), p.branch ?? "", (p.owners ?? []).join(","), p.status, p.url ?? ""]);
    const header = ["NAME", "PR", "BRANCH", "OWNERS", "STATUS", "URL"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}

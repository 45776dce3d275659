import { Writable } from "stream";
import { z } from "zod";
import { parseStackName, previewStackName } from "../../components/naming";
import { environmentConditions, EnvironmentCondition } from "../automation/conditions";
import { kindOf } from "../automation/tags";
import { DEFAULT_OPERATIONS_LIMIT, MAX_OPERATIONS_LIMIT } from "../automation/history";
import type { CallOptions, CatalystEvent, EnvironmentRecord, EnvironmentStatus, PreviewRef, PreviewUpArgs, SleepReason, StackOperation, StackResource } from "../automation";
import { owns, requireOwner } from "./auth";
import { parseResourceOperationId } from "./environment-progress";
import { ApiError } from "./errors";
import * as kube from "./kube";
import { OperationRegistry, OperationView, RunningOperation } from "./operations";
import type { PreviewResources } from "./resources";

/**
 * The operations the HTTP API and the MCP server share, over the automation library: input
 * schemas, authorization, and the cluster reads. Lifecycle (validation of PR numbers, branches
 * and images, per-stack locks, queueing, timeouts, recovery, audit) is the library's.
 */

/** The part of the automation library the API uses (the Automation class satisfies it). */
export interface Library {
    upPreview(args: PreviewUpArgs, call?: CallOptions): RunningOperation;
    destroyPreview(preview: PreviewRef, call?: CallOptions): RunningOperation;
    sleepPreview(preview: PreviewRef, options?: { reason?: SleepReason }, call?: CallOptions): RunningOperation;
    wakePreview(preview: PreviewRef, call?: CallOptions): RunningOperation;
    listEnvironments(): Promise<EnvironmentRecord[]>;
    getEnvironment(name: string): Promise<EnvironmentStatus | undefined>;
    environmentOperations(name: string, limit?: number): Promise<StackOperation[] | undefined>;
    environmentResources(name: string): Promise<StackResource[] | undefined>;
}

/** The cluster reads (kube.ts; fakes in unit tests). */
export type Cluster = Pick<typeof kube, "listPods" | "recentEvents" | "tailLogs" | "streamLogs" | "execInPod" | "namespaceKubeconfig">;

const login = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, "a GitHub login");
const objectName = z.string().regex(kube.OBJECT_NAME, "a Kubernetes object name");

/** Body of a preview create. */
export const CreatePreviewInput = z.strictObject({
    pr: z.number().int().positive().describe("Pull request number; the stack is pr-<n>."),
    branch: z.string().min(1).max(255).describe("The pull request's head branch."),
    sha: z.string().regex(/^[0-9a-f]{7,40}$/, "a hex commit SHA").optional().describe("Head commit SHA."),
    image: z.string().min(1).max(512).optional().describe("Pinned image (tag or digest) to run."),
    ttl: z.string().max(32).optional().describe("Time to live, e.g. 72h or 7d."),
    owners: z.array(login).max(20).optional().describe("Extra owners; the caller is always the first owner."),
});

/** A stack name such as pr-123. */
export const EnvironmentName = z.string().min(1).max(63).regex(/^[a-z0-9-]+$/, "a stack name such as pr-123").describe("Environment (stack) name, e.g. pr-123.");

/** Input of get_logs. */
export const LogsInput = z.strictObject({
    environment: EnvironmentName,
    pod: objectName.optional().describe("Pod name (one of pod or deployment)."),
    deployment: objectName.optional().describe("Deployment name (one of pod or deployment)."),
    container: objectName.optional().describe("Container, when the pod has several."),
    lines: z.number().int().min(1).max(2000).default(200).describe("Lines from the end (max 2000)."),
    maxBytes: z.number().int().min(1).max(256 * 1024).default(64 * 1024).describe("Byte cap of the answer (max 256 KiB)."),
});

/** Input of exec_in_environment. */
export const ExecInput = z.strictObject({
    environment: EnvironmentName,
    pod: objectName.describe("Pod to run the command in."),
    container: objectName.optional().describe("Container, when the pod has several."),
    argv: z.array(z.string().max(4096)).min(1).max(64).describe("Command and arguments; run directly, never through a shell."),
    timeoutSeconds: z.number().int().min(1).max(120).default(30).describe("Time limit (max 120 s)."),
    maxBytes: z.number().int().min(1).max(256 * 1024).default(64 * 1024).describe("Output cap per stream (max 256 KiB)."),
});

const LIMIT_RULE = `must be a whole number from 1 to ${MAX_OPERATIONS_LIMIT}`;

/** Input of the operations history (`GET /environments/:name/operations`, get_environment_history). */
export const OperationsInput = z.strictObject({
    environment: EnvironmentName,
    limit: z.number({ error: LIMIT_RULE }).int(LIMIT_RULE).min(1, LIMIT_RULE).max(MAX_OPERATIONS_LIMIT, LIMIT_RULE)
        .default(DEFAULT_OPERATIONS_LIMIT).describe(`How many of the last operations, newest first (default ${DEFAULT_OPERATIONS_LIMIT}, max ${MAX_OPERATIONS_LIMIT}).`),
});

/** Parses `value` with `schema` or throws `invalid` naming the first bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.length ? issue.path.join(".") : "body";
        throw new ApiError("invalid", `${field}: ${issue?.message ?? "invalid"}`);
    }
    return parsed.data;
}

/**
 * Owners from the environment stack's `owners` output (stacks/environment.ts exports the user
 * names of `access.owners`); the `catalyst:owner` tag is checked besides.
 */
export function ownersOf(status: EnvironmentStatus): string[] {
    const users = status.outputs?.owners;
    return Array.isArray(users) ? users.filter((u): u is string => typeof u === "string") : [];
}

function ownership(status: EnvironmentStatus) {
    return { stack: status.stack, kind: status.kind, owner: status.owner, owners: ownersOf(status) };
}

/** The service; one per server. */
export class CatalystService {
    /**
     * @param previewConfig config laid over every preview this service creates, set by the
     *   server's operator (CATALYST_API_PREVIEW_CONFIG), never by callers: callers must not
     *   reach `catalyst:access` or other guard rails through config.
     * @param previews resource mode (CATALYST_CONTROL_PLANE_NAMESPACE): previews are created and
     *   deleted as Environment resources that `catalyst controller` reconciles, not run here.
     */
    constructor(
        private readonly library: Library,
        readonly registry: OperationRegistry = new OperationRegistry(),
        private readonly cluster: Cluster = kube,
        private readonly previewConfig?: Record<string, unknown>,
        readonly previews?: PreviewResources,
    ) {}

    /** Every environment the library knows (read-only; any authenticated caller). */
    listEnvironments(): Promise<EnvironmentRecord[]> {
        return this.library.listEnvironments();
    }

    /** One environment, or `not-found`. */
    async environment(name: string): Promise<EnvironmentStatus> {
        const stack = parseInput(EnvironmentName, name);
        const status = await this.library.getEnvironment(stack);
        if (status === undefined) throw new ApiError("not-found", `no environment ${stack}`);
        return status;
    }

    /**
     * An environment's status plus pods, recent events (cluster reads are best effort) and its
     * conditions (the library's environmentConditions over what was read here; in resource mode
     * with the Environment's own conditions).
     */
    async describe(name: string): Promise<EnvironmentStatus & { pods?: kube.PodInfo[]; events?: kube.EventInfo[]; clusterError?: string; conditions: EnvironmentCondition[] }> {
        const status = await this.environment(name);
        // Resource mode: a failed read of the Environment becomes a condition (Ready Unknown), not a failed page.
        const environment = await this.previews?.environmentOfStack(status.stack).then((e) => e?.status, (err: Error) => ({ error: err.message.split("\n")[0] }));
        let cluster: { pods?: kube.PodInfo[]; events?: kube.EventInfo[]; clusterError?: string } = {};
        if (status.namespace !== undefined) {
            try {
                const [pods, events] = await Promise.all([this.cluster.listPods(status.namespace), this.cluster.recentEvents(status.namespace, 20)]);
                cluster = { pods, events };
            } catch (err) {
                cluster = { clusterError: (err as Error).message.split("\n")[0] };
            }
        }
        const conditions = environmentConditions({ status, pods: cluster.pods, clusterError: cluster.clusterError, environment });
        return { ...status, ...cluster, conditions };
    }

    /**
     * An environment's last operations from the engine's history (read like `describe`: any
     * authenticated caller; 404 when the stack does not exist). One `pulumi` process.
     */
    async operations(body: unknown): Promise<{ environment: string; operations: StackOperation[] }> {
        const input = parseInput(OperationsInput, body);
        const operations = await this.library.environmentOperations(input.environment, input.limit);
        if (operations === undefined) throw new ApiError("not-found", `no environment ${input.environment}`);
        return { environment: input.environment, operations };
    }

    /**
     * The resources an environment's stack holds: type, name, URN, parent, provider, never
     * inputs or outputs (read like `describe`; 404 when the stack does not exist).
     */
    async resources(name: string): Promise<{ environment: string; resources: StackResource[] }> {
        const stack = parseInput(EnvironmentName, name);
        const resources = await this.library.environmentResources(stack);
        if (resources === undefined) throw new ApiError("not-found", `no environment ${stack}`);
        return { environment: stack, resources };
    }

    /**
     * Starts creating (or updating) a preview owned by `user`: 403 when the preview exists and
     * belongs to someone else, 409 while another operation of this API runs on the stack.
     */
    async createPreview(user: string, body: unknown): Promise<OperationView> {
        const input = parseInput(CreatePreviewInput, body);
        const stack = previewStackName(input.pr);
        const owners = [user, ...(input.owners ?? []).filter((o) => o.toLowerCase() !== user.toLowerCase())];
        this.refuseIfBusy(stack);
        await this.checkCanChange(user, stack, true);
        // lockTimeoutMs 0: a stack held by another client (the CLI, CI) answers `busy` at once.
        return this.registry.start(stack, "create", user, () => this.library.upPreview({ ...input, owners, config: this.previewConfig }, { lockTimeoutMs: 0 }), owners);
    }

    /** Starts destroying a preview `user` owns (404 when it does not exist). */
    async destroyPreview(user: string, name: string): Promise<OperationView> {
        const stack = parseInput(EnvironmentName, name);
        const identity = kindOf(stack) === "preview" ? parseStackName(stack) : undefined;
        const pr = identity?.pr;
        if (pr === undefined) throw new ApiError("forbidden", `${stack} is not a preview; only previews can be destroyed through this API`);
        this.refuseIfBusy(stack);
        const status = await this.checkCanChange(user, stack, false);
        return this.registry.start(stack, "destroy", user, () => this.library.destroyPreview({ pr, project: identity?.project }, { lockTimeoutMs: 0 }), status === undefined ? [] : ownersOf(status));
    }

    /** Starts putting a preview `user` owns to sleep, or waking it (404 when it does not exist). */
    async sleepOrWake(user: string, name: string, what: "sleep" | "wake"): Promise<OperationView> {
        const { stack, pr, project } = this.previewOf(name, what);
        this.refuseIfBusy(stack);
        const status = await this.checkCanChange(user, stack, false);
        const preview = { pr, project };
        return this.registry.start(stack, what, user, () => (what === "sleep" ? this.library.sleepPreview(preview, {}, { lockTimeoutMs: 0 }) : this.library.wakePreview(preview, { lockTimeoutMs: 0 })),
            status === undefined ? [] : ownersOf(status));
    }

    /** Starts waking a preview for the holder of a signed wake link (the caller checked the link). */
    async wakeByLink(stack: string): Promise<OperationView> {
        const { pr, project } = this.previewOf(stack, "wake");
        this.refuseIfBusy(stack);
        const status = await this.environment(stack);
        return this.registry.start(stack, "wake", "wake-link", () => this.library.wakePreview({ pr, project }, { lockTimeoutMs: 0, reason: "wake-link" }), ownersOf(status));
    }

    private previewOf(name: string, what: string): { stack: string; pr: number; project?: string } {
        const stack = parseInput(EnvironmentName, name);
        const identity = kindOf(stack) === "preview" ? parseStackName(stack) : undefined;
        if (identity?.pr === undefined) throw new ApiError("forbidden", `${stack} is not a preview; only previews can ${what} through this API`);
        return { stack, pr: identity.pr, project: identity.project };
    }

    private refuseIfBusy(stack: string): void {
        const running = this.registry.active(stack);
        if (running !== undefined) throw new ApiError("busy", `${stack} is busy: operation ${running.id} (${running.action}) is running`);
    }

    /** Throws unless `user` may change `name` (a missing stack passes when `allowMissing`). */
    async checkCanChange(user: string, name: string, allowMissing: boolean): Promise<EnvironmentStatus | undefined> {
        const status = await this.library.getEnvironment(parseInput(EnvironmentName, name));
        if (status === undefined) {
            if (!allowMissing) throw new ApiError("not-found", `no environment ${name}`);
            return undefined;
        }
        requireOwner(user, ownership(status));
        return status;
    }

    /**
     * Throws `forbidden` unless `user` may read operation `id`: its engine log lines are as
     * sensitive as the environment's logs, so only the operation's creator, the owners named
     * when it started and the environment's current owners may.
     */
    private async checkCanRead(user: string, id: string): Promise<OperationView> {
        const view = this.registry.get(id);
        if (this.registry.isReader(id, user)) return view;
        const status = await this.library.getEnvironment(view.stack);
        if (status !== undefined && owns(user, ownership(status))) return view;
        throw new ApiError("forbidden", `${user} may not read operation ${id} (only its creator and the owners of ${view.stack})`);
    }

    /**
     * An operation's view, for its readers. In resource mode an id of an Environment's operation
     * (environment-progress.ts) is read from the Environment, for any caller, as its status is.
     */
    async operation(user: string, id: string): Promise<OperationView> {
        const resource = this.previews && parseResourceOperationId(id);
        if (this.previews && resource) return this.previews.operation(resource, user);
        return this.checkCanRead(user, id);
    }

    /** Waits for an operation to finish, for its readers. */
    async waitForOperation(user: string, id: string): Promise<OperationView> {
        await this.checkCanRead(user, id);
        return this.registry.wait(id);
    }

    /** Replays and follows an operation's events (undefined at the end), for its readers. */
    async subscribe(user: string, id: string, listener: (event: CatalystEvent | undefined) => void): Promise<() => void> {
        await this.checkCanRead(user, id);
        return this.registry.subscribe(id, listener);
    }

    /** The namespace of an environment `user` owns. */
    private async ownedNamespace(user: string, name: string): Promise<string> {
        const status = await this.environment(name);
        requireOwner(user, ownership(status));
        if (status.namespace === undefined) throw new ApiError("not-found", `${status.stack} has no namespace yet`);
        return status.namespace;
    }

    /** Tail of logs; owners only (logs can hold secrets). */
    async logs(user: string, body: unknown): Promise<{ environment: string; text: string; truncated: boolean }> {
        const input = parseInput(LogsInput, body);
        if ((input.pod === undefined) === (input.deployment === undefined)) throw new ApiError("invalid", "pod, deployment: give exactly one");
        const namespace = await this.ownedNamespace(user, input.environment);
        const out = await this.cluster.tailLogs(namespace, { pod: input.pod, deployment: input.deployment, container: input.container }, input.lines, input.maxBytes);
        return { environment: input.environment, ...out };
    }

    /**
     * Streams the logs of a pod or deployment of an environment `user` owns into `out`,
     * following new lines until the container stops or `stop()` is called.
     */
    async followLogs(user: string, body: unknown, out: Writable): Promise<{ stop: () => void }> {
        const input = parseInput(LogsInput, body);
        if ((input.pod === undefined) === (input.deployment === undefined)) throw new ApiError("invalid", "pod, deployment: give exactly one");
        const namespace = await this.ownedNamespace(user, input.environment);
        return this.cluster.streamLogs(namespace, { pod: input.pod, deployment: input.deployment, container: input.container }, { follow: true, lines: input.lines, maxBytes: input.maxBytes }, out);
    }

    /** Runs an argv in a pod of an environment `user` owns. */
    async exec(user: string, body: unknown): Promise<kube.ExecResult> {
        const input = parseInput(ExecInput, body);
        const namespace = await this.ownedNamespace(user, input.environment);
        return this.cluster.execInPod(namespace, input.pod, input.argv, { container: input.container, timeoutMs: input.timeoutSeconds * 1000, maxBytes: input.maxBytes });
    }

    /** A namespace-scoped kubeconfig of an environment `user` owns. */
    async kubeconfig(user: string, name: string): Promise<string> {
        return this.cluster.namespaceKubeconfig(await this.ownedNamespace(user, name));
    }
}

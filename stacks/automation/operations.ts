import { existsSync, readFileSync } from "fs";
import { availableParallelism } from "os";
import * as path from "path";
import { parseStackName, StackKind } from "../../components/naming";
import { appendAudit, auditRecord, defaultActor } from "./audit";
import { Catalog } from "./catalog";
import { EventListener, logEvent, Operation } from "./events";
import { CallOptions, StackExecutor, StackJob } from "./executor";
import { GcOptions, GcReport, runGarbageCollection } from "./gc";
import { AutoSleepOptions, AutoSleepReport, runAutoSleep } from "./gc-sleep";
import { checkPreviewLimits, PreviewLimits, previewLimitsFromEnv } from "./limits";
import { keepSleeping, ownersTag, previousPreviewConfig, SLEEP_REASONS, SleepReason, sleepSettings, sleepStateOf, wakeSettings } from "./sleep";
import { TAGS, tagValue } from "./tags";
import { DEFAULT_OPERATIONS_LIMIT, parseOperationsLimit } from "./history";
import { EnvironmentRecord, EnvironmentStatus, OperationResult, StackOperation, StackResource } from "./types";
import {
    assertKind,
    environmentTarget,
    parseBranch,
    parseDurationInput,
    parseImage,
    parseOwners,
    parseSha,
    platformTarget,
    previewTarget,
    InputError,
    StackTarget,
} from "./validation";
import { defaultWorkRoot, REPO_ROOT } from "./workspace";
import { devcontainerProblem } from "../config/environment-workspace";
import * as yaml from "js-yaml";

export type { CallOptions } from "./executor";

/**
 * The automation layer's public API: previews, named environments and the platform, each
 * operation validated once, serialized per stack, bounded overall, run in a worker process with
 * a timeout, audited, and reported as a stream of progress events.
 */

const MINUTE = 60_000;

/** Settings of an {@link Automation} instance; every field has a default. */
export interface AutomationOptions {
    /** Repository root (Pulumi.yaml, index.ts, Pulumi.pr.yaml). Default: this checkout. */
    repoRoot?: string;
    /** Where work dirs live. Default: CATALYST_WORK_ROOT, else `<repoRoot>/.catalyst/work`. */
    workRoot?: string;
    /** The audit log. Default: CATALYST_AUDIT_LOG, else `<repoRoot>/.catalyst/audit.log`. */
    auditLog?: string;
    /** Who is acting, for the audit log and the `catalyst:owner` tag. Default: CATALYST_ACTOR, GITHUB_ACTOR, the OS user. */
    actor?: string;
    /** The platform stack environments read (`catalyst:platformStack`). Default: CATALYST_PLATFORM_STACK, else `dev`. */
    platformStack?: string;
    /** Stack operations running at once. Default: CATALYST_CONCURRENCY, else the number of cores. */
    concurrency?: number;
    /**
     * Destroys running at once, counted apart from `concurrency` (they mostly wait for the API
     * server). Default: CATALYST_DESTROY_CONCURRENCY, else twice `concurrency`.
     */
    destroyConcurrency?: number;
    /** Timeout of one stack operation. Default 30 minutes. */
    timeoutMs?: number;
    /** Between SIGINT and SIGKILL when an operation is stopped. Default 60 seconds. */
    graceMs?: number;
    /** Timeout of the recovery that follows a stopped operation. Default 10 minutes. */
    recoveryTimeoutMs?: number;
    /** How long a second caller for a busy stack waits before a `busy` result. Default 10 minutes. */
    lockTimeoutMs?: number;
    /** TTL of a preview when `upPreview` gets none. Default 72 hours. */
    defaultTtlMs?: number;
    /** The worker script (tests). */
    workerPath?: string;
    /**
     * Caps on previews (limits.ts), for `upPreview` calls that pass none. Default:
     * CATALYST_PREVIEWS_PER_OWNER and CATALYST_PREVIEWS_PER_PROJECT, else no cap.
     */
    previewLimits?: PreviewLimits;
}

/** Arguments of {@link Automation.upPreview}. */
export interface PreviewUpArgs {
    /** Pull request number. */
    pr: number | string;
    /** The Project (default: `default`, whose previews are `pr-<n>`; another's are `pr-<n>--<project>`). */
    project?: string;
    /** The pull request's head branch. */
    branch: string;
    /** Head commit SHA. */
    sha?: string;
    /** Image to run, pinned (tag or digest). Default: the template's `catalyst:image`. */
    image?: string;
    /** Time to live from this `up`: `72h`, `7d`, or milliseconds. Default: 72h. */
    ttl?: string | number;
    /** GitHub users who own the preview (RBAC owners), a list or comma-separated. */
    owners?: string | string[];
    /** Extra config values laid over the template, e.g. `{ "catalyst:redis": { enabled: false } }`. */
    config?: Record<string, unknown>;
    /** Read every object back from the cluster first, so that the up also reverts drift. */
    refresh?: boolean;
    /** Caps checked before the preview is created (the controller: the Project's spec.limits). Default: the instance's. */
    limits?: PreviewLimits;
    /**
     * True: the up also puts the preview to sleep (if awake); false: it wakes it (if asleep);
     * undefined (the CLI and CI): it stays as it is (the controller's `spec.sleep`).
     */
    sleep?: boolean;
}

/**
 * The preview {@link Automation.destroyPreview} takes: a pull request number of the default
 * Project, or a number with its Project (whose stack is `pr-<n>--<project>`). One argument, so a
 * wrapper passing it on cannot drop the Project.
 */
export type PreviewRef = number | string | { pr: number | string; project?: string };

/** Arguments of {@link Automation.up} for named environments. */
export interface EnvironmentUpArgs {
    /** Image to deploy (pinned); default: the stack file's `catalyst:image`. */
    image?: string;
    sha?: string;
    branch?: string;
    /** Extra config values laid over the stack file's. */
    config?: Record<string, unknown>;
    /** Read every object back from the cluster first, so that the up also reverts drift. */
    refresh?: boolean;
}

/** Options of {@link Automation.collectGarbage}. */
export interface CollectGarbageOptions extends GcOptions {
    /** Maximum idle time of a preview: `72h`, or milliseconds (same as `ttlMs`). */
    ttl?: string | number;
    /** Progress of the destroys. */
    onEvent?: EventListener;
    /** Timeout of each destroy (default: the instance's operation timeout). */
    timeoutMs?: number;
}

function envNumber(name: string): number | undefined {
    const value = process.env[name];
    return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

/** The automation layer; one instance per process is enough (its locks are per instance). */
export class Automation {
    readonly repoRoot: string;
    readonly workRoot: string;
    readonly auditLog: string;
    readonly actor: string;
    readonly platformStack: string;
    readonly catalog: Catalog;
    private readonly defaultTtlMs: number;
    /** Read on the first upPreview, so that a bad variable fails that call only (InputError). */
    private previewLimits?: PreviewLimits;
    private readonly executor: StackExecutor;
    /** Per stack, the turn of the last call still reading before its job (see inOrder). */
    private readonly preludes = new Map<string, Promise<void>>();

    constructor(options: AutomationOptions = {}) {
        this.repoRoot = options.repoRoot ?? REPO_ROOT;
        this.workRoot = options.workRoot ?? process.env.CATALYST_WORK_ROOT ?? defaultWorkRoot(this.repoRoot);
        this.auditLog = options.auditLog ?? process.env.CATALYST_AUDIT_LOG ?? path.join(this.repoRoot, ".catalyst", "audit.log");
        this.actor = options.actor ?? defaultActor();
        this.platformStack = platformTarget(options.platformStack ?? process.env.CATALYST_PLATFORM_STACK ?? "dev", "platformStack").stack;
        this.defaultTtlMs = options.defaultTtlMs ?? 72 * 60 * MINUTE;
        this.previewLimits = options.previewLimits;
        const concurrency = options.concurrency ?? envNumber("CATALYST_CONCURRENCY") ?? availableParallelism();
        this.executor = new StackExecutor({
            repoRoot: this.repoRoot,
            workRoot: this.workRoot,
            auditLog: this.auditLog,
            actor: this.actor,
            concurrency,
            destroyConcurrency: options.destroyConcurrency ?? envNumber("CATALYST_DESTROY_CONCURRENCY") ?? 2 * concurrency,
            timeoutMs: options.timeoutMs ?? 30 * MINUTE,
            graceMs: options.graceMs ?? MINUTE,
            recoveryTimeoutMs: options.recoveryTimeoutMs ?? 10 * MINUTE,
            lockTimeoutMs: options.lockTimeoutMs ?? 10 * MINUTE,
            workerPath: options.workerPath,
        });
        this.catalog = new Catalog(this.repoRoot, this.workRoot);
    }

    /** The `catalyst:platformStack` reference environments get: `organization/<project>/<stack>`. */
    get platformReference(): string {
        return `organization/catalyst/${this.platformStack}`;
    }

    // --- previews -----------------------------------------------------------------------------

    /**
     * Creates or updates the preview of a pull request (stack `pr-<n>`) from the template
     * `Pulumi.pr.yaml` plus the PR's values. Idempotent: a repeated call changes nothing.
     * Throws {@link InputError} at once for bad input, before anything is created. With a cap
     * (limits.ts) a new preview that would break it is refused (status failed, the error names
     * the cap and the owner's previews) before any stack, work dir or namespace exists.
     */
    upPreview(args: PreviewUpArgs, call: CallOptions = {}): Operation<OperationResult> {
        const target = previewTarget(args.pr, "pr", args.project);
        const branch = parseBranch(args.branch);
        const sha = args.sha === undefined ? undefined : parseSha(args.sha);
        const image = args.image === undefined ? undefined : parseImage(args.image);
        const ttlMs = args.ttl === undefined ? this.defaultTtlMs : parseDurationInput(args.ttl, "ttl");
        const owners = args.owners === undefined ? undefined : parseOwners(args.owners);
        const now = new Date();
        const config: Record<string, unknown> = {
            "catalyst:platformStack": this.platformReference,
            "catalyst:pr": String(target.pr),
            "catalyst:branch": branch,
        };
        if (sha !== undefined) config["catalyst:sha"] = sha;
        if (image !== undefined) config["catalyst:image"] = image;
        if (owners !== undefined) config["catalyst:access"] = { owners: { users: owners } };
        Object.assign(config, args.config ?? {});
        this.checkWorkspace("pr", config);
        const tags: Record<string, string> = {
            [TAGS.kind]: "preview",
            [TAGS.pr]: String(target.pr),
            [TAGS.branch]: tagValue(branch),
            [TAGS.owner]: owners?.[0] ?? this.actor,
            [TAGS.createdAt]: now.toISOString(),
            [TAGS.updatedAt]: now.toISOString(),
            [TAGS.expiresAt]: new Date(now.getTime() + ttlMs).toISOString(),
        };
        if (sha !== undefined) tags[TAGS.sha] = sha;
        if (image !== undefined) tags[TAGS.image] = tagValue(image);
        Object.assign(tags, ownersTag(owners));
        const job: StackJob = {
            target,
            action: "up",
            workerAction: "up",
            configTemplate: "pr",
            config,
            tags,
            keepTags: [TAGS.createdAt],
            removeStack: false,
            allowedKinds: ["preview"],
            refresh: args.refresh,
        };
        const limits = args.limits ?? (this.previewLimits ??= previewLimitsFromEnv());
        const capped = limits.previewsPerOwner !== undefined || limits.previewsPerProject !== undefined;
        return new Operation((emit) => this.inOrder(job, call, emit, async () => {
            const started = Date.now();
            if (!capped) {
                // A sleeping preview stays asleep through a deploy (sleep.ts): its tags say so.
                this.applySleep(job, await this.previewTags(target.stack, emit), args.sleep, now);
                return undefined;
            }
            // Only a capped up pays for the listing. Two new previews of one owner racing each other
            // may both pass: the cap is fair use, not a quota the backend enforces.
            const claim = { stack: target.stack, project: target.project, owner: tags[TAGS.owner] };
            let previews: EnvironmentRecord[];
            try {
                previews = await this.listPreviews();
            } catch (err) {
                // No count, no new preview: a cap that cannot be checked is not waved through.
                return this.refuse(job, `could not count the previews for the cap, nothing was changed: ${(err as Error).message.split("\n")[0]}`, started, call, emit);
            }
            const own = previews.find((record) => record.stack === target.stack);
            this.applySleep(job, own?.sleepingSince === undefined ? undefined : { [TAGS.sleepingSince]: own.sleepingSince, [TAGS.sleepReason]: own.sleepReason ?? "manual" }, args.sleep, now);
            const refusal = checkPreviewLimits(previews, claim, limits);
            return refusal === undefined ? undefined : this.refuse(job, refusal.message, started, call, emit);
        }), call.onEvent);
    }

    /**
     * Puts a preview to sleep (sleep.ts): an ordinary up of its stack with `catalyst:sleep` set
     * and the rest of its last config, so every Deployment and StatefulSet goes to zero replicas
     * while volumes, Secrets, the database and the Ingress stay. A sleeping preview is left as it
     * is (a succeeded no-op); a preview that does not exist is refused.
     */
    sleepPreview(preview: PreviewRef, options: { reason?: SleepReason } = {}, call: CallOptions = {}): Operation<OperationResult> {
        const reason = options.reason ?? "manual";
        if (!SLEEP_REASONS.includes(reason)) throw new InputError("reason", `must be one of ${SLEEP_REASONS.join(", ")}, got ${JSON.stringify(reason)}`);
        return this.sleepOrWake(preview, "sleep", (now) => sleepSettings(now, reason), call);
    }

    /** Wakes a sleeping preview: the same up with `catalyst:sleep` empty; an awake preview is a succeeded no-op. */
    wakePreview(preview: PreviewRef, call: CallOptions = {}): Operation<OperationResult> {
        return this.sleepOrWake(preview, "wake", wakeSettings, call);
    }

    private sleepOrWake(preview: PreviewRef, what: "sleep" | "wake", settings: (now: Date) => { config: Record<string, unknown>; tags: Record<string, string> }, call: CallOptions): Operation<OperationResult> {
        const { pr, project } = typeof preview === "object" ? preview : { pr: preview, project: undefined };
        const target = previewTarget(pr, "pr", project);
        const { config, tags } = settings(new Date());
        const job: StackJob = { target, action: "up", workerAction: "up", configTemplate: "pr", config: {}, tags, keepTags: [], removeStack: false, allowedKinds: ["preview"] };
        return new Operation((emit) => this.inOrder(job, call, emit, async () => {
            const started = Date.now();
            let current: Record<string, string> | undefined;
            try {
                current = await this.catalog.tags(target.stack);
            } catch (err) {
                return this.refuse(job, `could not read ${target.stack}'s tags, nothing was changed: ${(err as Error).message.split("\n")[0]}`, started, call, emit);
            }
            if (current === undefined) return this.refuse(job, `no preview ${target.stack}: nothing to ${what}`, started, call, emit);
            if ((sleepStateOf(current).since !== undefined) === (what === "sleep")) {
                return this.settled(job, `${target.stack} is already ${what === "sleep" ? "asleep" : "awake"}`, started, call, emit);
            }
            job.config = { ...previousPreviewConfig(this.workRoot, target.stack, target.pr as number, current), "catalyst:platformStack": this.platformReference, ...config };
            return undefined;
        }), call.onEvent);
    }

    /**
     * Runs `prepare` (the backend reads before a preview's job: its tags, the listing for a cap),
     * then the job, unless `prepare` finished it early. Per stack in call order: a call's job is
     * queued on the stack's lock only after every earlier call's, so the reads do not reorder
     * two operations on one stack. The next call's reads start once this job is queued, not done.
     */
    private async inOrder(job: StackJob, call: CallOptions, emit: EventListener, prepare: () => Promise<OperationResult | undefined>): Promise<OperationResult> {
        const stack = job.target.stack;
        const previous = this.preludes.get(stack) ?? Promise.resolve();
        let release!: () => void;
        const turn = new Promise<void>((resolve) => (release = resolve));
        this.preludes.set(stack, turn);
        try {
            await previous;
            const early = await prepare();
            if (early !== undefined) return early;
            // The executor queues the job on the stack's lock synchronously, before its first await.
            const running = this.executor.run(job, call, emit);
            release();
            return await running;
        } finally {
            release();
            if (this.preludes.get(stack) === turn) this.preludes.delete(stack);
        }
    }

    /** Lays the preview's sleep state over an up: kept as the tags say, or changed as `sleep` asks. */
    private applySleep(job: StackJob, tags: Record<string, string> | undefined, sleep: boolean | undefined, now: Date): void {
        const asleep = sleepStateOf(tags).since !== undefined;
        const change = sleep === true && !asleep ? sleepSettings(now, "manual") : sleep === false && asleep ? wakeSettings(now) : undefined;
        if (change === undefined) {
            Object.assign(job.config, keepSleeping(tags));
            return;
        }
        Object.assign(job.config, change.config);
        Object.assign(job.tags, change.tags);
    }

    /** The tags of a preview's stack, undefined when it does not exist or (with a warning) cannot be read now. */
    private async previewTags(stack: string, emit: EventListener): Promise<Record<string, string> | undefined> {
        try {
            return await this.catalog.tags(stack);
        } catch (err) {
            // The up reads the same backend next: if it is really unreachable, the up fails there.
            emit(logEvent(stack, "warning", `could not read the sleep state from the tags (${(err as Error).message.split("\n")[0]}); deploying as awake`));
            return undefined;
        }
    }

    /**
     * Destroys the preview of a pull request and removes its stack once empty. A preview that does
     * not exist is a successful no-op; a failed destroy keeps the stack, so it can be retried.
     */
    destroyPreview(preview: PreviewRef, call: CallOptions = {}): Operation<OperationResult> {
        const { pr, project } = typeof preview === "object" ? preview : { pr: preview, project: undefined };
        return this.operation(this.destroyJob(previewTarget(pr, "pr", project), ["preview"], true), call);
    }

    /** The project's previews with their tags. */
    async listPreviews(): Promise<EnvironmentRecord[]> {
        return (await this.listEnvironments()).filter((record) => record.kind === "preview");
    }

    /**
     * Destroys previews past their TTL or whose pull request is closed (gc.ts), always through
     * Pulumi. Preview namespaces without a stack are reported and deleted only when asked.
     */
    async collectGarbage(options: CollectGarbageOptions = {}): Promise<GcReport> {
        const ttlMs = options.ttl === undefined ? options.ttlMs : parseDurationInput(options.ttl, "ttl");
        const started = Date.now();
        const report = await runGarbageCollection({
            listPreviews: () => this.listPreviews(),
            destroyPreview: (candidate) => this.destroyPreview(candidate.pr, { onEvent: options.onEvent, timeoutMs: options.timeoutMs, reason: `gc:${candidate.reason}` }).result,
            // The cluster client loads only when gc runs: other commands never pay for it.
            listPreviewNamespaces: async () => (await import("./cluster")).listPreviewNamespaces(),
            deleteNamespace: async (name) => (await import("./cluster")).deleteNamespace(name),
        }, { ...options, ttlMs });
        appendAudit(this.auditLog, {
            time: new Date().toISOString(),
            actor: this.actor,
            action: "gc",
            stack: "*",
            result: report.status,
            updateId: null,
            durationMs: Date.now() - started,
            dryRun: report.dryRun,
            candidates: report.candidates.length,
            destroyed: report.destroyed.filter((r) => r.status === "succeeded").length,
            orphanNamespaces: report.orphanNamespaces.length,
            deletedNamespaces: report.deletedNamespaces.length,
        });
        return report;
    }

    /**
     * Sleeps idle previews and applies a sleep schedule (gc-sleep.ts, idle.ts): an ordinary sleep
     * or wake of each preview it picks, reason `idle` or `schedule`. `metricsUrl` is the ingress
     * controller's Prometheus endpoint (needed for `idleMs`).
     */
    async autoSleep(options: AutoSleepOptions & { metricsUrl?: string; onEvent?: EventListener; timeoutMs?: number }): Promise<AutoSleepReport> {
        if (options.idleMs !== undefined && options.metricsUrl === undefined) throw new InputError("ingress-metrics", "is needed with an idle time: the URL of the ingress controller's metrics (CATALYST_INGRESS_METRICS_URL)");
        const activity = () => import("./activity");
        const call = (reason: string): CallOptions => ({ onEvent: options.onEvent, timeoutMs: options.timeoutMs, reason });
        return runAutoSleep({
            listPreviews: () => this.listPreviews(),
            sleep: (record, reason) => this.sleepPreview({ pr: record.pr as number, project: record.project }, { reason }, call(`auto-sleep:${reason}`)).result,
            wake: (record) => this.wakePreview({ pr: record.pr as number, project: record.project }, call("auto-sleep:schedule")).result,
            metrics: async () => (await activity()).fetchMetrics(options.metricsUrl as string),
            readSample: async (namespace) => (await activity()).readActivity(namespace),
            writeSample: async (namespace, value) => (await activity()).writeActivity(namespace, value),
        }, options);
    }

    // --- named environments and the platform -----------------------------------------------------

    /** Creates or updates `production`, `staging` or `dev-<user>` from its `Pulumi.<name>.yaml`, if any. */
    up(name: string, args: EnvironmentUpArgs = {}, call: CallOptions = {}): Operation<OperationResult> {
        const target = environmentTarget(name);
        const config: Record<string, unknown> = { "catalyst:platformStack": this.platformReference };
        const tags: Record<string, string> = { [TAGS.kind]: target.kind, [TAGS.updatedAt]: new Date().toISOString(), [TAGS.createdAt]: new Date().toISOString() };
        if (args.image !== undefined) {
            config["catalyst:image"] = parseImage(args.image);
            tags[TAGS.image] = tagValue(args.image);
        }
        if (args.sha !== undefined) {
            config["catalyst:sha"] = parseSha(args.sha);
            tags[TAGS.sha] = config["catalyst:sha"] as string;
        }
        if (args.branch !== undefined) {
            config["catalyst:branch"] = parseBranch(args.branch);
            tags[TAGS.branch] = tagValue(args.branch);
        }
        Object.assign(config, args.config ?? {});
        this.checkWorkspace(this.stackFile(target.stack), config);
        return this.operation({
            target,
            action: "up",
            workerAction: "up",
            configTemplate: this.stackFile(target.stack),
            config,
            tags,
            keepTags: [TAGS.createdAt],
            removeStack: false,
            allowedKinds: ["production", "staging", "development"],
            refresh: args.refresh,
        }, call);
    }

    /** Destroys a named environment's resources; the empty stack (and its history) is kept. */
    destroy(name: string, call: CallOptions = {}): Operation<OperationResult> {
        return this.operation(this.destroyJob(environmentTarget(name), ["production", "staging", "development"], false), call);
    }

    /**
     * Checks a preview's or a named environment's stack for drift: a refresh in preview mode
     * (`pulumi refresh --preview-only`) under the same queue, locks, slots, timeout and audit
     * as up and destroy, which reads every object back from the cluster and changes nothing.
     * The result's `drift` lists the resources that differ from the state (empty: none);
     * repair it with an up that sets `refresh`.
     */
    checkDrift(stack: string, call: CallOptions = {}): Operation<OperationResult> {
        const kinds: StackKind[] = ["preview", "production", "staging", "development"];
        const target = assertKind(stack, kinds);
        return this.operation({ target, action: "drift", workerAction: "drift", config: {}, tags: {}, keepTags: [], removeStack: false, allowedKinds: kinds }, call);
    }

    /** Status of a named environment, or undefined when its stack does not exist. */
    status(name: string): Promise<EnvironmentStatus | undefined> {
        return this.catalog.status(environmentTarget(name).stack);
    }

    /** Creates or updates the platform stack from `Pulumi.<stack>.yaml`, else `Pulumi.dev.yaml`. */
    upPlatform(call: CallOptions = {}): Operation<OperationResult> {
        const target = platformTarget(this.platformStack);
        return this.operation({
            target,
            action: "up",
            workerAction: "up",
            configTemplate: this.stackFile(target.stack) ?? "dev",
            config: {},
            tags: { [TAGS.kind]: "platform", [TAGS.updatedAt]: new Date().toISOString() },
            keepTags: [],
            removeStack: false,
            allowedKinds: ["platform"],
        }, call);
    }

    /** Destroys the platform; refused while any environment stack still holds resources. */
    destroyPlatform(call: CallOptions = {}): Operation<OperationResult> {
        const target = platformTarget(this.platformStack);
        const job = this.destroyJob(target, ["platform"], false);
        return new Operation(async (emit) => {
            const started = Date.now();
            // A stack whose size the backend did not report may hold resources: it blocks too.
            const busy = (await this.listEnvironments()).filter((r) => r.kind !== "platform" && (r.resourceCount === undefined || r.resourceCount > 0));
            if (busy.length > 0) {
                const error = `environment stacks may still hold resources (${busy.map((r) => (r.resourceCount === undefined ? `${r.stack}: size unknown` : r.stack)).join(", ")}); destroy them first`;
                return this.refuse(job, error, started, call, emit);
            }
            return this.executor.run(job, call, emit);
        }, call.onEvent);
    }

    /** Status of the platform stack, or undefined when it does not exist. */
    platformStatus(): Promise<EnvironmentStatus | undefined> {
        return this.catalog.status(this.platformStack);
    }

    /** Every stack of the project with its tags (previews, environments, platform). */
    listEnvironments(): Promise<EnvironmentRecord[]> {
        return this.catalog.records();
    }

    /** One stack's status by name (any kind), or undefined when it does not exist. */
    getEnvironment(name: string): Promise<EnvironmentStatus | undefined> {
        return this.catalog.status(parseStackName(name).stack);
    }

    /**
     * The last `limit` operations of one stack by name (any kind), newest first, from the
     * engine's own update history (history.ts): one `pulumi` process. Undefined when the stack
     * does not exist; an InputError for a bad name or limit.
     */
    environmentOperations(name: string, limit: number = DEFAULT_OPERATIONS_LIMIT): Promise<StackOperation[] | undefined> {
        const stack = parseStackName(name).stack;
        return this.catalog.operations(stack, parseOperationsLimit(limit));
    }

    /**
     * The resources one stack's state holds (type, name, URN, parent, provider; never inputs or
     * outputs): one `pulumi stack export`. Undefined when the stack does not exist.
     */
    environmentResources(name: string): Promise<StackResource[] | undefined> {
        return this.catalog.resources(parseStackName(name).stack);
    }

    // --- the machinery -----------------------------------------------------------------------------

    private stackFile(stack: string): string | undefined {
        return existsSync(path.join(this.repoRoot, `Pulumi.${stack}.yaml`)) ? stack : undefined;
    }

    /**
     * The workspace's devcontainer.json is a file of the repository, not a flag: a bad one is bad
     * input all the same, refused here (InputError, exit 2) before any stack is touched.
     */
    private checkWorkspace(template: string | undefined, config: Record<string, unknown>): void {
        const file = template === undefined ? undefined : path.join(this.repoRoot, `Pulumi.${template}.yaml`);
        const settings = file !== undefined && existsSync(file) ? yaml.load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } : {};
        const base = settings?.config?.["catalyst:workspace"];
        const patch = config["catalyst:workspace"];
        const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
        const workspace = isObject(base) && isObject(patch) ? { ...base, ...patch } : patch ?? base;
        const problem = devcontainerProblem(workspace, this.repoRoot);
        if (problem !== undefined) {
            const colon = problem.indexOf(": ");
            throw new InputError(problem.slice(0, colon), problem.slice(colon + 2));
        }
    }

    private destroyJob(target: StackTarget, allowedKinds: StackKind[], removeStack: boolean): StackJob {
        return { target, action: "destroy", workerAction: "destroy", config: {}, tags: {}, keepTags: [], removeStack, allowedKinds };
    }

    /** A job refused before it ran: a failed result, audited and reported like any other. */
    private refuse(job: StackJob, error: string, started: number, call: CallOptions, emit: EventListener): OperationResult {
        return this.finishedEarly(job, { status: "failed", error }, started, call, emit);
    }

    /** A job with nothing to do: a succeeded no-op, audited and reported like any other. */
    private settled(job: StackJob, note: string, started: number, call: CallOptions, emit: EventListener): OperationResult {
        emit(logEvent(job.target.stack, "info", note));
        return this.finishedEarly(job, { status: "succeeded", changed: false, noop: true }, started, call, emit);
    }

    /** The result of a job that ends before any worker ran: audited, and its `done` event sent. */
    private finishedEarly(job: StackJob, outcome: Pick<OperationResult, "status" | "error" | "changed" | "noop">, started: number, call: CallOptions, emit: EventListener): OperationResult {
        const result: OperationResult = {
            action: job.action,
            stack: job.target.stack,
            kind: job.target.kind,
            ...outcome,
            durations: { totalMs: Date.now() - started, waitMs: 0, runMs: 0 },
        };
        if (job.target.pr !== undefined) result.pr = job.target.pr;
        appendAudit(this.auditLog, auditRecord(result, this.actor, call.reason));
        emit({ type: "done", stack: job.target.stack, status: result.status, result, time: new Date().toISOString() });
        return result;
    }

    private operation(job: StackJob, call: CallOptions): Operation<OperationResult> {
        return new Operation((emit) => this.executor.run(job, call, emit), call.onEvent);
    }

}

let shared: Automation | undefined;

/** The process-wide instance behind the free functions below (default options). */
export function defaultAutomation(): Automation {
    shared ??= new Automation();
    return shared;
}

/** {@link Automation.upPreview} on the default instance. */
export const upPreview = (args: PreviewUpArgs, call?: CallOptions) => defaultAutomation().upPreview(args, call);
/** {@link Automation.destroyPreview} on the default instance. */
export const destroyPreview = (preview: PreviewRef, call?: CallOptions) => defaultAutomation().destroyPreview(preview, call);
/** {@link Automation.sleepPreview} on the default instance. */
export const sleepPreview = (preview: PreviewRef, options?: { reason?: SleepReason }, call?: CallOptions) => defaultAutomation().sleepPreview(preview, options, call);
/** {@link Automation.wakePreview} on the default instance. */
export const wakePreview = (preview: PreviewRef, call?: CallOptions) => defaultAutomation().wakePreview(preview, call);
/** {@link Automation.listEnvironments} on the default instance. */
export const listEnvironments = () => defaultAutomation().listEnvironments();
/** {@link Automation.getEnvironment} on the default instance. */
export const getEnvironment = (name: string) => defaultAutomation().getEnvironment(name);
/** {@link Automation.collectGarbage} on the default instance. */
export const collectGarbage = (options?: CollectGarbageOptions) => defaultAutomation().collectGarbage(options);
/** {@link Automation.up} on the default instance. */
export const up = (name: string, args?: EnvironmentUpArgs, call?: CallOptions) => defaultAutomation().up(name, args, call);
/** {@link Automation.destroy} on the default instance. */
export const destroy = (name: string, call?: CallOptions) => defaultAutomation().destroy(name, call);
/** {@link Automation.status} on the default instance. */
export const status = (name: string) => defaultAutomation().status(name);

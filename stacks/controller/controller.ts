import { environmentLeaseName } from "../../components/naming";
import { EnvironmentObject, ProjectObject } from "../resources/types";
import { ControlPlaneApi, LeaseRecord, Watch } from "./cluster";
import { condition, isTrue } from "./conditions";
import { LeaseManager } from "./leases";
import { ControllerMetrics } from "./metrics";
import { WorkQueue } from "./queue";
import { Reconciler, ReconcilerSettings, StackOperations } from "./reconcile";
import { leaseBound, mustStop } from "./takeover";

/**
 * `catalyst controller`: watches Projects and Environments of one namespace (informers, with a
 * periodic resync), queues Environments that need work, and runs at most `concurrency` reconciles
 * at once, each under the Environment's Lease (leases.ts), so that any number of replicas share
 * the work and exactly one works on an Environment at a time.
 */

/** Settings of a {@link Controller}. */
export interface ControllerSettings {
    /** Where Projects, Environments and the Leases live. */
    namespace: string;
    /** This replica's name (the pod name in a cluster). */
    identity: string;
    /** Reconciles at once; a replica takes a lease only when it has a free slot. */
    concurrency: number;
    leaseDurationSeconds: number;
    /** Every Environment is looked at again after this long (TTL, missed events). */
    resyncMs: number;
    maxFailures: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** Drift check of each Ready Environment this often (jittered); 0: never. */
    driftIntervalMs: number;
    /** One JSON line per call. */
    log: (record: Record<string, unknown>) => void;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/** True when an Environment (as cached) may need work: a new generation, not Ready, deleting, expiring. */
export function needsWork(environment: EnvironmentObject): boolean {
    const generation = environment.metadata.generation ?? 1;
    const status = environment.status;
    return environment.metadata.deletionTimestamp !== undefined ||
        status?.observedGeneration !== generation ||
        status.expiresAt !== undefined ||
        !isTrue(status.conditions, "Ready", generation);
}

/** One controller replica. */
export class Controller {
    private readonly queue = new WorkQueue();
    private readonly leases: LeaseManager;
    private readonly reconcilerSettings: ReconcilerSettings;
    private environments?: Watch<EnvironmentObject>;
    private projects?: Watch<ProjectObject>;
    private stopped = false;
    private readonly running = new Set<Promise<void>>();
    private loop?: Promise<void>;

    constructor(private readonly api: ControlPlaneApi, private readonly stacks: StackOperations, readonly metrics: ControllerMetrics, private readonly settings: ControllerSettings) {
        this.leases = new LeaseManager(api, { namespace: settings.namespace, identity: settings.identity, durationSeconds: settings.leaseDurationSeconds });
        this.reconcilerSettings = {
            identity: settings.identity,
            maxFailures: settings.maxFailures,
            backoffBaseMs: settings.backoffBaseMs,
            backoffMaxMs: settings.backoffMaxMs,
            driftIntervalMs: settings.driftIntervalMs,
        };
    }

    /** True once both watches listed their objects. */
    get ready(): boolean {
        return (this.environments?.synced ?? false) && (this.projects?.synced ?? false);
    }

    /** Starts the watches and the work loop. */
    async start(): Promise<void> {
        const { namespace, log } = this.settings;
        const onError = (kind: string) => (err: Error) => log({ level: "warning", msg: `watch of ${kind} failed; restarting`, error: err.message });
        this.environments = await this.api.watchEnvironments(namespace, {
            changed: (env) => {
                if (needsWork(env)) this.queue.add(key(env.metadata.namespace, env.metadata.name));
            },
            error: onError("environments"),
        });
        this.projects = await this.api.watchProjects(namespace, {
            // A Project that appears or changes may make its Environments valid or change them,
            // or ask for the repair of those that drifted.
            changed: (project) => this.environments?.list()
                .filter((env) => env.spec.project === project.metadata.name && (needsWork(env) || condition(env.status?.conditions, "Drifted")?.status === "True"))
                .forEach((env) => this.queue.add(key(env.metadata.namespace, env.metadata.name))),
            // Deleting a Project deletes its Environments, each destroyed through its finalizer.
            deleted: (project) => {
                for (const env of this.environments?.list() ?? []) {
                    if (env.spec.project !== project.metadata.name || env.metadata.deletionTimestamp !== undefined) continue;
                    log({ level: "info", msg: "project deleted: deleting its environment", project: project.metadata.name, environment: env.metadata.name });
                    this.api.deleteEnvironment(env.metadata.namespace, env.metadata.name).catch((err: Error) =>
                        log({ level: "warning", msg: "could not delete the environment of a deleted project", environment: env.metadata.name, error: err.message }));
                }
            },
            error: onError("projects"),
        });
        log({ level: "info", msg: "controller started", identity: this.settings.identity, namespace, concurrency: this.settings.concurrency, driftIntervalMs: this.settings.driftIntervalMs });
        this.loop = this.run();
    }

    /** Stops taking work, waits for the reconciles in flight, stops the watches. */
    async stop(): Promise<void> {
        this.stopped = true;
        this.queue.add("\u0000wake");
        await this.loop;
        await Promise.all([...this.running]);
        await Promise.all([this.environments?.stop(), this.projects?.stop()]);
    }

    private async run(): Promise<void> {
        let lastResync = Date.now();
        while (!this.stopped) {
            if (Date.now() - lastResync >= this.settings.resyncMs) {
                lastResync = Date.now();
                for (const env of this.environments?.list() ?? []) this.queue.add(key(env.metadata.namespace, env.metadata.name));
            }
            while (!this.stopped && this.running.size < this.settings.concurrency) {
                const next = this.queue.take();
                if (next === undefined) break;
                if (next === "\u0000wake") {
                    this.queue.done(next);
                    continue;
                }
                const work: Promise<void> = this.work(next).finally(() => {
                    this.running.delete(work);
                    this.queue.done(next);
                });
                this.running.add(work);
            }
            this.metrics.queueDepth.set(this.queue.depth);
            this.metrics.inFlight.set(this.running.size);
            await this.queue.waitForWork(Math.min(this.settings.resyncMs, 5_000));
        }
    }

    private async work(item: string): Promise<void> {
        const [namespace, name] = item.split("/");
        const { log } = this.settings;
        const leaseName = environmentLeaseName(namespace, name);
        let lease: LeaseRecord;
        let takenFrom: string | undefined;
        try {
            const acquired = await this.leases.tryAcquire(leaseName);
            if (!acquired.held) {
                // Its holder is on it; look again when its lease would run out.
                this.queue.add(item, acquired.retryInMs + Math.random() * 1000);
                return;
            }
            lease = acquired.lease;
            takenFrom = acquired.takenFrom;
        } catch (err) {
            log({ level: "warning", msg: "could not read or take the lease", environment: item, error: (err as Error).message });
            this.queue.add(item, 5_000);
            return;
        }
        this.metrics.leasesHeld.inc();
        const renewEvery = Math.max(1000, (this.settings.leaseDurationSeconds * 1000) / 3);
        let renewing = Promise.resolve();
        const stop = new AbortController();
        let renewedAt = Date.now();
        const renewal = setInterval(() => {
            renewing = renewing.then(async () => {
                try {
                    const renewed = await this.leases.renew(lease);
                    if (renewed === undefined) {
                        log({ level: "error", msg: "lost the lease while working; stopping the operation", environment: item });
                        stop.abort();
                    } else {
                        lease = renewed;
                        renewedAt = Date.now();
                    }
                } catch (err) {
                    log({ level: "warning", msg: "lease renewal failed; retrying", environment: item, error: (err as Error).message });
                    if (!stop.signal.aborted && mustStop(renewedAt, this.settings.leaseDurationSeconds, Date.now())) {
                        log({ level: "error", msg: "could not renew the lease in time; stopping the operation before another replica may take it", environment: item });
                        stop.abort();
                    }
                }
            });
        }, renewEvery);
        if (takenFrom !== undefined) {
            log({ level: "info", msg: `took over the expired lease of ${takenFrom}; its backend locks count as stale`, environment: item });
        }
        const reconciler = new Reconciler(this.api, leaseBound(this.stacks, {
            signal: stop.signal,
            ...(takenFrom !== undefined ? { deadLockHosts: [takenFrom] } : {}),
        }), this.reconcilerSettings);
        const started = Date.now();
        let result = "error";
        try {
            const siblings = this.environments?.list() ?? [];
            const outcome = await reconciler.reconcile(namespace, name, siblings);
            result = outcome.result;
            if (outcome.operation !== undefined) {
                log({ level: outcome.operation.status === "succeeded" ? "info" : "warning", msg: `${outcome.operation.action} ${outcome.operation.status}`, environment: item, stack: outcome.operation.stack, error: outcome.operation.error });
                if (outcome.operation.status !== "succeeded" && outcome.operation.status !== "busy") this.metrics.failures.inc({ action: outcome.operation.action });
            }
            if (outcome.requeueAfterMs !== undefined) this.queue.add(item, outcome.requeueAfterMs);
        } catch (err) {
            // API server unreachable and the like: never a destroy, only a retry.
            log({ level: "warning", msg: "reconcile failed; retrying", environment: item, error: (err as Error).message });
            this.queue.add(item, 5_000);
        } finally {
            clearInterval(renewal);
            await renewing;
            await this.leases.release(lease).catch(() => undefined);
            this.metrics.leasesHeld.dec();
            this.metrics.reconciles.inc({ result });
            this.metrics.duration.observe({ result }, (Date.now() - started) / 1000);
        }
    }
}

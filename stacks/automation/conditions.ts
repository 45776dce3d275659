import type { Condition, ConditionType } from "../resources/types";
import type { EnvironmentStatus } from "./types";

/**
 * An environment's conditions in the Kubernetes shape (`type`, `status`, `reason`, `message`,
 * `lastTransitionTime` when known), computed from what `GET /environments/:name` reads anyway:
 * the stack's tags, state and history (catalog.ts), the namespace's pods and, in resource mode,
 * the Environment's own `status.conditions` as the controller writes them. No engine process of
 * its own. Each says one reason why an environment may not answer. Pure (no Node imports at run
 * time): the dashboard's bundle imports {@link isHealthy}.
 */

/** The condition types this module computes (the controller's own types come in resource mode). */
export const ENVIRONMENT_CONDITION_TYPES = ["Deployed", "PodsReady", "Interrupted", "Sleeping", "Expired"] as const;
export type EnvironmentConditionType = (typeof ENVIRONMENT_CONDITION_TYPES)[number];

/** A condition as `GET /environments/:name` answers it. */
export interface EnvironmentCondition {
    type: EnvironmentConditionType | ConditionType;
    status: "True" | "False" | "Unknown";
    /** One CamelCase word, as in Kubernetes. */
    reason: string;
    message: string;
    /** ISO time of the last change of `status`, when a fact says it. */
    lastTransitionTime?: string;
    /** Resource mode: the Environment generation the controller's condition describes. */
    observedGeneration?: number;
}

/**
 * The status of each type when all is well, so a front end can mark the others without knowing
 * what they mean: positive types (Deployed, Ready) are fine when True, abnormal ones (Stalled,
 * Interrupted) when False.
 */
export const HEALTHY_STATUS: Record<EnvironmentConditionType | ConditionType, "True" | "False"> = {
    Deployed: "True", PodsReady: "True", Interrupted: "False", Sleeping: "False", Expired: "False",
    Ready: "True", Progressing: "False", Stalled: "False", Drifted: "False",
};

/** True when `condition` has the status that is fine for its type (a type not known here: not judged, fine). */
export function isHealthy(condition: { type: string; status: string }): boolean {
    const healthy = (HEALTHY_STATUS as Record<string, string | undefined>)[condition.type];
    return healthy === undefined || condition.status === healthy;
}

/** What the conditions are computed from. */
export interface ConditionFacts {
    status: EnvironmentStatus;
    /** The namespace's pods; undefined when they were not read. */
    pods?: readonly { name: string; ready: boolean; phase?: string }[];
    /** Why the pods could not be read. */
    clusterError?: string;
    /** Resource mode: the Environment's status conditions (the controller's), or why it could not be read. */
    environment?: { conditions?: readonly Condition[] } | { error: string };
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

function deployed(status: EnvironmentStatus): EnvironmentCondition {
    const deploy = status.lastDeploy;
    const since = deploy?.since === undefined ? {} : { lastTransitionTime: deploy.since };
    if (status.updateInProgress || deploy?.result === "in-progress") {
        return { type: "Deployed", status: "Unknown", reason: "OperationInProgress", message: `an operation of the stack is running${deploy?.result === "in-progress" ? ` (the ${deploy.kind} started at ${deploy.startTime})` : ""}` };
    }
    if (deploy === undefined) return { type: "Deployed", status: "False", reason: "NeverDeployed", message: "the stack's history holds no update" };
    const outcome = `${capitalized(deploy.kind)}${capitalized(deploy.result)}`;
    const at = deploy.endTime === undefined ? "" : ` at ${deploy.endTime}`;
    if (deploy.kind === "update" && deploy.result === "succeeded") {
        return { type: "Deployed", status: "True", reason: outcome, message: `the last update succeeded${at}`, ...since };
    }
    if (deploy.kind === "destroy") return { type: "Deployed", status: "False", reason: outcome, message: `the last operation was a destroy (${deploy.result}${at}); an up deploys the stack again`, ...since };
    return { type: "Deployed", status: "False", reason: outcome, message: `the last update ${deploy.result}${at}; the operation's messages say why, and an up tries again`, ...since };
}

function podsReady(facts: ConditionFacts): EnvironmentCondition | undefined {
    if (facts.pods === undefined) {
        return facts.clusterError === undefined ? undefined : { type: "PodsReady", status: "Unknown", reason: "ClusterUnreachable", message: facts.clusterError };
    }
    const pods = facts.pods;
    const namespace = facts.status.namespace ?? "the namespace";
    if (pods.length === 0) return { type: "PodsReady", status: "False", reason: "NoPods", message: `no pods in ${namespace}` };
    const waiting = pods.filter((p) => !p.ready);
    const counts = `${pods.length - waiting.length} of ${pods.length} pods ready`;
    if (waiting.length === 0) return { type: "PodsReady", status: "True", reason: "AllReady", message: counts };
    const names = waiting.slice(0, 5).map((p) => (p.phase === undefined ? p.name : `${p.name} (${p.phase})`));
    return { type: "PodsReady", status: "False", reason: "PodsNotReady", message: `${counts}; not ready: ${names.join(", ")}${waiting.length > 5 ? `, and ${waiting.length - 5} more` : ""}` };
}

function interrupted(status: EnvironmentStatus): EnvironmentCondition {
    const n = status.pendingOperations;
    if (n === 0) return { type: "Interrupted", status: "False", reason: "NoPendingOperations", message: "no resource operation was left unfinished" };
    return {
        type: "Interrupted", status: "True", reason: "PendingOperations",
        message: `${n} resource operation${n === 1 ? " was" : "s were"} interrupted (an update was killed); the next up or destroy of ${status.stack} repairs ${n === 1 ? "it" : "them"} first`,
    };
}

function sleeping(status: EnvironmentStatus): EnvironmentCondition | undefined {
    if (status.kind !== "preview" && status.kind !== "development") return undefined;
    if (status.sleepingSince === undefined) return { type: "Sleeping", status: "False", reason: "Awake", message: "its workloads run" };
    const wake = status.kind === "preview" && status.pr !== undefined ? `catalyst preview wake --pr ${status.pr}${status.project ? ` --project ${status.project}` : ""}` : "a wake";
    return {
        type: "Sleeping", status: "True", reason: capitalized(status.sleepReason ?? "manual"),
        message: `asleep since ${status.sleepingSince} (${status.sleepReason ?? "manual"}): workloads scaled to zero, data and URL kept; ${wake} starts them`,
        lastTransitionTime: status.sleepingSince,
    };
}

function expired(status: EnvironmentStatus, now: Date): EnvironmentCondition | undefined {
    const at = status.expiresAt;
    if (at === undefined || Number.isNaN(Date.parse(at))) return undefined;
    if (Date.parse(at) <= now.getTime()) {
        return { type: "Expired", status: "True", reason: "TTLPassed", message: `its time to live ended at ${at}; garbage collection destroys it`, lastTransitionTime: new Date(at).toISOString() };
    }
    return { type: "Expired", status: "False", reason: "TTLRunning", message: `expires at ${at}; an up with a new ttl moves it` };
}

/**
 * The conditions of an environment: in resource mode the controller's first (Ready, Progressing,
 * Stalled, Drifted, as written; Ready Unknown when the Environment could not be read), then Deployed, PodsReady (when pods were read or could not be),
 * Interrupted, Sleeping (previews and development environments) and Expired (with an expiry).
 */
export function environmentConditions(facts: ConditionFacts, now: Date = new Date()): EnvironmentCondition[] {
    const environment = facts.environment;
    if (environment !== undefined && "error" in environment) {
        return [{ type: "Ready", status: "Unknown", reason: "EnvironmentUnreadable", message: environment.error }, ...ownConditions(facts, now)];
    }
    const controller: EnvironmentCondition[] = (environment?.conditions ?? []).map((c) => {
        const copy: EnvironmentCondition = { type: c.type as ConditionType, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime };
        if (c.observedGeneration !== undefined) copy.observedGeneration = c.observedGeneration;
        return copy;
    });
    return [...controller, ...ownConditions(facts, now)];
}

function ownConditions(facts: ConditionFacts, now: Date): EnvironmentCondition[] {
    const own = [deployed(facts.status), podsReady(facts), interrupted(facts.status), sleeping(facts.status), expired(facts.status, now)];
    return own.filter((c): c is EnvironmentCondition => c !== undefined);
}

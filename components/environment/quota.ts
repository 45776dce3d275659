import type * as k8s from "@pulumi/kubernetes";

/**
 * Sizing of an environment namespace: the ResourceQuota and LimitRange of each tier, and the
 * Kubernetes quantity parser that validates overrides. All functions are pure.
 */

/** Sizing classes of environments; by default the stack kind picks the tier. */
export type Tier = "preview" | "development" | "staging" | "production";

/** Every tier, smallest first. */
export const TIERS: readonly Tier[] = ["preview", "development", "staging", "production"];

/** The hard limits of an environment's ResourceQuota. */
export interface QuotaSpec {
    /** Sum of CPU requests of all pods (`requests.cpu`). */
    requestsCpu: string;
    /** Sum of memory requests of all pods (`requests.memory`). */
    requestsMemory: string;
    /** Sum of CPU limits of all pods (`limits.cpu`). */
    limitsCpu: string;
    /** Sum of memory limits of all pods (`limits.memory`). */
    limitsMemory: string;
    /** Number of pods. */
    pods: number;
    /** Number of PersistentVolumeClaims. */
    persistentVolumeClaims: number;
    /** Sum of storage requested by PersistentVolumeClaims (`requests.storage`). */
    storage: string;
}

/** The per-container defaults and ceiling of an environment's LimitRange. */
export interface LimitSpec {
    /** CPU limit of a container that declares none. */
    defaultCpu: string;
    /** Memory limit of a container that declares none. */
    defaultMemory: string;
    /** CPU request of a container that declares none. */
    defaultRequestCpu: string;
    /** Memory request of a container that declares none. */
    defaultRequestMemory: string;
    /** Largest CPU limit a single container may have. */
    maxCpu: string;
    /** Largest memory limit a single container may have. */
    maxMemory: string;
}

// Limits are twice the requests for CPU (bursting is cheap) and for memory (so that a rolling
// update's extra pod still fits); the requests are what the scheduler reserves.
const QUOTAS: Record<Tier, QuotaSpec> = {
    preview: {
        requestsCpu: "2", requestsMemory: "4Gi", limitsCpu: "4", limitsMemory: "8Gi",
        pods: 20, persistentVolumeClaims: 5, storage: "20Gi",
    },
    development: {
        requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi",
        pods: 30, persistentVolumeClaims: 10, storage: "50Gi",
    },
    staging: {
        requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi",
        pods: 50, persistentVolumeClaims: 10, storage: "50Gi",
    },
    production: {
        requestsCpu: "8", requestsMemory: "16Gi", limitsCpu: "16", limitsMemory: "32Gi",
        pods: 100, persistentVolumeClaims: 20, storage: "200Gi",
    },
};

const LIMITS: Record<Tier, LimitSpec> = {
    preview: {
        defaultCpu: "500m", defaultMemory: "256Mi", defaultRequestCpu: "100m", defaultRequestMemory: "128Mi",
        maxCpu: "2", maxMemory: "2Gi",
    },
    development: {
        defaultCpu: "500m", defaultMemory: "512Mi", defaultRequestCpu: "100m", defaultRequestMemory: "128Mi",
        maxCpu: "4", maxMemory: "4Gi",
    },
    staging: {
        defaultCpu: "500m", defaultMemory: "512Mi", defaultRequestCpu: "100m", defaultRequestMemory: "256Mi",
        maxCpu: "4", maxMemory: "8Gi",
    },
    production: {
        defaultCpu: "1", defaultMemory: "1Gi", defaultRequestCpu: "250m", defaultRequestMemory: "512Mi",
        maxCpu: "8", maxMemory: "16Gi",
    },
};

/** The ResourceQuota of `tier` with `overrides` applied. */
export function quotaFor(tier: Tier, overrides: Partial<QuotaSpec> = {}): QuotaSpec {
    return { ...QUOTAS[tier], ...stripUndefined(overrides) };
}

/** The LimitRange of `tier` with `overrides` applied. */
export function limitRangeFor(tier: Tier, overrides: Partial<LimitSpec> = {}): LimitSpec {
    return { ...LIMITS[tier], ...stripUndefined(overrides) };
}

/** The `spec.hard` of the ResourceQuota: load balancers and node ports are always 0. */
export function quotaHard(spec: QuotaSpec): Record<string, string> {
    return {
        "requests.cpu": spec.requestsCpu,
        "requests.memory": spec.requestsMemory,
        "limits.cpu": spec.limitsCpu,
        "limits.memory": spec.limitsMemory,
        pods: String(spec.pods),
        persistentvolumeclaims: String(spec.persistentVolumeClaims),
        "requests.storage": spec.storage,
        // Tenants reach the outside only through the shared ingress; a LoadBalancer or NodePort
        // Service would bypass it (and its network policy) and cost money on real clouds.
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    };
}

/** The `spec.limits` of the LimitRange. */
export function limitRangeItems(spec: LimitSpec): k8s.types.input.core.v1.LimitRangeItem[] {
    return [
        {
            type: "Container",
            default: { cpu: spec.defaultCpu, memory: spec.defaultMemory },
            defaultRequest: { cpu: spec.defaultRequestCpu, memory: spec.defaultRequestMemory },
            max: { cpu: spec.maxCpu, memory: spec.maxMemory },
        },
    ];
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const FACTORS: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * Parses a Kubernetes quantity (`500m`, `2`, `256Mi`, `1.5Gi`) into base units (cores or bytes).
 * Returns undefined for anything else; exponent forms (`1e3`) are not accepted here.
 */
export function parseQuantity(value: string): number | undefined {
    const match = QUANTITY.exec(value);
    return match ? Number(match[1]) * FACTORS[match[2] ?? ""] : undefined;
}

/**
 * Checks a quota and a limit range for consistency: limits at least the requests, and the
 * container defaults within the container ceiling. Returns messages naming the keys.
 */
export function sizingProblems(quota: QuotaSpec, limits: LimitSpec, prefix = "catalyst"): string[] {
    const problems: string[] = [];
    const q = (k: keyof QuotaSpec) => parseQuantity(String(quota[k])) ?? NaN;
    const l = (k: keyof LimitSpec) => parseQuantity(limits[k]) ?? NaN;
    const atLeast = (small: number, large: number, key: string, message: string) => {
        if (small > large) {
            problems.push(`${prefix}:${key}: ${message}`);
        }
    };
    atLeast(q("requestsCpu"), q("limitsCpu"), "quota.limitsCpu", "must be at least quota.requestsCpu");
    atLeast(q("requestsMemory"), q("limitsMemory"), "quota.limitsMemory", "must be at least quota.requestsMemory");
    atLeast(l("defaultRequestCpu"), l("defaultCpu"), "limits.defaultCpu", "must be at least limits.defaultRequestCpu");
    atLeast(l("defaultRequestMemory"), l("defaultMemory"), "limits.defaultMemory", "must be at least limits.defaultRequestMemory");
    atLeast(l("defaultCpu"), l("maxCpu"), "limits.maxCpu", "must be at least limits.defaultCpu");
    atLeast(l("defaultMemory"), l("maxMemory"), "limits.maxMemory", "must be at least limits.defaultMemory");
    return problems;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

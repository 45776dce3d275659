import * as k8s from "@pulumi/kubernetes";

/**
 * Where a Helm chart comes from. Real clusters use the upstream repository at a pinned version;
 * air-gapped clusters and the local default use a release tarball (or an unpacked chart) on disk.
 */
export type ChartSource =
    | { kind: "local"; path: string }
    | { kind: "repository"; repo: string; chart: string; version: string };

/** A chart the platform installs: its upstream coordinates and its release tarball's file name. */
export interface PinnedChart {
    /** Chart name in the repository. */
    chart: string;
    /** Pinned chart version. */
    version: string;
    /** Upstream Helm repository. */
    repo: string;
    /** File name of the release tarball (`<chart>-<version>.tgz`). */
    file: string;
}

/** ingress-nginx 4.15.1 (controller 1.15.1). */
export const INGRESS_NGINX_CHART: PinnedChart = {
    chart: "ingress-nginx",
    version: "4.15.1",
    repo: "https://kubernetes.github.io/ingress-nginx",
    file: "ingress-nginx-4.15.1.tgz",
};

/** CloudNativePG chart 0.29.0 (operator 1.30.0). */
export const CLOUDNATIVE_PG_CHART: PinnedChart = {
    chart: "cloudnative-pg",
    version: "0.29.0",
    repo: "https://cloudnative-pg.github.io/charts",
    file: "cloudnative-pg-0.29.0.tgz",
};

/** The upstream repository source of a pinned chart. */
export function repositorySource(pinned: PinnedChart): ChartSource {
    return { kind: "repository", repo: pinned.repo, chart: pinned.chart, version: pinned.version };
}

/** The `chart`, `version` and `repositoryOpts` arguments of a `helm.v4.Chart` for `source`. */
export function chartLocation(source: ChartSource): Pick<k8s.helm.v4.ChartArgs, "chart" | "version" | "repositoryOpts"> {
    if (source.kind === "local") {
        // A packaged chart on disk carries its own version; no repository is contacted.
        return { chart: source.path };
    }
    return { chart: source.chart, version: source.version, repositoryOpts: { repo: source.repo } };
}

/** True for object literals only: Outputs, assets and arrays are values, not maps to merge into. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
    if (typeof value !== "object" || value === null) {
        return false;
    }
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

/**
 * Deep-merges chart values: objects merge key by key, anything else in `override` (including
 * arrays) replaces the base value, as Helm itself merges values files. Neither input is changed.
 */
export function mergeValues(base: Record<string, unknown>, override: Record<string, unknown> = {}): Record<string, unknown> {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) {
        const current = result[key];
        result[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
    }
    return result;
}

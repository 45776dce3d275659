import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

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

/**
 * The environment variable naming a chart mirror: a directory of release tarballs
 * (`<chart>-<version>.tgz`), for clusters without access to the upstream repositories.
 */
export const CHART_MIRROR_VARIABLE = "CATALYST_CHART_MIRROR";

/** The upstream repository source of a pinned chart. */
export function repositorySource(pinned: PinnedChart): ChartSource {
    return { kind: "repository", repo: pinned.repo, chart: pinned.chart, version: pinned.version };
}

/** Thrown when an upstream chart repository cannot be reached; one line, shown without a stack trace. */
export class ChartUnreachableError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ChartUnreachableError";
    }
}

/** How {@link assertChartsReachable} reaches a repository; tests pass their own. */
export type ChartProbe = (url: string) => Promise<void>;

/** Asks for the repository's index with a short deadline; any answer at all means it is reachable. */
const fetchProbe: ChartProbe = async (url) => {
    await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(15_000) });
};

/**
 * Checks, before the program registers any resource, that every chart taken from an upstream
 * repository can be reached. Helm would otherwise fail on the chart fetch in the middle of the
 * update, after other objects were created, and with several lines of provider output; this
 * way a cluster without network and without a mirror gets one line and nothing is created.
 */
export async function assertChartsReachable(charts: readonly { pinned: PinnedChart; source: ChartSource }[], probe: ChartProbe = fetchProbe): Promise<void> {
    for (const { pinned, source } of charts) {
        if (source.kind !== "repository") {
            continue;
        }
        try {
            await probe(`${source.repo}/index.yaml`);
        } catch (err) {
            const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
            throw new ChartUnreachableError(
                `chart ${pinned.chart} ${pinned.version}: cannot reach ${source.repo} (${cause.split("\n")[0]}); ` +
                    `without network set ${CHART_MIRROR_VARIABLE} to a directory holding ${pinned.file}`,
            );
        }
    }
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

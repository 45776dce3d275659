import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartSource, chartLocation, CLOUDNATIVE_PG_CHART, mergeValues, repositorySource } from "./charts";
import { createNamespace } from "./namespace";
import { ResourceLimits, ResourceRequests } from "./workload";

/** Production limits of the operator: it caches every Cluster, Pod and Secret it manages. */
export const DEFAULT_OPERATOR_LIMITS: ResourceLimits = { cpu: "500m", memory: "512Mi" };

/** Arguments of {@link PostgresOperator}. */
export interface PostgresOperatorArgs {
    /** Where the chart comes from; defaults to the upstream repository at the pinned version. */
    chart?: ChartSource;
    /** Namespace to create and install into; defaults to `cnpg-system`. */
    namespace?: string;
    /** Helm release name; defaults to `cloudnative-pg` (so the operator Deployment is `cloudnative-pg`). */
    releaseName?: string;
    /**
     * Whether the operator's mutating and validating admission webhooks are installed; defaults to
     * true. Turn them off only where the operator pod cannot serve them (the local cluster): with
     * failurePolicy Fail, every Cluster create would fail against a webhook nobody answers.
     */
    webhooks?: pulumi.Input<boolean>;
    /** Operator replicas (leader-elected); defaults to 1. */
    replicas?: pulumi.Input<number>;
    /** Operator requests; defaults to 100m CPU and 128Mi memory. */
    requests?: pulumi.Input<ResourceRequests>;
    /** Operator limits; defaults to {@link DEFAULT_OPERATOR_LIMITS}. */
    limits?: pulumi.Input<ResourceLimits>;
    /** Labels added to the namespace and the operator pods. */
    labels?: Record<string, string>;
    /** Escape hatch: chart values merged over the computed ones. */
    values?: Record<string, unknown>;
}

/**
 * The chart values of the operator. The chart has no common-labels value, so of its objects only
 * the operator pods carry the platform labels (the Helm `app.kubernetes.io/instance` label marks
 * the rest).
 */
export function cnpgValues(args: PostgresOperatorArgs): Record<string, unknown> {
    const labels = args.labels ?? {};
    const webhooks = args.webhooks ?? true;
    const computed: Record<string, unknown> = {
        replicaCount: args.replicas ?? 1,
        crds: { create: true },
        webhook: { mutating: { create: webhooks }, validating: { create: webhooks } },
        config: { clusterWide: true },
        resources: { requests: args.requests ?? { cpu: "100m", memory: "128Mi" }, limits: args.limits ?? DEFAULT_OPERATOR_LIMITS },
        podLabels: labels,
        monitoring: { podMonitorEnabled: false, grafanaDashboard: { create: false } },
    };
    return mergeValues(computed, args.values);
}

/**
 * The CloudNativePG operator and its CRDs, from the Helm chart. The namespace enforces Pod
 * Security `restricted`: the chart runs the operator as a non-root user with a read-only root
 * file system, no capabilities and the RuntimeDefault seccomp profile. Its liveness and
 * readiness probes stay the chart's: the operator offers one endpoint (`/readyz`) for both.
 */
export class PostgresOperator extends pulumi.ComponentResource {
    /** Namespace of the operator. */
    public readonly namespace: pulumi.Output<string>;
    /** The Helm chart: custom resources must depend on it so that the CRDs exist first. */
    public readonly chart: k8s.helm.v4.Chart;

    constructor(name: string, args: PostgresOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:PostgresOperator", name, {}, opts);
        const ns = createNamespace(
            name,
            { name: args.namespace ?? "cnpg-system", podSecurity: "restricted", labels: args.labels },
            { parent: this },
        );
        this.chart = new k8s.helm.v4.Chart(
            `${name}-chart`,
            {
                ...chartLocation(args.chart ?? repositorySource(CLOUDNATIVE_PG_CHART)),
                name: args.releaseName ?? "cloudnative-pg",
                namespace: ns.metadata.name,
                values: cnpgValues(args),
                skipAwait: false,
            },
            { parent: this },
        );
        this.namespace = ns.metadata.name;
        this.registerOutputs({ namespace: this.namespace });
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { POD_SECURITY_VERSION, podSecurityNamespaceLabels } from "../common/podSecurity";
import { namespaceName, StackIdentity } from "../naming";
import { namespaceLabels, objectLabels } from "./labels";
import { environmentPolicies, PolicyInputs } from "./network";
import { LimitSpec, limitRangeItems, QuotaSpec, quotaHard } from "./quota";

export { POD_SECURITY_VERSION } from "../common/podSecurity";

/** Arguments of {@link EnvironmentNamespace}. */
export interface EnvironmentNamespaceArgs {
    /** The environment's stack identity; the namespace is `env-<stack>`. */
    identity: StackIdentity;
    /** The git branch the environment was built from, for the branch label. */
    branch?: string;
    /** The ResourceQuota's hard limits. */
    quota: QuotaSpec;
    /** The LimitRange's container defaults and ceiling. */
    limits: LimitSpec;
    /** Platform namespaces and egress settings for the NetworkPolicies. */
    network: PolicyInputs;
    /** Pod Security Standards version to enforce; defaults to {@link POD_SECURITY_VERSION}. */
    podSecurityVersion?: string;
}

/** The labels of a namespace that enforces, warns and audits at `restricted` (version: components/common/podSecurity.ts). */
export function podSecurityLabels(version: string = POD_SECURITY_VERSION): Record<string, string> {
    return podSecurityNamespaceLabels("restricted", version);
}

/**
 * An environment's namespace with its guard rails: restricted Pod Security, a ResourceQuota and a
 * LimitRange sized for the tier, and NetworkPolicies that deny everything not explicitly allowed.
 */
export class EnvironmentNamespace extends pulumi.ComponentResource {
    /** The namespace's name (`env-<stack>`). */
    public readonly name: pulumi.Output<string>;
    /** The Namespace resource, for dependsOn. */
    public readonly namespace: k8s.core.v1.Namespace;
    /**
     * The namespace and its guard rails. Workloads depend on all of them: a pod created before
     * the LimitRange gets no default limits, and one created before the quota is not counted.
     */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: EnvironmentNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:EnvironmentNamespace", name, {}, opts);
        const stack = args.identity.stack;
        this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: {
                name: namespaceName(stack),
                labels: { ...objectLabels(stack), ...namespaceLabels(args.identity, args.branch), ...podSecurityLabels(args.podSecurityVersion) },
            },
        }, { parent: this });
        const namespace = this.namespace.metadata.name;
        // Children of the namespace wait for it, so that a destroy removes them first.
        const child = { parent: this, dependsOn: [this.namespace] };

        const quota = new k8s.core.v1.ResourceQuota(`${name}-quota`, {
            metadata: { name: "environment-quota", namespace, labels: objectLabels(stack) },
            spec: { hard: quotaHard(args.quota) },
        }, child);
        const limitRange = new k8s.core.v1.LimitRange(`${name}-limits`, {
            metadata: { name: "environment-limits", namespace, labels: objectLabels(stack) },
            spec: { limits: limitRangeItems(args.limits) },
        }, child);
        const policies = environmentPolicies(args.network).map((policy) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-${policy.suffix}`, {
                metadata: { name: policy.suffix, namespace, labels: objectLabels(stack) },
                spec: policy.spec,
            }, child));

        this.ready = [this.namespace, quota, limitRange, ...policies];
        this.name = namespace;
        this.registerOutputs({ name: this.name });
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PodSecurityLevel, podSecurityLabels } from "./workload";

/** Label every object the platform creates carries, so that a stack's objects can be counted. */
export const STACK_LABEL = "catalyst.dev/stack";

/** The labels every platform object carries: the stack that owns it and the product. */
export function platformLabels(stack: string): Record<string, string> {
    return {
        [STACK_LABEL]: stack,
        "app.kubernetes.io/part-of": "catalyst-platform",
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

/** Arguments of {@link createNamespace}. */
export interface PlatformNamespaceArgs {
    /** The namespace's name in the cluster. */
    name: string;
    /** The Pod Security level its workloads pass, enforced by the API server. */
    podSecurity: PodSecurityLevel;
    /** Extra labels (the stack labels). */
    labels?: Record<string, string>;
}

/**
 * A namespace of a platform component, labelled for Pod Security. The logical name is
 * `${name}-namespace`, `name` being the component's own name, so components never collide.
 */
export function createNamespace(
    name: string,
    args: PlatformNamespaceArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        `${name}-namespace`,
        { metadata: { name: args.name, labels: { ...args.labels, ...podSecurityLabels(args.podSecurity) } } },
        opts,
    );
}

/** The in-cluster DNS name of a Service. */
export function serviceHost(service: string, namespace: string): string {
    return `${service}.${namespace}.svc.cluster.local`;
}

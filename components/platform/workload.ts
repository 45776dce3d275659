import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podSecurityNamespaceLabels } from "../common/podSecurity";

/**
 * What platform workloads share: Pod Security Standards levels
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/), the security contexts
 * that satisfy `restricted`, and resource requests. Every platform namespace is labelled with the
 * strictest level its workloads pass; the API server's PodSecurity admission enforces it.
 */

/** CPU and memory requests of a container (a type alias, so it fits Kubernetes' string maps). */
export type ResourceRequests = {
    /** CPU request (`100m`). */
    cpu: string;
    /** Memory request (`128Mi`). */
    memory: string;
};

/** CPU and memory limits of a container, the same shape as its requests. */
export type ResourceLimits = ResourceRequests;

/** A container's requests and limits. */
export function containerResources(requests: pulumi.Input<ResourceRequests>, limits: pulumi.Input<ResourceLimits>): k8s.types.input.core.v1.ResourceRequirements {
    return { requests, limits };
}

/** A Pod Security Standards level. */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** The namespace labels that enforce `level` and also audit and warn at it (version: components/common/podSecurity.ts). */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
    return podSecurityNamespaceLabels(level);
}

/** A pod security context that passes `restricted`: a fixed non-root user and RuntimeDefault seccomp. */
export function restrictedPodSecurityContext(uid: number): k8s.types.input.core.v1.PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        // Only chown the volume when its root does not already match, so large volumes mount fast.
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** A container security context that passes `restricted`, with a read-only root file system. */
export function restrictedContainerSecurityContext(): k8s.types.input.core.v1.SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/**
 * Replicas spread over nodes, preferred rather than required: a one-node cluster still runs every
 * replica, a larger one loses only one replica with a node.
 */
export function spreadOverNodes(matchLabels: Record<string, string>): k8s.types.input.core.v1.Affinity {
    return {
        podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [{
                weight: 100,
                podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels } },
            }],
        },
    };
}

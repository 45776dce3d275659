import type * as k8s from "@pulumi/kubernetes";

/**
 * Security contexts that satisfy the Pod Security `restricted` profile, shared by every
 * workload the environment runs. Pure values: tests compare against them.
 */

/** A container context: no privilege escalation, no capabilities, read-only root filesystem. */
export function restrictedContainerSecurityContext(readOnlyRootFilesystem = true): k8s.types.input.core.v1.SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/**
 * A pod context running as `uid`/`gid` (when given; otherwise the image's non-root user) with
 * volumes group-owned by `gid` so that the non-root user can write them.
 */
export function restrictedPodSecurityContext(uid?: number, gid?: number): k8s.types.input.core.v1.PodSecurityContext {
    const context: k8s.types.input.core.v1.PodSecurityContext = {
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
    };
    if (uid !== undefined) {
        context.runAsUser = uid;
    }
    if (gid !== undefined) {
        context.runAsGroup = gid;
        context.fsGroup = gid;
        // Only re-own a volume when its top directory does not match: large PVCs mount fast.
        context.fsGroupChangePolicy = "OnRootMismatch";
    }
    return context;
}

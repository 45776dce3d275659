/**
 * The Pod Security Standards version every namespace of the project pins, platform and
 * environments alike: the Kubernetes minor version the project is built and tested against
 * (KUBERNETES_VERSION in tools/versions.env). One rule, for one reason: what the API server
 * admits changes only when the project moves to a newer Kubernetes and its tests ran there, never
 * silently with a cluster upgrade (`latest` would re-judge running workloads by rules nobody
 * tested). Raise it together with KUBERNETES_VERSION.
 */
export const POD_SECURITY_VERSION = "v1.36";

/** The namespace labels that enforce, audit and warn at `level`, pinned to {@link POD_SECURITY_VERSION}. */
export function podSecurityNamespaceLabels(level: "restricted" | "baseline" | "privileged", version: string = POD_SECURITY_VERSION): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const mode of ["enforce", "audit", "warn"]) {
        labels[`pod-security.kubernetes.io/${mode}`] = level;
        labels[`pod-security.kubernetes.io/${mode}-version`] = version;
    }
    return labels;
}

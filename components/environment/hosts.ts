/**
 * The host names an environment owns, as its namespace records them. The environment stack writes
 * them into an annotation of its Namespace; the platform's admission policy
 * `catalyst-ingress-own-hosts` reads that annotation (`namespaceObject` in CEL) and admits an
 * Ingress of the namespace only for those hosts, so one policy serves every environment and no
 * tenant can route another environment's or the platform's host. Tenants cannot change the
 * annotation: a Namespace is cluster-scoped and no tenant Role reaches it. All functions are pure.
 */

/** Annotation of an environment Namespace: its host names, comma-separated, exactly as Ingresses name them. */
export const HOSTS_ANNOTATION = "catalyst.dev/hosts";

/**
 * Ingress annotations that make the ingress controller itself send requests to an address the
 * Ingress names (ingress-nginx: an external authentication service, a mirror of every request),
 * i.e. backends outside the namespace. Refused in environments, whatever the controller's
 * annotation risk level.
 */
export const OFF_NAMESPACE_ANNOTATIONS: readonly string[] = [
    "nginx.ingress.kubernetes.io/auth-url",
    "nginx.ingress.kubernetes.io/mirror-target",
];

/** The annotation's value for `hosts`: sorted, without duplicates or empty names. */
export function formatHosts(hosts: readonly string[]): string {
    return [...new Set(hosts.map((host) => host.trim().toLowerCase()).filter((host) => host !== ""))].sort().join(",");
}

/** The hosts an annotation value lists (none for undefined or ""). */
export function parseHosts(value: string | undefined): string[] {
    return (value ?? "").split(",").map((host) => host.trim()).filter((host) => host !== "");
}

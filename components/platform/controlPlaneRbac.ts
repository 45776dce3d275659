import { ownerRules, PolicyRule } from "../environment/rbac";

/**
 * The controller's permissions, as explicit PolicyRules (docs/security.md lists and explains
 * each). Two parts:
 * - namespaced, in the control plane's namespace only: its own resources, their status and
 *   finalizers, Leases and Events;
 * - cluster-wide, because environment namespaces are created at run time: exactly the objects an
 *   environment stack creates, plus every permission an environment's owner role grants (the API
 *   server lets a subject create a Role or RoleBinding only for rights it holds itself), so that
 *   neither `escalate` nor `bind` is needed. No wildcard, no `impersonate`, no nodes, no
 *   cluster-wide RBAC objects, no CRDs or webhooks.
 */

const READ = ["get", "list", "watch"];
const MANAGE = [...READ, "create", "update", "patch", "delete"];

/** Rules of the Role in the control plane's namespace. */
export function controllerNamespaceRules(group: string): PolicyRule[] {
    return [
        { apiGroups: [group], resources: ["environments", "projects"], verbs: [...READ, "update", "patch", "delete"] },
        { apiGroups: [group], resources: ["environments/status", "projects/status"], verbs: ["get", "update", "patch"] },
        { apiGroups: [group], resources: ["environments/finalizers"], verbs: ["update"] },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: [...READ, "create", "update"] },
        { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
    ];
}

/** The Secrets the HTTP API reads and rewrites itself, each by name. */
export interface ApiOwnSecrets {
    /** The dashboard's sign-outs (stacks/dashboard/revocations-secret.ts). */
    signedOut?: string;
    /** The OpenID provider's signing keys, with `catalyst:oidc`. */
    oidcKeys?: string;
}

/**
 * Rules of the HTTP API's Role in the control plane's namespace: it writes Environments and reads
 * them back with their status and Events; it never touches a stack's objects, so it has no rights
 * outside this namespace and none on status (only the controller writes that). It reads and
 * rewrites exactly its own Secrets, by name (the dashboard's sign-outs; with the OpenID provider,
 * the signing keys): the platform creates them empty, so the API needs no `create` (which a
 * resourceName cannot limit) and can read no other Secret; its cookie key and GitHub client secret
 * arrive as environment variables.
 */
export function apiNamespaceRules(group: string, secrets: ApiOwnSecrets = {}): PolicyRule[] {
    const names = [secrets.signedOut, secrets.oidcKeys].filter((name): name is string => name !== undefined);
    return [
        { apiGroups: [group], resources: ["environments"], verbs: MANAGE },
        { apiGroups: [group], resources: ["projects"], verbs: READ },
        { apiGroups: [""], resources: ["events"], verbs: READ },
        ...(names.length === 0 ? [] : [{ apiGroups: [""], resources: ["secrets"], resourceNames: names, verbs: ["get", "update"] }]),
    ];
}

/** Rules of the ClusterRole: what environment stacks create and grant. */
export function controllerClusterRules(): PolicyRule[] {
    const manages: PolicyRule[] = [
        { apiGroups: [""], resources: ["namespaces"], verbs: MANAGE },
        {
            apiGroups: [""],
            resources: ["resourcequotas", "limitranges", "serviceaccounts", "services", "secrets", "configmaps", "persistentvolumeclaims"],
            verbs: MANAGE,
        },
        { apiGroups: [""], resources: ["pods", "endpoints", "events"], verbs: READ },
        { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: MANAGE },
        { apiGroups: ["apps"], resources: ["replicasets"], verbs: READ },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies", "ingresses"], verbs: MANAGE },
        { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: MANAGE },
        { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: MANAGE },
        { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: MANAGE },
        { apiGroups: ["postgresql.cnpg.io"], resources: ["clusters", "databases", "scheduledbackups"], verbs: MANAGE },
        // Pulumi reads the API server's discovery and the CRDs' schemas to plan custom resources.
        { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: READ },
    ];
    return [...manages, ...ownerRules()];
}

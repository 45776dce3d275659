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

/**
 * Rules of the HTTP API's Role in the control plane's namespace: it writes Environments and reads
 * them back with their status and Events; it never touches a stack's objects, so it has no rights
 * outside this namespace and none on status (only the controller writes that). With the OpenID
 * provider (`oidcKeysSecret`), it reads and rewrites exactly the signing-keys Secret, by name: the
 * platform creates that Secret empty, so the API needs no `create` (which a resourceName cannot
 * limit) and can read no other Secret; its GitHub client secret arrives as an environment variable.
 */
export function apiNamespaceRules(group: string, oidcKeysSecret?: string): PolicyRule[] {
    return [
        { apiGroups: [group], resources: ["environments"], verbs: MANAGE },
        { apiGroups: [group], resources: ["projects"], verbs: READ },
        { apiGroups: [""], resources: ["events"], verbs: READ },
        ...(oidcKeysSecret === undefined ? [] : [{ apiGroups: [""], resources: ["secrets"], resourceNames: [oidcKeysSecret], verbs: ["get", "update"] }]),
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

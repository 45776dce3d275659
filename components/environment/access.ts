import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OWNER_SERVICE_ACCOUNT, StackKind } from "../naming";
import { ClusterEndpoint, OidcSettings, oidcKubeconfig, ownerKubeconfig } from "./kubeconfig";
import { objectLabels } from "./labels";
import { rulesFor, TenantRole } from "./rbac";

/** People and groups holding one role, named as the identity provider names them. */
export interface Principals {
    /** User names (without the OIDC prefix). */
    users: string[];
    /** Group names (without the OIDC prefix). */
    groups: string[];
}

/** A RoleBinding subject. */
export interface Subject {
    kind: "User" | "Group" | "ServiceAccount";
    name: string;
    apiGroup?: string;
    namespace?: string;
}

/** Arguments of {@link EnvironmentAccess}. */
export interface EnvironmentAccessArgs {
    /** The environment's stack name, for labels. */
    stack: string;
    /** The kind of environment: owners only exist in development and preview environments. */
    kind: StackKind;
    /** The environment's namespace. */
    namespace: pulumi.Input<string>;
    /** Who observes (read only, no secrets, no exec). */
    observers: Principals;
    /** Who administers (deploys, but cannot change the namespace's guard rails). */
    admins: Principals;
    /** Who owns (admin plus exec, port-forward and secrets); development and preview only. */
    owners: Principals;
    /** Prefix the API server adds to OIDC user and group names (`--oidc-username-prefix`), e.g. `oidc:`. */
    oidcPrefix: string;
    /** When set, the environment also outputs a kubeconfig that signs in with kubelogin. */
    oidc?: OidcSettings;
    /** The API server the kubeconfigs point at. */
    cluster: ClusterEndpoint;
    /** Context of the user's own kubeconfig the owner kubeconfig's plugin uses (default: current). */
    baseContext?: string;
}

/** True when environments of `kind` have owners. */
export function hasOwners(kind: StackKind): boolean {
    return kind === "development" || kind === "preview";
}

/** The RoleBinding subjects of `principals`, with the OIDC prefix applied. */
export function subjectsFor(principals: Principals, prefix: string): Subject[] {
    const apiGroup = "rbac.authorization.k8s.io";
    return [
        ...principals.users.map((user): Subject => ({ kind: "User", name: `${prefix}${user}`, apiGroup })),
        ...principals.groups.map((group): Subject => ({ kind: "Group", name: `${prefix}${group}`, apiGroup })),
    ];
}

/** The roles environments of `kind` have. */
export function rolesFor(kind: StackKind): TenantRole[] {
    return hasOwners(kind) ? ["observer", "admin", "owner"] : ["observer", "admin"];
}

/** Name of the ServiceAccount behind the owner kubeconfig (declared in components/naming.ts). */
export { OWNER_SERVICE_ACCOUNT };

/**
 * RBAC of an environment: namespaced Roles (observer, admin and, for development and preview,
 * owner), RoleBindings for the configured people and groups, and kubeconfigs. It never creates
 * a ClusterRole or ClusterRoleBinding: whatever a tenant holds ends at the namespace.
 */
export class EnvironmentAccess extends pulumi.ComponentResource {
    /** Name of the owner Role ("" where there are no owners); workspaces bind to it. */
    public readonly ownerRoleName: pulumi.Output<string>;
    /** Owner kubeconfig in development and preview; the OIDC one elsewhere, or "" (secret). */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The kubelogin kubeconfig when an OIDC issuer is configured, else "" (secret). */
    public readonly oidcKubeconfig: pulumi.Output<string>;

    constructor(name: string, args: EnvironmentAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:EnvironmentAccess", name, {}, opts);
        const labels = objectLabels(args.stack, "access");
        const namespace = args.namespace;
        const owners = hasOwners(args.kind);
        const principals: Record<TenantRole, Principals> = { observer: args.observers, admin: args.admins, owner: args.owners };

        const roles = {} as Record<TenantRole, k8s.rbac.v1.Role>;
        for (const role of rolesFor(args.kind)) {
            roles[role] = new k8s.rbac.v1.Role(`${name}-${role}`, {
                metadata: { name: `catalyst-${role}`, namespace, labels },
                rules: rulesFor(role, role === "owner" ? [OWNER_SERVICE_ACCOUNT] : []),
            }, { parent: this });
            const subjects = subjectsFor(principals[role], args.oidcPrefix);
            if (subjects.length > 0) {
                new k8s.rbac.v1.RoleBinding(`${name}-${role}-people`, {
                    metadata: { name: `catalyst-${role}-people`, namespace, labels },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roles[role].metadata.name },
                    subjects,
                }, { parent: this });
            }
        }

        let ownerConfig: pulumi.Output<string> = pulumi.output("");
        if (owners) {
            const account = new k8s.core.v1.ServiceAccount(`${name}-owner-sa`, {
                metadata: { name: OWNER_SERVICE_ACCOUNT, namespace, labels },
                // Nothing runs as this account; its tokens are only ever requested explicitly.
                automountServiceAccountToken: false,
            }, { parent: this });
            new k8s.rbac.v1.RoleBinding(`${name}-owner-sa`, {
                metadata: { name: "catalyst-owner-kubeconfig", namespace, labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roles.owner.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace }],
            }, { parent: this });
            ownerConfig = pulumi.all([namespace, account.metadata.name]).apply(([ns, sa]) =>
                ownerKubeconfig(ns, sa, args.cluster, args.baseContext));
        }
        const oidc = args.oidc;
        const oidcConfig = oidc
            ? pulumi.output(namespace).apply((ns) => oidcKubeconfig(ns, args.cluster, oidc))
            : pulumi.output("");

        this.ownerRoleName = owners ? roles.owner.metadata.name : pulumi.output("");
        this.kubeconfig = pulumi.secret(owners ? ownerConfig : oidcConfig);
        this.oidcKubeconfig = pulumi.secret(oidcConfig);
        this.registerOutputs({
            ownerRoleName: this.ownerRoleName,
            kubeconfig: this.kubeconfig,
            oidcKubeconfig: this.oidcKubeconfig,
        });
    }
}

import {
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
} from "@pulumi/policy";

/**
 * Runs policies the way the policy pack's server does, without a server: props wrapped in
 * @pulumi/policy's own unknownCheckingProxy, and `getConfig()` returning the policy's schema
 * defaults overlaid with `config` (what the engine's config reconciliation hands the pack).
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Props = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

class NotApplicable extends Error {}

/** The configuration a policy sees: schema defaults, then `overrides`. */
export function configOf(policy: Policy, overrides: Props = {}): Props {
    const defaults: Props = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        if (schema.default !== undefined) {
            defaults[key] = schema.default;
        }
    }
    return { ...defaults, ...overrides };
}

function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::catalyst::${type}::${name}`;
}

/** ResourceValidationArgs for one resource. */
export function resourceArgs(type: string, props: Props, config: Props = {}, name = "test"): ResourceValidationArgs {
    return {
        type,
        props: unknownCheckingProxy(props),
        urn: urnOf(type, name),
        name,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** The messages `policy` reports for one resource (type token and inputs). */
export async function violations(policy: ResourceValidationPolicy, type: string, props: Props, config: Props = {}): Promise<string[]> {
    const messages: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const validate of validations) {
        try {
            await validate?.(resourceArgs(type, props, configOf(policy, config)), (message) => messages.push(message));
        } catch (err) {
            if (!(err instanceof NotApplicable)) {
                throw err;
            }
        }
    }
    return messages;
}

/** A resource of a stack: its type token, inputs and logical name. */
export interface StackEntry {
    type: string;
    props: Props;
    name?: string;
}

/** The messages `policy` reports for a whole stack. */
export async function stackViolations(policy: StackValidationPolicy, entries: StackEntry[], config: Props = {}): Promise<string[]> {
    const resources: PolicyResource[] = entries.map((entry, index) => {
        const name = entry.name ?? `r${index}`;
        return {
            type: entry.type,
            props: unknownCheckingProxy(entry.props),
            urn: urnOf(entry.type, name),
            name,
            opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        };
    });
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => configOf(policy, config) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    const messages: string[] = [];
    await policy.validateStack(args, (message) => messages.push(message));
    return messages;
}

/** Type tokens used in the tests. */
export const T = {
    pod: "kubernetes:core/v1:Pod",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    replicaSet: "kubernetes:apps/v1:ReplicaSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    service: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    namespace: "kubernetes:core/v1:Namespace",
    quota: "kubernetes:core/v1:ResourceQuota",
    limitRange: "kubernetes:core/v1:LimitRange",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    cnpgCluster: "kubernetes:postgresql.cnpg.io/v1:Cluster",
};

/** A container that passes every policy of the pack. */
export function compliantContainer(overrides: Props = {}): Props {
    return {
        name: "web",
        image: "registry.example.com/web:1.4.2",
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
        securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
        ...overrides,
    };
}

/** A pod spec that passes every policy of the pack. */
export function compliantPodSpec(overrides: Props = {}, container: Props = {}): Props {
    return {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
        containers: [compliantContainer(container)],
        ...overrides,
    };
}

/** A Deployment in `namespace` whose pods have `spec` (compliant by default). */
export function deployment(spec: Props = compliantPodSpec(), namespace = "env-pr-1", templateMetadata: Props = {}): Props {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace },
        spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" }, ...templateMetadata }, spec } },
    };
}

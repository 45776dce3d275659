import { ResourceValidationPolicy } from "@pulumi/policy";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { ENVIRONMENT_LABEL, NEEDS_API_LABEL } from "../components/environment/labels";
import { NAMESPACE_PREFIX } from "../components/naming";

/**
 * Reading Kubernetes objects the way the engine hands them to a policy: plain JSON of the
 * resource's inputs, typed `kubernetes:<group>/<version>:<Kind>`. Objects rendered by a Helm v4
 * Chart or a yaml/v2 ConfigGroup are registered as ordinary resources of these types, so every
 * helper here covers them too. All functions are pure.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
/** A Kubernetes object or a part of one, as loose JSON. */
export type Json = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Label (or annotation) that marks a namespace or object as belonging to an environment. */
export { ENVIRONMENT_LABEL };
/** Opt-in, on a pod template or its workload, for pods that call the Kubernetes API (set by the components). */
export { NEEDS_API_LABEL };

/** The group, version and kind of a Kubernetes resource type token. */
export interface KubernetesType {
    /** API group; "" for the core group. */
    group: string;
    version: string;
    kind: string;
}

/**
 * Parses `kubernetes:apps/v1:Deployment`; undefined for anything that is not a Kubernetes object
 * (other providers, components such as `kubernetes:helm.sh/v4:Chart`, and `*Patch` resources,
 * which hold only part of an object).
 */
export function kubernetesType(type: string): KubernetesType | undefined {
    const match = /^kubernetes:([^:/]+)\/([^:/]+):([A-Za-z0-9]+)$/.exec(type);
    if (!match || match[1] === "helm.sh" || match[1] === "yaml" || match[1] === "kustomize" || match[3].endsWith("Patch")) {
        return undefined;
    }
    return { group: match[1] === "core" ? "" : match[1], version: match[2], kind: match[3] };
}

/** The kind of a Kubernetes resource type token, or undefined. */
export function kindOf(type: string): string | undefined {
    return kubernetesType(type)?.kind;
}

/** A pod spec inside an object, with the metadata that applies to its pods. */
export interface PodTemplate {
    /** Where the spec sits in the object (`spec.template.spec`). */
    path: string;
    /** The pod template's metadata (the object's own metadata for a Pod). */
    metadata: Json;
    spec: Json;
}

/** Kinds whose pod template sits at `spec.template`. */
const TEMPLATE_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"];

/**
 * The pod spec of a Pod, of the template of a Deployment, StatefulSet, DaemonSet, ReplicaSet,
 * ReplicationController, Job or PodTemplate, or of a CronJob's job template; undefined for
 * other kinds or when the object has no spec yet.
 */
export function podTemplateOf(type: string, props: Json): PodTemplate | undefined {
    const kind = kindOf(type);
    const found = (path: string, metadata: Json | undefined, spec: Json | undefined): PodTemplate | undefined =>
        spec === undefined || spec === null ? undefined : { path, metadata: metadata ?? {}, spec };
    if (kind === "Pod") {
        return found("spec", props.metadata, props.spec);
    }
    if (kind === "PodTemplate") {
        return found("template.spec", props.template?.metadata, props.template?.spec);
    }
    if (kind !== undefined && TEMPLATE_KINDS.includes(kind)) {
        const template = props.spec?.template;
        return found("spec.template.spec", template?.metadata, template?.spec);
    }
    if (kind === "CronJob") {
        const template = props.spec?.jobTemplate?.spec?.template;
        return found("spec.jobTemplate.spec.template.spec", template?.metadata, template?.spec);
    }
    return undefined;
}

/** A container of a pod spec and how to name it in a message. */
export interface ContainerRef {
    container: Json;
    /** `container "web"`, `init container "migrate"`, `ephemeral container "debug"`. */
    label: string;
}

/** Every container of a pod spec: init, regular and ephemeral ones. */
export function containersOf(spec: Json): ContainerRef[] {
    const list = (value: unknown): Json[] => (Array.isArray(value) ? value : []);
    const refs = (items: Json[], prefix: string) =>
        items.map((container, index) => ({ container, label: `${prefix} "${container.name ?? `#${index}`}"` }));
    return [
        ...refs(list(spec.initContainers), "init container"),
        ...refs(list(spec.containers), "container"),
        ...refs(list(spec.ephemeralContainers), "ephemeral container"),
    ];
}

/** `Kind namespace/name` for messages (`Deployment env-pr-1/app`). */
export function describeObject(type: string, props: Json): string {
    const kind = kindOf(type) ?? type;
    const name = props.metadata?.name ?? "(generated name)";
    const namespace = props.metadata?.namespace;
    return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

/** True for the name of an environment namespace (`env-<stack>`, components/naming.ts). */
export function isEnvironmentNamespaceName(name: unknown): boolean {
    return typeof name === "string" && name.startsWith(NAMESPACE_PREFIX);
}

/** True when `metadata` carries the environment label (with any value). */
export function hasEnvironmentLabel(metadata: Json | undefined): boolean {
    const value = metadata?.labels?.[ENVIRONMENT_LABEL];
    return typeof value === "string";
}

/**
 * True when a namespaced object belongs to an environment: it lives in an `env-*` namespace or
 * carries the environment label (every object an environment stack creates does).
 */
export function inEnvironment(props: Json): boolean {
    return isEnvironmentNamespaceName(props.metadata?.namespace) || hasEnvironmentLabel(props.metadata);
}

/** True when a pod template or its workload opts in to the Kubernetes API (label or annotation). */
export function needsApi(template: PodTemplate, props: Json): boolean {
    const says = (metadata: Json | undefined) =>
        metadata?.labels?.[NEEDS_API_LABEL] === "true" || metadata?.annotations?.[NEEDS_API_LABEL] === "true";
    return says(template.metadata) || says(props.metadata);
}

/** Which objects a policy skips, read from its configuration. */
export interface PolicyScope {
    /** Namespaces the policy skips (exact names). */
    excludeNamespaces?: string[];
    /** Objects the policy skips, as `Kind namespace/name` (`Deployment ingress-nginx/ingress-nginx-controller`). */
    exemptions?: string[];
}

/** True when the configuration excludes the object's namespace or exempts the object itself. */
export function skipped(type: string, props: Json, scope: PolicyScope): boolean {
    const namespace = props.metadata?.namespace;
    if (typeof namespace === "string" && (scope.excludeNamespaces ?? []).includes(namespace)) {
        return true;
    }
    return (scope.exemptions ?? []).includes(describeObject(type, props));
}

/** The configuration schema of {@link PolicyScope}, with the policy's default exemptions. */
export function scopeSchema(defaultExemptions: string[] = []): Record<string, PolicyConfigJSONSchema> {
    return {
        excludeNamespaces: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: "Namespaces this policy does not check.",
        },
        exemptions: {
            type: "array",
            items: { type: "string" },
            default: defaultExemptions,
            description: "Objects this policy does not check, as `Kind namespace/name`; each needs a reason in policy/exemptions.ts.",
        },
    };
}

/** What {@link environmentObjectPolicy} needs: the policy's texts and its check. */
export interface EnvironmentObjectPolicyArgs {
    name: string;
    description: string;
    remediationSteps: string;
    /** The kind it checks (`Service`, `Ingress`). */
    kind: string;
    /** What is wrong with one object of an environment, as phrases after its name. */
    problems: (props: Json) => string[];
}

/**
 * A mandatory policy over one kind of object in environments (by namespace or label), with the
 * usual `excludeNamespaces` and `exemptions` configuration; each problem is reported as
 * `Kind namespace/name: <problem>`.
 */
export function environmentObjectPolicy(args: EnvironmentObjectPolicyArgs): ResourceValidationPolicy {
    return {
        name: args.name,
        description: args.description,
        remediationSteps: args.remediationSteps,
        enforcementLevel: "mandatory",
        configSchema: { properties: scopeSchema() },
        validateResource: (resource, report) => {
            const props: Json = resource.props;
            if (kindOf(resource.type) !== args.kind || !inEnvironment(props) || skipped(resource.type, props, resource.getConfig<PolicyScope>() ?? {})) {
                return;
            }
            for (const problem of args.problems(props)) {
                report(`${describeObject(resource.type, props)}: ${problem}`);
            }
        },
    };
}

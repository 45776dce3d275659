import { createHash } from "crypto";

/**
 * Names of stacks, namespaces and hosts. Every name the project gives to something in a cluster
 * or in DNS comes from this module, so that one set of rules (DNS-1123 labels of at most 63
 * characters, reserved names refused) holds everywhere. All functions are pure.
 */

/** The kinds of stack the project runs. */
export type StackKind = "platform" | "production" | "staging" | "development" | "preview";

/** What a stack name says about the environment it holds. */
export interface StackIdentity {
    /** The stack name itself (`pr-123`, `dev-alice`, `staging`, ...). */
    stack: string;
    kind: StackKind;
    /** The pull request number, for previews. */
    pr?: number;
    /** The user slug, for development environments. */
    user?: string;
    /** The Project, for the stacks of every Project but {@link DEFAULT_PROJECT} (`pr-5--web`). */
    project?: string;
}

/** Thrown for a name that breaks the rules; `field` names the input that was wrong. */
export class NameError extends Error {
    constructor(public readonly field: string, message: string) {
        super(`${field}: ${message}`);
        this.name = "NameError";
    }
}

export const MAX_LABEL_LENGTH = 63;
/** Prefix of every environment namespace, so tenants never collide with platform namespaces. */
export const NAMESPACE_PREFIX = "env-";
/** Names that no preview or development environment may take. */
export const RESERVED_NAMES: readonly string[] = ["production", "staging", "platform", "dev", "default"];
/** Stack names of the platform: `dev` is the local embedded default. */
export const PLATFORM_STACKS: readonly string[] = ["platform", "dev"];

/**
 * The Project whose stacks keep the names of a one-app platform (`pr-5`, `dev-alice`, `staging`,
 * `production`): today's app is this Project, and the CLI, CI and the API work on it by default.
 */
export const DEFAULT_PROJECT = "default";
/**
 * Joins an environment's own name and its Project in the stacks of every other Project:
 * `pr-5--web`, `dev-alice--web`, `staging--web`. No name of the default Project holds it (pull
 * request numbers are digits, {@link toDnsLabel} collapses runs of '-'), so a stack name splits
 * at its first `--` without doubt, and two Projects' PR 5 never share a stack, namespace or host.
 * It never stands at a host label's 3rd and 4th characters, which IDNA reserves (`xn--`).
 */
export const PROJECT_SEPARATOR = "--";
/** Longest Project name: leaves a development environment's user 23 characters of its namespace. */
export const MAX_PROJECT_LENGTH = 30;
/**
 * A Project's name, in a pattern that JavaScript, RE2 (CEL) and JSON Schema all read: a DNS-1123
 * label whose every '-' stands between a letter or digit and another, so it holds no
 * {@link PROJECT_SEPARATOR}. The one source of the rule: {@link parseProjectName}, the CRD's CEL
 * rule and `spec.project`'s pattern all use it.
 */
export const PROJECT_NAME_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$";
/** What {@link PROJECT_NAME_PATTERN} and {@link MAX_PROJECT_LENGTH} allow, for error messages. */
export const PROJECT_NAME_HELP = `must be a project name: lower case letters, digits and single '-', at most ${MAX_PROJECT_LENGTH} characters (no '${PROJECT_SEPARATOR}')`;
const PROJECT_NAME = new RegExp(PROJECT_NAME_PATTERN);

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_PR = 99_999_999;
/** Longest stack of an environment: its namespace, `env-<stack>`, is a DNS label. */
const MAX_ENVIRONMENT_STACK = MAX_LABEL_LENGTH - NAMESPACE_PREFIX.length;

/** True when `value` is a DNS-1123 label (lower case alphanumerics and '-', <= 63 chars). */
export function isDnsLabel(value: string): boolean {
    return value.length > 0 && value.length <= MAX_LABEL_LENGTH && LABEL.test(value);
}

/** True for names no tenant may take: the reserved list and anything starting with `kube-`. */
export function isReservedName(value: string): boolean {
    return RESERVED_NAMES.includes(value) || value.startsWith("kube-");
}

/**
 * Turns any text (a branch, a user name, an e-mail address) into a DNS-1123 label of at most
 * `maxLength` characters. When the text had to be shortened or changed, a short hash of the
 * original is appended so that different inputs keep different labels.
 */
export function toDnsLabel(raw: string, maxLength: number = MAX_LABEL_LENGTH): string {
    if (maxLength < 8) {
        throw new RangeError(`maxLength must be at least 8, got ${maxLength}`);
    }
    const slug = raw
        .normalize("NFKD")
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "");
    if (slug === raw && isDnsLabel(slug) && slug.length <= maxLength) {
        return slug;
    }
    const hash = createHash("sha256").update(raw).digest("hex").slice(0, 6);
    const room = maxLength - hash.length - 1;
    const head = slug.slice(0, room).replace(/-+$/g, "");
    return head === "" ? `x-${hash}` : `${head}-${hash}`;
}

/**
 * Turns any text into a valid Kubernetes label value (<= 63 chars of [A-Za-z0-9_.-], starting
 * and ending alphanumeric; the empty string is valid).
 */
export function toLabelValue(raw: string): string {
    const cleaned = raw.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
    if (cleaned.length <= MAX_LABEL_LENGTH && cleaned === raw) {
        return cleaned;
    }
    const hash = createHash("sha256").update(raw).digest("hex").slice(0, 6);
    const head = cleaned.slice(0, MAX_LABEL_LENGTH - hash.length - 1).replace(/[^A-Za-z0-9]+$/g, "");
    return head === "" ? hash : `${head}-${hash}`;
}

/** Parses a pull request number given as a number or a string; refuses anything else. */
export function parsePullRequestNumber(value: unknown, field = "pr"): number {
    const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
    if (!/^[0-9]+$/.test(text)) {
        throw new NameError(field, `must be a positive whole number, got ${JSON.stringify(value)}`);
    }
    const pr = Number(text);
    if (pr < 1 || pr > MAX_PR) {
        throw new NameError(field, `must be between 1 and ${MAX_PR}, got ${text}`);
    }
    return pr;
}

/**
 * Checks a Project's name: a DNS-1123 label of at most {@link MAX_PROJECT_LENGTH} characters
 * without `--`, so that it can stand in its stacks' names, namespaces and hosts.
 */
export function parseProjectName(value: unknown, field = "project"): string {
    if (typeof value !== "string" || value.length > MAX_PROJECT_LENGTH || !PROJECT_NAME.test(value)) {
        throw new NameError(field, `${PROJECT_NAME_HELP}, got ${JSON.stringify(value)}`);
    }
    return value;
}

/** The characters `project` adds to its stacks' names: none for the default Project. */
function projectSuffix(project: string): string {
    return project === DEFAULT_PROJECT ? "" : `${PROJECT_SEPARATOR}${parseProjectName(project)}`;
}

/** The stack name of the preview of pull request `pr`: `pr-<n>`, or `pr-<n>--<project>` for another Project. */
export function previewStackName(pr: unknown, project: string = DEFAULT_PROJECT): string {
    return `pr-${parsePullRequestNumber(pr)}${projectSuffix(project)}`;
}

/** The stack name of the development environment of `user`: `dev-<slug>`, or `dev-<slug>--<project>`. */
export function developmentStackName(user: string, project: string = DEFAULT_PROJECT): string {
    if (user.trim() === "") {
        throw new NameError("user", "must not be empty");
    }
    const suffix = projectSuffix(project);
    // Leaves room for the namespace prefix so that the namespace is a label too.
    return `dev-${toDnsLabel(user, MAX_ENVIRONMENT_STACK - "dev-".length - suffix.length)}${suffix}`;
}

/** The stack of `production` or `staging`: the name itself, or `<name>--<project>`. */
export function namedStackName(name: "production" | "staging", project: string = DEFAULT_PROJECT): string {
    return `${name}${projectSuffix(project)}`;
}

/**
 * Classifies a stack name and checks it: `platform`/`dev`, `production`, `staging`, `pr-<n>` or
 * `dev-<user>`. Anything else is refused with the list of allowed forms.
 */
export function parseStackName(stack: string): StackIdentity {
    const separator = stack.indexOf(PROJECT_SEPARATOR);
    if (separator >= 0) {
        return projectStack(stack, stack.slice(0, separator), stack.slice(separator + PROJECT_SEPARATOR.length));
    }
    if (PLATFORM_STACKS.includes(stack)) {
        return { stack, kind: "platform" };
    }
    if (stack === "production" || stack === "staging") {
        return { stack, kind: stack };
    }
    const preview = /^pr-(.+)$/.exec(stack);
    if (preview) {
        const pr = parsePullRequestNumber(preview[1], "stack");
        if (`pr-${pr}` !== stack) {
            throw new NameError("stack", `preview stacks are named pr-<n> without leading zeros, got "${stack}"`);
        }
        return { stack, kind: "preview", pr };
    }
    const development = /^dev-(.+)$/.exec(stack);
    if (development && isDnsLabel(stack) && stack.length <= MAX_ENVIRONMENT_STACK) {
        const user = development[1];
        if (isReservedName(user)) {
            throw new NameError("stack", `"${user}" is a reserved name`);
        }
        return { stack, kind: "development", user };
    }
    throw new NameError(
        "stack",
        `"${stack}" is not a stack name this project runs; allowed: platform, dev, production, staging, ` +
            `pr-<n> (n a positive whole number), dev-<user> (lower case letters, digits and '-', ` +
            `at most ${MAX_ENVIRONMENT_STACK} characters in all), each of the last four with ` +
            `${PROJECT_SEPARATOR}<project> for a Project other than ${DEFAULT_PROJECT}`,
    );
}

/** `<base>--<project>`: the stack `base` would be in the default Project, of Project `project`. */
function projectStack(stack: string, base: string, project: string): StackIdentity {
    parseProjectName(project, "stack");
    if (project === DEFAULT_PROJECT) {
        throw new NameError("stack", `"${stack}": the ${DEFAULT_PROJECT} project's stacks carry no project suffix; use "${base}"`);
    }
    const identity = parseStackName(base);
    if (identity.kind === "platform") {
        throw new NameError("stack", `"${stack}": the platform stack "${base}" belongs to no project`);
    }
    if (stack.length > MAX_ENVIRONMENT_STACK) {
        throw new NameError("stack", `"${stack}" is longer than ${MAX_ENVIRONMENT_STACK} characters, so its namespace would not be a DNS label`);
    }
    return { ...identity, stack, project };
}

/**
 * The stack whose environment namespace is `namespace` (the inverse of {@link namespaceName}),
 * or undefined when `namespace` is not an environment namespace.
 */
export function stackOfNamespace(namespace: string): string | undefined {
    if (!namespace.startsWith(NAMESPACE_PREFIX)) {
        return undefined;
    }
    const stack = namespace.slice(NAMESPACE_PREFIX.length);
    try {
        return namespaceName(stack) === namespace ? stack : undefined;
    } catch {
        return undefined;
    }
}

/** The namespace of an environment stack: `env-<stack>`. */
export function namespaceName(stack: string): string {
    const identity = parseStackName(stack);
    if (identity.kind === "platform") {
        throw new NameError("stack", `the platform stack "${stack}" has no environment namespace`);
    }
    return `${NAMESPACE_PREFIX}${identity.stack}`;
}

/**
 * The public host of an environment: previews and development environments get
 * `<stack>.<previewDomain>`; production gets `<app>.<domain>` and staging `<app>-staging.<domain>`,
 * where a Project other than the default one is the app (`web.<domain>` for `production--web`).
 */
export function hostName(stack: string, domains: { domain: string; previewDomain: string }, app = "app"): string {
    const identity = parseStackName(stack);
    const appLabel = toDnsLabel(identity.project ?? app, MAX_LABEL_LENGTH - "-staging".length);
    switch (identity.kind) {
        case "production":
            return `${appLabel}.${domains.domain}`;
        case "staging":
            return `${appLabel}-staging.${domains.domain}`;
        case "preview":
        case "development":
            return `${identity.stack}.${domains.previewDomain}`;
        default:
            throw new NameError("stack", `the platform stack "${stack}" has no environment host`);
    }
}

/**
 * Name of the ServiceAccount behind an environment's owner kubeconfig: the owner Role binds it
 * (components/environment/access.ts) and the API requests its short-lived tokens.
 */
export const OWNER_SERVICE_ACCOUNT = "owner-kubeconfig";

/**
 * Kubernetes kinds whose objects live outside namespaces (their id is their name alone). An
 * environment's app may create none of them (components/environment/app-source.ts), and the
 * recovery of interrupted creates names them without a namespace (stacks/automation/recovery.ts).
 */
export const CLUSTER_SCOPED_KINDS: readonly string[] = [
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CSIDriver", "CSINode", "VolumeAttachment",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService", "PriorityClass",
    "RuntimeClass", "IngressClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding", "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration",
    "ClusterTrustBundle", "DeviceClass",
];
// --- the control plane's resources (issue 13) ------------------------------------------------

/** What names an Environment resource's stack: its Project, type, pull request and object name. */
export interface EnvironmentResourceName {
    /** `spec.project`. */
    project: string;
    type: "preview" | "development" | "staging" | "production";
    pullRequest?: number;
    /** The Environment object's `metadata.name` (names development environments). */
    name: string;
}

/**
 * The stack of an Environment resource: `pr-<n>` for previews, `dev-<name>` for development
 * environments, `staging` and `production`, each with `--<project>` for a Project other than the
 * default one: the same stacks the CLI and the API run.
 */
export function environmentResourceStackName(resource: EnvironmentResourceName): string {
    switch (resource.type) {
        case "preview":
            return previewStackName(resource.pullRequest, resource.project);
        case "development":
            return developmentStackName(resource.name.replace(/^dev-/, ""), resource.project);
        default:
            return namedStackName(resource.type, resource.project);
    }
}

/**
 * The coordination.k8s.io Lease that says which controller replica works on an Environment:
 * `catalyst-env-<namespace>-<name>`, a DNS label (shortened with a hash when needed).
 */
export function environmentLeaseName(namespace: string, name: string): string {
    return toDnsLabel(`catalyst-env-${namespace}-${name}`);
}

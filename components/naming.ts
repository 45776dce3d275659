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

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_PR = 99_999_999;

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

/** The stack name of the preview environment of pull request `pr`: `pr-<n>`. */
export function previewStackName(pr: unknown): string {
    return `pr-${parsePullRequestNumber(pr)}`;
}

/** The stack name of the development environment of `user`: `dev-<slug>`. */
export function developmentStackName(user: string): string {
    if (user.trim() === "") {
        throw new NameError("user", "must not be empty");
    }
    // Leaves room for the namespace prefix so that the namespace is a label too.
    return `dev-${toDnsLabel(user, MAX_LABEL_LENGTH - NAMESPACE_PREFIX.length - "dev-".length)}`;
}

/**
 * Classifies a stack name and checks it: `platform`/`dev`, `production`, `staging`, `pr-<n>` or
 * `dev-<user>`. Anything else is refused with the list of allowed forms.
 */
export function parseStackName(stack: string): StackIdentity {
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
    if (development && isDnsLabel(stack) && stack.length <= MAX_LABEL_LENGTH - NAMESPACE_PREFIX.length) {
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
            `at most ${MAX_LABEL_LENGTH - NAMESPACE_PREFIX.length} characters in all)`,
    );
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
 * `<stack>.<previewDomain>`; production gets `<app>.<domain>` and staging `<app>-staging.<domain>`.
 */
export function hostName(stack: string, domains: { domain: string; previewDomain: string }, app = "app"): string {
    const identity = parseStackName(stack);
    const appLabel = toDnsLabel(app, MAX_LABEL_LENGTH - "-staging".length);
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

/** What names an Environment resource's stack: its type, its pull request, its object name. */
export interface EnvironmentResourceName {
    type: "preview" | "development" | "staging" | "production";
    pullRequest?: number;
    /** The Environment object's `metadata.name` (names development environments). */
    name: string;
}

/**
 * The stack of an Environment resource: `pr-<n>` for previews, `dev-<name>` for development
 * environments, `staging` and `production`: the same stacks the CLI and the API run.
 */
export function environmentResourceStackName(resource: EnvironmentResourceName): string {
    switch (resource.type) {
        case "preview":
            return previewStackName(resource.pullRequest);
        case "development":
            return developmentStackName(resource.name.replace(/^dev-/, ""));
        default:
            return resource.type;
    }
}

/**
 * The coordination.k8s.io Lease that says which controller replica works on an Environment:
 * `catalyst-env-<namespace>-<name>`, a DNS label (shortened with a hash when needed).
 */
export function environmentLeaseName(namespace: string, name: string): string {
    return toDnsLabel(`catalyst-env-${namespace}-${name}`);
}

import { z } from "zod";
import { imageMessage } from "../../components/environment/image";
import { MAX_PROJECT_LENGTH, PROJECT_NAME_HELP, PROJECT_NAME_PATTERN } from "../../components/naming";
import { previewLimitsSchema } from "../automation/limits";

/**
 * The API types of the control plane, `catalyst.dev/v1alpha1` Project and Environment, as zod
 * schemas: one source for the CRDs' OpenAPI schemas and CEL rules (crd.ts turns them into
 * CustomResourceDefinitions with `z.toJSONSchema`) and for the controller's own parsing of what it
 * reads back. Rules the API server can check (types, ranges, patterns, CEL) are in the schema and
 * refused at `kubectl apply`; rules only the stack config knows (the full environment schema,
 * cross-object checks such as "the project exists") the controller reports as `Ready=False`.
 */

/** The API group of the control plane's resources. */
export const API_GROUP = "catalyst.dev";
/** The served and stored version. */
export const API_VERSION = "v1alpha1";
/** `apiVersion` of the resources. */
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** The kinds, their plurals and short names. */
export const RESOURCE_KINDS = {
    project: { kind: "Project", plural: "projects", singular: "project", shortNames: ["cproj"] },
    environment: { kind: "Environment", plural: "environments", singular: "environment", shortNames: ["cenv", "cenvs"] },
} as const;

/** The finalizer that keeps an Environment until its stack is destroyed. */
export const ENVIRONMENT_FINALIZER = "catalyst.dev/stack";

/** The condition types of an Environment's status. */
export const CONDITION_TYPES = ["Ready", "Progressing", "Stalled", "Drifted"] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/**
 * Reasons of `Ready=False` for a spec the controller refuses before any stack operation
 * (stacks/controller/desired.ts): it retries none of them until the spec changes, so a front end
 * waiting on the Environment stops at them.
 */
export const SPEC_ERROR_REASONS = ["InvalidSpec", "ProjectNotFound", "StackTaken"] as const;

/** The environment types and the stack kind each maps to. */
export const ENVIRONMENT_TYPES = ["preview", "development", "staging", "production"] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

/**
 * An image pinned by a tag or a digest, in RE2 syntax (what the API server's CEL `matches`
 * speaks): the shape of components/environment/image.ts with the tag or digest required.
 * `latest` is refused by a second rule; imageMessage gives the controller's own wording.
 */
export const PINNED_IMAGE_RE2 =
    "^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$";
const IMAGE_HELP = "must be an image pinned by a tag other than latest or by a sha256 digest, like nginx:1.27.4 or registry.example.com/app@sha256:<64 hex>";

/** A CEL rule in the CRD's `x-kubernetes-validations`. */
export interface CelRule {
    rule: string;
    message: string;
    fieldPath?: string;
    reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}
const cel = (...rules: CelRule[]) => ({ "x-kubernetes-validations": rules });

const image = z.string().max(512).superRefine((value, ctx) => {
    const message = imageMessage(value);
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
}).meta({
    description: "Container image, pinned by a tag other than latest or by a digest.",
    ...cel({ rule: `self.matches('${PINNED_IMAGE_RE2}') && !self.matches('^[^@]*:latest$')`, message: IMAGE_HELP }),
});
const projectName = z.string().min(1).max(MAX_PROJECT_LENGTH).regex(new RegExp(PROJECT_NAME_PATTERN), PROJECT_NAME_HELP);
/**
 * The rule on a Project's own `metadata.name` (its stacks carry it, `pr-5--web`): the CRD checks
 * it at the root, where CEL sees the name.
 */
export const PROJECT_NAME_RULE: CelRule = {
    rule: `self.metadata.name.size() <= ${MAX_PROJECT_LENGTH} && self.metadata.name.matches('${PROJECT_NAME_PATTERN}')`,
    message: `metadata.name ${PROJECT_NAME_HELP}`,
};
const duration = z.string().max(64).regex(/^(0|([0-9]{1,6}[smhdw])+)$/, "must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0");
const login = z.string().max(39).regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/, "must be a GitHub user name");
/** Overrides are laid over the stack config and checked by its own schema (the controller's job). */
const freeform = z.record(z.string(), z.unknown()).meta({ description: "Values of the stack config (keys without the `catalyst:` prefix), checked by the stack config's schema." });

/** The spec of a Project: one application, one repository. */
export const projectSpecSchema = z.strictObject({
    repository: z.string().max(200).regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name").optional()
        .meta({ description: "The GitHub repository, owner/name, for pull-request lookups." }),
    source: z.strictObject({
        image: image.optional(),
        chart: z.strictObject({ path: z.string().max(500).optional(), name: z.string().max(200).optional(), repo: z.string().max(500).optional(), version: z.string().max(100).optional() }).optional(),
        manifests: z.strictObject({ directory: z.string().max(500) }).optional(),
    }).meta({
        description: "Where the app comes from: exactly one of image, chart, manifests.",
        ...cel({ rule: "(has(self.image) ? 1 : 0) + (has(self.chart) ? 1 : 0) + (has(self.manifests) ? 1 : 0) <= 1", message: "must set at most one of image, chart, manifests" }),
    }).optional(),
    services: z.strictObject({
        postgres: z.boolean().default(true).meta({ description: "A Postgres database per environment." }),
        redis: z.boolean().default(true).meta({ description: "A Redis per environment." }),
    }).optional(),
    preview: z.strictObject({ config: freeform.optional() }).optional()
        .meta({ description: "The preview template: stack config laid over Pulumi.pr.yaml." }),
    access: z.strictObject({ groups: z.array(z.string().max(200)).max(50).optional() }).optional(),
    defaults: z.strictObject({ ttl: duration.optional().meta({ description: "TTL of previews that set none." }) }).optional(),
    limits: previewLimitsSchema.optional().meta({ description: "Caps on this Project's previews, checked before a preview is created (stacks/automation/limits.ts)." }),
    drift: z.strictObject({
        repair: z.boolean().default(false).meta({ description: "Run up (with a refresh first) when the periodic drift check finds an Environment's objects changed in the cluster; false: only report it (condition Drifted)." }),
    }).optional().meta({ description: "What the controller does about drift of this project's Environments." }),
});

/** The spec of an Environment. */
export const environmentSpecSchema = z.strictObject({
    project: projectName.meta({ description: "The Project (same namespace) this environment belongs to; a Project other than default adds --<project> to the stack (pr-5--web)." }),
    type: z.enum(ENVIRONMENT_TYPES).meta({ description: "preview, development, staging or production." }),
    pullRequest: z.number().int().min(1).max(99_999_999).optional().meta({ description: "The pull request of a preview." }),
    branch: z.string().min(1).max(255).optional(),
    sha: z.string().regex(/^[0-9a-f]{7,40}$/, "must be a git commit SHA (7 to 40 lower-case hex digits)").optional(),
    image: image.optional(),
    owners: z.array(login).min(1).max(20).optional().meta({ description: "GitHub users who own the environment (RBAC owners)." }),
    ttl: duration.optional().meta({ description: "Time to live from the last change; the Environment is deleted when it passes." }),
    sleep: z.boolean().optional().meta({ description: "Previews: true puts it to sleep (every workload at zero replicas; volumes, database and URL kept), false wakes it; unset leaves it as it is (catalyst preview sleep|wake, gc)." }),
    overrides: freeform.optional(),
}).meta(cel(
    { rule: "self.type == 'preview' || !has(self.sleep)", message: "is only allowed when type is preview", fieldPath: ".sleep", reason: "FieldValueForbidden" },
    { rule: "self.type != 'preview' || has(self.pullRequest)", message: "is required when type is preview", fieldPath: ".pullRequest", reason: "FieldValueRequired" },
    { rule: "self.type == 'preview' || !has(self.pullRequest)", message: "is only allowed when type is preview", fieldPath: ".pullRequest", reason: "FieldValueForbidden" },
    { rule: "self.type != 'preview' || has(self.branch)", message: "is required when type is preview", fieldPath: ".branch", reason: "FieldValueRequired" },
    { rule: "self.type == oldSelf.type", message: "is immutable: create a new Environment instead", fieldPath: ".type" },
    { rule: "has(self.pullRequest) == has(oldSelf.pullRequest) && (!has(self.pullRequest) || self.pullRequest == oldSelf.pullRequest)", message: "is immutable: create a new Environment instead", fieldPath: ".pullRequest" },
    { rule: "self.project == oldSelf.project", message: "is immutable", fieldPath: ".project" },
));

const time = z.string().max(64);
/** A status condition in the standard Kubernetes shape (metav1.Condition). */
export const conditionSchema = z.strictObject({
    type: z.string().max(316),
    status: z.enum(["True", "False", "Unknown"]),
    reason: z.string().max(1024),
    message: z.string().max(32768),
    lastTransitionTime: time,
    observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof conditionSchema>;
const conditions = z.array(conditionSchema).max(8).meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] });

/** The last stack operation the controller ran for an Environment. */
export const lastOperationSchema = z.strictObject({
    id: z.string().max(128).optional(),
    action: z.enum(["up", "destroy"]),
    result: z.string().max(32),
    start: time,
    durationMs: z.number().int().min(0),
    changes: z.record(z.string(), z.number().int()).optional(),
    message: z.string().max(4096).optional(),
});

/**
 * The stack operation the controller runs or ran last for an Environment, written while it runs
 * (at most one status patch every few seconds, stacks/controller/progress.ts) and once at its
 * end: what live views (`catalyst serve`'s progress streams, `kubectl get -w`) follow.
 */
export const operationProgressSchema = z.strictObject({
    /** Unique per operation. */
    id: z.string().max(128),
    action: z.enum(["up", "destroy"]),
    /** The generation the operation works on. */
    generation: z.number().int().min(0),
    /** The library's current step (queued, preparing, updating, ...); `done` once finished. */
    step: z.string().max(64),
    resourcesDone: z.number().int().min(0).optional(),
    resourcesTotal: z.number().int().min(0).optional(),
    startedAt: time,
    finishedAt: time.optional(),
    /** The operation's status once finished (succeeded, failed, busy, ...). */
    result: z.string().max(32).optional(),
    message: z.string().max(4096).optional(),
});

/** The last drift check of an Environment (a refresh in preview mode), which schedules the next. */
export const driftCheckSchema = z.strictObject({
    /** When the check ended. */
    checkedAt: time,
    result: z.string().max(32),
    durationMs: z.number().int().min(0),
    /** Resources that differed from the stack's state (0: none). */
    resources: z.number().int().min(0).optional(),
    /** Set when the drift was repaired by an up. */
    repairedAt: time.optional(),
});

/** The status the controller writes. */
export const environmentStatusSchema = z.strictObject({
    observedGeneration: z.number().int().min(0).optional(),
    conditions: conditions.optional(),
    url: z.string().max(2048).optional(),
    namespace: z.string().max(63).optional(),
    stack: z.string().max(63).optional(),
    expiresAt: time.optional(),
    /** Failed reconciles in a row of the current generation: drives the backoff and Stalled. */
    failures: z.number().int().min(0).optional(),
    lastOperation: lastOperationSchema.optional(),
    operation: operationProgressSchema.optional(),
    drift: driftCheckSchema.optional(),
});

export const projectStatusSchema = z.strictObject({
    observedGeneration: z.number().int().min(0).optional(),
    conditions: conditions.optional(),
    environments: z.number().int().min(0).optional(),
});

export type ProjectSpec = z.infer<typeof projectSpecSchema>;
export type EnvironmentSpec = z.infer<typeof environmentSpecSchema>;
export type EnvironmentStatus = z.infer<typeof environmentStatusSchema>;
export type LastOperation = z.infer<typeof lastOperationSchema>;
export type OperationProgress = z.infer<typeof operationProgressSchema>;
export type DriftCheck = z.infer<typeof driftCheckSchema>;

/** Object metadata the controller reads. */
export interface ObjectMeta {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

/** An Environment as read from the API server (spec not yet re-checked). */
export interface EnvironmentObject {
    apiVersion: string;
    kind: "Environment";
    metadata: ObjectMeta;
    spec: EnvironmentSpec;
    status?: EnvironmentStatus;
}

/** A Project as read from the API server. */
export interface ProjectObject {
    apiVersion: string;
    kind: "Project";
    metadata: ObjectMeta;
    spec: ProjectSpec;
    status?: z.infer<typeof projectStatusSchema>;
}

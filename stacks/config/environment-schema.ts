import { z } from "zod";
import { imageMessage } from "../../components/environment/image";
import { isIpv4Cidr } from "../../components/environment/network";
import { parseQuantity, TIERS } from "../../components/environment/quota";
import { PERMISSION_MODES } from "../../components/environment/workspace-claude";
import { DEFAULT_IMAGE_REGISTRY, DEFAULT_IMAGE_TAG } from "../../components/environment/workspace-images";
import { isDnsLabel } from "../../components/naming";

/**
 * The zod schema of an environment stack's configuration (`catalyst:<key>`). Values arrive as
 * strings; objects and lists as JSON. Every object is strict: an unknown key is an error, never
 * silently ignored. Cross-field rules live in environment.ts.
 */

/** A string schema that also accepts a number (`catalyst:sha 1234567` looks numeric to a YAML reader). */
const text = (schema: z.ZodString = z.string()) => z.preprocess((v) => (typeof v === "number" ? String(v) : v), schema);
const str = text();
/** A whole number, also accepting its decimal string form. */
const int = (min: number, max: number) =>
    z.preprocess((v) => (typeof v === "string" && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v), z.number().int().min(min).max(max));
/** A boolean, also accepting "true" and "false". */
const bool = z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

const quantity = str.superRefine((value, ctx) => {
    if (parseQuantity(value) === undefined) {
        ctx.addIssue({
            code: "custom",
            message: `${JSON.stringify(value)} is not a Kubernetes quantity; use a number with an optional suffix, like 500m, 2, 256Mi or 20Gi`,
        });
    }
});
const image = str.superRefine((value, ctx) => {
    const message = imageMessage(value);
    if (message !== undefined) {
        ctx.addIssue({ code: "custom", message });
    }
});
const label = str.superRefine((value, ctx) => {
    if (!isDnsLabel(value)) {
        ctx.addIssue({
            code: "custom",
            message: `${JSON.stringify(value)} is not a valid name; use lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
        });
    }
});
const cidr = str.superRefine((value, ctx) => {
    if (!isIpv4Cidr(value)) {
        ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not an IPv4 network in CIDR form, like 10.0.0.0/8` });
    }
});
const dnsName = text(z.string().regex(
    /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/,
    "must be a lower-case DNS name with at least two labels, like app.example.com",
));
const envName = text(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name (letters, digits, '_', not starting with a digit)"));
const httpPath = text(z.string().regex(/^\/[^\s]*$/, "must be an HTTP path starting with /"));
const absolutePath = text(z.string().regex(/^\/[^\s]*$/, "must be an absolute path"));
const principals = z.object({ users: z.array(str).default([]), groups: z.array(str).default([]) }).strict().default({ users: [], groups: [] });
const resources = z.object({
    requests: z.object({ cpu: quantity, memory: quantity }).strict(),
    limits: z.object({ cpu: quantity, memory: quantity }).strict(),
}).strict();

/** `catalyst:tier` message for values outside the list. */
const tier = z.enum(TIERS as [string, ...string[]], {
    error: (issue) => `must be one of ${TIERS.join(", ")}; got ${JSON.stringify(issue.input)}`,
});

/** The app: exactly one source (image, chart, manifests) plus how to run an image. */
const app = z.object({
    /** Name of the app's objects and of its host in production (`<name>.<domain>`). */
    name: label.default("app"),
    image: image.optional(),
    chart: z.object({
        /** A local chart directory or .tgz, relative to the project root. */
        path: str.optional(),
        /** Chart name in `repo`. */
        name: str.optional(),
        repo: text(z.string().url()).optional(),
        version: str.optional(),
        values: z.record(z.string(), z.unknown()).optional(),
    }).strict().optional(),
    manifests: z.object({ directory: str }).strict().optional(),
    port: int(1, 65535).default(8080),
    replicas: int(0, 100).optional(),
    command: z.array(str).optional(),
    args: z.array(str).optional(),
    readinessPath: httpPath.default("/"),
    livenessPath: httpPath.default("/"),
    resources: resources.optional(),
    env: z.record(envName, str).default({}),
    /** Variables whose values are generated passwords. */
    generatedSecrets: z.array(envName).default([]),
    /** Files from `catalyst:appSecretFiles` mounted read-only. */
    secretFiles: z.array(z.object({
        key: str,
        mountPath: absolutePath,
        fileName: text(z.string().regex(/^[A-Za-z0-9._-]+$/, "must be a plain file name")).optional(),
        mode: int(0, 0o777).default(0o400),
    }).strict()).default([]),
    dataVolume: z.object({ mountPath: absolutePath, size: quantity }).strict().optional(),
    autoscaling: z.object({
        minReplicas: int(1, 100),
        maxReplicas: int(1, 100),
        cpuUtilization: int(1, 100).default(70),
    }).strict().optional(),
    /** Use the platform registry's pull secret (default true). */
    pullSecret: bool.default(true),
    runAsUser: int(1, 2 ** 31 - 1).optional(),
    runAsGroup: int(1, 2 ** 31 - 1).optional(),
    readOnlyRootFilesystem: bool.default(true),
    /** Extra destinations the app may reach, e.g. a VM's SSH port. */
    egress: z.array(z.object({ cidr, port: int(1, 65535), protocol: z.enum(["TCP", "UDP"]).default("TCP") }).strict()).default([]),
}).strict();

/** The environment configuration as the schema sees it, before cross-field checks. */
export const environmentSchema = z.object({
    platformStack: text(z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/, "must be a stack reference like organization/catalyst/platform"))
        .default("organization/catalyst/dev"),
    pr: int(1, 99_999_999).optional(),
    branch: str.optional(),
    image: image.optional(),
    sha: text(z.string().regex(/^[0-9a-f]{7,40}$/, "must be a git commit SHA (7 to 40 lower-case hex characters)")).optional(),
    /** Set by `catalyst preview sleep`: since when the environment sleeps (ISO time); "" or unset: awake. */
    sleep: text(z.string().regex(/^$|^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, "must be an ISO time in UTC like 2026-01-31T20:00:00.000Z (since when it sleeps), or empty (awake)")).optional(),
    passwordSource: z.enum(["random", "builtin"]).default("random"),
    tier: tier.optional(),
    quota: z.object({
        requestsCpu: quantity, requestsMemory: quantity, limitsCpu: quantity, limitsMemory: quantity,
        pods: int(0, 10_000), persistentVolumeClaims: int(0, 1_000), storage: quantity,
    }).strict().partial().default({}),
    limits: z.object({
        defaultCpu: quantity, defaultMemory: quantity, defaultRequestCpu: quantity,
        defaultRequestMemory: quantity, maxCpu: quantity, maxMemory: quantity,
    }).strict().partial().default({}),
    network: z.object({
        /** Pod, service and node networks: never reachable through internet egress. */
        clusterCidrs: z.array(cidr).default(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]),
        internetEgress: bool.default(false),
        registryPort: int(1, 65535).default(5000),
        apiServerCidrs: z.array(cidr).default([]),
    }).strict().default({
        clusterCidrs: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
        internetEgress: false, registryPort: 5000, apiServerCidrs: [],
    }),
    access: z.object({
        oidcPrefix: str.default("oidc:"),
        observers: principals,
        admins: principals,
        owners: principals,
        oidc: z.object({ issuerUrl: text(z.string().url()), clientId: text(z.string().min(1)), caFile: str.optional(), command: str.optional() }).strict().optional(),
        baseContext: str.optional(),
    }).strict().default({
        oidcPrefix: "oidc:",
        observers: { users: [], groups: [] }, admins: { users: [], groups: [] }, owners: { users: [], groups: [] },
    }),
    cluster: z.object({
        server: text(z.string().url()),
        certificateAuthorityData: text(z.string().regex(/^[A-Za-z0-9+/=]+$/, "must be base64")).optional(),
    }).strict().default({ server: "https://kubernetes.default.svc" }),
    app: app.default({
        name: "app", port: 8080, readinessPath: "/", livenessPath: "/", env: {}, generatedSecrets: [],
        secretFiles: [], pullSecret: true, readOnlyRootFilesystem: true, egress: [],
    }),
    build: z.object({
        context: text(z.string().min(1)),
        dockerfile: str.optional(),
        repository: text(z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "must be a repository name like team/worker")),
        platform: str.default("linux/amd64"),
        /** Inject the built image into the app as this variable instead of running it as the app. */
        envVar: envName.optional(),
    }).strict().optional(),
    database: z.object({
        mode: z.enum(["shared", "cluster", "none"]).optional(),
        instances: int(1, 9).optional(),
        storage: quantity.optional(),
        imageName: image.optional(),
        operatorNamespace: label.default("cnpg-system"),
        backup: z.object({
            destinationPath: text(z.string().regex(/^s3:\/\/[^/]+/, "must look like s3://bucket/prefix")),
            endpointURL: text(z.string().url()).optional(),
            schedule: str.default("0 0 3 * * *"),
            retention: text(z.string().regex(/^[0-9]+[dwm]$/, "must be like 30d, 4w or 6m")).default("30d"),
        }).strict().optional(),
        /** A dedicated cluster that other environments may copy (database.seed.copyFrom naming this one). */
        allowCopies: bool.default(false),
        /** What a new database starts with (components/environment/seed.ts); empty when unset. */
        seed: z.object({
            /** An SQL file of the repository, relative to the project root. */
            file: text(z.string().min(1)).optional(),
            /** Another environment (stack name) whose database is copied. */
            copyFrom: label.optional(),
            /** Secret (username, password) of a reader of the source, in the platform's Postgres namespace; default seed-<copyFrom>. */
            sourceSecret: label.optional(),
            /** An SQL file run after the copy, in its transaction, before the app starts. */
            mask: text(z.string().min(1)).optional(),
            /** Copies from a production database are refused unless this is true. */
            allowProduction: bool.default(false),
            /** Image of the seed Job: bash, psql and pg_dump (at least the source's major version). */
            image: image.optional(),
        }).strict().optional(),
    }).strict().default({ operatorNamespace: "cnpg-system", allowCopies: false }),
    redis: z.object({
        enabled: bool.default(true),
        image: image.default("redis:7.4.2-alpine"),
        persistent: bool.optional(),
        storage: quantity.default("1Gi"),
    }).strict().default({ enabled: true, image: "redis:7.4.2-alpine", storage: "1Gi" }),
    route: z.object({
        enabled: bool.default(true),
        host: dnsName.optional(),
        /** For chart and manifest apps: the Service to route to (default: the app name) and its port. */
        serviceName: label.optional(),
        servicePort: int(1, 65535).optional(),
    }).strict().default({ enabled: true }),
    workspace: z.object({
        enabled: bool.default(false),
        description: str.optional(),
        user: str.optional(),
        timezone: str.default("UTC"),
        otelEndpoint: str.default(""),
        healthPath: httpPath.default("/health"),
        repository: z.object({ url: text(z.string().min(1)), branch: str.optional() }).strict().optional(),
        features: z.object({ go: bool.default(false), typescript: bool.default(false), postgres: bool.default(false), hasura: bool.default(false) })
            .strict().default({ go: false, typescript: false, postgres: false, hasura: false }),
        images: z.object({
            agent: image, docs: image, playwright: image, dockerhub: image, go: image, typescript: image,
            postgres: image, hasura: image, git: image, init: image,
        }).strict().partial().default({}),
        workspaceStorage: quantity.default("10Gi"),
        homeStorage: quantity.default("1Gi"),
        devDomain: dnsName.optional(),
        /** Registry of the images this repository builds (images/): `<registry>/<image>:<imageTag>`. */
        imageRegistry: text(z.string().regex(
            /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*$/,
            "must be a registry and repository path like ghcr.io/acme/catalyst",
        )).default(DEFAULT_IMAGE_REGISTRY),
        imageTag: text(z.string().regex(/^(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a pinned image tag like 0.1.0 (not latest)"))
            .default(DEFAULT_IMAGE_TAG),
        /** Claude Code's settings (managed settings of the agent container). */
        claude: z.object({
            model: text(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.:_\[\]-]{0,99}$/, "must be a model alias or name like sonnet or claude-sonnet-4-5")).optional(),
            permissionMode: z.enum(PERMISSION_MODES, {
                error: (issue) => `must be one of ${PERMISSION_MODES.join(", ")}; got ${JSON.stringify(issue.input)}`,
            }).default("default"),
        }).strict().default({ permissionMode: "default" }),
        /**
         * The repository's devcontainer.json: a path (the file, or a checkout holding
         * .devcontainer/devcontainer.json), relative to the project root; `image` is the prebuilt
         * image of a devcontainer that has `build`.
         */
        devcontainer: z.preprocess(
            (v) => (typeof v === "string" ? { path: v } : v),
            z.object({ path: text(z.string().min(1)), image: image.optional() }).strict(),
        ).optional(),
    }).strict().optional(),
    // The four secret keys: validated here for shape (their values never appear in messages),
    // read for use through config.getSecretObject so that they stay Pulumi secrets.
    appSecrets: z.record(envName, str).optional(),
    appSecretFiles: z.record(str, str).optional(),
    databaseBackupCredentials: z.object({ accessKeyId: text(z.string().min(1)), secretAccessKey: text(z.string().min(1)) }).strict().optional(),
    workspaceSecrets: z.object({
        githubToken: str.optional(), sshPrivateKey: str.optional(), dockerhubToken: str.optional(),
        /** Claude Code's credential: one of the two. */
        anthropicApiKey: str.optional(), claudeCodeOauthToken: str.optional(),
    }).strict().optional(),
}).strict();

/** The configuration after the schema, before cross-field checks. */
export type RawEnvironmentConfig = z.infer<typeof environmentSchema>;

/** Keys that hold secrets: they must be set with `pulumi config set --secret`. */
export const ENVIRONMENT_SECRET_KEYS = ["appSecrets", "appSecretFiles", "databaseBackupCredentials", "workspaceSecrets"] as const;

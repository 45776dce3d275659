import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Resources, DEFAULT_APP_RESOURCES, SecretFile } from "../../components/environment/app-spec";
import { DatabaseMode } from "../../components/environment/database";
import { DEFAULT_SEED_IMAGE, defaultSourceSecret, MAX_SEED_BYTES, Seed } from "../../components/environment/seed";
import { ClusterEndpoint, OidcSettings } from "../../components/environment/kubeconfig";
import { EgressRule } from "../../components/environment/network";
import { LimitSpec, limitRangeFor, QuotaSpec, quotaFor, sizingProblems, Tier } from "../../components/environment/quota";
import { parseStackName, StackIdentity } from "../../components/naming";
import { PasswordSource } from "../../components/common/password";
import { ENVIRONMENT_SECRET_KEYS, environmentSchema, RawEnvironmentConfig } from "./environment-schema";
import { resolveWorkspace, WorkspaceConfig } from "./environment-workspace";
import { ConfigError, parseConfig } from "./validate";

/** The configuration namespace: keys are `catalyst:<name>`. */
export const NAMESPACE = "catalyst";

/** Where the app comes from, resolved (paths absolute; `image` undefined when the build provides it). */
export type AppSourceConfig =
    | { kind: "image"; image?: string }
    | { kind: "chart"; chart: string; repo?: string; version?: string; values?: Record<string, unknown> }
    | { kind: "manifests"; directory: string };

/** An environment's configuration after validation: every default applied, every path resolved. */
export interface EnvironmentConfig {
    identity: StackIdentity;
    tier: Tier;
    platformStack: string;
    branch?: string;
    sha?: string;
    /** Since when the environment sleeps (ISO time), when it does (`catalyst:sleep`). */
    sleepingSince?: string;
    passwordSource: PasswordSource;
    quota: QuotaSpec;
    limits: LimitSpec;
    network: RawEnvironmentConfig["network"];
    access: RawEnvironmentConfig["access"] & { oidc?: OidcSettings };
    cluster: ClusterEndpoint;
    app: Omit<RawEnvironmentConfig["app"], "image" | "chart" | "manifests" | "replicas" | "resources" | "egress" | "secretFiles"> & {
        source: AppSourceConfig;
        replicas: number;
        resources: Resources;
        egress: EgressRule[];
        secretFiles: SecretFile[];
        /** Variable names of `catalyst:appSecrets`. */
        secretNames: string[];
    };
    build?: Required<Omit<NonNullable<RawEnvironmentConfig["build"]>, "envVar">> & { envVar?: string };
    database: {
        mode: DatabaseMode;
        instances: number;
        storage: string;
        imageName?: string;
        operatorNamespace: string;
        backup?: NonNullable<RawEnvironmentConfig["database"]["backup"]>;
        /** What the new database starts with; undefined: empty. */
        seed?: Seed;
        /** Image of the seed Job. */
        seedImage: string;
        /** Other environments may copy this dedicated cluster. */
        allowCopies: boolean;
    };
    redis: RawEnvironmentConfig["redis"] & { persistent: boolean };
    route: RawEnvironmentConfig["route"];
    workspace?: WorkspaceConfig;
    /** Which secret keys are set. */
    secrets: Record<(typeof ENVIRONMENT_SECRET_KEYS)[number], boolean>;
}

/** Options of {@link loadEnvironmentConfig}. */
export interface LoadOptions {
    /** Keys (`catalyst:appSecrets`) stored as secrets. */
    secretKeys: string[];
    /** Directory relative paths are resolved against (the project root). */
    root: string;
    /** File check, replaceable in tests. */
    exists?: (file: string) => boolean;
    /** File reader (seed and masking SQL), replaceable in tests. */
    readFile?: (file: string) => string;
}

/**
 * The `catalyst:` part of the stack's configuration as an object for the schema: objects,
 * lists and booleans JSON-parsed, everything else kept as the string it is (numbers are
 * converted by the schema where it expects them).
 */
export function configObject(all: Record<string, string>, namespace = NAMESPACE): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const [fullKey, raw] of Object.entries(all)) {
        const colon = fullKey.indexOf(":");
        if (fullKey.slice(0, colon) !== namespace) {
            continue;
        }
        let value: unknown = raw;
        if (/^\s*[[{]/.test(raw) || raw === "true" || raw === "false") {
            try {
                value = JSON.parse(raw);
            } catch {
                value = raw;
            }
        }
        result[fullKey.slice(colon + 1)] = value;
    }
    return result;
}

/**
 * Validates an environment's configuration and resolves its defaults. Every problem is
 * collected and thrown together as one ConfigError before anything is created.
 */
export function loadEnvironmentConfig(identity: StackIdentity, all: Record<string, string>, options: LoadOptions): EnvironmentConfig {
    const raw = parseConfig(NAMESPACE, environmentSchema, configObject(all));
    const problems: string[] = [];
    const key = (name: string) => `${NAMESPACE}:${name}`;
    const exists = options.exists ?? fs.existsSync;
    const kind = identity.kind;
    const deployment = kind === "production" || kind === "staging";
    const tier = (raw.tier ?? kind) as Tier;

    for (const secretKey of ENVIRONMENT_SECRET_KEYS) {
        if (raw[secretKey] !== undefined && !options.secretKeys.includes(key(secretKey))) {
            problems.push(`${key(secretKey)}: holds secrets; set it with \`pulumi config set --secret\` (or --path --secret per entry)`);
        }
    }
    if (kind === "preview" && raw.pr !== undefined && raw.pr !== identity.pr) {
        problems.push(`${key("pr")}: ${raw.pr} does not match the stack ${identity.stack}; allowed: ${identity.pr}`);
    }
    if (kind !== "preview" && raw.pr !== undefined) {
        problems.push(`${key("pr")}: only preview stacks (pr-<n>) have a pull request number`);
    }

    const quota = quotaFor(tier, raw.quota as Partial<QuotaSpec>);
    const limits = limitRangeFor(tier, raw.limits);
    problems.push(...sizingProblems(quota, limits, NAMESPACE));

    // Access: owners only where the environment is someone's own; no system identities.
    if (deployment && (raw.access.owners.users.length > 0 || raw.access.owners.groups.length > 0)) {
        problems.push(`${key("access.owners")}: owners only exist in development and preview environments; name them in access.admins`);
    }
    for (const role of ["observers", "admins", "owners"] as const) {
        for (const group of ["users", "groups"] as const) {
            const bad = raw.access[role][group].filter((name) => name.trim() === "" || name.startsWith("system:"));
            if (bad.length > 0) {
                problems.push(`${key(`access.${role}.${group}`)}: ${bad.map((b) => JSON.stringify(b)).join(", ")} not allowed; names must be non-empty and not start with "system:"`);
            }
        }
    }

    // App source: exactly one of image (catalyst:image, app.image or the build), chart, manifests.
    const app = raw.app;
    const builtApp = raw.build !== undefined && raw.build.envVar === undefined;
    const image = raw.image ?? app.image;
    const sources = [image !== undefined || builtApp ? "image" : undefined, app.chart ? "chart" : undefined, app.manifests ? "manifests" : undefined]
        .filter((s): s is string => s !== undefined);
    let source: AppSourceConfig = { kind: "image", image };
    if (sources.length !== 1) {
        problems.push(
            `${key("app")}: needs exactly one source, got ${sources.length === 0 ? "none" : sources.join(" and ")}; ` +
                `allowed: an image (catalyst:image or catalyst:app.image, or catalyst:build), app.chart or app.manifests`,
        );
    } else if (app.chart) {
        const chart = app.chart;
        if (chart.path !== undefined && (chart.repo !== undefined || chart.name !== undefined)) {
            problems.push(`${key("app.chart")}: set either path, or repo and name, not both`);
        } else if (chart.path !== undefined) {
            const absolute = path.resolve(options.root, chart.path);
            if (!exists(absolute)) {
                problems.push(`${key("app.chart.path")}: no chart at ${absolute}; give a chart directory or a .tgz file`);
            }
            source = { kind: "chart", chart: absolute, values: chart.values };
        } else if (chart.repo !== undefined && chart.name !== undefined && chart.version !== undefined) {
            source = { kind: "chart", chart: chart.name, repo: chart.repo, version: chart.version, values: chart.values };
        } else {
            problems.push(`${key("app.chart")}: needs path, or repo, name and a pinned version`);
        }
    } else if (app.manifests) {
        const directory = path.resolve(options.root, app.manifests.directory);
        if (!exists(directory)) {
            problems.push(`${key("app.manifests.directory")}: no directory at ${directory}`);
        }
        source = { kind: "manifests", directory };
    } else if (builtApp && image !== undefined) {
        problems.push(`${key("build")}: builds the app's image, so ${raw.image !== undefined ? key("image") : key("app.image")} must not be set; set build.envVar to pass the built image to the app instead`);
    }
    if (source.kind !== "image") {
        for (const field of ["autoscaling", "dataVolume", "command", "args", "resources"] as const) {
            if (app[field] !== undefined) {
                problems.push(`${key(`app.${field}`)}: only applies to an app built from an image`);
            }
        }
    }
    if (raw.build) {
        if (raw.sha === undefined) {
            problems.push(`${key("sha")}: required when catalyst:build is set (the image tag is the git SHA)`);
        }
        if (!exists(path.resolve(options.root, raw.build.context))) {
            problems.push(`${key("build.context")}: no directory at ${path.resolve(options.root, raw.build.context)}`);
        }
    }

    // Secrets: names must not collide; files must exist in appSecretFiles.
    const secretNames = Object.keys(raw.appSecrets ?? {});
    const injected = ["DATABASE_URL", "REDIS_URL", ...(raw.build?.envVar ? [raw.build.envVar] : [])];
    const seen = new Map<string, string>();
    const claim = (name: string, where: string) => {
        const previous = seen.get(name);
        if (previous !== undefined) {
            problems.push(`${key(where)}: ${name} is already set by ${previous}`);
        }
        seen.set(name, where);
    };
    injected.forEach((name) => seen.set(name, "a service binding"));
    Object.keys(app.env).forEach((name) => claim(name, "app.env"));
    secretNames.forEach((name) => claim(name, "appSecrets"));
    app.generatedSecrets.forEach((name) => claim(name, "app.generatedSecrets"));
    const fileValues = raw.appSecretFiles ?? {};
    app.secretFiles.forEach((file, index) => {
        if (!(file.key in fileValues)) {
            problems.push(`${key(`app.secretFiles[${index}].key`)}: ${JSON.stringify(file.key)} is not a key of catalyst:appSecretFiles`);
        }
    });

    const replicas = app.replicas ?? (app.dataVolume ? 1 : kind === "production" ? 2 : 1);
    if (app.dataVolume && (replicas > 1 || app.autoscaling)) {
        problems.push(`${key("app.dataVolume")}: a ReadWriteOnce data volume needs exactly 1 replica and no autoscaling`);
    }
    if (app.autoscaling && app.autoscaling.minReplicas > app.autoscaling.maxReplicas) {
        problems.push(`${key("app.autoscaling.maxReplicas")}: must be at least minReplicas`);
    }

    // Database: shared for previews and development by default, dedicated for deployments.
    const mode: DatabaseMode = raw.database.mode ?? (deployment ? "cluster" : "shared");
    if (deployment && mode === "shared") {
        problems.push(`${key("database.mode")}: ${kind} environments get a dedicated cluster; allowed: cluster, none`);
    }
    const instances = raw.database.instances ?? (kind === "production" ? 2 : 1);
    if (kind === "production" && mode === "cluster" && instances < 2) {
        problems.push(`${key("database.instances")}: production needs at least 2 instances, got ${instances}`);
    }
    if (raw.database.backup && mode !== "cluster") {
        problems.push(`${key("database.backup")}: backups apply to a dedicated cluster (database.mode cluster)`);
    }
    if (raw.database.backup && raw.databaseBackupCredentials === undefined) {
        problems.push(`${key("databaseBackupCredentials")}: required (as a secret) when database.backup is set`);
    }

    if (raw.database.allowCopies && mode !== "cluster") {
        problems.push(`${key("database.allowCopies")}: applies to a dedicated cluster (database.mode cluster); databases on the shared cluster are reached through the platform's Postgres namespace`);
    }
    const seed = resolveSeed(raw.database.seed, { identity, mode, root: options.root, exists, readFile: options.readFile ?? ((f) => fs.readFileSync(f, "utf8")) }, problems);

    // Workspace: development and preview only; named by its description (environment-workspace.ts).
    const workspace = resolveWorkspace(raw, { identity, deployment, hasDatabase: mode !== "none", root: options.root }, problems);

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return {
        identity,
        tier,
        platformStack: raw.platformStack,
        branch: raw.branch,
        sha: raw.sha,
        sleepingSince: raw.sleep === undefined || raw.sleep === "" ? undefined : raw.sleep,
        passwordSource: raw.passwordSource,
        quota,
        limits,
        network: raw.network,
        access: raw.access,
        cluster: raw.cluster,
        app: {
            name: app.name,
            source,
            port: app.port,
            replicas,
            command: app.command,
            args: app.args,
            readinessPath: app.readinessPath,
            livenessPath: app.livenessPath,
            resources: app.resources ?? DEFAULT_APP_RESOURCES,
            env: app.env,
            generatedSecrets: app.generatedSecrets,
            secretNames,
            secretFiles: app.secretFiles.map((file) => ({ key: file.key, mountPath: file.mountPath, fileName: file.fileName ?? file.key, mode: file.mode })),
            dataVolume: app.dataVolume,
            autoscaling: app.autoscaling,
            pullSecret: app.pullSecret,
            runAsUser: app.runAsUser,
            runAsGroup: app.runAsGroup,
            readOnlyRootFilesystem: app.readOnlyRootFilesystem,
            egress: app.egress,
        },
        build: raw.build
            ? {
                context: path.resolve(options.root, raw.build.context),
                dockerfile: path.resolve(options.root, raw.build.context, raw.build.dockerfile ?? "Dockerfile"),
                repository: raw.build.repository,
                platform: raw.build.platform,
                envVar: raw.build.envVar,
            }
            : undefined,
        database: {
            mode,
            instances,
            storage: raw.database.storage ?? (kind === "production" ? "10Gi" : "1Gi"),
            imageName: raw.database.imageName,
            operatorNamespace: raw.database.operatorNamespace,
            backup: raw.database.backup,
            seed,
            seedImage: raw.database.seed?.image ?? DEFAULT_SEED_IMAGE,
            allowCopies: raw.database.allowCopies,
        },
        redis: { ...raw.redis, persistent: raw.redis.persistent ?? kind === "production" },
        route: raw.route,
        workspace,
        secrets: {
            appSecrets: raw.appSecrets !== undefined,
            appSecretFiles: raw.appSecretFiles !== undefined,
            databaseBackupCredentials: raw.databaseBackupCredentials !== undefined,
            workspaceSecrets: raw.workspaceSecrets !== undefined,
        },
    };
}

/**
 * `catalyst:database.seed` resolved: files read (and size-checked), the source checked. A copy
 * from a production database is refused unless `allowProduction` says so, by name.
 */
function resolveSeed(
    raw: RawEnvironmentConfig["database"]["seed"],
    context: { identity: StackIdentity; mode: DatabaseMode; root: string; exists: (file: string) => boolean; readFile: (file: string) => string },
    problems: string[],
): Seed | undefined {
    if (raw === undefined) return undefined;
    const key = (name: string) => `${NAMESPACE}:database.seed${name === "" ? "" : `.${name}`}`;
    const before = problems.length;
    if (context.mode === "none") problems.push(`${key("")}: needs a database, but catalyst:database.mode is none`);
    if ((raw.file === undefined) === (raw.copyFrom === undefined)) {
        problems.push(`${key("")}: set exactly one of file (an SQL file of the repository) or copyFrom (the stack name of the environment to copy, e.g. staging)`);
    }
    if (raw.mask !== undefined && raw.copyFrom === undefined) problems.push(`${key("mask")}: runs after a copy; set database.seed.copyFrom, or put the statements in the seed file`);
    if (raw.sourceSecret !== undefined && raw.copyFrom === undefined) problems.push(`${key("sourceSecret")}: only a copy (database.seed.copyFrom) reads a source`);
    const read = (name: "file" | "mask", file: string): string => {
        const absolute = path.resolve(context.root, file);
        if (!context.exists(absolute)) {
            problems.push(`${key(name)}: no file at ${absolute}`);
            return "";
        }
        const text = context.readFile(absolute);
        if (Buffer.byteLength(text) > MAX_SEED_BYTES) {
            problems.push(`${key(name)}: ${absolute} is larger than ${MAX_SEED_BYTES} bytes (it travels in a ConfigMap); load bigger data with copyFrom`);
        }
        return text;
    };
    let seed: Seed | undefined;
    if (raw.file !== undefined) {
        seed = { kind: "file", sql: read("file", raw.file) };
    } else if (raw.copyFrom !== undefined) {
        const from = raw.copyFrom;
        let kind: string | undefined;
        try {
            kind = parseStackName(from).kind;
        } catch (err) {
            problems.push(`${key("copyFrom")}: ${(err as Error).message}`);
        }
        if (from === context.identity.stack) problems.push(`${key("copyFrom")}: an environment cannot copy its own database`);
        if (kind === "platform") problems.push(`${key("copyFrom")}: ${from} is the platform stack, which has no application database; name an environment such as staging`);
        if (kind === "production" && !raw.allowProduction) {
            problems.push(`${key("copyFrom")}: ${from} is a production database; copies from production are refused unless ${key("allowProduction")} is true`);
        }
        if (context.mode === "cluster" && kind !== undefined && kind !== "production" && kind !== "staging") {
            problems.push(`${key("copyFrom")}: a dedicated cluster (database.mode cluster) imports from another dedicated cluster (staging or production); ${from} is on the shared cluster`);
        }
        seed = {
            kind: "copy",
            from,
            secretName: raw.sourceSecret ?? defaultSourceSecret(from),
            mask: raw.mask === undefined ? undefined : read("mask", raw.mask),
            allowProduction: raw.allowProduction,
        };
    }
    return problems.length > before ? undefined : seed;
}

/** The keys of the running stack's configuration that are secrets. */
function secretKeysOf(all: Record<string, string>): string[] {
    // The SDK keeps the list internal; runtime.isConfigSecret is exported from its JS all the same.
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    return Object.keys(all).filter((k) => runtime.isConfigSecret?.(k) ?? true);
}

/** Reads and validates the running stack's configuration (see {@link loadEnvironmentConfig}). */
export function readEnvironmentConfig(identity: StackIdentity): EnvironmentConfig {
    const all = pulumi.runtime.allConfig();
    return loadEnvironmentConfig(identity, all, { secretKeys: secretKeysOf(all), root: process.cwd() });
}

import * as pulumi from "@pulumi/pulumi";
import { EnvironmentAccess } from "../components/environment/access";
import { App } from "../components/environment/app";
import { SecretEnv } from "../components/environment/app-spec";
import { ImageBuild } from "../components/environment/build";
import { Database } from "../components/environment/database";
import { EnvironmentNamespace } from "../components/environment/namespace";
import { Redis } from "../components/environment/redis";
import { Route, routeHost, workspaceHost } from "../components/environment/route";
import { registerSleep } from "../components/environment/sleep";
import { AgentWorkspace, WorkspaceCredentials } from "../components/environment/workspace";
import { workspaceInstanceName } from "../components/environment/workspace-spec";
import { StackIdentity } from "../components/naming";
import { EnvironmentConfig, NAMESPACE, readEnvironmentConfig } from "./config/environment";
import { PlatformOutputs } from "./contract";

/** The platform outputs an environment reads, as Outputs. */
export type PlatformReference = { [K in keyof PlatformOutputs]: pulumi.Output<PlatformOutputs[K]> };

/** Reads the platform's outputs (a public contract, stacks/contract.ts) through a StackReference. */
export function platformReference(name: string, stack: string): PlatformReference {
    const reference = new pulumi.StackReference(name, { name: stack });
    const read = <K extends keyof PlatformOutputs>(key: K) => reference.requireOutput(key) as pulumi.Output<PlatformOutputs[K]>;
    return {
        ingressClassName: read("ingressClassName"),
        ingressNamespace: read("ingressNamespace"),
        registryHost: read("registryHost"),
        registryNamespace: read("registryNamespace"),
        registryPullSecret: pulumi.secret(read("registryPullSecret")),
        postgresNamespace: read("postgresNamespace"),
        postgresClusterName: read("postgresClusterName"),
        postgresHost: read("postgresHost"),
        domain: read("domain"),
        previewDomain: read("previewDomain"),
        tunnelId: read("tunnelId"),
        tunnelCname: read("tunnelCname"),
    };
}

/**
 * The program of an environment stack (`production`, `staging`, `dev-<user>`, `pr-<n>`). It
 * validates the whole configuration first, so bad input fails before any resource exists, then
 * builds the namespace, access, services, app, route and workspace. Its outputs are a public
 * contract: namespace, url, kubeconfig (secret), databaseSecretName, databaseHost, redisHost,
 * redisSecretName, workspaceUrl, workspaceName (empty strings for what is off), and owners (the
 * user names of `access.owners`, which the HTTP API and the MCP server authorize by).
 */
export function environmentProgram(identity: StackIdentity): Record<string, unknown> {
    const config = readEnvironmentConfig(identity);
    return buildEnvironment(identity.stack, config);
}

/** Builds an environment from validated configuration; `name` prefixes every logical name. */
export function buildEnvironment(name: string, config: EnvironmentConfig): Record<string, unknown> {
    const stack = config.identity.stack;
    // Asleep (`catalyst preview sleep`): before any resource, so the transform sees them all.
    if (config.sleepingSince !== undefined) {
        registerSleep(config.sleepingSince);
    }
    const secrets = new pulumi.Config(NAMESPACE);
    const platform = platformReference(`${name}-platform`, config.platformStack);
    // The hosts the environment owns; its namespace records them and admission holds its Ingresses to them.
    const appHost = routeHost(stack, platform, config.app.name, config.route.host);
    const devDomain = config.workspace?.devDomain ?? platform.previewDomain;
    const hosts = [appHost, ...(config.workspace ? [workspaceHost(workspaceInstanceName(config.workspace.description), devDomain)] : [])];

    const namespace = new EnvironmentNamespace(`${name}-namespace`, {
        identity: config.identity,
        branch: config.branch,
        quota: config.quota,
        limits: config.limits,
        network: {
            ingressNamespace: platform.ingressNamespace,
            postgresNamespace: platform.postgresNamespace,
            registryNamespace: platform.registryNamespace,
            registryPort: config.network.registryPort,
            clusterCidrs: config.network.clusterCidrs,
            internetEgress: config.network.internetEgress,
        },
        hosts,
    });
    const ns = namespace.name;
    // Everything in the namespace waits for its quota, limit range and policies.
    const inNamespace: pulumi.ComponentResourceOptions = { dependsOn: namespace.ready };

    const access = new EnvironmentAccess(`${name}-access`, {
        stack,
        kind: config.identity.kind,
        namespace: ns,
        observers: config.access.observers,
        admins: config.access.admins,
        owners: config.access.owners,
        oidcPrefix: config.access.oidcPrefix,
        oidc: config.access.oidc,
        cluster: config.cluster,
        baseContext: config.access.baseContext,
    }, inNamespace);

    let database: Database | undefined;
    if (config.database.mode !== "none") {
        database = new Database(`${name}-database`, {
            stack,
            mode: config.database.mode,
            namespace: ns,
            postgresNamespace: platform.postgresNamespace,
            postgresClusterName: platform.postgresClusterName,
            postgresHost: platform.postgresHost,
            passwordSource: config.passwordSource,
            instances: config.database.instances,
            storage: config.database.storage,
            imageName: config.database.imageName,
            operatorNamespace: config.database.operatorNamespace,
            apiServerCidrs: config.network.apiServerCidrs,
            clusterCidrs: config.network.clusterCidrs,
            backup: config.database.backup
                ? { ...config.database.backup, credentials: secrets.requireSecretObject<{ accessKeyId: string; secretAccessKey: string }>("databaseBackupCredentials") }
                : undefined,
            seed: config.database.seed,
            seedImage: config.database.seedImage,
            allowCopies: config.database.allowCopies,
        }, inNamespace);
    }

    let redis: Redis | undefined;
    if (config.redis.enabled) {
        redis = new Redis(`${name}-redis`, {
            stack,
            namespace: ns,
            image: config.redis.image,
            persistent: config.redis.persistent,
            storage: config.redis.storage,
            passwordSource: config.passwordSource,
        }, inNamespace);
    }

    const bindings: SecretEnv[] = [];
    if (database) {
        bindings.push({ name: "DATABASE_URL", secretName: database.secretName, key: "DATABASE_URL" });
    }
    if (redis) {
        bindings.push({ name: "REDIS_URL", secretName: redis.secretName, key: "REDIS_URL" });
    }

    // The image build exists only when configured: no docker provider is needed otherwise.
    let built: ImageBuild | undefined;
    if (config.build) {
        built = new ImageBuild(`${name}-build`, {
            context: config.build.context,
            dockerfile: config.build.dockerfile,
            repository: config.build.repository,
            sha: config.sha ?? "",
            platform: config.build.platform,
            registryHost: platform.registryHost,
            registryPullSecret: platform.registryPullSecret,
        });
    }
    const env: Record<string, pulumi.Input<string>> = { ...config.app.env };
    if (built && config.build?.envVar) {
        env[config.build.envVar] = built.imageName;
    }
    const source = config.app.source;
    const app = new App(`${name}-app`, {
        stack,
        namespace: ns,
        appName: config.app.name,
        source: source.kind === "image" ? { kind: "image", image: source.image ?? built?.imageName ?? "" } : source,
        port: config.app.port,
        replicas: config.app.replicas,
        command: config.app.command,
        args: config.app.args,
        readinessPath: config.app.readinessPath,
        livenessPath: config.app.livenessPath,
        resources: config.app.resources,
        env,
        secretValues: config.secrets.appSecrets ? secrets.requireSecretObject<Record<string, string>>("appSecrets") : {},
        secretNames: config.app.secretNames,
        generatedSecrets: config.app.generatedSecrets,
        passwordSource: config.passwordSource,
        files: config.app.secretFiles,
        fileValues: config.secrets.appSecretFiles ? secrets.requireSecretObject<Record<string, string>>("appSecretFiles") : {},
        dataVolume: config.app.dataVolume,
        autoscaling: config.app.autoscaling,
        disruptionBudget: config.identity.kind === "production",
        pullSecret: config.app.pullSecret ? platform.registryPullSecret : undefined,
        bindings,
        runAsUser: config.app.runAsUser,
        runAsGroup: config.app.runAsGroup,
        readOnlyRootFilesystem: config.app.readOnlyRootFilesystem,
        extraEgress: config.app.egress,
    // The app starts after its database is seeded (the seed Job completed, or a seeded cluster is Ready).
    }, { dependsOn: [...namespace.ready, ...(database ? [database, ...database.ready] : []), ...(redis ? [redis] : [])] });

    let url: pulumi.Output<string> = pulumi.output("");
    if (config.route.enabled) {
        const route = new Route(`${name}-route`, {
            stack,
            namespace: ns,
            host: appHost,
            ingressClassName: platform.ingressClassName,
            serviceName: config.route.serviceName ?? app.serviceName,
            servicePort: config.route.servicePort ?? app.servicePort,
            ingressName: config.app.name,
        }, { dependsOn: [...namespace.ready, app] });
        url = route.url;
    }

    let workspace: AgentWorkspace | undefined;
    if (config.workspace) {
        const ws = config.workspace;
        workspace = new AgentWorkspace(`${name}-workspace`, {
            stack,
            namespace: ns,
            description: ws.description,
            user: ws.user,
            timezone: ws.timezone,
            otelEndpoint: ws.otelEndpoint,
            healthPath: ws.healthPath,
            images: ws.images,
            features: ws.features,
            repository: ws.repository,
            credentials: config.secrets.workspaceSecrets ? secrets.requireSecretObject<WorkspaceCredentials>("workspaceSecrets") : {},
            hasSshKey: ws.hasSshKey,
            claudeCredential: ws.claudeCredential,
            claude: ws.claude,
            appUrl: url,
            appInternalUrl: pulumi.interpolate`http://${config.route.serviceName ?? app.serviceName}.${ns}.svc.cluster.local:${config.route.servicePort ?? app.servicePort}`,
            ingressNamespace: platform.ingressNamespace,
            devcontainer: ws.devcontainer,
            ownerRoleName: access.ownerRoleName,
            databaseSecretName: database?.secretName,
            workspaceStorage: ws.workspaceStorage,
            homeStorage: ws.homeStorage,
            devDomain,
            ingressClassName: platform.ingressClassName,
            clusterCidrs: config.network.clusterCidrs,
            apiServerCidrs: config.network.apiServerCidrs,
            passwordSource: config.passwordSource,
        }, { dependsOn: [...namespace.ready, access, ...(database ? [database] : [])] });
    }

    return {
        namespace: ns,
        url,
        kubeconfig: access.kubeconfig,
        oidcKubeconfig: access.oidcKubeconfig,
        databaseSecretName: database?.secretName ?? "",
        databaseHost: database?.host ?? "",
        redisHost: redis?.host ?? "",
        redisSecretName: redis?.secretName ?? "",
        workspaceUrl: workspace?.url ?? "",
        workspaceName: workspace?.instanceName ?? "",
        image: built?.imageName ?? (source.kind === "image" ? source.image ?? "" : ""),
        owners: config.access.owners.users,
    };
}

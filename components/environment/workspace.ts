import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { componentSelector, NEEDS_API_LABEL, objectLabels, SERVICE_ANNOTATIONS } from "./labels";
import { internetEgressSpec } from "./network";
import { Route } from "./route";
import {
    WORKSPACE_PORTS,
    WorkspaceFeatures,
    WorkspaceImages,
    workspaceInstanceName,
    workspacePodSpec,
} from "./workspace-spec";

/** Credentials a workspace may be given (all optional; a Pulumi secret). */
export interface WorkspaceCredentials {
    githubToken?: string;
    sshPrivateKey?: string;
    dockerhubToken?: string;
}

/** Arguments of {@link AgentWorkspace}. */
export interface AgentWorkspaceArgs {
    /** The environment's stack name, for labels. */
    stack: string;
    /** The environment's namespace. */
    namespace: pulumi.Input<string>;
    /** What the workspace is for; its sha256 names the instance. */
    description: string;
    /** Who it belongs to. */
    user: string;
    /** Time zone. */
    timezone: string;
    /** OTLP endpoint ("" for none). */
    otelEndpoint: string;
    /** HTTP path of the agent's health endpoint. */
    healthPath: string;
    /** Pinned images. */
    images: WorkspaceImages;
    /** Optional containers. */
    features: WorkspaceFeatures;
    /** Repository to clone, when set. */
    repository?: { url: string; branch: string };
    /** Credentials (secret). */
    credentials: pulumi.Input<WorkspaceCredentials>;
    /** Whether `credentials` holds an SSH key (known from validated config). */
    hasSshKey: boolean;
    /** The environment's owner Role; the workspace's ServiceAccount is bound to it. */
    ownerRoleName: pulumi.Input<string>;
    /** The database connection Secret, when the environment has Postgres. */
    databaseSecretName?: pulumi.Input<string>;
    /** Size of the /workspace volume. */
    workspaceStorage: string;
    /** Size of the home volume. */
    homeStorage: string;
    /** Domain of workspace hosts: `<instance>.<devDomain>`. */
    devDomain: pulumi.Input<string>;
    /** The platform's IngressClass. */
    ingressClassName: pulumi.Input<string>;
    /** Pod, service and node networks, excluded from the workspace's internet egress. */
    clusterCidrs: string[];
    /** API server networks the agent must reach. */
    apiServerCidrs: string[];
    /** Where generated passwords come from (the Hasura admin secret). */
    passwordSource: PasswordSource;
}

/**
 * A coding agent's workspace: one pod (Recreate: its volumes are ReadWriteOnce) with the agent,
 * MCP sidecars and optional toolchains, persistent workspace and home volumes, a ServiceAccount
 * bound to the owner role of its own namespace only, internet egress on 443 for this pod alone,
 * a Service and an Ingress at `<instance>.<devDomain>`.
 */
export class AgentWorkspace extends pulumi.ComponentResource {
    /** The instance name (12 hex characters of sha256(description)). */
    public readonly instanceName: string;
    /** `https://<instance>.<devDomain>`. */
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: AgentWorkspaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:AgentWorkspace", name, {}, opts);
        const instance = workspaceInstanceName(args.description);
        const objectName = `workspace-${instance}`;
        const component = "workspace";
        const labels = { ...objectLabels(args.stack, component), "catalyst.dev/workspace": instance };
        const selector = { ...componentSelector(args.stack, component), "catalyst.dev/workspace": instance };
        const namespace = args.namespace;
        const child = { parent: this };

        const account = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
            metadata: { name: objectName, namespace, labels },
            automountServiceAccountToken: false,
        }, child);
        new k8s.rbac.v1.RoleBinding(`${name}-owner`, {
            metadata: { name: objectName, namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: args.ownerRoleName },
            subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace }],
        }, child);

        const secretData: Record<string, pulumi.Input<string>> = {};
        const credentials = pulumi.output(args.credentials);
        const add = (key: string, value: pulumi.Output<string | undefined>) => {
            secretData[key] = pulumi.secret(value.apply((v) => v ?? ""));
        };
        add("GITHUB_TOKEN", credentials.apply((c) => c.githubToken));
        add("DOCKERHUB_TOKEN", credentials.apply((c) => c.dockerhubToken));
        if (args.hasSshKey) {
            add("SSH_PRIVATE_KEY", credentials.apply((c) => c.sshPrivateKey));
        }
        if (args.features.hasura) {
            secretData.HASURA_GRAPHQL_ADMIN_SECRET = new GeneratedPassword(`${name}-hasura-admin`, { source: args.passwordSource }, child).value;
        }
        const secret = new k8s.core.v1.Secret(`${name}-credentials`, {
            metadata: { name: `${objectName}-credentials`, namespace, labels },
            stringData: secretData,
        }, child);

        const claim = (suffix: string, storage: string) => new k8s.core.v1.PersistentVolumeClaim(`${name}-${suffix}`, {
            metadata: { name: `${objectName}-${suffix}`, namespace, labels },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } },
        }, child);
        const workspaceClaim = claim("workspace", args.workspaceStorage);
        const homeClaim = claim("home", args.homeStorage);

        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: { name: objectName, namespace, labels },
            spec: {
                replicas: 1,
                strategy: { type: "Recreate" },
                selector: { matchLabels: selector },
                template: {
                    // The agent drives the API of its namespace: the one pod that opts in to a token.
                    metadata: { labels: { ...labels, ...selector, [NEEDS_API_LABEL]: "true" } },
                    spec: workspacePodSpec({
                        instanceName: instance,
                        description: args.description,
                        user: args.user,
                        namespace,
                        timezone: args.timezone,
                        otelEndpoint: args.otelEndpoint,
                        images: args.images,
                        features: args.features,
                        healthPath: args.healthPath,
                        repository: args.repository,
                        serviceAccountName: account.metadata.name,
                        credentialsSecretName: secret.metadata.name,
                        hasSshKey: args.hasSshKey,
                        databaseSecretName: args.databaseSecretName,
                        claims: { workspace: workspaceClaim.metadata.name, home: homeClaim.metadata.name },
                    }),
                },
            },
        }, child);

        // This pod alone reaches the internet (model APIs, package registries, git hosts) and the API server.
        new k8s.networking.v1.NetworkPolicy(`${name}-internet`, {
            metadata: { name: `${objectName}-internet-443`, namespace, labels },
            spec: internetEgressSpec(selector, args.clusterCidrs),
        }, child);
        if (args.apiServerCidrs.length > 0) {
            new k8s.networking.v1.NetworkPolicy(`${name}-api-server`, {
                metadata: { name: `${objectName}-api-server`, namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Egress"],
                    egress: [{
                        to: args.apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } })),
                        ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }],
                    }],
                },
            }, child);
        }

        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: objectName, namespace, labels, annotations: SERVICE_ANNOTATIONS },
            spec: {
                selector,
                ports: [
                    { name: "http", port: WORKSPACE_PORTS.http, targetPort: "http" },
                    { name: "mcp", port: WORKSPACE_PORTS.mcp, targetPort: "mcp" },
                    { name: "browser-mcp", port: WORKSPACE_PORTS.playwrightMcp, targetPort: "browser-mcp" },
                    { name: "novnc", port: WORKSPACE_PORTS.novnc, targetPort: "novnc" },
                ],
            },
        }, { parent: this, dependsOn: [deployment] });
        const route = new Route(`${name}-route`, {
            stack: args.stack,
            namespace,
            host: pulumi.interpolate`${instance}.${args.devDomain}`,
            ingressClassName: args.ingressClassName,
            serviceName: service.metadata.name,
            servicePort: WORKSPACE_PORTS.http,
            ingressName: objectName,
            component,
        }, child);

        this.instanceName = instance;
        this.url = route.url;
        this.registerOutputs({ instanceName: this.instanceName, url: this.url });
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { CONTROL_PLANE_UID } from "./controlPlane";
import { apiNamespaceRules } from "./controlPlaneRbac";
import { ResourceRequests, restrictedContainerSecurityContext, restrictedPodSecurityContext, spreadOverNodes } from "./workload";

/**
 * The HTTP API (`catalyst serve`) in the control plane's namespace, in resource mode: it writes
 * and reads Environment resources, which the controller reconciles, and never runs a stack itself,
 * so any number of replicas serve the same state and a restart loses no operation. A Service and
 * an Ingress on the platform's ingress class make it reachable at `api.host`. Callers' tokens come
 * from a Secret the operator creates (`tokensSecret`, key `tokens.json`), never from this stack.
 * With `oidc`, the same process is Catalyst's OpenID provider at `/oidc` (stacks/oidc), signing
 * people in through a GitHub OAuth app whose client secret this component keeps in a Secret of
 * its own, and keeping its signing keys in another Secret it creates empty and the API fills.
 * The dashboard it serves needs what all replicas share: one COOKIE_SECRET (generated here, so a
 * session cookie and the single sign-on client secret derived from it hold at every replica) and
 * one store of sign-outs (a Secret created empty, which the replicas fill; the root file system
 * is read-only and the pods share no volume).
 */

/** The UID of the control-plane image, which the API shares with the controller. */
const API_UID = CONTROL_PLANE_UID;
/** Port `catalyst serve` listens on inside the pod. */
export const CONTROL_PLANE_API_PORT = 8080;

/** Name of the API's Service (and of its other objects); the ingress controller's default backend too. */
export const CONTROL_PLANE_API_SERVICE = "catalyst-api";
/** Where the token table is mounted. */
const TOKENS_DIR = "/etc/catalyst/api";
/** The key of the tokens Secret that holds the table. */
export const API_TOKENS_KEY = "tokens.json";

/** Optional key of the same Secret: the HMAC key of signed wake links (at least 32 bytes), which the operator adds. */
export const WAKE_KEY_DATA_KEY = "wakeKey";
/** The Secret with the GitHub OAuth app's client secret, and its key. */
export const OIDC_GITHUB_SECRET_NAME = "catalyst-oidc-github";
export const OIDC_GITHUB_SECRET_DATA_KEY = "clientSecret";
/** The Secret with the dashboard's COOKIE_SECRET, and its key. */
export const COOKIE_SECRET_NAME = "catalyst-api-cookie";
export const COOKIE_SECRET_DATA_KEY = "cookieSecret";
/** Characters of the generated COOKIE_SECRET (letters and digits: about 285 bits; the server wants at least 32). */
const COOKIE_SECRET_LENGTH = 48;
/** The Secret the replicas keep the dashboard's sign-outs in (CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF). */
export const SIGNED_OUT_SECRET_NAME = "catalyst-dashboard-signed-out";

/** The OpenID provider of {@link ControlPlaneApiArgs.oidc}: what `catalyst serve` reads as CATALYST_OIDC_*. */
export interface ControlPlaneApiOidc {
    /** The issuer URL (https, ending in /oidc). */
    issuer: string;
    /** The client the cluster trusts. */
    clientId: string;
    /** Durations as the server reads them (`15m`, `12h`). */
    tokenTtl: string;
    sessionTtl: string;
    keyRotation: string;
    /** Name of the signing-keys Secret in the API's namespace. */
    keysSecret: string;
    github: {
        clientId: string;
        org: string;
        url?: string;
        apiUrl?: string;
        /** The OAuth app's client secret: a Pulumi secret, only ever written into a Secret. */
        clientSecret: pulumi.Output<string>;
    };
}

/** Arguments of {@link ControlPlaneApi}. */
export interface ControlPlaneApiArgs {
    /** The control plane's namespace (holds Projects and Environments). */
    namespace: pulumi.Input<string>;
    /** API group of the CRDs (for the API's Role). */
    group: string;
    /** The control-plane image, pinned (the same image as the controller's). */
    image: pulumi.Input<string>;
    /** Replicas of the API. */
    replicas: number;
    /** Public host of the API, e.g. `catalyst.example.com`. */
    host: string;
    /** The platform's IngressClass. */
    ingressClassName: pulumi.Input<string>;
    /** The Secret with the callers' token table (created by the operator). */
    tokensSecret: string;
    /** Requests of a replica. */
    requests: ResourceRequests;
    /** Limits of a replica. */
    limits: ResourceRequests;
    /** Labels of every object. */
    labels: Record<string, string>;
    /** Host the OpenID provider too. */
    oidc?: ControlPlaneApiOidc;
    /** Where the generated COOKIE_SECRET comes from (`builtin` where the random provider plugin is missing). */
    passwordSource?: PasswordSource;
}

/** The CATALYST_OIDC_* environment of the API container; the client secret by reference only. */
function oidcEnv(oidc: ControlPlaneApiOidc, namespace: pulumi.Input<string>, githubSecret: pulumi.Input<string>): k8s.types.input.core.v1.EnvVar[] {
    const optional = (name: string, value: string | undefined) => (value === undefined ? [] : [{ name, value }]);
    return [
        { name: "CATALYST_OIDC_ISSUER", value: oidc.issuer },
        { name: "CATALYST_OIDC_CLIENT_ID", value: oidc.clientId },
        { name: "CATALYST_OIDC_TOKEN_TTL", value: oidc.tokenTtl },
        { name: "CATALYST_OIDC_SESSION_TTL", value: oidc.sessionTtl },
        { name: "CATALYST_OIDC_KEY_ROTATION", value: oidc.keyRotation },
        { name: "CATALYST_OIDC_KEYS_SECRET_REF", value: pulumi.interpolate`${namespace}/${oidc.keysSecret}` },
        { name: "CATALYST_OIDC_GITHUB_CLIENT_ID", value: oidc.github.clientId },
        { name: "CATALYST_OIDC_GITHUB_ORG", value: oidc.github.org },
        ...optional("CATALYST_OIDC_GITHUB_URL", oidc.github.url),
        ...optional("CATALYST_OIDC_GITHUB_API_URL", oidc.github.apiUrl),
        { name: "CATALYST_OIDC_GITHUB_CLIENT_SECRET", valueFrom: { secretKeyRef: { name: githubSecret, key: OIDC_GITHUB_SECRET_DATA_KEY } } },
    ];
}

/**
 * The dashboard's shared Secrets and the environment that names them: COOKIE_SECRET, generated
 * once (a Pulumi secret in the state) into a Secret and passed by reference; the sign-outs Secret,
 * created empty and never diffed again, since the replicas write it (`pulumi up` must not wipe
 * sign-outs).
 */
function dashboardSecrets(name: string, args: ControlPlaneApiArgs, labels: Record<string, string>, parent: pulumi.Resource): { env: k8s.types.input.core.v1.EnvVar[]; secrets: pulumi.Resource[] } {
    const key = new GeneratedPassword(`${name}-cookie`, { length: COOKIE_SECRET_LENGTH, source: args.passwordSource }, { parent });
    const cookie = new k8s.core.v1.Secret(`${name}-cookie`, {
        metadata: { name: COOKIE_SECRET_NAME, namespace: args.namespace, labels },
        type: "Opaque",
        stringData: { [COOKIE_SECRET_DATA_KEY]: pulumi.secret(key.value) },
    }, { parent });
    const signedOut = new k8s.core.v1.Secret(`${name}-signed-out`, {
        metadata: { name: SIGNED_OUT_SECRET_NAME, namespace: args.namespace, labels: { ...labels, "app.kubernetes.io/component": "dashboard-sign-outs" } },
        type: "Opaque",
    }, { parent, ignoreChanges: ["data", "stringData"] });
    return {
        env: [
            { name: "COOKIE_SECRET", valueFrom: { secretKeyRef: { name: cookie.metadata.name, key: COOKIE_SECRET_DATA_KEY } } },
            { name: "CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF", value: pulumi.interpolate`${args.namespace}/${signedOut.metadata.name}` },
        ],
        secrets: [cookie, signedOut],
    };
}

/** ServiceAccount, Role, Deployment, PodDisruptionBudget, Service and Ingress of the HTTP API. */
export class ControlPlaneApi extends pulumi.ComponentResource {
    /** The API's public host. */
    public readonly host: pulumi.Output<string>;
    /** The API's Service. */
    public readonly serviceName: pulumi.Output<string>;

    constructor(name: string, args: ControlPlaneApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:ControlPlaneApi", name, {}, opts);
        const parent = { parent: this };
        const selector = { "app.kubernetes.io/name": CONTROL_PLANE_API_SERVICE, "app.kubernetes.io/instance": name };
        const labels = { ...args.labels, ...selector };
        const metadata = { name: CONTROL_PLANE_API_SERVICE, namespace: args.namespace, labels };

        const account = new k8s.core.v1.ServiceAccount(name, { metadata, automountServiceAccountToken: false }, parent);
        const role = new k8s.rbac.v1.Role(name, { metadata, rules: apiNamespaceRules(args.group, { signedOut: SIGNED_OUT_SECRET_NAME, oidcKeys: args.oidc?.keysSecret }) }, parent);
        new k8s.rbac.v1.RoleBinding(name, {
            metadata,
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: args.namespace }],
        }, parent);

        const dashboard = dashboardSecrets(name, args, labels, this);

        let oidc: k8s.types.input.core.v1.EnvVar[] = [];
        const oidcSecrets: pulumi.Resource[] = [];
        if (args.oidc !== undefined) {
            const github = new k8s.core.v1.Secret(`${name}-oidc-github`, {
                metadata: { name: OIDC_GITHUB_SECRET_NAME, namespace: args.namespace, labels },
                type: "Opaque",
                stringData: { [OIDC_GITHUB_SECRET_DATA_KEY]: pulumi.secret(args.oidc.github.clientSecret) },
            }, parent);
            // Created empty so that the API's Role can name it (a resourceName cannot limit
            // `create`); the provider writes `keys.json` into it and rotates the keys there, so
            // this stack never owns, diffs or resets the data.
            const keys = new k8s.core.v1.Secret(`${name}-oidc-keys`, {
                metadata: { name: args.oidc.keysSecret, namespace: args.namespace, labels: { ...labels, "app.kubernetes.io/component": "oidc-signing-keys" } },
                type: "Opaque",
            }, { ...parent, ignoreChanges: ["data", "stringData"] });
            oidcSecrets.push(github, keys);
            oidc = oidcEnv(args.oidc, args.namespace, github.metadata.name);
        }

        new k8s.apps.v1.Deployment(name, {
            metadata,
            spec: {
                replicas: args.replicas,
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: account.metadata.name,
                        automountServiceAccountToken: true,
                        securityContext: restrictedPodSecurityContext(API_UID),
                        affinity: spreadOverNodes(selector),
                        containers: [{
                            name: "api",
                            image: args.image,
                            args: ["serve", "--host", "0.0.0.0", "--port", String(CONTROL_PLANE_API_PORT)],
                            env: [
                                { name: "CATALYST_CONTROL_PLANE_NAMESPACE", value: args.namespace },
                                { name: "CATALYST_API_TOKENS_FILE", value: `${TOKENS_DIR}/${API_TOKENS_KEY}` },
                                // The sleeping page's wake form posts here; its links are signed with the key below (stacks/api/sleeping.ts).
                                { name: "CATALYST_API_URL", value: `https://${args.host}` },
                                { name: "CATALYST_WAKE_KEY", valueFrom: { secretKeyRef: { name: args.tokensSecret, key: WAKE_KEY_DATA_KEY, optional: true } } },
                                ...dashboard.env,
                                ...oidc,
                            ],
                            ports: [{ name: "http", containerPort: CONTROL_PLANE_API_PORT }],
                            readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 10 },
                            livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 20, failureThreshold: 3 },
                            resources: { requests: args.requests, limits: args.limits },
                            securityContext: restrictedContainerSecurityContext(),
                            // The image's HOME and work root are under /work: writable, like /tmp, on emptyDirs.
                            volumeMounts: [{ name: "tokens", mountPath: TOKENS_DIR, readOnly: true }, { name: "work", mountPath: "/work" }, { name: "tmp", mountPath: "/tmp" }],
                        }],
                        volumes: [
                            { name: "tokens", secret: { secretName: args.tokensSecret, items: [{ key: API_TOKENS_KEY, path: API_TOKENS_KEY }] } },
                            { name: "work", emptyDir: { sizeLimit: "256Mi" } },
                            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                        ],
                    },
                },
            },
        }, { ...parent, dependsOn: [...dashboard.secrets, ...oidcSecrets] });
        new k8s.policy.v1.PodDisruptionBudget(name, {
            metadata,
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        }, parent);
        const service = new k8s.core.v1.Service(name, {
            metadata,
            spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http" }] },
        }, parent);
        new k8s.networking.v1.Ingress(name, {
            metadata,
            spec: {
                ingressClassName: args.ingressClassName,
                rules: [{
                    host: args.host,
                    http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service.metadata.name, port: { name: "http" } } } }] },
                }],
            },
        }, parent);

        this.host = pulumi.output(args.host);
        this.serviceName = service.metadata.name;
        this.registerOutputs({ host: this.host, serviceName: this.serviceName });
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { componentSelector, objectLabels, SERVICE_ANNOTATIONS } from "./labels";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";

/** The Redis image environments run unless configured otherwise (pinned). */
export const DEFAULT_REDIS_IMAGE = "redis:7.4.2-alpine";
/** The uid and gid of the `redis` user in the official images. */
export const REDIS_UID = 999;
/** The in-namespace name of the Redis Secret (REDIS_URL and its parts). */
export const REDIS_SECRET = "redis";

/** Arguments of {@link Redis}. */
export interface RedisArgs {
    /** The environment's stack name, for labels. */
    stack: string;
    /** The environment's namespace. */
    namespace: pulumi.Input<string>;
    /** Pinned image. */
    image: string;
    /** Keep data on a PersistentVolumeClaim (production) instead of an emptyDir. */
    persistent: boolean;
    /** Size of the data volume. */
    storage: string;
    /** Where the generated password comes from. */
    passwordSource: PasswordSource;
}

/** The redis.conf of an environment: password, data directory, persistence. */
export function redisConfig(password: string, persistent: boolean): string {
    return [
        "bind 0.0.0.0",
        "port 6379",
        `requirepass ${password}`,
        "dir /data",
        // Append-only persistence only where the data survives the pod anyway.
        `appendonly ${persistent ? "yes" : "no"}`,
        persistent ? 'save 3600 1 300 100' : 'save ""',
        "protected-mode yes",
    ].join("\n") + "\n";
}

/** A `redis://` URL with the password percent-encoded. */
export function redisUrl(password: string, host: string): string {
    return `redis://:${encodeURIComponent(password)}@${host}:6379/0`;
}

/**
 * A single Redis for an environment: runs as uid 999 on a read-only root filesystem, with the
 * password in a Secret-mounted config file (never on the command line, where `ps` shows it),
 * a PVC for /data in production, a Service and a Secret with REDIS_URL.
 */
export class Redis extends pulumi.ComponentResource {
    /** The Service host (`redis.<namespace>.svc`). */
    public readonly host: pulumi.Output<string>;
    /** Name of the Secret holding REDIS_URL, REDIS_HOST and REDIS_PASSWORD. */
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:Redis", name, {}, opts);
        const labels = objectLabels(args.stack, "redis");
        const selector = componentSelector(args.stack, "redis");
        const namespace = args.namespace;
        const password = new GeneratedPassword(`${name}-password`, { source: args.passwordSource }, { parent: this });

        const config = new k8s.core.v1.Secret(`${name}-config`, {
            metadata: { name: "redis-config", namespace, labels },
            stringData: { "redis.conf": pulumi.secret(password.value.apply((pw) => redisConfig(pw, args.persistent))) },
        }, { parent: this });

        let data: k8s.types.input.core.v1.Volume = { name: "data", emptyDir: { sizeLimit: args.storage } };
        if (args.persistent) {
            const claim = new k8s.core.v1.PersistentVolumeClaim(`${name}-data`, {
                metadata: { name: "redis-data", namespace, labels },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: args.storage } } },
            }, { parent: this });
            data = { name: "data", persistentVolumeClaim: { claimName: claim.metadata.name } };
        }

        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: { name: "redis", namespace, labels },
            spec: {
                replicas: 1,
                // One writer per volume: the old pod stops before the new one mounts the data.
                strategy: { type: "Recreate" },
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels: { ...labels, ...selector } },
                    spec: {
                        automountServiceAccountToken: false,
                        securityContext: restrictedPodSecurityContext(REDIS_UID, REDIS_UID),
                        containers: [{
                            name: "redis",
                            image: args.image,
                            command: ["redis-server", "/etc/redis/redis.conf"],
                            ports: [{ name: "redis", containerPort: 6379 }],
                            securityContext: { ...restrictedContainerSecurityContext(), runAsUser: REDIS_UID },
                            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } },
                            readinessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 5 },
                            livenessProbe: { tcpSocket: { port: 6379 }, initialDelaySeconds: 10, periodSeconds: 10 },
                            volumeMounts: [
                                { name: "data", mountPath: "/data" },
                                { name: "config", mountPath: "/etc/redis", readOnly: true },
                            ],
                        }],
                        volumes: [data, { name: "config", secret: { secretName: config.metadata.name, defaultMode: 0o440 } }],
                    },
                },
            },
        }, { parent: this });

        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: "redis", namespace, labels, annotations: SERVICE_ANNOTATIONS },
            spec: { selector, ports: [{ name: "redis", port: 6379, targetPort: "redis" }] },
        }, { parent: this, dependsOn: [deployment] });

        this.host = pulumi.interpolate`${service.metadata.name}.${namespace}.svc`;
        const secret = new k8s.core.v1.Secret(`${name}-connection`, {
            metadata: { name: REDIS_SECRET, namespace, labels },
            stringData: {
                REDIS_URL: pulumi.secret(pulumi.all([password.value, this.host]).apply(([pw, host]) => redisUrl(pw, host))),
                REDIS_HOST: this.host,
                REDIS_PORT: "6379",
                REDIS_PASSWORD: password.value,
            },
        }, { parent: this });
        this.secretName = secret.metadata.name;
        this.registerOutputs({ host: this.host, secretName: this.secretName });
    }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";

/**
 * The pod of an application deployed from an image, as pure data: tests assert on it without
 * running the engine. The component in app.ts turns it into a Deployment.
 */

/** CPU and memory of a container. */
export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** The size an application container gets unless configured otherwise. */
export const DEFAULT_APP_RESOURCES: Resources = {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "500m", memory: "256Mi" },
};

/** A file from the app's secret files mounted read-only. */
export interface SecretFile {
    /** Key in `catalyst:appSecretFiles`. */
    key: string;
    /** Directory the file appears in. */
    mountPath: string;
    /** File name inside mountPath. */
    fileName: string;
    /** File mode (octal number, e.g. 0o400). */
    mode: number;
}

/** A variable read from a key of a Secret. */
export interface SecretEnv {
    /** Environment variable name. */
    name: string;
    /** Secret holding it. */
    secretName: pulumi.Input<string>;
    /** Key in the Secret. */
    key: string;
}

/** Everything the app's pod is made of. */
export interface AppPodSettings {
    /** Container name and the name of the app's objects. */
    name: string;
    /** Pinned image reference. */
    image: pulumi.Input<string>;
    /** Port the app listens on. */
    port: number;
    /** Overrides the image's entrypoint. */
    command?: string[];
    /** Overrides the image's arguments. */
    args?: string[];
    /** HTTP path of the readiness probe. */
    readinessPath: string;
    /** HTTP path of the liveness probe. */
    livenessPath: string;
    /** Container size. */
    resources: Resources;
    /** Plain variables (never secrets). */
    env: Record<string, pulumi.Input<string>>;
    /** Variables from Secrets: config secrets, generated secrets and service bindings. */
    secretEnv: SecretEnv[];
    /** Secret holding the files of `files`. */
    filesSecretName?: pulumi.Input<string>;
    /** Secret files to mount. */
    files: SecretFile[];
    /** PVC and mount path of a data volume. */
    data?: { claimName: pulumi.Input<string>; mountPath: string };
    /** Pull secret for the platform registry. */
    pullSecretName?: pulumi.Input<string>;
    /** uid to run as (the image's user when absent). */
    runAsUser?: number;
    /** gid to run as; volumes are group-owned by it. */
    runAsGroup?: number;
    /** Keep the root filesystem read-only (a /tmp emptyDir is always writable). */
    readOnlyRootFilesystem: boolean;
}

/** The Deployment's pod spec for `settings`, restricted by default. */
export function appPodSpec(settings: AppPodSettings): k8s.types.input.core.v1.PodSpec {
    const env: k8s.types.input.core.v1.EnvVar[] = Object.entries(settings.env).map(([name, value]) => ({ name, value }));
    for (const entry of settings.secretEnv) {
        env.push({ name: entry.name, valueFrom: { secretKeyRef: { name: entry.secretName, key: entry.key } } });
    }
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
    const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }];
    settings.files.forEach((file, index) => {
        const volume = `secret-file-${index}`;
        volumes.push({
            name: volume,
            secret: { secretName: settings.filesSecretName, items: [{ key: file.key, path: file.fileName, mode: file.mode }] },
        });
        mounts.push({ name: volume, mountPath: file.mountPath, readOnly: true });
    });
    if (settings.data) {
        volumes.push({ name: "data", persistentVolumeClaim: { claimName: settings.data.claimName } });
        mounts.push({ name: "data", mountPath: settings.data.mountPath });
    }
    const probe = (path: string) => ({ httpGet: { path, port: "http" } });
    const container: k8s.types.input.core.v1.Container = {
        name: settings.name,
        image: settings.image,
        ports: [{ name: "http", containerPort: settings.port }],
        env,
        resources: settings.resources,
        securityContext: restrictedContainerSecurityContext(settings.readOnlyRootFilesystem),
        readinessProbe: { ...probe(settings.readinessPath), periodSeconds: 5, failureThreshold: 3 },
        livenessProbe: { ...probe(settings.livenessPath), initialDelaySeconds: 15, periodSeconds: 10, failureThreshold: 6 },
        volumeMounts: mounts,
    };
    if (settings.command) {
        container.command = settings.command;
    }
    if (settings.args) {
        container.args = settings.args;
    }
    const spec: k8s.types.input.core.v1.PodSpec = {
        // The app has no business with the Kubernetes API; only the agent workspace mounts a token.
        automountServiceAccountToken: false,
        securityContext: restrictedPodSecurityContext(settings.runAsUser, settings.runAsGroup),
        containers: [container],
        volumes,
    };
    if (settings.pullSecretName) {
        spec.imagePullSecrets = [{ name: settings.pullSecretName }];
    }
    return spec;
}

/**
 * The user name and password for `host` in a `.dockerconfigjson` document (from `auths.<host>`,
 * either explicit fields or the base64 `auth`).
 */
export function registryCredentials(dockerConfigJson: string, host: string): { username: string; password: string } {
    const auths = (JSON.parse(dockerConfigJson) as { auths?: Record<string, { username?: string; password?: string; auth?: string }> }).auths ?? {};
    const entry = auths[host] ?? auths[`https://${host}`] ?? {};
    if (entry.username !== undefined && entry.password !== undefined) {
        return { username: entry.username, password: entry.password };
    }
    const decoded = Buffer.from(entry.auth ?? "", "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0 ? { username: "", password: "" } : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

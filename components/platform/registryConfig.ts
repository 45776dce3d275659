import { createHash } from "crypto";

/**
 * Pure helpers of the image registry (Docker Distribution 3.x): its configuration file, its
 * htpasswd file and the `.dockerconfigjson` that environments pull with.
 */

/** The registry image, pinned: Docker Distribution 3.0.0. */
export const REGISTRY_IMAGE = "docker.io/library/registry:3.0.0";
/** Directory of the configuration file (a whole-directory mount, so updates reach the pod). */
export const REGISTRY_CONFIG_DIR = "/etc/catalyst-registry";
/** The configuration file. */
export const REGISTRY_CONFIG_PATH = `${REGISTRY_CONFIG_DIR}/config.yml`;
/** Directory of the htpasswd file. */
export const REGISTRY_AUTH_DIR = "/auth";
/** The htpasswd file. */
export const REGISTRY_HTPASSWD_PATH = `${REGISTRY_AUTH_DIR}/htpasswd`;
/** Where filesystem storage is mounted. */
export const REGISTRY_DATA_PATH = "/var/lib/registry";
/** Port of the registry API. */
export const REGISTRY_PORT = 5000;
/** Port of the debug server, which serves Prometheus metrics on /metrics. */
export const REGISTRY_METRICS_PORT = 5001;

/** Where image layers are stored. */
export type RegistryStorage =
    | {
          /** A PersistentVolumeClaim: one replica, since the volume is ReadWriteOnce. */
          kind: "pvc";
          /** Size of the claim (`20Gi`). */
          size: string;
          /** StorageClass; the cluster default when unset. */
          storageClass?: string;
      }
    | {
          /** An S3 bucket: replicas share it, so the registry can run more than one. */
          kind: "s3";
          /** Bucket name. */
          bucket: string;
          /** Bucket region. */
          region: string;
          /** Endpoint of an S3-compatible service (MinIO, R2, ...); AWS when unset. */
          endpoint?: string;
          /** Path-style addressing, which most S3-compatible services need. */
          forcePathStyle?: boolean;
      };

/** The `storage` section of the registry configuration for `storage`. */
function storageSection(storage: RegistryStorage): Record<string, unknown> {
    if (storage.kind === "pvc") {
        return { filesystem: { rootdirectory: REGISTRY_DATA_PATH } };
    }
    // Credentials come from the environment (REGISTRY_STORAGE_S3_ACCESSKEY/SECRETKEY) or the
    // pod's cloud identity; they are never written into this ConfigMap.
    return {
        s3: {
            bucket: storage.bucket,
            region: storage.region,
            ...(storage.endpoint === undefined ? {} : { regionendpoint: storage.endpoint }),
            forcepathstyle: storage.forcePathStyle ?? false,
            secure: true,
        },
    };
}

/**
 * The registry configuration file. JSON is valid YAML, so the object is written as JSON.
 * Deletes are enabled so that garbage collection can reclaim space; stale uploads are purged.
 */
export function registryConfig(storage: RegistryStorage, realm = "catalyst registry"): Record<string, unknown> {
    return {
        version: 0.1,
        log: { level: "info", formatter: "json" },
        storage: {
            ...storageSection(storage),
            delete: { enabled: true },
            cache: { blobdescriptor: "inmemory" },
            maintenance: { uploadpurging: { enabled: true, age: "168h", interval: "24h", dryrun: false } },
        },
        http: {
            addr: `:${REGISTRY_PORT}`,
            headers: { "X-Content-Type-Options": ["nosniff"] },
            debug: { addr: `:${REGISTRY_METRICS_PORT}`, prometheus: { enabled: true, path: "/metrics" } },
        },
        auth: { htpasswd: { realm, path: REGISTRY_HTPASSWD_PATH } },
        health: { storagedriver: { enabled: true, interval: "10s", threshold: 3 } },
    };
}

/** The configuration file's text and a short hash of it, to roll the pods when it changes. */
export function registryConfigFile(storage: RegistryStorage): { text: string; hash: string } {
    const text = `${JSON.stringify(registryConfig(storage), null, 2)}\n`;
    return { text, hash: createHash("sha256").update(text).digest("hex").slice(0, 16) };
}

/** One htpasswd line for `user` with a bcrypt `hash` (Distribution accepts bcrypt only). */
export function htpasswdLine(user: string, hash: string): string {
    if (user.includes(":") || user.includes("\n")) {
        throw new Error(`registry user "${user}" must not contain ':' or a line break`);
    }
    return `${user}:${hash}\n`;
}

/** The `.dockerconfigjson` content that authenticates to `host` as `user`. */
export function dockerConfigJson(host: string, user: string, password: string): string {
    const auth = Buffer.from(`${user}:${password}`).toString("base64");
    return JSON.stringify({ auths: { [host]: { username: user, password, auth } } });
}

/** The registry's public host for `domain`: `registry.<domain>`. */
export function registryHost(domain: string): string {
    return `registry.${domain}`;
}

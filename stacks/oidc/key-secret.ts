import { execFile } from "child_process";
import { KeySet, KeyStore, parseKeySet } from "./keys";

/**
 * Signing keys in a Kubernetes Secret (key `keys.json`), for a provider running in a cluster:
 * every replica reads the same keys, and a write carries the resourceVersion it read, so two
 * replicas rotating at once cannot overwrite each other (the loser rereads and finds the new key).
 * Through kubectl with the process's KUBECONFIG or in-cluster credentials, as the automation
 * layer reaches the cluster; the provider's ServiceAccount needs get/create/update on this Secret
 * (get/update when the Secret exists beforehand, as the platform stack creates it). A write keeps
 * the labels and annotations the Secret already has, so its creator's metadata is not replaced.
 */

const DATA_KEY = "keys.json";

function kubectl(args: string[], input?: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = execFile("kubectl", [...args, "--request-timeout=30s"], { env: process.env, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
            (err, stdout, stderr) => resolve({ ok: err === null, stdout, stderr }));
        child.stdin?.end(input ?? "");
    });
}

export class SecretKeyStore implements KeyStore {
    private resourceVersion: string | undefined;
    private metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};

    constructor(private readonly namespace: string, private readonly name: string) {}

    describe(): string {
        return `Secret ${this.namespace}/${this.name}`;
    }

    async load(): Promise<KeySet> {
        const got = await kubectl(["get", "secret", this.name, "-n", this.namespace, "-o", "json", "--ignore-not-found"]);
        if (!got.ok) throw new Error(`${this.describe()}: ${got.stderr.trim().split("\n")[0]}`);
        if (got.stdout.trim() === "") {
            this.resourceVersion = undefined;
            this.metadata = {};
            return { keys: [] };
        }
        const secret = JSON.parse(got.stdout) as {
            metadata: { resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
            data?: Record<string, string>;
        };
        this.resourceVersion = secret.metadata.resourceVersion;
        this.metadata = { labels: secret.metadata.labels, annotations: secret.metadata.annotations };
        const data = secret.data?.[DATA_KEY];
        return data === undefined ? { keys: [] } : parseKeySet(Buffer.from(data, "base64").toString("utf8"), this.describe());
    }

    async save(set: KeySet): Promise<void> {
        const secret = {
            apiVersion: "v1",
            kind: "Secret",
            type: "Opaque",
            metadata: {
                name: this.name,
                namespace: this.namespace,
                labels: this.metadata.labels ?? { "app.kubernetes.io/managed-by": "catalyst", "app.kubernetes.io/component": "oidc-signing-keys" },
                ...(this.metadata.annotations ? { annotations: this.metadata.annotations } : {}),
                ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}),
            },
            data: { [DATA_KEY]: Buffer.from(JSON.stringify(set)).toString("base64") },
        };
        const verb = this.resourceVersion ? "replace" : "create";
        const result = await kubectl([verb, "-f", "-", "-o", "jsonpath={.metadata.resourceVersion}"], JSON.stringify(secret));
        if (!result.ok) throw new Error(`${this.describe()}: ${verb} failed: ${result.stderr.trim().split("\n")[0]}`);
        this.resourceVersion = result.stdout.trim();
    }
}

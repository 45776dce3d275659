import { generateKeyPairSync } from "crypto";
import { readFileSync } from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { kubectl, kubectlJson, quietOutput, repoRoot } from "./harness";

/**
 * Helpers of the environment integration tests: stack configuration from the checked-in YAML
 * files, SubjectAccessReviews, and waits.
 */

/** The platform stack the tests' environments read (the harness's shared `platform` stack). */
export const PLATFORM_REFERENCE = "organization/catalyst/platform";

/** Kinds an environment creates, for counting what is left after a destroy. */
export const ENVIRONMENT_KINDS = [
    "namespaces", "deployments", "replicasets", "pods", "services", "secrets", "configmaps", "persistentvolumeclaims",
    "ingresses", "serviceaccounts", "roles", "rolebindings", "networkpolicies", "resourcequotas", "limitranges",
    "poddisruptionbudgets", "horizontalpodautoscalers", "clusterrolebindings",
    "databases.postgresql.cnpg.io", "databaseroles.postgresql.cnpg.io", "clusters.postgresql.cnpg.io",
    "scheduledbackups.postgresql.cnpg.io",
].join(",");

/** The `config:` of a stack file (`Pulumi.pr.yaml`, an example) as an Automation API ConfigMap. */
export function configFromFile(file: string): ConfigMap {
    const parsed = yaml.load(readFileSync(path.join(repoRoot, file), "utf8")) as { config?: Record<string, unknown> };
    const config: ConfigMap = {};
    for (const [key, value] of Object.entries(parsed.config ?? {})) {
        config[key] = { value: typeof value === "string" ? value : JSON.stringify(value) };
    }
    return config;
}

/** A ConfigMap entry holding `value` (JSON for objects), optionally as a secret. */
export function entry(value: unknown, secret = false): { value: string; secret?: boolean } {
    return { value: typeof value === "string" ? value : JSON.stringify(value), ...(secret ? { secret } : {}) };
}

/** The test cluster's API server and CA, so that the environment's kubeconfigs point at it. */
export function clusterEndpoint(): { server: string; certificateAuthorityData: string } {
    const config = JSON.parse(kubectl(["config", "view", "--raw", "--minify", "-o", "json"]));
    const cluster = config.clusters[0].cluster;
    return { server: cluster.server, certificateAuthorityData: cluster["certificate-authority-data"] };
}

/**
 * A small preview's stack config (no database, Redis or route) with `access` (and a workspace),
 * for the tests about who may do what.
 */
export function previewConfig(pr: number, platformReference: string, access: object, workspace?: object): ConfigMap {
    return {
        ...configFromFile("Pulumi.pr.yaml"),
        "catalyst:platformStack": entry(platformReference),
        "catalyst:pr": entry(String(pr)),
        "catalyst:cluster": entry(clusterEndpoint()),
        "catalyst:database": entry({ mode: "none" }),
        "catalyst:redis": entry({ enabled: false }),
        "catalyst:route": entry({ enabled: false }),
        "catalyst:access": entry(access),
        ...(workspace ? { "catalyst:workspace": entry(workspace) } : {}),
    };
}

/** A throwaway OpenSSH-format private key, so that secret files have realistic content. */
export function throwawayKey(): string {
    return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** A request of a SubjectAccessReview. */
export interface Access {
    user?: string;
    groups?: string[];
    namespace: string;
    verb: string;
    resource: string;
    subresource?: string;
    group?: string;
    name?: string;
}

/** Asks the API server whether `access` is allowed (a SubjectAccessReview, created and read back). */
export function allowed(access: Access): boolean {
    const review = {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
            user: access.user ?? "catalyst-test-nobody",
            groups: access.groups ?? [],
            resourceAttributes: {
                namespace: access.namespace,
                verb: access.verb,
                group: access.group ?? "",
                resource: access.resource,
                ...(access.subresource ? { subresource: access.subresource } : {}),
                ...(access.name ? { name: access.name } : {}),
            },
        },
    };
    const result = JSON.parse(kubectl(["create", "-f", "-", "-o", "json"], JSON.stringify(review)));
    return result.status?.allowed === true;
}

interface Condition {
    type: string;
    status: string;
}

/** The status of condition `type` of a namespaced object. */
export function conditionOf(kind: string, name: string, namespace: string, type: string): string | undefined {
    const object = kubectlJson<{ status?: { conditions?: Condition[] } }>(["get", kind, name, "-n", namespace]);
    return object.status?.conditions?.find((c) => c.type === type)?.status;
}

/** Polls until `kubectl get <resource>` finds nothing. */
export async function waitGone(resource: string, timeoutSeconds = 180): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (kubectl(["get", resource, "--ignore-not-found", "-o", "name"]).trim() !== "") {
        if (Date.now() > deadline) {
            throw new Error(`${resource} still exists after ${timeoutSeconds}s`);
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
    }
}

/** A pod manifest in `namespace`, restricted-compliant unless `overrides` break it. */
export function podManifest(namespace: string, name: string, overrides: {
    pod?: Record<string, unknown>;
    container?: Record<string, unknown>;
    resources?: Record<string, unknown>;
    containers?: number;
} = {}): string {
    const container = (index: number) => ({
        name: `c${index}`,
        image: "busybox:1.37.0",
        command: ["sleep", "3600"],
        resources: overrides.resources ?? { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
        securityContext: {
            allowPrivilegeEscalation: false,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
            ...(overrides.container ?? {}),
        },
    });
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace },
        spec: {
            securityContext: { runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: Array.from({ length: overrides.containers ?? 1 }, (_, i) => container(i)),
            ...(overrides.pod ?? {}),
        },
    });
}

/** Teardown of a test's stack: destroy it (unless the test already did), then remove it. */
export async function destroyAndRemove(stack: Stack | undefined, alreadyDestroyed: boolean): Promise<void> {
    if (stack === undefined) {
        return;
    }
    try {
        if (!alreadyDestroyed) {
            await stack.destroy({ onOutput: quietOutput });
        }
    } finally {
        await stack.workspace.removeStack(stack.name);
    }
}

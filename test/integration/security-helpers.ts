import { execFile, execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { POLICY_PACK_DIR } from "../../policy/options";
import { PlatformOutputs } from "../../stacks/contract";
import { kubectl, kubectlJson, quietOutput } from "./harness";

/**
 * Helpers of the security integration tests (policy, admission, isolation, secrets).
 *
 * Environments read the platform's outputs through a StackReference. The security tests do not
 * need a running ingress controller, registry or Postgres operator, so instead of the shared
 * platform stack they use a stand-in: a stack of the `catalyst` project whose inline program only
 * exports the output contract (stacks/contract.ts). It creates nothing in the cluster, starts in
 * seconds, and cannot collide with a real platform another test run brings up.
 */

/** The policy pack's directory (absolute), as `--policy-pack` and `policyPacks` take it. */
export const POLICY_PACK = POLICY_PACK_DIR;

/** The outputs the stand-in platform exports. */
export function standInPlatformOutputs(): PlatformOutputs {
    return {
        ingressClassName: "nginx",
        ingressNamespace: "ingress-nginx",
        registryHost: "registry.catalyst.localhost",
        registryNamespace: "registry",
        registryPullSecret: JSON.stringify({ auths: { "registry.catalyst.localhost": { auth: Buffer.from("pull:stand-in").toString("base64") } } }),
        postgresNamespace: "database",
        postgresClusterName: "shared",
        postgresHost: "shared-rw.database.svc.cluster.local",
        domain: "catalyst.localhost",
        previewDomain: "preview.catalyst.localhost",
        tunnelId: "",
        tunnelCname: "",
    };
}

/** A stand-in platform stack and how to remove it. */
export interface StandInPlatform {
    /** `organization/catalyst/<stack>`, for `catalyst:platformStack`. */
    reference: string;
    /** The stack name alone, for CATALYST_PLATFORM_STACK. */
    stackName: string;
    remove(): Promise<void>;
}

/** Creates the stand-in platform stack `stackName` (outputs only) and brings it up. */
export async function standInPlatform(stackName: string): Promise<StandInPlatform> {
    const workDir = mkdtempSync(path.join(tmpdir(), "catalyst-platform-"));
    const outputs = standInPlatformOutputs();
    const stack: Stack = await LocalWorkspace.createOrSelectStack(
        {
            stackName,
            projectName: "catalyst",
            program: async () => ({ ...outputs }),
        },
        { workDir, projectSettings: { name: "catalyst", runtime: "nodejs" } },
    );
    const up = await stack.up({ onOutput: quietOutput });
    if (up.summary.result !== "succeeded") {
        throw new Error(`stand-in platform up ${up.summary.result}`);
    }
    return {
        reference: `organization/catalyst/${stackName}`,
        stackName,
        remove: async () => {
            try {
                await stack.destroy({ onOutput: quietOutput });
                await stack.workspace.removeStack(stackName);
            } finally {
                rmSync(workDir, { recursive: true, force: true });
            }
        },
    };
}

/** A kubeconfig file that authenticates as one identity, and who that is. */
export interface Identity {
    /** Short name for tables (`observer`). */
    label: string;
    /** The user name the API server sees. */
    user: string;
    /** The groups the API server sees (besides system:authenticated). */
    groups: string[];
    /** Path of the identity's own kubeconfig. */
    kubeconfig: string;
}

/** Writes a kubeconfig for the test cluster with `user` credentials into `dir`. */
function writeKubeconfig(dir: string, label: string, user: Record<string, string>): string {
    // --flatten inlines a CA given as a file path, so the new kubeconfig stands alone.
    const admin = JSON.parse(kubectl(["config", "view", "--raw", "--minify", "--flatten", "-o", "json"]));
    const { server, "certificate-authority-data": certificateAuthorityData } = admin.clusters[0].cluster;
    const file = path.join(dir, `${label}.kubeconfig`);
    const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "local", cluster: { server, "certificate-authority-data": certificateAuthorityData } }],
        users: [{ name: label, user }],
        contexts: [{ name: label, context: { cluster: "local", user: label } }],
        "current-context": label,
    };
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    return file;
}

/**
 * A person with real credentials: a client certificate (CN = user, O = groups) that the cluster
 * signs through the CertificateSigningRequest API, as an administrator would issue one. The API
 * server authenticates it like any user; RBAC sees the same names an OIDC login would give.
 */
export async function personIdentity(dir: string, label: string, user: string, groups: string[], csrName: string): Promise<Identity> {
    const key = path.join(dir, `${label}.key`);
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], { stdio: "pipe" });
    const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join("")}`;
    const csr = execFileSync("openssl", ["req", "-new", "-config", "/dev/null", "-key", key, "-subj", subject], { encoding: "utf8", stdio: "pipe" });
    kubectl(["create", "-f", "-"], JSON.stringify({
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        metadata: { name: csrName, labels: { "catalyst.dev/security-test": "true" } },
        spec: {
            request: Buffer.from(csr).toString("base64"),
            signerName: "kubernetes.io/kube-apiserver-client",
            expirationSeconds: 3600,
            usages: ["client auth"],
        },
    }));
    kubectl(["certificate", "approve", csrName]);
    const deadline = Date.now() + 60_000;
    let certificate = "";
    while (certificate === "") {
        certificate = kubectlJson<{ status?: { certificate?: string } }>(["get", "csr", csrName]).status?.certificate ?? "";
        if (certificate === "") {
            if (Date.now() > deadline) {
                throw new Error(`the cluster did not sign ${csrName}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 250));
        }
    }
    const kubeconfig = writeKubeconfig(dir, label, {
        "client-certificate-data": certificate,
        "client-key-data": Buffer.from(readFileSync(key)).toString("base64"),
    });
    return { label, user, groups, kubeconfig };
}

/** A ServiceAccount with a real, short-lived token from the TokenRequest API. */
export function serviceAccountIdentity(dir: string, label: string, namespace: string, name: string): Identity {
    const token = kubectl(["create", "token", name, "-n", namespace, "--duration", "1h"]).trim();
    return {
        label,
        user: `system:serviceaccount:${namespace}:${name}`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`],
        kubeconfig: writeKubeconfig(dir, label, { token }),
    };
}

/** The result of a command: whether it exited 0, and its output. */
export interface CommandResult {
    ok: boolean;
    stdout: string;
    stderr: string;
}

/** Runs a command without a shell, feeding `input` to its stdin; never rejects. */
export function execFileAsync(file: string, args: string[], input?: string, env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
    return new Promise((resolve) => {
        const child = execFile(file, args, { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }));
        child.stdin?.end(input ?? "");
    });
}

/** Runs kubectl as `identity` (its own kubeconfig, never the administrator's). */
export function kubectlAs(identity: Identity, args: string[], input?: string): Promise<CommandResult> {
    return execFileAsync("kubectl", ["--kubeconfig", identity.kubeconfig, ...args], input, { ...process.env, KUBECONFIG: identity.kubeconfig });
}

/** Runs `tasks` with at most `limit` at a time, keeping their order in the results. */
export async function limited<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
    const results: T[] = new Array(tasks.length);
    let next = 0;
    const worker = async () => {
        while (next < tasks.length) {
            const index = next++;
            results[index] = await tasks[index]();
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
    return results;
}

/** A Deployment manifest (JSON) a tenant may create: pinned image, limits, restricted security; `container` overrides. */
export function deploymentManifest(namespace: string, name: string, container: object = {}): string {
    return JSON.stringify({
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace },
        spec: {
            selector: { matchLabels: { app: name } },
            template: {
                metadata: { labels: { app: name } },
                spec: {
                    automountServiceAccountToken: false,
                    securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
                    containers: [{
                        name: "web", image: "registry.k8s.io/pause:3.10",
                        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "20m", memory: "32Mi" } },
                        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                        ...container,
                    }],
                },
            },
        },
    });
}

import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { apiNamespaceRules } from "../../components/platform/controlPlaneRbac";
import { kubeSecretAccess, SecretRevocations, SIGNED_OUT_DATA_KEY } from "../../stacks/dashboard/revocations-secret";
import { API_GROUP } from "../../stacks/resources/types";
import { kubectl, repoRoot, requireTestEnvironment, suffix } from "./harness";
import { waitFor } from "./oidc-helpers";
import { execFileAsync } from "./security-helpers";

/*
 * The dashboard's sign-outs in a Kubernetes Secret, against the local cluster's real API server:
 * what the replicas of `catalyst-api` do (components/platform/controlPlaneApi.ts). Two stores
 * over one Secret see each other's sign-outs, a write that meets another's gets a real 409 and
 * retries, expired entries are pruned, and the API's Role (get and update on that one Secret by
 * name, nothing else) is all it needs. Then two real `catalyst serve` processes configured as the
 * platform configures its replicas (one COOKIE_SECRET, one sign-outs Secret): a session of one
 * holds at the other, and a sign-out at one ends it at the other within the refresh interval.
 * Only the cluster is needed: no platform, no stack.
 */
jest.setTimeout(120_000);

const run = suffix();
const namespace = "default";
const dir = mkdtempSync(path.join(tmpdir(), "catalyst-signed-out-"));
const stores: SecretRevocations[] = [];

/** The empty Secret the platform stack creates, with its labels. */
function createSecret(name: string): void {
    kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "catalyst-platform" } } }));
}

function entries(name: string): Record<string, number> {
    const data = kubectl(["get", "secret", name, "-n", namespace, "-o", `jsonpath={.data.${SIGNED_OUT_DATA_KEY.replace(".", "\\.")}}`]);
    return JSON.parse(Buffer.from(data, "base64").toString("utf8"));
}

async function store(name: string, now: () => number, access = kubeSecretAccess(namespace, name)): Promise<SecretRevocations> {
    const s = await new SecretRevocations(namespace, name, { access, now, refreshMs: 60_000 }).start();
    stores.push(s);
    return s;
}

const TOKEN = `signed-out-token-${run}-0123456789`;

/** A `catalyst serve` on a free loopback port; its base URL and a stop. */
async function serve(env: NodeJS.ProcessEnv): Promise<{ base: string; child: ChildProcess; stop: () => Promise<void> }> {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin", "catalyst.js"), "serve", "--port", "0"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const stop = () => new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
    });
    const base = await new Promise<string>((resolve, reject) => {
        child.stderr!.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
            const listening = /listening on (http:\/\/[^\s;]+)/.exec(stderr);
            if (listening) resolve(listening[1]);
        });
        child.once("exit", (code) => reject(new Error(`catalyst serve exited with ${code}: ${stderr}`)));
    });
    return { base, child, stop };
}

/** The status of GET /session with `cookie`. */
async function sessionStatus(base: string, cookie: string): Promise<number> {
    return (await fetch(`${base}/session`, { headers: { cookie } })).status;
}

beforeAll(() => requireTestEnvironment());
afterEach(() => stores.splice(0).forEach((s) => s.close()));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dashboard sign-outs in a Secret", () => {
    it("two replicas over one Secret see each other's sign-outs; a conflicting write retries; expired entries are pruned", async () => {
        const name = `catalyst-signed-out-${run}`;
        try {
            createSecret(name);
            let now = Math.floor(Date.now() / 1000);
            const a = await store(name, () => now);
            const b = await store(name, () => now);
            await a.add("sid-a1", now + 60);
            expect([a.has("sid-a1"), b.has("sid-a1")]).toEqual([true, false]);
            await b.refresh();
            expect(b.has("sid-a1")).toBe(true);

            // b writes between a's read and a's replace: the API server refuses a's stale resourceVersion.
            const real = kubeSecretAccess(namespace, name);
            let replaced = 0;
            let conflicts = 0;
            let interleave = false;
            const racing = await store(name, () => now, {
                get: async () => {
                    const secret = await real.get();
                    if (interleave) {
                        interleave = false;
                        await b.add("sid-b1", now + 3600);
                    }
                    return secret;
                },
                replace: async (secret) => {
                    replaced++;
                    try {
                        return await real.replace(secret);
                    } catch (err) {
                        if ((err as { status?: number }).status === 409) conflicts++;
                        throw err;
                    }
                },
            });
            // Armed after the store's first read at start: the write's own read is the one raced.
            interleave = true;
            await racing.add("sid-c1", now + 3600);
            expect([replaced, conflicts]).toEqual([2, 1]);
            expect(entries(name)).toEqual({ "sid-a1": now + 60, "sid-b1": now + 3600, "sid-c1": now + 3600 });

            // Two minutes on, a's first sign-out has expired: the next write drops it.
            now += 120;
            await b.add("sid-b2", now + 3600);
            expect(Object.keys(entries(name)).sort()).toEqual(["sid-b1", "sid-b2", "sid-c1"]);
            expect(a.has("sid-a1")).toBe(false);
            // The creator's labels survive the replicas' writes (no drift for the platform stack).
            expect(JSON.parse(kubectl(["get", "secret", name, "-n", namespace, "-o", "jsonpath={.metadata.labels}"]))).toEqual({ "app.kubernetes.io/part-of": "catalyst-platform" });
        } finally {
            kubectl(["delete", "secret", name, "-n", namespace, "--ignore-not-found"]);
        }
    });

    it("two catalyst serve replicas share sessions and sign-outs: one COOKIE_SECRET, one Secret", async () => {
        const name = `catalyst-signed-out-serve-${run}`;
        const env = {
            CATALYST_API_TOKENS: JSON.stringify({ [TOKEN]: "alice" }),
            COOKIE_SECRET: randomBytes(32).toString("base64url"),
            CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF: `${namespace}/${name}`,
        };
        const replicas: { stop: () => Promise<void> }[] = [];
        try {
            createSecret(name);
            const [a, b] = await Promise.all([serve(env), serve(env)]);
            replicas.push(a, b);
            const signIn = await fetch(`${a.base}/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: TOKEN }) });
            expect(signIn.status).toBe(200);
            const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0];
            const { csrf } = (await signIn.json()) as { csrf: string };
            // Signed by a, valid at b: the same COOKIE_SECRET.
            expect([await sessionStatus(a.base, cookie), await sessionStatus(b.base, cookie)]).toEqual([200, 200]);

            const signedOut = Date.now();
            expect((await fetch(`${a.base}/session`, { method: "DELETE", headers: { cookie, "x-csrf-token": csrf } })).status).toBe(204);
            expect(await sessionStatus(a.base, cookie)).toBe(401);
            await waitFor("the other replica to refuse the signed-out cookie", async () => (await sessionStatus(b.base, cookie)) === 401, 15_000, 250);
            // Within one refresh interval (5 s) and the time of a request or two.
            expect(Date.now() - signedOut).toBeLessThan(7_000);
            expect(Object.keys(entries(name))).toHaveLength(1);

            // A replica that starts later reads it at start.
            const c = await serve(env);
            replicas.push(c);
            expect(await sessionStatus(c.base, cookie)).toBe(401);
        } finally {
            await Promise.all(replicas.map((r) => r.stop()));
            kubectl(["delete", "secret", name, "-n", namespace, "--ignore-not-found"]);
        }
    });

    it("a catalyst serve whose sign-outs Secret is missing stops at start with one line", async () => {
        const failed = serve({ CATALYST_API_TOKENS: "{}", CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF: `${namespace}/missing-${run}` });
        await expect(failed).rejects.toThrow(new RegExp(`catalyst serve exited with 2: (.*\\n)?catalyst serve: get Secret default/missing-${run}: secrets "missing-${run}" not found\\n$`));
    });

    it("works with only the API's Role: get and update on that one Secret by name", async () => {
        const name = `catalyst-signed-out-api-${run}`;
        const account = `catalyst-api-${run}`;
        const metadata = { name: account, namespace };
        const saved = process.env.KUBECONFIG;
        try {
            createSecret(name);
            kubectl(["apply", "-f", "-"], JSON.stringify({
                apiVersion: "v1", kind: "List", items: [
                    { apiVersion: "v1", kind: "ServiceAccount", metadata },
                    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata, rules: apiNamespaceRules(API_GROUP, { signedOut: name }) },
                    {
                        apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata,
                        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: account },
                        subjects: [{ kind: "ServiceAccount", name: account, namespace }],
                    },
                ],
            }));
            const as = `system:serviceaccount:${namespace}:${account}`;
            // `can-i` exits 1 when the answer is no.
            const can = async (verb: string, what: string) => (await execFileAsync("kubectl", ["auth", "can-i", verb, what, "-n", namespace, "--as", as])).stdout.trim();
            expect(await Promise.all([can("get", `secrets/${name}`), can("update", `secrets/${name}`)])).toEqual(["yes", "yes"]);
            expect(await Promise.all([can("get", "secrets/catalyst-api-cookie"), can("list", "secrets"), can("watch", "secrets"), can("create", "secrets"), can("delete", `secrets/${name}`)]))
                .toEqual(["no", "no", "no", "no", "no"]);

            const config = JSON.parse(kubectl(["config", "view", "--raw", "--minify", "-o", "json"])) as { users: { user: object }[] };
            config.users[0].user = { token: kubectl(["create", "token", account, "-n", namespace, "--duration=10m"]).trim() };
            const saKubeconfig = path.join(dir, "api.kubeconfig");
            writeFileSync(saKubeconfig, JSON.stringify(config), { mode: 0o600 });
            process.env.KUBECONFIG = saKubeconfig;
            const now = Math.floor(Date.now() / 1000);
            const a = await store(name, () => now);
            await a.add("sid-1", now + 60);
            const b = await store(name, () => now);
            expect(b.has("sid-1")).toBe(true);
            // Another Secret of the namespace is out of reach.
            await expect(new SecretRevocations(namespace, `other-${run}`).start()).rejects.toThrow(/get Secret default\/other-[0-9a-f]+: .*forbidden/);
        } finally {
            process.env.KUBECONFIG = saved;
            kubectl(["delete", "secret", name, "-n", namespace, "--ignore-not-found"]);
            for (const kind of ["rolebinding", "role", "serviceaccount"]) kubectl(["delete", kind, account, "-n", namespace, "--ignore-not-found"]);
        }
    });
});

import { spawn } from "child_process";
import { randomInt } from "crypto";
import * as path from "path";
import { ensurePlatform, kubectl, PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";
import { apply, environments, isReady, Replica, startReplica, stopReplica, waitFor } from "./controller-helpers";

/*
 * The CLI in resource mode end to end: `catalyst preview up|list|down` with
 * CATALYST_CONTROL_PLANE_NAMESPACE write and read Environment resources on the local API server
 * and wait on their status, while one `catalyst controller` process (no container runs on the
 * local cluster) runs the stack. The controller uses the test run's file backend, where the
 * shared platform stack already is: one machine, so no PostgreSQL is needed here
 * (controller.test.ts covers the shared PostgreSQL backend).
 */
jest.setTimeout(10 * 60_000);

const NS = "catalyst-system";
const run = randomInt(100, 999);
const pr = 9_200_000 + run * 10;
const name = `pr-${pr}`;
const project = `cli-${run}`;
const label = `catalyst-test-run=${run}`;
let replica: Replica | undefined;

/** `catalyst <args>` as a process (asynchronous: the controller's output must keep flowing meanwhile). */
function catalyst(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(repoRoot, "bin", "catalyst.js"), ...args], {
            cwd: repoRoot, env: { ...process.env, CI: "true", CATALYST_CONTROL_PLANE_NAMESPACE: NS, ...env }, stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("error", reject);
        child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
}

function namespaceExists(namespace: string): boolean {
    return kubectl(["get", "namespace", namespace, "--ignore-not-found", "-o", "name"]).trim() !== "";
}

beforeAll(async () => {
    requireTestEnvironment();
    await ensurePlatform();
    for (const name of [project, `${project}-b`]) {
        apply({
            apiVersion: "catalyst.dev/v1alpha1", kind: "Project",
            metadata: { name, namespace: NS, labels: { "catalyst-test-run": String(run) } },
            // Minimal previews (no database, no Redis) keep the file within its time.
            spec: { services: { postgres: false, redis: false } },
        });
    }
    replica = startReplica(`cli-${run}`, {
        CATALYST_WORK_ROOT: path.join(repoRoot, ".catalyst", `test-resources-${run}`),
        CATALYST_AUDIT_LOG: path.join(repoRoot, ".catalyst", "test-results", `resources-audit-${run}.log`),
        CATALYST_PLATFORM_STACK: PLATFORM_STACK,
    }, ["--namespace", NS, "--concurrency", "1", "--lease-duration", "10s", "--backoff", "2s", "--resync", "30s"]);
});

afterAll(async () => {
    // Whatever happened above, leave no Environment behind (its finalizer would hold catalyst-system).
    try {
        if (environments(NS).has(name)) {
            kubectl(["delete", "environments.catalyst.dev", "-n", NS, name, "--wait=false"]);
            await waitFor(`${name} to be gone`, () => (environments(NS).has(name) ? undefined : true), 5 * 60_000, 2000);
        }
    } finally {
        if (replica !== undefined) await stopReplica(replica);
        kubectl(["delete", "projects.catalyst.dev", "-n", NS, "-l", label, "--ignore-not-found"]);
    }
});

describe("catalyst preview in resource mode (CATALYST_CONTROL_PLANE_NAMESPACE)", () => {
    const image = "nginxinc/nginx-unprivileged:1.27.4-alpine";
    const url = `https://${name}.preview.catalyst.localhost`;

    it("up writes the Environment and waits until the controller made it Ready, printing progress and the URL", async () => {
        const up = await catalyst(["preview", "up", "--pr", String(pr), "--branch", "feat/resources", "--image", image, "--owners", "alice", "--project", project, "--timeout", "5m"]);
        expect([up.code, up.stdout]).toEqual([0, `${name}: ready at ${url}\n`]);
        expect(up.stderr).toContain(`${name}: Environment ${NS}/${name} at generation 1; waiting for the controller`);
        expect(up.stderr).toMatch(new RegExp(`${name}: progressing: running up on stack ${name}`));
        const env = environments(NS).get(name);
        expect(isReady(env)).toBe(true);
        expect(env?.status).toMatchObject({ url, namespace: `env-${name}`, stack: name });
        expect(env?.status?.observedGeneration).toBe(1);
        expect(kubectl(["get", "deployment", "app", "-n", `env-${name}`, "-o", "jsonpath={.spec.template.spec.containers[0].image}"])).toBe(image);
    });

    it("list shows it with its status and URL", async () => {
        const list = await catalyst(["preview", "list"]);
        expect(list.code).toBe(0);
        expect(list.stdout.split("\n").find((line) => line.startsWith(`${name} `))).toMatch(new RegExp(`^${name} +${pr} +feat/resources +alice +ready +${url.replace(/\./g, "\\.")}$`));
        const json = JSON.parse((await catalyst(["preview", "list", "--json"])).stdout) as { previews: { environment: string; status: string; url?: string }[] };
        expect(json.previews.find((p) => p.environment === name)).toMatchObject({ status: "ready", url });
    });

    it("refusals name the field and change nothing: a missing Project (checked first), an immutable field (the API server's CEL rule)", async () => {
        const missing = await catalyst(["preview", "up", "--pr", String(pr + 1), "--branch", "b", "--project", `nope-${run}`]);
        expect([missing.code, missing.stderr.trim()]).toEqual([2, `catalyst preview up: --project: project "nope-${run}" does not exist in namespace ${NS}; create it first (docs/controller.md)`]);
        expect(environments(NS).has(`pr-${pr + 1}`)).toBe(false);
        const moved = await catalyst(["preview", "up", "--pr", String(pr), "--branch", "feat/resources", "--image", image, "--owners", "alice", "--project", `${project}-b`]);
        expect(moved.code).toBe(2);
        expect(moved.stderr).toMatch(/catalyst preview up: patch Environment catalyst-system\/pr-[0-9]+: .*spec\.project: .*is immutable/);
        expect(environments(NS).get(name)?.metadata.generation).toBe(1);
    });

    it("down deletes it and waits until the controller destroyed the stack: namespace and Environment gone", async () => {
        const down = await catalyst(["preview", "down", "--pr", String(pr), "--timeout", "5m"]);
        expect([down.code, down.stdout]).toEqual([0, `${name}: deleted\n`]);
        expect(down.stderr).toContain(`${name}: deleting Environment ${NS}/${name}; waiting for the controller to destroy its stack`);
        expect(environments(NS).has(name)).toBe(false);
        expect(namespaceExists(`env-${name}`)).toBe(false);
    });
});

import { execFileSync } from "child_process";
import { randomInt } from "crypto";
import * as path from "path";
import { environmentLeaseName, previewStackName } from "../../components/naming";
import { ensurePlatform, kubectl, kubectlError, kubectlJson, PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";
import {
    apply,
    auditRecords,
    conditionOf,
    copyStackState,
    environments,
    forgetStack,
    freePort,
    isReady,
    killReplica,
    postgres,
    pulumiIn,
    Replica,
    startReplica,
    stopReplica,
    waitFor,
    watchOperations,
} from "./controller-helpers";

/*
 * The control plane end to end: the CRDs the shared platform installed, `catalyst controller`
 * replicas as local processes (no container runs on the local cluster), the real engine, and the
 * throwaway PostgreSQL of tools/postgres.sh as the replicas' shared state backend. Previews are
 * minimal (no database, no Redis: the Project says so) to keep the file within minutes.
 */
jest.setTimeout(40 * 60_000);

const NS = "catalyst-system";
const run = randomInt(100, 999);
const pr = (i: number) => 9_000_000 + run * 100 + i;
const project = `web-${run}`;
/** The Environment (and stack) of preview i: the Project is not default, so `pr-<n>--web-<run>`. */
const envName = (i: number) => previewStackName(pr(i), project);
const label = `catalyst-test-run=${run}`;
const stateDir = path.join(repoRoot, ".catalyst", `test-controller-${run}`);
const auditLog = path.join(repoRoot, ".catalyst", "test-results", `controller-audit-${run}.log`);
const LEASE = 10;
let backend = "";
const place = { port: 0, dir: path.join(repoRoot, ".catalyst", `postgres-${run}`) };
const replicas: Replica[] = [];

function replicaEnv(name: string): NodeJS.ProcessEnv {
    return {
        PULUMI_BACKEND_URL: backend,
        // Each replica its own work dir, as on separate machines: only the backend is shared.
        CATALYST_WORK_ROOT: path.join(stateDir, `work-${name}`),
        CATALYST_AUDIT_LOG: auditLog,
        CATALYST_PLATFORM_STACK: PLATFORM_STACK,
    };
}

function replica(name: string, flags: string[] = []): Replica {
    const started = startReplica(`${name}-${run}`, replicaEnv(name), ["--namespace", NS, "--concurrency", "2", "--lease-duration", `${LEASE}s`, "--backoff", "2s", "--resync", "30s", ...flags]);
    replicas.push(started);
    return started;
}

function environment(name: string, spec: Record<string, unknown>) {
    return { apiVersion: "catalyst.dev/v1alpha1", kind: "Environment", metadata: { name, namespace: NS, labels: { "catalyst-test-run": String(run) } }, spec };
}

const preview = (i: number, extra: Record<string, unknown> = {}) =>
    environment(envName(i), { project, type: "preview", pullRequest: pr(i), branch: `feat/c${i}`, image: "nginxinc/nginx-unprivileged:1.27.4-alpine", ...extra });

function namespaceExists(name: string): boolean {
    return kubectl(["get", "namespace", name, "--ignore-not-found", "-o", "name"]).trim() !== "";
}

/** Rows of the backend's lock table entries (the DIY backend keeps locks under .pulumi/locks). */
function backendLocks(): number {
    const out = execFileSync("psql", [backend.replace("?sslmode=disable", ""), "-tAc", "select count(*) from pulumi_state where key like '%/.pulumi/locks/%'"], { encoding: "utf8" });
    return Number(out.trim());
}

function pendingOperations(stack: string): number {
    const state = JSON.parse(pulumiIn(stateDir, backend, ["stack", "export", "--stack", stack])) as { deployment?: { pending_operations?: unknown[] } };
    return state.deployment?.pending_operations?.length ?? 0;
}

beforeAll(async () => {
    requireTestEnvironment();
    await ensurePlatform();
    place.port = Number(process.env.CATALYST_POSTGRES_PORT ?? (await freePort()));
    postgres(place, "up");
    backend = postgres(place, "url");
    copyStackState(PLATFORM_STACK, backend, stateDir);
    apply({
        apiVersion: "catalyst.dev/v1alpha1", kind: "Project",
        metadata: { name: project, namespace: NS, labels: { "catalyst-test-run": String(run) } },
        spec: { repository: "acme/web", services: { postgres: false, redis: false }, defaults: { ttl: "72h" } },
    });
});

afterAll(async () => {
    // Whatever happened above, leave no Environment (its finalizer would hold catalyst-system).
    if (replicas.every((r) => r.child.exitCode !== null || r.child.signalCode !== null)) replica("cleanup");
    kubectl(["delete", "environments.catalyst.dev", "-n", NS, "-l", label, "--wait=false", "--ignore-not-found"]);
    try {
        await waitFor("the test's Environments to be gone", () => (environments(NS).size === 0 || [...environments(NS).keys()].every((n) => !n.includes(String(run))) ? true : undefined), 10 * 60_000, 2000);
    } finally {
        await Promise.all(replicas.map((r) => stopReplica(r)));
        kubectl(["delete", "projects.catalyst.dev", "-n", NS, "-l", label, "--ignore-not-found"]);
        try {
            forgetStack(PLATFORM_STACK, backend, stateDir);
        } finally {
            postgres(place, "down");
        }
    }
});

describe("CRDs: bad specs are refused by the API server, naming the field", () => {
    it.each([
        ["a negative pull request", { pullRequest: -1 }, "spec.pullRequest: Invalid value: -1: spec.pullRequest in body should be greater than or equal to 1"],
        ["an image without tag or digest", { image: "nginx" }, 'spec.image: Invalid value: "nginx": must be an image pinned by a tag other than latest or by a sha256 digest'],
        ["the latest tag", { image: "nginx:latest" }, 'spec.image: Invalid value: "nginx:latest": must be an image pinned'],
        ["a preview without a pull request", { pullRequest: undefined }, "spec.pullRequest: Required value: is required when type is preview"],
        ["an unknown field", { colour: "red" }, 'unknown field "spec.colour"'],
    ])("%s", (_what, patch, message) => {
        const manifest = preview(90, patch);
        const error = kubectlError(["apply", "-f", "-"], JSON.stringify(manifest));
        expect(error).toContain(message);
        expect(kubectl(["get", "environments.catalyst.dev", "-n", NS, manifest.metadata.name, "--ignore-not-found", "-o", "name"])).toBe("");
    });
});

describe("one controller", () => {
    let r0: Replica;
    beforeAll(() => {
        // Drift checks every 5 s: the drift steps below wait seconds, not the default 10 minutes.
        r0 = replica("r0", ["--drift-interval", "5s"]);
    });
    afterAll(async () => stopReplica(r0));

    it("an unknown project: Ready=False naming spec.project, no stack, and delete needs no destroy", async () => {
        apply(preview(91, { project: `nope-${run}` }));
        const env = await waitFor("Ready=False", () => {
            const found = environments(NS).get(envName(91));
            return conditionOf(found, "Ready")?.status === "False" ? found : undefined;
        }, 120_000);
        expect(conditionOf(env, "Ready")).toMatchObject({ reason: "ProjectNotFound", message: `spec.project: project "nope-${run}" does not exist in namespace ${NS}; create it first` });
        expect(env.status?.stack).toBeUndefined();
        expect(namespaceExists(`env-${previewStackName(pr(91), `nope-${run}`)}`)).toBe(false);
        kubectl(["delete", "environments.catalyst.dev", "-n", NS, envName(91), "--timeout=60s"]);
        expect(auditRecords(auditLog).filter((a) => a.stack.startsWith(`pr-${pr(91)}`))).toEqual([]);
    });

    it("apply: Ready with status.url and the namespace; a new image: observedGeneration follows; drift reported, then repaired; delete: stack destroyed, namespace gone", async () => {
        const name = envName(1);
        const operations = watchOperations(NS, name);
        apply(preview(1));
        kubectl(["wait", "environments.catalyst.dev", "-n", NS, name, "--for=condition=Ready", "--timeout=600s"]);
        // status.operation while the up ran (throttled patches), then its end with the result.
        const seen = await operations.stop();
        const running = seen.filter((op) => op.finishedAt === undefined);
        expect(running[0]).toMatchObject({ action: "up", generation: 1 });
        expect(running.some((op) => op.id === running[0].id && op.step !== "starting" && (op.resourcesTotal ?? 0) > 0)).toBe(true);
        const final = seen[seen.length - 1];
        expect(final).toMatchObject({ id: running[0].id, action: "up", generation: 1, step: "done", result: "succeeded" });
        expect(final.resourcesDone).toBe(final.resourcesTotal);
        expect(Date.parse(final.finishedAt as string)).toBeGreaterThan(Date.parse(final.startedAt));
        expect(kubectl(["get", "environments.catalyst.dev", "-n", NS, name, "-o", "wide"]).split("\n")[1]).toMatch(new RegExp(`^${name} .* True .* done +${final.resourcesDone} +${final.resourcesTotal} `));
        let env = environments(NS).get(name);
        expect(env?.status).toMatchObject({ observedGeneration: 1, stack: name, namespace: `env-${name}`, url: `https://${name}.preview.catalyst.localhost` });
        expect(env?.metadata.finalizers).toEqual(["catalyst.dev/stack"]);
        expect(kubectl(["get", "deployment", "-n", `env-${name}`, "-o", "name"]).trim()).toBe("deployment.apps/app");
        const events = kubectlJson<{ items: { reason: string; involvedObject: { name: string } }[] }>(["get", "events", "-n", NS, "--field-selector", `involvedObject.name=${name}`]);
        expect(events.items.map((e) => e.reason)).toContain("Reconciled");

        apply(preview(1, { image: "nginxinc/nginx-unprivileged:1.27.5-alpine" }));
        env = await waitFor("generation 2 Ready", () => {
            const found = environments(NS).get(name);
            return found?.metadata.generation === 2 && isReady(found) ? found : undefined;
        }, 600_000, 2000);
        expect(env.status?.observedGeneration).toBe(2);
        const image = kubectl(["get", "deployment", "app", "-n", `env-${name}`, "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
        expect(image).toBe("nginxinc/nginx-unprivileged:1.27.5-alpine");

        const port = await waitFor("the metrics port", () => r0.port, 10_000);
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toMatch(/catalyst_controller_reconciles_total\{result="reconciled"\} [1-9]/);
        expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

        // Drift: the Deployment scaled behind the stack's back is reported by the periodic check
        // (without repair the object is left as it is); once the Project asks, an up puts it back.
        const replicasOf = () => kubectl(["get", "deployment", "app", "-n", `env-${name}`, "-o", "jsonpath={.spec.replicas}"]).trim();
        const declared = replicasOf();
        kubectl(["scale", "deployment", "app", "-n", `env-${name}`, `--replicas=${Number(declared) + 2}`]);
        const drifted = await waitFor("Drifted=True", () => {
            const found = conditionOf(environments(NS).get(name), "Drifted");
            return found?.status === "True" ? found : undefined;
        }, 120_000);
        expect(drifted).toMatchObject({ reason: "Drifted", observedGeneration: 2 });
        expect(drifted.message).toBe(`1 resource drifted: Deployment ${name}-app-deployment (update: spec.replicas); not repaired: set spec.drift.repair on Project ${project} to have the controller run up`);
        expect(replicasOf()).toBe(String(Number(declared) + 2));
        kubectl(["patch", "projects.catalyst.dev", "-n", NS, project, "--type=merge", "-p", JSON.stringify({ spec: { drift: { repair: true } } })]);
        try {
            const repaired = await waitFor("Drifted=False after the repair", () => {
                const found = conditionOf(environments(NS).get(name), "Drifted");
                return found?.status === "False" && found.reason === "Repaired" ? found : undefined;
            }, 180_000);
            expect(repaired.message).toMatch(new RegExp(`^repaired by up \\(update [0-9]+\\): 1 resource drifted: Deployment ${name}-app-deployment \\(update: spec\\.replicas\\)$`));
            expect(replicasOf()).toBe(declared);
            expect(isReady(environments(NS).get(name))).toBe(true);
        } finally {
            kubectl(["patch", "projects.catalyst.dev", "-n", NS, project, "--type=merge", "-p", JSON.stringify({ spec: { drift: null } })]);
        }

        kubectl(["delete", "environments.catalyst.dev", "-n", NS, name, "--timeout=600s"]);
        expect(namespaceExists(`env-${name}`)).toBe(false);
        const audit = auditRecords(auditLog).filter((a) => a.stack === name);
        // Two generations and the repair: three ups; the drift checks in between changed nothing.
        expect(audit.filter((a) => a.action !== "drift").map((a) => `${a.action} ${a.result}`)).toEqual(["up succeeded", "up succeeded", "up succeeded", "destroy succeeded"]);
        const checks = audit.filter((a) => a.action === "drift");
        expect(checks.length).toBeGreaterThanOrEqual(2);
        expect(checks.filter((a) => a.result !== "succeeded" && a.result !== "busy")).toEqual([]);
        expect(pulumiIn(stateDir, backend, ["stack", "ls", "--json"])).not.toContain(`"${name}"`);
    });
});

describe("the PostgreSQL backend stopped for 20 s", () => {
    let r4: Replica;
    beforeAll(() => {
        r4 = replica("r4");
    });
    afterAll(async () => stopReplica(r4));

    it("a reconcile meanwhile fails with a clear status; nothing is destroyed; all converge once it is back", async () => {
        const [ready, blocked] = [envName(2), envName(3)];
        apply(preview(2));
        kubectl(["wait", "environments.catalyst.dev", "-n", NS, ready, "--for=condition=Ready", "--timeout=600s"]);
        postgres(place, "pause");
        const pausedAt = Date.now();
        try {
            apply(preview(3));
            const failed = await waitFor("Ready=False while the backend is down", () => {
                const env = environments(NS).get(blocked);
                return conditionOf(env, "Ready")?.status === "False" ? env : undefined;
            }, 60_000, 500);
            expect(conditionOf(failed, "Ready")?.reason).toBe("UpFailed");
            expect(conditionOf(failed, "Ready")?.message).toMatch(/postgres|connect|connection|refused|dial/i);
            expect(conditionOf(failed, "Progressing")).toMatchObject({ status: "False", reason: "RetryScheduled" });
            // The Environment that was Ready stays Ready and keeps its objects.
            expect(isReady(environments(NS).get(ready))).toBe(true);
            expect(kubectl(["get", "deployment", "app", "-n", `env-${ready}`, "-o", "name"]).trim()).toBe("deployment.apps/app");
            await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - pausedAt))));
        } finally {
            postgres(place, "resume");
        }
        kubectl(["wait", "environments.catalyst.dev", "-n", NS, blocked, "--for=condition=Ready", "--timeout=600s"]);
        expect(conditionOf(environments(NS).get(blocked), "Stalled")?.status).toBe("False");
        expect(namespaceExists(`env-${ready}`)).toBe(true);
        expect(auditRecords(auditLog).filter((a) => a.stack === ready && a.action === "destroy")).toEqual([]);
        kubectl(["delete", "environments.catalyst.dev", "-n", NS, ready, blocked, "--timeout=600s"]);
        expect([ready, blocked].filter((n) => namespaceExists(`env-${n}`))).toEqual([]);
    });
});

describe("three controllers sharing the PostgreSQL backend", () => {
    const count = 12;
    const names = Array.from({ length: count }, (_, i) => envName(10 + i));

    it("12 Environments at once: all Ready, one successful up each, work spread; kill -9 of a replica mid-update is recovered", async () => {
        const live = ["r1", "r2", "r3"].map((name) => replica(name));
        const start = Date.now();
        apply({ apiVersion: "v1", kind: "List", items: names.map((_, i) => preview(10 + i)) });

        // The victim: a replica that holds a lease while its Environment's namespace exists
        // (the stack's update is under way).
        const victim = await waitFor("a replica in the middle of an update", () => {
            const leases = kubectlJson<{ items: { metadata: { name: string }; spec: { holderIdentity?: string } }[] }>(["get", "leases", "-n", NS]).items;
            for (const lease of leases) {
                const holder = live.find((r) => r.identity === lease.spec.holderIdentity);
                const env = names.find((n) => lease.metadata.name === environmentLeaseName(NS, n));
                if (holder !== undefined && env !== undefined && namespaceExists(`env-${env}`) && !isReady(environments(NS).get(env))) return holder;
            }
            return undefined;
        }, 600_000, 500);
        const held = kubectlJson<{ items: { metadata: { name: string }; spec: { holderIdentity?: string } }[] }>(["get", "leases", "-n", NS]).items
            .filter((l) => l.spec.holderIdentity === victim.identity)
            .map((l) => names.find((n) => l.metadata.name === environmentLeaseName(NS, n)))
            .filter((n): n is string => n !== undefined);
        killReplica(victim);
        const killedAt = Date.now();

        await waitFor("the killed replica's Environments Ready", () => (held.every((n) => isReady(environments(NS).get(n))) ? true : undefined), (LEASE + 60) * 1000 + 5 * 60_000, 2000);
        const recoveredIn = Date.now() - killedAt;
        await waitFor("all 12 Ready", () => (names.every((n) => isReady(environments(NS).get(n))) ? true : undefined), 15 * 60_000, 2000);
        process.stderr.write(`controller test: 12 Ready in ${Math.round((Date.now() - start) / 1000)}s; the killed replica's ${held.length} recovered in ${Math.round(recoveredIn / 1000)}s\n`);

        const audit = auditRecords(auditLog).filter((a) => names.includes(a.stack));
        for (const name of names) {
            const ups = audit.filter((a) => a.stack === name && a.action === "up");
            expect([name, ups.filter((a) => a.result === "succeeded").length]).toEqual([name, 1]);
            // Never two operations at once on one stack: the audited intervals do not overlap.
            const spans = ups.map((a) => [Date.parse((a as unknown as { time: string }).time) - (a as unknown as { durationMs: number }).durationMs, Date.parse((a as unknown as { time: string }).time)]).sort((x, y) => x[0] - y[0]);
            for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
            expect(kubectl(["get", "deployments", "-n", `env-${name}`, "-o", "name"]).trim().split("\n")).toEqual(["deployment.apps/app"]);
            expect(pendingOperations(name)).toBe(0);
        }
        // Spread: every replica that lived did work; none ran more than its 2 slots at once.
        const survivors = live.filter((r) => r !== victim);
        for (const r of survivors) {
            const mine = audit.filter((a) => a.actor === r.identity);
            expect([r.identity, mine.length > 0]).toEqual([r.identity, true]);
            // At most `--concurrency 2` operations of one replica overlap in time.
            const edges = mine.flatMap((a) => {
                const { time, durationMs } = a as unknown as { time: string; durationMs: number };
                return [[Date.parse(time) - durationMs, 1], [Date.parse(time), -1]];
            }).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
            let running = 0;
            let peak = 0;
            for (const [, delta] of edges) peak = Math.max(peak, (running += delta));
            expect([r.identity, peak <= 2]).toEqual([r.identity, true]);
        }
        expect(backendLocks()).toBe(0);

        kubectl(["delete", "environments.catalyst.dev", "-n", NS, ...names, "--wait=false"]);
        await waitFor("the 12 Environments gone", () => (names.every((n) => !environments(NS).has(n)) ? true : undefined), 15 * 60_000, 2000);
        expect(names.filter((n) => namespaceExists(`env-${n}`))).toEqual([]);
        expect(backendLocks()).toBe(0);
    });
});

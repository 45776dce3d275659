import { WorkQueue } from "../../../stacks/controller/queue";
import { needsWork } from "../../../stacks/controller/controller";
import { controllerOptions } from "../../../stacks/controller";
import { controllerCommands } from "../../../stacks/controller/command";
import { runProgram } from "../../../stacks/command";

describe("WorkQueue", () => {
    it("hands out due keys once, earliest first; a key re-added while active runs again after done", () => {
        let now = 0;
        const queue = new WorkQueue(() => now);
        queue.add("b", 10);
        queue.add("a");
        queue.add("a");
        expect(queue.depth).toBe(2);
        expect(queue.take()).toBe("a");
        expect(queue.take()).toBeUndefined();
        queue.add("a");
        expect(queue.take()).toBeUndefined();
        queue.done("a");
        expect(queue.take()).toBe("a");
        now = 10;
        expect(queue.take()).toBe("b");
    });
});

describe("needsWork", () => {
    const meta = { name: "x", namespace: "n", generation: 2 };
    const ready = [{ type: "Ready", status: "True" as const, reason: "Reconciled", message: "", lastTransitionTime: "t", observedGeneration: 2 }];
    it("skips Ready Environments of the current generation only", () => {
        const env = { apiVersion: "", kind: "Environment" as const, spec: { project: "p", type: "staging" as const }, metadata: meta };
        expect(needsWork({ ...env, status: { observedGeneration: 2, conditions: ready } })).toBe(false);
        expect(needsWork({ ...env, status: { observedGeneration: 1, conditions: ready } })).toBe(true);
        expect(needsWork({ ...env, metadata: { ...meta, deletionTimestamp: "t" }, status: { observedGeneration: 2, conditions: ready } })).toBe(true);
        expect(needsWork(env)).toBe(true);
    });
});

describe("catalyst controller flags", () => {
    const run = async (argv: string[]) => {
        let out = "";
        let err = "";
        const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) };
        const table = controllerCommands().map((c) => ({ ...c, run: async (input: never) => (out += JSON.stringify(input), 0) }));
        const code = await runProgram(table, argv, { io }, { version: "0", description: "" });
        return { code, out, err };
    };

    it("parses flags into options, with defaults, and refuses bad ones naming the flag", async () => {
        const parsed = await run(["controller", "--concurrency", "3", "--lease-duration", "15s", "--identity", "r1"]);
        expect(parsed.code).toBe(0);
        expect(controllerOptions(JSON.parse(parsed.out), {})).toMatchObject({
            namespace: "catalyst-system", concurrency: 3, leaseDurationSeconds: 15, identity: "r1", maxFailures: 3, metricsPort: 9090, backoffBaseMs: 10_000,
        });
        expect(controllerOptions({}, { CATALYST_CONCURRENCY: "4", CATALYST_CONTROLLER_NAMESPACE: "ops" })).toMatchObject({ concurrency: 4, namespace: "ops" });
        expect(await run(["controller", "--concurrency", "0"])).toMatchObject({ code: 2, err: 'catalyst controller: --concurrency: must be a whole number from 1 to 64, got "0"\n' });
        expect(await run(["controller", "--lease-duration", "soon"])).toMatchObject({ code: 2, err: 'catalyst controller: --lease-duration: must be a duration of at least 1s such as 30s or 5m, got "soon"\n' });
        expect((await run(["controller", "--bogus"])).code).toBe(2);
        const help = await run(["controller", "--help"]);
        expect(help.out).toContain("--lease-duration <duration>");
    });
});

import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { WorkerRequest } from "../../../stacks/automation/protocol";
import { processAlive } from "../../../stacks/automation/lock";
import { runWorker } from "../../../stacks/automation/runner";
import { CatalystEvent } from "../../../stacks/automation/types";

const workerPath = path.join(__dirname, "fixtures", "fake-worker.js");

function request(mode: string): WorkerRequest {
    return {
        action: "up", stack: "pr-1", allowedKinds: ["preview"], repoRoot: "/nonexistent", workRoot: "/nonexistent",
        config: { "fake:mode": mode }, tags: {}, keepTags: [], lockDeadline: Date.now(), removeStack: false,
    };
}

describe("worker runner (child process per operation)", () => {
    let dir: string;
    let logFile: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-runner-"));
        logFile = path.join(dir, "log.jsonl");
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const entries = () => readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));

    it("passes events and the result back", async () => {
        const events: CatalystEvent[] = [];
        const outcome = await runWorker(request("normal"), { timeoutMs: 10_000, graceMs: 1000, workerPath, onEvent: (e) => events.push(e) });
        expect(outcome).toMatchObject({ timedOut: false, killed: false, exitCode: 0, result: { status: "succeeded", updateId: "3" } });
        expect(events.map((e) => e.type)).toEqual(["step", "resource"]);
    });

    it("stops a worker at its timeout with SIGINT first; a graceful worker still answers", async () => {
        // The timeout leaves a loaded machine time to start the child and install its handler.
        const outcome = await runWorker(request("graceful"), { timeoutMs: 1500, graceMs: 5000, workerPath });
        expect(outcome).toMatchObject({ timedOut: true, killed: false, result: { status: "failed", error: "cancelled: update canceled" } });
    });

    it("then SIGKILLs the whole process group when SIGINT is ignored", async () => {
        const started = Date.now();
        const outcome = await runWorker(request("ignore-sigint"), { timeoutMs: 1500, graceMs: 300, workerPath, env: { FAKE_LOG: logFile } });
        expect(outcome).toMatchObject({ timedOut: true, killed: true, exitSignal: "SIGKILL" });
        expect(outcome.result).toBeUndefined();
        expect(Date.now() - started).toBeGreaterThanOrEqual(1750);
        const log = entries();
        expect(log.some((e) => e.phase === "sigint")).toBe(true);
        const grandchild = log.find((e) => e.phase === "grandchild").pid as number;
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(processAlive(grandchild)).toBe(false);
    });

    it("stops a worker when the caller's signal fires", async () => {
        const controller = new AbortController();
        // Abort on the worker's first event: it installs its SIGINT handler before sending it, so a
        // slow child start on a loaded machine cannot turn this into a kill before the handler exists.
        const outcome = await runWorker(request("graceful"), {
            timeoutMs: 10_000, graceMs: 5000, workerPath, signal: controller.signal, onEvent: () => controller.abort(),
        });
        expect(outcome).toMatchObject({ timedOut: false, aborted: true, result: { status: "failed" } });
    });

    it("reports a worker that dies without an answer", async () => {
        const outcome = await runWorker(request("crash"), { timeoutMs: 10_000, graceMs: 1000, workerPath });
        expect(outcome).toMatchObject({ exitCode: 7, timedOut: false });
        expect(outcome.result).toBeUndefined();
    });
});

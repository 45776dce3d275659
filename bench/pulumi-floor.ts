import { execFile } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import path from "path";
import { promisify } from "util";
import type { KubeObject } from "./floor";
import { Cost, measure, RssSampler } from "./sampler";

const run = promisify(execFile);

/** The program's directory: its own Pulumi.yaml, so `pulumi` runs it and not the repository's. */
const PROGRAM_DIR = path.join(__dirname, "pulumi-floor");
const STACK = "floor";

/** One create, no-op up and destroy of the Pulumi floor. */
export interface PulumiFloorRun {
    up: Cost;
    noop: Cost;
    down: Cost;
}

/**
 * The second baseline: the same objects created by the smallest Pulumi program
 * (bench/pulumi-floor/index.js, a ConfigGroup of the objects) with the same `pulumi` CLI, engine
 * and Kubernetes provider, through the CLI itself (`pulumi up --skip-preview`): no worker, no
 * Automation API calls around the up, no stack tags, no policy pack, no component of ours. Each
 * run has a fresh file backend in a temp dir, so the floor never touches the run's own state.
 */
export async function pulumiFloor(objects: KubeObject[], sampler: RssSampler): Promise<PulumiFloorRun> {
    const dir = mkdtempSync(path.join(tmpdir(), "catalyst-bench-floor-"));
    const objectsFile = path.join(dir, "objects.json");
    writeFileSync(objectsFile, JSON.stringify(objects));
    const env = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${dir}`,
        // A secrets provider is required by `stack init`; the floor keeps no secret of its own.
        PULUMI_CONFIG_PASSPHRASE: "catalyst-bench-floor",
        BENCH_FLOOR_OBJECTS: objectsFile,
    };
    const pulumi = async (args: string[]) => {
        try {
            return await run("pulumi", [...args, "--stack", STACK, "--non-interactive"], { cwd: PROGRAM_DIR, env, maxBuffer: 64 * 1024 * 1024 });
        } catch (err) {
            // `pulumi` prints its diagnostics on stdout; the error's message has only stderr.
            const stdout = String((err as { stdout?: string }).stdout ?? "").trim().split("\n").slice(-15).join("\n");
            throw new Error(`pulumi ${args[0]} of the Pulumi floor failed: ${(err as Error).message}\n${stdout}`);
        }
    };
    const up = () => measure(sampler, () => pulumi(["up", "--yes", "--skip-preview", "--diff=false"]));
    const destroy = () => pulumi(["destroy", "--yes", "--skip-preview"]);
    let destroyed = false;
    try {
        await pulumi(["stack", "init"]);
        const created = await up();
        const noop = await up();
        const down = await measure(sampler, destroy);
        destroyed = true;
        return { up: created.cost, noop: noop.cost, down: down.cost };
    } finally {
        // A failed run may leave the objects behind: destroy them before the state goes.
        if (!destroyed) await destroy().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        // `stack init` wrote the stack's settings (its secrets salt) next to the program.
        rmSync(path.join(PROGRAM_DIR, `Pulumi.${STACK}.yaml`), { force: true });
    }
}

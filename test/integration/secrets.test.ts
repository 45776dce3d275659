import { spawnSync } from "child_process";
import { randomBytes, randomInt } from "crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { fileURLToPath } from "url";
import { Automation } from "../../stacks/automation/operations";
import { CatalystEvent, OperationResult } from "../../stacks/automation/types";
import { prepareWorkDir } from "../../stacks/automation/workspace";
import { kubectl, kubectlJson, repoRoot, requireTestEnvironment } from "./harness";
import { StandInPlatform, standInPlatform } from "./security-helpers";

/*
 * Secret hygiene end to end: a canary set as a config secret of a preview environment reaches
 * the cluster (in a Secret, where it belongs) and appears nowhere else in plain text or base64:
 * not in the backend's state files or `pulumi stack export`, the work dir, the automation layer's
 * events and results, the `catalyst` CLI's output, Pulumi's CLI output, its log files, the
 * audit log, or any object's annotations (last-applied-configuration included), and not in
 * any object but that Secret.
 *
 * The environment reads a stand-in platform stack named `dev` (security-helpers.ts): this test
 * needs no running platform, and the automation layer only accepts `platform` or `dev`.
 */
jest.setTimeout(20 * 60_000);

const run = randomBytes(3).toString("hex");
const canary = `canary-${randomBytes(16).toString("hex")}`;
/** Every form in which the canary could leak: plain, and base64 (as in Secret data). */
const forms = [...new Set([canary, Buffer.from(canary).toString("base64"), Buffer.from(canary).toString("base64url")])];
const pr = randomInt(7_000_000, 7_900_000);
const stack = `pr-${pr}`;
const namespace = `env-${stack}`;
const workRoot = path.join(repoRoot, ".catalyst", `test-work-secrets-${run}`);
const workDir = path.join(workRoot, stack);
const auditLog = path.join(workRoot, "audit.log");
const catalyst = path.join(repoRoot, "bin", "catalyst.js");
const cliEnv = { ...process.env, CATALYST_WORK_ROOT: workRoot, CATALYST_AUDIT_LOG: auditLog, CATALYST_PLATFORM_STACK: "dev", CI: "true" };
const minimal = { "catalyst:database": { mode: "none" }, "catalyst:redis": { enabled: false } };
const started = Date.now();

/** The forms of the canary found in `text`, with where they were found. */
function leaks(where: string, text: string): string[] {
    return forms.filter((form) => text.includes(form)).map((form) => `${where}: ${form === canary ? "plain text" : "base64"}`);
}

/** Every regular file under `dir`, skipping directories named in `skip`. */
function filesUnder(dir: string, skip: string[] = []): string[] {
    if (!existsSync(dir)) {
        return [];
    }
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            return skip.includes(entry.name) ? [] : filesUnder(full, skip);
        }
        return entry.isFile() ? [full] : [];
    });
}

/** Leaks in every file under `dir` (at most 64 MiB each). */
function leaksInFiles(dir: string, skip: string[] = [], since = 0): string[] {
    return filesUnder(dir, skip)
        .filter((file) => statSync(file).size < 64 * 1024 * 1024 && statSync(file).mtimeMs >= since)
        .flatMap((file) => leaks(path.relative(repoRoot, file), readFileSync(file, "latin1")));
}

/** Runs a command and returns what it printed, failing on a non-zero exit. */
function command(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): { stdout: string; stderr: string } {
    const result = spawnSync(file, args, { env, encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) {
        const tail = `${result.stdout}${result.stderr}`.split("\n").slice(-5).join("\n");
        throw new Error(`${path.basename(file)} ${args.join(" ")} exited ${result.status}: ${tail}`);
    }
    return { stdout: result.stdout, stderr: result.stderr };
}

/** Everything a command printed, stdout and stderr. */
function output(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): string {
    const { stdout, stderr } = command(file, args, env, input);
    return `${stdout}${stderr}`;
}

describe("secret hygiene of a preview environment", () => {
    let platform: StandInPlatform | undefined;
    let automation: Automation;
    const events: CatalystEvent[] = [];
    let result: OperationResult | undefined;

    beforeAll(async () => {
        requireTestEnvironment();
        mkdirSync(workRoot, { recursive: true });
        platform = await standInPlatform("dev");
        automation = new Automation({ repoRoot, workRoot, auditLog, platformStack: "dev", actor: "secrets-test" });
        // As docs/cli.md says: secrets are set in the stack's work dir; the layer keeps them.
        await prepareWorkDir(repoRoot, workRoot, stack);
        output("pulumi", ["stack", "init", stack, "--cwd", workDir]);
        output("pulumi", ["config", "set", "--secret", "catalyst:appSecrets", "--stack", stack, "--cwd", workDir], process.env,
            JSON.stringify({ CANARY_TOKEN: canary }));
    });

    afterAll(async () => {
        try {
            await automation?.destroyPreview(pr).result;
        } finally {
            rmSync(workRoot, { recursive: true, force: true });
            await platform?.remove();
        }
    });

    it("deploys the canary into the environment's Secret, through the automation layer", async () => {
        result = await automation.upPreview({ pr, branch: "feat/secret-hygiene", config: minimal }, { onEvent: (event) => events.push(event) }).result;
        expect(result.status).toBe("succeeded");
        // The canary must really be in the cluster, or every check below would pass vacuously.
        const secrets = kubectlJson<{ items: { metadata: { name: string }; data?: Record<string, string> }[] }>(["get", "secrets", "-n", namespace]).items;
        const holders = secrets.filter((s) => Object.values(s.data ?? {}).some((value) => Buffer.from(value, "base64").toString() === canary));
        expect(holders.map((s) => s.metadata.name)).toHaveLength(1);
        // The app reads it from that Secret, not from a literal value.
        const deployment = kubectlJson<{ spec: { template: { spec: { containers: { env?: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[] }[] } } } }>(
            ["get", "deployment", "app", "-n", namespace]);
        const variable = deployment.spec.template.spec.containers[0].env?.find((e) => e.name === "CANARY_TOKEN");
        expect(variable?.valueFrom?.secretKeyRef?.name).toBe(holders[0].metadata.name);
    });

    it("keeps it out of what the catalyst CLI prints of an up: the result, warnings and errors", () => {
        const shown = events.filter((e) => e.type !== "log" || e.level === "warning" || e.level === "error");
        expect([JSON.stringify(result), ...shown.map((e) => JSON.stringify(e))].flatMap((line, i) => leaks(`line ${i}`, line))).toEqual([]);
    });

    it("keeps it out of the whole event stream that library callers (CI, web app, agents) receive", () => {
        // The SDK logs every RegisterResource response at debug level, Secret data included;
        // such diagnostics must not be forwarded as events.
        expect(events.flatMap((e) => leaks(`${e.type} event${e.type === "log" ? ` (${e.level}): ${e.message.slice(0, 60)}` : ""}`, JSON.stringify(e)))).toEqual([]);
    });

    it("keeps it out of the state: pulumi stack export, every state, history and backup file, the work dir", () => {
        const exported = output("pulumi", ["stack", "export", "--stack", stack, "--cwd", workDir]);
        expect(exported).toContain('"ciphertext"');
        expect(leaks("pulumi stack export", exported)).toEqual([]);
        const backend = process.env.PULUMI_BACKEND_URL ?? "";
        expect(backend.startsWith("file://")).toBe(true);
        expect(leaksInFiles(fileURLToPath(backend))).toEqual([]);
        expect(leaksInFiles(workDir)).toEqual([]);
    });

    it("keeps it out of Pulumi's CLI output and log files", () => {
        const env = process.env;
        const texts = [
            ["pulumi config", output("pulumi", ["config", "--stack", stack, "--cwd", workDir, "--json"], env)],
            ["pulumi stack output", output("pulumi", ["stack", "output", "--stack", stack, "--cwd", workDir, "--json"], env)],
            ["pulumi preview --diff", output("pulumi", ["preview", "--diff", "--show-sames", "--stack", stack, "--cwd", workDir], env)],
            ["pulumi stack history", output("pulumi", ["stack", "history", "--stack", stack, "--cwd", workDir, "--json"], env)],
        ];
        expect(texts.flatMap(([where, text]) => leaks(where, text))).toEqual([]);
        // Pulumi writes logs (when asked to) under PULUMI_HOME/logs or the temp directory; plugins are binaries.
        expect(leaksInFiles(process.env.PULUMI_HOME ?? "", ["plugins"], started)).toEqual([]);
        const pulumiLogs = readdirSync(tmpdir()).filter((name) => name.startsWith("pulumi")).map((name) => path.join(tmpdir(), name));
        expect(pulumiLogs.flatMap((file) => (statSync(file).isFile() && statSync(file).mtimeMs >= started ? leaks(file, readFileSync(file, "latin1")) : []))).toEqual([]);
    });

    it("keeps it out of every annotation and every object but its Secret", () => {
        const kinds = kubectl(["api-resources", "--namespaced", "--verbs=list", "-o", "name"]).trim().split("\n").filter((k) => k !== "events" && k !== "events.events.k8s.io");
        const objects = kubectlJson<{ items: { kind: string; metadata: { name: string; annotations?: Record<string, string> } }[] }>(
            ["get", kinds.join(","), "-n", namespace]).items;
        expect(objects.length).toBeGreaterThan(10);
        const found = objects.flatMap((object) => {
            const name = `${object.kind}/${object.metadata.name}`;
            const annotations = leaks(`${name} annotations`, JSON.stringify(object.metadata.annotations ?? {}));
            return object.kind === "Secret" ? annotations : leaks(name, JSON.stringify(object));
        });
        expect(found).toEqual([]);
        // Cluster-wide objects the environment might touch too.
        expect(leaks("cluster-scoped objects", kubectl(["get", "namespaces,clusterroles,clusterrolebindings", "-o", "json"]))).toEqual([]);
    });

    it("keeps it out of the catalyst CLI's output and the audit log, through a destroy", () => {
        const listed = command(process.execPath, [catalyst, "preview", "list", "--json"], cliEnv);
        expect(JSON.parse(listed.stdout).previews.map((p: { stack: string }) => p.stack)).toContain(stack);
        const down = command(process.execPath, [catalyst, "preview", "down", "--pr", String(pr), "--json"], cliEnv);
        expect(JSON.parse(down.stdout).status).toBe("succeeded");
        const printedByCli = [listed.stdout, listed.stderr, down.stdout, down.stderr].join("\n");
        expect(leaks("catalyst CLI", printedByCli)).toEqual([]);
        const audit = readFileSync(auditLog, "utf8");
        expect(audit.split("\n").filter((line) => line.includes(`"stack":"${stack}"`)).length).toBeGreaterThanOrEqual(2);
        expect(leaks("audit log", audit)).toEqual([]);
        // The state left by the destroy (history, backups) is clean too.
        expect(leaksInFiles(fileURLToPath(process.env.PULUMI_BACKEND_URL ?? ""))).toEqual([]);
    });
});

import { cliCommands, CliDependencies } from "../../../stacks/cli/commands";
import { AnyCommand, EXIT, flagOf } from "../../../stacks/command";
import { commands, main } from "../../../stacks/main";

/** What the fake automation layer was asked: method and arguments. */
let calls: [string, unknown[]][] = [];
const result = { action: "up", stack: "pr-1", kind: "preview", status: "succeeded", durations: { totalMs: 1, waitMs: 0, runMs: 1 } };
const OPERATION = {
    kind: "update", result: "succeeded", startTime: "2026-12-07T06:00:00.000Z", endTime: "2026-12-07T06:00:27.000Z", durationMs: 27_000,
    changes: { create: 3, same: 0 }, message: "Add history\nmore", startedBy: { "exec.kind": "auto.local", "git.headName": "refs/heads/main", "git.head": "23b4a363f2703b59" },
};
const RESOURCES = [
    { type: "kubernetes:core/v1:Service", name: "web", urn: "urn:pulumi:pr-1::catalyst::kubernetes:core/v1:Service::web", custom: true },
    { type: "kubernetes:apps/v1:Deployment", name: "web", urn: "urn:pulumi:pr-1::catalyst::kubernetes:apps/v1:Deployment::web", custom: true },
    { type: "kubernetes:core/v1:Service", name: "api", urn: "urn:pulumi:pr-1::catalyst::kubernetes:core/v1:Service::api", custom: true },
];
const fake = new Proxy({}, {
    get: (_target, method: string) => method === "then" ? undefined : (...args: unknown[]) => {
        calls.push([method, args]);
        if (method === "collectGarbage") return Promise.resolve({ status: "succeeded", dryRun: false, candidates: [], destroyed: [], orphanNamespaces: [], deletedNamespaces: [], errors: [] });
        if (method === "listPreviews") return Promise.resolve([]);
        if (method === "environmentOperations") return Promise.resolve(args[0] === "pr-404" ? undefined : [OPERATION]);
        if (method === "environmentResources") return Promise.resolve(args[0] === "pr-404" ? undefined : RESOURCES);
        return Promise.resolve(result);
    },
});
const deps: CliDependencies = {
    automation: async (platformStack) => (calls.push(["automation", [platformStack]]), fake as never),
    resources: async (namespace) => (calls.push(["resources", [namespace]]), fake as never),
    env: {},
};
const table: AnyCommand[] = [...cliCommands(deps), ...commands().filter((c) => c.name === "serve" || c.name === "mcp")];

/** Runs the program in-process with captured output and the fake automation layer. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    calls = [];
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, undefined, table);
    return { code, stdout, stderr };
}

async function usage(argv: string[]): Promise<string> {
    const run = await cli(...argv);
    expect([run.code, run.stdout, calls]).toEqual([EXIT.usage, "", []]);
    return run.stderr.trimEnd();
}

describe("catalyst command line", () => {
    const bad: [string[], string][] = [
        [["preview", "up", "--pr", "-1", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "-1"'],
        [["preview", "up", "--pr", "abc", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "abc"'],
        [["preview", "up", "--pr", "0", "--branch", "feat/x"], "catalyst preview up: --pr: must be between 1 and 99999999, got 0"],
        [["preview", "up", "--pr", "1.5", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "1.5"'],
        [["preview", "up", "--pr", "production", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "production"'],
        [["preview", "up", "--branch", "feat/x"], "catalyst preview up: required option '--pr <n>' not specified"],
        [["preview", "up", "--pr", "12"], "catalyst preview up: required option '--branch <branch>' not specified"],
        [["preview", "up", "--pr", "12", "--branch", "feat x"],
            'catalyst preview up: --branch: must be a git branch name: printable ASCII without spaces or any of ~^:?*[\\, no "..", "@{" or "//", not starting with "-", "/" or ".", not ending with "/", "." or ".lock", at most 255 characters; got "feat x"'],
        [["preview", "up", "--pr", "12", "--branch", "féat/ünïcode"],
            'catalyst preview up: --branch: must be a git branch name: printable ASCII without spaces or any of ~^:?*[\\, no "..", "@{" or "//", not starting with "-", "/" or ".", not ending with "/", "." or ".lock", at most 255 characters; got "féat/ünïcode"'],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--ttl", "abc"],
            'catalyst preview up: --ttl: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0, got "abc"'],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--ttl", "72"],
            'catalyst preview up: --ttl: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0, got "72"'],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--ttl", "-5h"],
            'catalyst preview up: --ttl: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0, got "-5h"'],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--sha", "xyz"], 'catalyst preview up: --sha: must be a git commit SHA (7 to 40 hex digits), got "xyz"'],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--image", "app:latest"],
            'catalyst preview up: --image: "app:latest" uses the tag "latest"; pin a version or a digest, like nginx:1.27.4 or registry.example.com/app@sha256:<64 hex>'],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--owners", "bad name"],
            'catalyst preview up: --owners: must be 1 to 20 GitHub user names separated by commas (letters, digits and single hyphens, at most 39 characters each), got "bad name"'],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--timeout", "0"], "catalyst preview up: --timeout: must be longer than 0"],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--frobnicate"], "catalyst preview up: unknown option '--frobnicate'"],
        [["preview", "up", "--pr", "--branch", "feat/x"], "catalyst preview up: required option '--branch <branch>' not specified"],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--json=yes"], "catalyst preview up: unknown option '--json=yes'"],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "extra"], "catalyst preview up: too many arguments for 'up'. Expected 0 arguments but got 1: extra."],
        [["preview", "down", "--pr", "3", "production"], "catalyst preview down: too many arguments for 'down'. Expected 0 arguments but got 1: production."],
        [["preview", "down", "production"], "catalyst preview down: required option '--pr <n>' not specified"],
        [["preview", "down", "--pr", "staging"], 'catalyst preview down: --pr: must be a positive whole number, got "staging"'],
        [["preview", "gc", "--ttl", "soon"], 'catalyst preview gc: --ttl: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0, got "soon"'],
        [["preview", "gc", "--open-prs", "1,x"], 'catalyst preview gc: --open-prs: must be pull request numbers separated by commas, or github; got "1,x"'],
        [["preview", "deploy"], "catalyst preview: unknown command 'deploy'"],
        [["env", "up"], "catalyst env up: missing required argument 'name'"],
        [["env", "up", "pr-12"], 'catalyst env up: <name>: "pr-12" is a preview; previews are managed with `catalyst preview`'],
        [["env", "up", "dev"], 'catalyst env up: <name>: "dev" is the platform stack; use `catalyst platform`'],
        [["env", "up", "Prod"], `catalyst env up: <name>: "Prod" is not an environment name; allowed: production, staging or dev-<user> (lower case letters, digits and '-'), each with --<project> for a Project other than default (staging--web)`],
        [["env", "up", "dev-default"], `catalyst env up: <name>: "dev-default" is not an environment name; allowed: production, staging or dev-<user> (lower case letters, digits and '-'), each with --<project> for a Project other than default (staging--web)`],
        [["env", "down", "production"], "catalyst env down: destroying production needs --yes"],
        [["platform", "up", "--stack", "production"], 'catalyst platform up: --stack: must be one of platform, dev, got "production"'],
        [["deploy"], "catalyst: unknown command 'deploy'"],
        [["env", "history"], "catalyst env history: missing required argument 'stack'"],
        [["env", "history", "pr-1", "--limit", "0"], 'catalyst env history: --limit: must be a whole number from 1 to 100, got "0"'],
        [["env", "history", "pr-1", "--limit", "many"], 'catalyst env history: --limit: must be a whole number from 1 to 100, got "many"'],
        [["env", "resources", "Prod"], `catalyst env resources: <stack>: "Prod" is not a stack name this project runs; allowed: platform, dev, production, staging, pr-<n> (n a positive whole number), dev-<user> (lower case letters, digits and '-', at most 59 characters in all), each of the last four with --<project> for a Project other than default`],
    ];

    it.each(bad)("exits 2 for %j before anything runs, writing only one line naming the flag to stderr", async (argv, message) => {
        expect(await usage(argv)).toBe(message);
    });

    it("reads a value that starts with '-' as the value of the flag before it", async () => {
        expect(await usage(["preview", "down", "--pr", "-7"])).toBe('catalyst preview down: --pr: must be a positive whole number, got "-7"');
    });

    it("passes a full preview up to the library, typed", async () => {
        const run = await cli(
            "preview", "up", "--pr", "123", "--branch", "feat/x", "--sha", "ABCDEF1", "--image", "registry.local:5000/app:1.2.3",
            "--ttl", "1h30m", "--owners", "alice,bob,alice", "--json", "--timeout", "20m", "--wait", "0",
        );
        expect(run.code).toBe(EXIT.ok);
        expect(JSON.parse(run.stdout)).toEqual(result);
        expect(calls).toEqual([
            ["automation", [undefined]],
            ["upPreview", [
                { pr: 123, branch: "feat/x", sha: "abcdef1", image: "registry.local:5000/app:1.2.3", ttl: 5_400_000, owners: ["alice", "bob"] },
                expect.objectContaining({ timeoutMs: 1_200_000, lockTimeoutMs: 0 }),
            ]],
        ]);
    });

    it("allows env down production only with --yes", async () => {
        expect((await cli("env", "down", "production", "--yes")).code).toBe(EXIT.ok);
        expect(calls[1]).toEqual(["destroy", ["production", expect.anything()]]);
        expect((await cli("env", "down", "dev-alice")).code).toBe(EXIT.ok);
        expect(calls[1]).toEqual(["destroy", ["dev-alice", expect.anything()]]);
    });

    it("passes gc options, --timeout included (defect 3.4: it was accepted and ignored)", async () => {
        await cli("preview", "gc", "--ttl", "0", "--dry-run", "--open-prs", "3, 5", "--timeout", "5m");
        expect(calls[1]).toEqual(["collectGarbage", [expect.objectContaining({ ttlMs: 0, dryRun: true, openPullRequests: [3, 5], deleteOrphanNamespaces: false, timeoutMs: 300_000 })]]);
        await cli("preview", "gc", "--open-prs", "");
        expect(calls[1]).toEqual(["collectGarbage", [expect.objectContaining({ openPullRequests: [] })]]);
        await cli("preview", "gc", "--open-prs", "github");
        expect(calls[1][1][0]).toMatchObject({ openPullRequests: expect.any(Function) });
    });

    it("shows any stack's history and resources; exits 1 for no such stack", async () => {
        const history = await cli("env", "history", "pr-1", "--limit", "3");
        expect(calls).toEqual([["automation", [undefined]], ["environmentOperations", ["pr-1", 3]]]);
        expect(history).toEqual({ code: EXIT.ok, stderr: "", stdout: [
            "pr-1: the last 1 operation(s), newest first",
            "  2026-12-07T06:00:00.000Z  update   succeeded   27s      create 3",
            "      auto.local main 23b4a36: Add history",
            "",
        ].join("\n") });
        expect(JSON.parse((await cli("env", "history", "platform", "--json")).stdout)).toEqual({ stack: "platform", operations: [OPERATION] });
        expect(calls[1]).toEqual(["environmentOperations", ["platform", undefined]]);
        const resources = await cli("env", "resources", "pr-1");
        expect(resources.stdout).toBe([
            "pr-1: 3 resource(s) of 2 type(s)",
            "  kubernetes:apps/v1:Deployment (1)", "    web",
            "  kubernetes:core/v1:Service (2)", "    web", "    api",
            "",
        ].join("\n"));
        expect(JSON.parse((await cli("env", "resources", "pr-1", "--json")).stdout)).toEqual({ stack: "pr-1", resources: RESOURCES });
        expect(await cli("env", "history", "pr-404")).toEqual({ code: EXIT.failed, stderr: "", stdout: "pr-404: no such stack\n" });
        expect(await cli("env", "resources", "pr-404", "--json")).toEqual({ code: EXIT.failed, stderr: "", stdout: '{"stack":"pr-404","exists":false}\n' });
    });

    it("picks the platform stack of --stack", async () => {
        await cli("platform", "up", "--stack", "platform");
        expect(calls).toEqual([["automation", ["platform"]], ["upPlatform", [expect.anything()]]]);
    });

    it.each(table.map((c) => c.name))("prints help for %s that lists every option of its table and the exit codes", async (name) => {
        const spec = table.find((c) => c.name === name)!;
        const { code, stdout, stderr } = await cli(...name.split(" "), "--help");
        expect([code, stderr]).toEqual([EXIT.ok, ""]);
        expect(stdout).toContain(`Usage: catalyst ${name}`);
        for (const [key, option] of Object.entries(spec.options)) {
            expect(stdout).toContain(option.positional ? option.value : flagOf(key));
        }
        expect(stdout).toContain("Exit codes: 0 ok, 1 failed, 2 bad input, 3 busy or timed out.");
        expect(calls).toEqual([]);
    });

    it("lists every command, serve and mcp included, for --help and with no arguments", async () => {
        for (const argv of [["--help"], []]) {
            const top = await cli(...argv);
            expect(top.code).toBe(0);
            for (const group of ["preview", "env", "platform", "serve", "mcp"]) {
                expect(top.stdout).toContain(`  ${group}`);
            }
        }
        const group = await cli("preview", "--help");
        for (const action of ["up", "down", "list", "gc"]) expect(group.stdout).toContain(`  ${action}`);
    });

    it("prints its version", async () => {
        expect((await cli("--version")).stdout).toMatch(/^catalyst [0-9]+\.[0-9]+\.[0-9]+\n$/);
    });
});

import { COMMANDS, EXIT, parseCommandLine, UsageError } from "../../../stacks/cli/args";
import { main } from "../../../stacks/cli/main";

/** Runs the CLI in-process with captured output. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
}

function usage(argv: string[]): string {
    try {
        parseCommandLine(argv);
    } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
    }
    throw new Error(`expected a usage error for ${argv.join(" ")}`);
}

describe("catalyst command line", () => {
    const bad: [string[], string][] = [
        [["preview", "up", "--pr", "-1", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "-1"'],
        [["preview", "up", "--pr", "abc", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "abc"'],
        [["preview", "up", "--pr", "0", "--branch", "feat/x"], "catalyst preview up: --pr: must be between 1 and 99999999, got 0"],
        [["preview", "up", "--pr", "1.5", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "1.5"'],
        [["preview", "up", "--pr", "production", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "production"'],
        [["preview", "up", "--branch", "feat/x"], "catalyst preview up: --pr is required: pull request number"],
        [["preview", "up", "--pr", "12"], "catalyst preview up: --branch is required: the pull request's head branch (git branch name, ASCII)"],
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
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--frobnicate"], "catalyst preview up: unknown option --frobnicate; see catalyst preview up --help"],
        [["preview", "up", "--pr", "--branch", "feat/x"], "catalyst preview up: --pr needs a value"],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "--json=yes"], "catalyst preview up: --json takes no value"],
        [["preview", "up", "--pr", "12", "--branch", "feat/x", "extra"], 'catalyst preview up: unexpected argument "extra" (see catalyst preview up --help)'],
        [["preview", "down", "production"], 'catalyst preview down: unexpected argument "production" (see catalyst preview down --help)'],
        [["preview", "down", "--pr", "staging"], 'catalyst preview down: --pr: must be a positive whole number, got "staging"'],
        [["preview", "gc", "--ttl", "soon"], 'catalyst preview gc: --ttl: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0, got "soon"'],
        [["preview", "gc", "--open-prs", "1,x"], 'catalyst preview gc: --open-prs: must be pull request numbers separated by commas, or github; got "1,x"'],
        [["preview", "deploy"], 'catalyst preview: unknown command "deploy"; allowed: up, down, list, gc (see catalyst preview --help)'],
        [["env", "up"], "catalyst env up: <name> is required: production, staging or dev-<user>"],
        [["env", "up", "pr-12"], 'catalyst env up: <name>: "pr-12" is a preview; previews are managed with `catalyst preview`'],
        [["env", "up", "dev"], 'catalyst env up: <name>: "dev" is the platform stack; use `catalyst platform`'],
        [["env", "up", "Prod"], `catalyst env up: <name>: "Prod" is not an environment name; allowed: production, staging or dev-<user> (lower case letters, digits and '-')`],
        [["env", "up", "dev-default"], `catalyst env up: <name>: "dev-default" is not an environment name; allowed: production, staging or dev-<user> (lower case letters, digits and '-')`],
        [["env", "down", "production"], "catalyst env down: destroying production needs --yes"],
        [["platform", "up", "--stack", "production"], 'catalyst platform up: --stack: must be one of platform, dev, got "production"'],
        [["deploy"], 'catalyst: unknown command "deploy"; commands: preview, env, platform (see catalyst --help)'],
    ];

    it.each(bad)("refuses %j with one line naming the flag", (argv, message) => {
        expect(usage(argv)).toBe(message);
    });

    it.each(bad)("exits 2 for %j, writing only that line to stderr and nothing to stdout", async (argv, message) => {
        const { code, stdout, stderr } = await cli(...argv);
        expect(code).toBe(EXIT.usage);
        expect(stdout).toBe("");
        expect(stderr).toBe(`${message}\n`);
    });

    it("reads a value that starts with '-' as the value of the flag before it", () => {
        expect(usage(["preview", "down", "--pr", "-7"])).toBe('catalyst preview down: --pr: must be a positive whole number, got "-7"');
    });

    it("parses a full preview up", () => {
        const parsed = parseCommandLine([
            "preview", "up", "--pr", "123", "--branch", "feat/x", "--sha", "ABCDEF1", "--image", "registry.local:5000/app:1.2.3",
            "--ttl", "1h30m", "--owners", "alice,bob,alice", "--json", "--timeout", "20m", "--wait", "0",
        ]);
        expect(parsed).toEqual({
            kind: "run",
            invocation: {
                command: "preview up", json: true, pr: 123, branch: "feat/x", sha: "abcdef1", image: "registry.local:5000/app:1.2.3",
                ttlMs: 5_400_000, owners: ["alice", "bob"], timeoutMs: 1_200_000, waitMs: 0,
            },
        });
    });

    it("allows env down production only with --yes, and only from env", () => {
        expect(parseCommandLine(["env", "down", "production", "--yes"])).toEqual({ kind: "run", invocation: { command: "env down", json: false, name: "production", yes: true } });
        expect(parseCommandLine(["env", "down", "dev-alice"])).toEqual({ kind: "run", invocation: { command: "env down", json: false, name: "dev-alice" } });
    });

    it("parses gc options", () => {
        expect(parseCommandLine(["preview", "gc", "--ttl", "0", "--dry-run", "--open-prs", "3, 5"])).toEqual({
            kind: "run", invocation: { command: "preview gc", json: false, ttlMs: 0, dryRun: true, openPrs: [3, 5] },
        });
        expect(parseCommandLine(["preview", "gc", "--open-prs", ""])).toMatchObject({ invocation: { openPrs: [] } });
        expect(parseCommandLine(["preview", "gc", "--open-prs", "github"])).toMatchObject({ invocation: { openPrs: "github" } });
    });

    it.each(COMMANDS.map((c) => c.name))("prints help for %s that lists every option of the parser and the exit codes", async (name) => {
        const spec = COMMANDS.find((c) => c.name === name)!;
        const { code, stdout, stderr } = await cli(...name.split(" "), "--help");
        expect(code).toBe(EXIT.ok);
        expect(stderr).toBe("");
        expect(stdout).toContain(`Usage: catalyst ${name}`);
        for (const flag of Object.keys(spec.options)) {
            expect(stdout).toContain(`--${flag}`);
        }
        expect(stdout).toContain("Exit codes: 0 ok, 1 failed, 2 bad input, 3 busy or timed out.");
    });

    it("prints the command list for --help and for a bare group", async () => {
        const top = await cli("--help");
        expect(top.code).toBe(0);
        for (const command of COMMANDS) {
            expect(top.stdout).toContain(command.name);
        }
        const group = await cli("preview");
        expect(group.stdout).toContain("Usage: catalyst preview gc");
    });
});

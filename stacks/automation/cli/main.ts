import { readFileSync } from "fs";
import * as path from "path";
import type { Automation, CallOptions } from "../operations";
import type { OperationResult } from "../types";
import { EXIT, Invocation, parseCommandLine, UsageError } from "./args";
import { describeGc, describeRecords, describeResult, describeStatus, LiveReporter, PlainReporter, Reporter } from "./render";

/**
 * The `catalyst` CLI (bin/catalyst.js loads it). Parses and validates the command line first
 * (bad input exits 2 before anything is created), then loads the toolchain environment, runs the
 * command through the automation layer, shows progress on stderr and prints the result on stdout:
 * one line for people, or with `--json` exactly one JSON object.
 */

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    /** The stream for a live display, when stderr is a terminal. */
    tty?: NodeJS.WriteStream;
}

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

function exitCode(status: OperationResult["status"]): number {
    return status === "succeeded" ? EXIT.ok : status === "failed" ? EXIT.failed : EXIT.busy;
}

/** Runs the CLI with `argv` (without node and the script) and resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo(), signal?: AbortSignal): Promise<number> {
    // The servers (docs/api.md) are thin layers over the same library; loaded only when asked for.
    if (argv[0] === "serve" || argv[0] === "mcp") {
        const api = await import("../../api");
        return argv[0] === "serve" ? api.runServeCommand(argv.slice(1)) : api.runMcpCommand(argv.slice(1));
    }
    if (argv[0] === "controller") {
        return (await import("../../controller")).runControllerCommand(argv.slice(1));
    }
    let parsed;
    try {
        parsed = parseCommandLine(argv);
    } catch (err) {
        if (err instanceof UsageError) {
            io.stderr(`${err.message}\n`);
            return EXIT.usage;
        }
        throw err;
    }
    if (parsed.kind === "help") {
        io.stdout(`${parsed.text}\n`);
        return EXIT.ok;
    }
    if (parsed.kind === "version") {
        const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
        io.stdout(`catalyst ${pkg.version}\n`);
        return EXIT.ok;
    }
    const invocation = parsed.invocation;
    // Loaded only now: bad input and --help never pay for the toolchain or the Automation API.
    const { loadEnvironment, needsEnvironment } = await import("./environment");
    if (needsEnvironment(process.env)) {
        try {
            loadEnvironment(REPO_ROOT);
        } catch (err) {
            io.stderr(`catalyst: could not load the toolchain environment (tools/env.sh): ${(err as Error).message.split("\n")[0]}\n`);
            return EXIT.failed;
        }
    }
    const { Automation } = await import("../operations");
    const automation = new Automation({ repoRoot: REPO_ROOT, platformStack: invocation.platformStack });
    const reporter: Reporter = io.tty ? new LiveReporter(io.tty) : new PlainReporter(io.stderr);
    try {
        return await dispatch(automation, invocation, io, reporter, signal);
    } catch (err) {
        reporter.close();
        io.stderr(`catalyst ${invocation.command}: ${(err as Error).message.split("\n")[0]}\n`);
        return err instanceof UsageError || (err as Error).name === "InputError" ? EXIT.usage : EXIT.failed;
    }
}

async function dispatch(automation: Automation, inv: Invocation, io: CliIo, reporter: Reporter, signal?: AbortSignal): Promise<number> {
    const call: CallOptions = { onEvent: (e) => reporter.event(e), timeoutMs: inv.timeoutMs, lockTimeoutMs: inv.waitMs, signal };
    const print = (value: unknown, human: string) => {
        reporter.close();
        io.stdout(inv.json ? `${JSON.stringify(value)}\n` : human);
    };
    const finish = (result: OperationResult) => {
        print(result, `${describeResult(result)}\n`);
        return exitCode(result.status);
    };
    switch (inv.command) {
        case "preview up":
            return finish(await automation.upPreview({
                pr: inv.pr as number,
                branch: inv.branch as string,
                sha: inv.sha,
                image: inv.image,
                ttl: inv.ttlMs,
                owners: inv.owners,
            }, call));
        case "preview down":
            return finish(await automation.destroyPreview(inv.pr as number, call));
        case "preview list": {
            const previews = await automation.listPreviews();
            print({ previews }, describeRecords(previews));
            return EXIT.ok;
        }
        case "preview gc": {
            const lookup = inv.openPrs === "github" ? async () => (await import("./github")).openPullRequests() : inv.openPrs;
            const report = await automation.collectGarbage({
                ttlMs: inv.ttlMs,
                openPullRequests: lookup,
                dryRun: inv.dryRun,
                deleteOrphanNamespaces: inv.deleteOrphanNamespaces,
                onEvent: call.onEvent,
            });
            print(report, describeGc(report));
            if (report.status === "succeeded") return EXIT.ok;
            const statuses = report.destroyed.map((r) => r.status);
            return statuses.includes("failed") || report.destroyed.length === 0 ? EXIT.failed : EXIT.busy;
        }
        case "env up":
            return finish(await automation.up(inv.name as string, { image: inv.image, sha: inv.sha, branch: inv.branch }, call));
        case "env down":
            return finish(await automation.destroy(inv.name as string, call));
        case "platform up":
            return finish(await automation.upPlatform(call));
        case "platform down":
            return finish(await automation.destroyPlatform(call));
        case "env status":
        case "platform status": {
            const name = inv.command === "env status" ? (inv.name as string) : automation.platformStack;
            const status = inv.command === "env status" ? await automation.status(name) : await automation.platformStatus();
            if (status === undefined) {
                print({ stack: name, exists: false }, `${name}: no such stack\n`);
                return EXIT.failed;
            }
            print({ ...status, exists: true }, describeStatus(status));
            return EXIT.ok;
        }
        default:
            throw new UsageError(`catalyst: unknown command "${inv.command}"`);
    }
}

function defaultIo(): CliIo {
    const tty = process.stderr.isTTY && !process.env.CI ? process.stderr : undefined;
    return { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t), tty };
}

/**
 * Runs the CLI as a process: Ctrl-C once stops the running operations gracefully (SIGINT, then
 * SIGKILL after the grace period, then recovery); a second Ctrl-C kills them at once.
 */
export function run(argv: readonly string[]): void {
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
        interrupts++;
        if (interrupts === 1) {
            process.stderr.write("\ncatalyst: stopping the running operation (Ctrl-C again to kill it)\n");
            controller.abort();
        } else {
            void import("../runner").then(({ killAllWorkers }) => {
                killAllWorkers();
                process.exit(130);
            });
        }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    main(argv, defaultIo(), controller.signal).then(
        (code) => {
            process.exitCode = code;
            // Should anything keep the event loop alive, do not hang: exit a moment later.
            setTimeout(() => process.exit(code), 1000).unref();
        },
        (err: Error) => {
            process.stderr.write(`catalyst: ${err.message.split("\n")[0]}\n`);
            process.exitCode = EXIT.failed;
        },
    );
}

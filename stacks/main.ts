import { readFileSync } from "fs";
import * as path from "path";
import { apiCommands } from "./api/command";
import { cliCommands } from "./cli/commands";
import { loginCommands } from "./login/command";
import { AnyCommand, CommandIo, EXIT, runProgram } from "./command";
import { controllerCommands } from "./controller/command";
import { serveCommands } from "./serve/command";

/**
 * The `catalyst` program (bin/catalyst.js loads it): one command table composed from what each
 * front end declares (the CLI's stack commands, `serve` (stacks/serve: the HTTP API, dashboard and
 * OpenID provider composed), the MCP server's `mcp`, the controller's `controller`).
 * The front ends never import each other; only this file knows them all. A new front end is one
 * more entry in {@link commands}.
 */

const REPO_ROOT = path.resolve(__dirname, "..");

/** The toolchain environment (tools/env.sh) when the caller has not set it up, then the library. */
async function automation(platformStack?: string) {
    const { loadEnvironment, needsEnvironment } = await import("./automation/environment");
    if (needsEnvironment(process.env)) {
        try {
            loadEnvironment(REPO_ROOT);
        } catch (err) {
            throw new Error(`could not load the toolchain environment (tools/env.sh): ${(err as Error).message.split("\n")[0]}`);
        }
    }
    const { Automation } = await import("./automation/operations");
    return new Automation({ repoRoot: REPO_ROOT, platformStack });
}

/** The Environment resources of a control-plane namespace, through KUBECONFIG (resource mode: no toolchain needed). */
async function resources(namespace: string) {
    const { clusterResources } = await import("./resources/kube");
    return clusterResources(namespace);
}

/** Every command of the program. */
export function commands(): AnyCommand[] {
    return [...cliCommands({ automation, resources }), ...serveCommands(), ...apiCommands(), ...loginCommands(), ...controllerCommands()];
}

// One paragraph: commander wraps it to the terminal's width.
const DESCRIPTION =
    "Preview environments, named environments and the platform of Catalyst Environments, driven through the Pulumi Automation API. " +
    "Uses the environment of tools/env.sh when PULUMI_BACKEND_URL, PULUMI_HOME or KUBECONFIG are unset (the local cluster and state).";

function defaultIo(): CommandIo {
    const tty = process.stderr.isTTY && !process.env.CI ? process.stderr : undefined;
    return { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t), tty };
}

/** Runs the program with `argv` (without node and the script) and resolves with the exit code. */
export function main(argv: readonly string[], io: CommandIo = defaultIo(), signal?: AbortSignal, table: readonly AnyCommand[] = commands()): Promise<number> {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    return runProgram(table, argv, { io, signal }, { version, description: DESCRIPTION });
}

/**
 * Runs the program as a process: Ctrl-C once stops the running operations gracefully (SIGINT,
 * then SIGKILL after the grace period, then recovery); a second Ctrl-C kills them at once.
 * `serve`, `mcp` and `controller` install their own handlers and stop on the first signal.
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
            void import("./automation/runner").then(({ killAllWorkers }) => {
                killAllWorkers();
                process.exit(130);
            });
        }
    };
    if (argv[0] !== "serve" && argv[0] !== "mcp" && argv[0] !== "controller") {
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
    }
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

import { execFileSync } from "child_process";
import { existsSync } from "fs";
import * as path from "path";

/**
 * The CLI's environment: the same one `tools/env.sh` prints for every command of the project
 * (PATH with pulumi and kubectl, PULUMI_HOME, KUBECONFIG, PULUMI_BACKEND_URL, a passphrase for
 * local state). When the caller has not set it up, the CLI runs tools/env.sh and applies its
 * exports, so a fresh clone works against the local cluster without any setup.
 */

const REQUIRED = ["PULUMI_BACKEND_URL", "PULUMI_HOME", "KUBECONFIG"];

function onPath(command: string, pathVar: string | undefined): boolean {
    return (pathVar ?? "").split(path.delimiter).some((dir) => dir !== "" && existsSync(path.join(dir, command)));
}

/** True when the environment lacks something tools/env.sh would provide. */
export function needsEnvironment(env: NodeJS.ProcessEnv): boolean {
    return (
        REQUIRED.some((name) => !env[name]) ||
        (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) ||
        !onPath("pulumi", env.PATH)
    );
}

/** Keys tools/env.sh sets; nothing else of its shell is copied. */
function applicable(name: string): boolean {
    return name === "PATH" || name === "KUBECONFIG" || name.startsWith("PULUMI_") || name.startsWith("CATALYST_");
}

/** Parses `env -0` output into a map. */
export function parseEnvZero(output: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const entry of output.split("\0")) {
        const eq = entry.indexOf("=");
        if (eq > 0) {
            result[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
    }
    return result;
}

/**
 * Runs tools/env.sh (it may build the toolchain on first use; its progress shows on stderr) and
 * applies its exports to `env`. Values the caller set are kept, as env.sh itself keeps them.
 */
export function loadEnvironment(repoRoot: string, env: NodeJS.ProcessEnv = process.env): void {
    const output = execFileSync("bash", ["-c", 'eval "$(bash tools/env.sh)" && env -0'], {
        cwd: repoRoot,
        env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 16 * 1024 * 1024,
    });
    for (const [name, value] of Object.entries(parseEnvZero(output))) {
        if (applicable(name) && env[name] !== value) {
            env[name] = value;
        }
    }
}

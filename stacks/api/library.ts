import type { Library } from "./service";

/**
 * Startup of `catalyst serve` and `catalyst mcp`: the toolchain environment and the
 * automation library they run on.
 */

/** Default bound on the wait for the toolchain at start (a first run builds it). */
export const DEFAULT_TOOLCHAIN_TIMEOUT_SECONDS = 1800;

/** What {@link loadLibrary} needs; tests pass fakes. */
export interface LibraryLoader {
    env: NodeJS.ProcessEnv;
    log: (line: string) => void;
    needsEnvironment: (env: NodeJS.ProcessEnv) => boolean;
    loadEnvironment: (repoRoot: string, env: NodeJS.ProcessEnv, options?: { timeoutMs?: number }) => void;
    createLibrary: (repoRoot: string) => Library;
}

/** CATALYST_TOOLCHAIN_TIMEOUT_SECONDS, checked, in seconds. */
function toolchainTimeoutSeconds(env: NodeJS.ProcessEnv): number {
    const text = env.CATALYST_TOOLCHAIN_TIMEOUT_SECONDS;
    if (text === undefined || text.trim() === "") return DEFAULT_TOOLCHAIN_TIMEOUT_SECONDS;
    if (!/^[0-9]+$/.test(text.trim()) || Number(text) < 1) throw new Error(`CATALYST_TOOLCHAIN_TIMEOUT_SECONDS: must be a positive whole number of seconds, got "${text}"`);
    return Number(text);
}

/**
 * The toolchain environment (tools/env.sh) and the automation library. Loading the environment
 * may build the toolchain on a fresh machine: the server says so before it waits, and waits at
 * most CATALYST_TOOLCHAIN_TIMEOUT_SECONDS (default 1800), then fails with one line.
 */
export async function loadLibrary(command: "serve" | "mcp", loader?: LibraryLoader): Promise<Library> {
    const { REPO_ROOT } = await import("../automation/workspace");
    const deps = loader ?? (await defaultLoader());
    const seconds = toolchainTimeoutSeconds(deps.env);
    if (deps.needsEnvironment(deps.env)) {
        deps.log(`catalyst ${command}: preparing the toolchain (tools/env.sh); a first run builds it, waiting at most ${seconds} s`);
        try {
            deps.loadEnvironment(REPO_ROOT, deps.env, { timeoutMs: seconds * 1000 });
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ETIMEDOUT") {
                throw new Error(`the toolchain was not ready after ${seconds} s (tools/env.sh); run \`npm run bootstrap\` first, or raise CATALYST_TOOLCHAIN_TIMEOUT_SECONDS`);
            }
            throw err;
        }
    }
    return deps.createLibrary(REPO_ROOT);
}

async function defaultLoader(): Promise<LibraryLoader> {
    const { loadEnvironment, needsEnvironment } = await import("../automation/environment");
    const { Automation } = await import("../automation");
    return { env: process.env, log: (line) => void process.stderr.write(`${line}\n`), needsEnvironment, loadEnvironment, createLibrary: (repoRoot) => new Automation({ repoRoot }) };
}

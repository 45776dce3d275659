import { loadLibrary } from "../../../stacks/api/index";

/*
 * Issue 12, defect 3.5 (second bullet): loading the toolchain environment at start may build the
 * toolchain. `catalyst serve` says so before it waits, and the wait is bounded.
 */

describe("toolchain at start (issue 12, 3.5)", () => {
    it("says what it waits for, and bounds the wait (CATALYST_TOOLCHAIN_TIMEOUT_SECONDS)", async () => {
        const lines: string[] = [];
        const asked: { timeoutMs?: number }[] = [];
        const library = await loadLibrary("serve", {
            env: { CATALYST_TOOLCHAIN_TIMEOUT_SECONDS: "90" },
            log: (line) => lines.push(line),
            needsEnvironment: () => true,
            loadEnvironment: (_root, _env, options) => void asked.push(options ?? {}),
            createLibrary: () => ({}) as never,
        });
        expect(library).toBeDefined();
        expect(lines[0]).toMatch(/^catalyst serve: preparing the toolchain \(tools\/env\.sh\); a first run builds it, waiting at most 90 s$/);
        expect(asked).toEqual([{ timeoutMs: 90_000 }]);
    });

    it("fails with one line naming the variable when the wait runs out", async () => {
        const timedOut = Object.assign(new Error("spawnSync bash ETIMEDOUT"), { code: "ETIMEDOUT" });
        await expect(loadLibrary("mcp", {
            env: {},
            log: () => undefined,
            needsEnvironment: () => true,
            loadEnvironment: () => {
                throw timedOut;
            },
            createLibrary: () => ({}) as never,
        })).rejects.toThrow("the toolchain was not ready after 1800 s (tools/env.sh); run `npm run bootstrap` first, or raise CATALYST_TOOLCHAIN_TIMEOUT_SECONDS");
    });

    it("refuses a timeout that is not a positive whole number of seconds, naming the key", async () => {
        await expect(loadLibrary("serve", { env: { CATALYST_TOOLCHAIN_TIMEOUT_SECONDS: "soon" }, log: () => undefined, needsEnvironment: () => true, loadEnvironment: () => undefined, createLibrary: () => ({}) as never }))
            .rejects.toThrow('CATALYST_TOOLCHAIN_TIMEOUT_SECONDS: must be a positive whole number of seconds, got "soon"');
    });
});

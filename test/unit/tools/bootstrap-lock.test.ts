import { spawn, spawnSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

const bootstrap = path.resolve(__dirname, "..", "..", "..", "tools", "bootstrap.sh");

/** Resolves with everything `child` wrote to stderr once `pattern` shows up in it. */
function stderrUntil(child: ReturnType<typeof spawn>, pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
        let text = "";
        child.stderr?.on("data", (chunk: Buffer) => {
            text += chunk.toString();
            if (pattern.test(text)) resolve(text);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code} before ${pattern}: ${text}`)));
    });
}

describe("tools/bootstrap.sh", () => {
    it("waits for a bootstrap already running on the same cache instead of building beside it", async () => {
        const cache = mkdtempSync(path.join(tmpdir(), "catalyst-bootstrap-"));
        // Stands in for a first bootstrap in the middle of a build: it holds the cache's lock.
        const holder = spawn("flock", [path.join(cache, ".bootstrap.lock"), "sleep", "60"], { stdio: "ignore" });
        try {
            spawnSync("sh", ["-c", `until [ -e '${cache}/.bootstrap.lock' ]; do sleep 0.05; done`]);
            const second = spawn("bash", [bootstrap], { env: { ...process.env, CATALYST_CACHE_DIR: cache, CATALYST_BOOTSTRAP_LOCKED: "" }, detached: true });
            try {
                const said = await stderrUntil(second, /waiting for another bootstrap/);
                expect(said).toContain(`waiting for another bootstrap of ${cache} to finish`);
                // It builds nothing while the other one holds the lock.
                expect(said).not.toMatch(/building/);
            } finally {
                process.kill(-second.pid!, "SIGKILL");
            }
        } finally {
            holder.kill("SIGKILL");
            rmSync(cache, { recursive: true, force: true });
        }
    });
});

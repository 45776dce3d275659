import { ChildProcess, spawn } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

/*
 * The agent image's main process (images/agent/agent-server.mjs), run here as a plain Node
 * process on a loopback port, with a stand-in `claude` on PATH: the pod is Ready only once Claude
 * Code answers and its managed configuration is mounted.
 */
const script = path.resolve(__dirname, "..", "..", "..", "images", "agent", "agent-server.mjs");

describe("the agent image's health server", () => {
    let dir: string;
    let child: ChildProcess | undefined;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-agent-"));
        mkdirSync(path.join(dir, "bin"));
        mkdirSync(path.join(dir, "claude-code"));
    });
    afterEach(() => {
        child?.kill();
        rmSync(dir, { recursive: true, force: true });
    });

    /** Starts the server on a free loopback port and resolves with its base URL. */
    const start = (claude: string | undefined) => new Promise<string>((resolve, reject) => {
        if (claude !== undefined) {
            writeFileSync(path.join(dir, "bin", "claude"), `#!/bin/sh\n${claude}\n`);
            chmodSync(path.join(dir, "bin", "claude"), 0o755);
        }
        child = spawn(process.execPath, [script], {
            env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, PORT: "0", HOST: "127.0.0.1", CATALYST_HEALTH_PATH: "/healthz", CATALYST_CLAUDE_CONFIG_DIR: path.join(dir, "claude-code") },
            stdio: ["ignore", "pipe", "inherit"],
        });
        child.stdout?.on("data", (chunk: Buffer) => {
            const match = /health on :([0-9]+)/.exec(chunk.toString());
            if (match) resolve(`http://127.0.0.1:${match[1]}`);
        });
        child.on("exit", (code) => reject(new Error(`agent server exited with ${code}`)));
    });

    it("answers 503 naming what is missing, then 200 with Claude Code's version", async () => {
        const base = await start("echo '2.1.332 (Claude Code)'");
        const first = await fetch(`${base}/healthz`);
        expect(first.status).toBe(503);
        expect(await first.json()).toEqual({
            ok: false,
            claude: "2.1.332 (Claude Code)",
            missing: [path.join(dir, "claude-code", "managed-mcp.json"), path.join(dir, "claude-code", "managed-settings.json")],
        });
        writeFileSync(path.join(dir, "claude-code", "managed-mcp.json"), "{}");
        writeFileSync(path.join(dir, "claude-code", "managed-settings.json"), "{}");
        const second = await fetch(`${base}/healthz`);
        expect([second.status, await second.json()]).toEqual([200, { ok: true, claude: "2.1.332 (Claude Code)", missing: [] }]);
        expect((await fetch(`${base}/other`)).status).toBe(404);
    });

    it("is not ready while claude does not run", async () => {
        writeFileSync(path.join(dir, "claude-code", "managed-mcp.json"), "{}");
        writeFileSync(path.join(dir, "claude-code", "managed-settings.json"), "{}");
        const base = await start("exit 1");
        const response = await fetch(`${base}/healthz`);
        expect([response.status, ((await response.json()) as { claude: unknown }).claude]).toEqual([503, null]);
    });
});

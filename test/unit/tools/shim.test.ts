import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..", "..");
const shim = path.join(root, "bin", "catalyst.js");

describe("bin/catalyst.js (defect 3.8)", () => {
    it("loads the CLI through the one TypeScript loader, from any directory", () => {
        const run = spawnSync(process.execPath, [shim, "--version"], { cwd: "/", encoding: "utf8" });
        expect(run.stderr).toBe("");
        expect(run.stdout).toBe(`catalyst ${(JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version}\n`);
        expect(run.status).toBe(0);
    });

    it("has no fallback to a dist/ build (which could not find Pulumi.yaml)", () => {
        expect(readFileSync(shim, "utf8")).not.toMatch(/dist/);
        expect((JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.build).toBeUndefined();
    });
});

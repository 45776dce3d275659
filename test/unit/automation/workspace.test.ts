import { mkdtempSync, readFileSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import { prepareWorkDir } from "../../../stacks/automation/workspace";

/*
 * Work dirs' Pulumi.yaml goes through the Automation API's project settings (issue 12, section
 * 2): the repository's settings with `main` pointing back at the repository, written only when
 * they changed. No `pulumi` process runs: reading and writing project settings is the SDK's own.
 */

const noCli = { command: "pulumi-not-run", version: null } as unknown as PulumiCommand;

describe("work dirs", () => {
    it("writes the repository's project settings with main pointing at the repository, once", async () => {
        const repo = mkdtempSync(path.join(tmpdir(), "catalyst-ws-"));
        writeFileSync(path.join(repo, "Pulumi.yaml"), "name: catalyst\n# a comment\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: elsewhere\n");
        const dir = await prepareWorkDir(repo, path.join(repo, ".catalyst", "work"), "pr-1", noCli);
        expect(dir).toBe(path.join(repo, ".catalyst", "work", "pr-1"));
        const written = readFileSync(path.join(dir, "Pulumi.yaml"), "utf8");
        expect(written).toMatch(/^name: catalyst$/m);
        expect(written).toMatch(/^main: \.\.\/\.\.\/\.\.$/m);
        expect(written).toMatch(/typescript: false/);
        const before = statSync(path.join(dir, "Pulumi.yaml")).mtimeMs;
        await prepareWorkDir(repo, path.join(repo, ".catalyst", "work"), "pr-1", noCli);
        expect(statSync(path.join(dir, "Pulumi.yaml")).mtimeMs).toBe(before);
    });

    it("refuses an unchecked stack name as a path", async () => {
        await expect(prepareWorkDir("/nonexistent", "/tmp/w", "../x", noCli)).rejects.toThrow('refusing a work dir for the unchecked stack name "../x"');
    });
});

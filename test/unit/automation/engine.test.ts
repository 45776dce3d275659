import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { applyConfig } from "../../../stacks/automation/engine";
import { WorkerRequest } from "../../../stacks/automation/protocol";

/** A stack file with a salt and a secret: what a broken read must never overwrite. */
const STACK_FILE = "encryptionsalt: v1:abc=\nconfig:\n  catalyst:token:\n    secure: v1:xyz\n";

describe("engine: writing a stack's config (defect 3.1)", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "catalyst-engine-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const run = () => ({ request: { stack: "pr-1", config: { "catalyst:pr": "1" }, repoRoot: dir } as unknown as WorkerRequest, emit: () => undefined, signal: new AbortController().signal, recovered: false });

    it("refuses to rewrite a stack file it cannot read, instead of saving it without its salt and secrets", async () => {
        writeFileSync(path.join(dir, "Pulumi.pr-1.yaml"), STACK_FILE);
        const save = jest.fn();
        const workspace = {
            workDir: dir,
            stackSettings: () => Promise.reject(new Error("yaml: line 3: mapping values are not allowed in this context")),
            saveStackSettings: save,
        };
        await expect(applyConfig(run(), workspace as never)).rejects.toThrow(
            `cannot read ${path.join(dir, "Pulumi.pr-1.yaml")}: yaml: line 3: mapping values are not allowed in this context; the file is left as it is`,
        );
        expect(save).not.toHaveBeenCalled();
    });

    it("starts from empty settings only when the stack file does not exist", async () => {
        const save = jest.fn(() => Promise.resolve());
        const workspace = { workDir: dir, stackSettings: () => Promise.reject(new Error("no stack file")), saveStackSettings: save };
        await applyConfig(run(), workspace as never);
        expect(save).toHaveBeenCalledWith("pr-1", { config: { "catalyst:pr": "1" } });
    });
});

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Automation } from "../../../stacks/automation/operations";
import { InputError } from "../../../stacks/automation/validation";

/*
 * The automation layer reads the workspace's devcontainer.json before an operation starts: a bad
 * one is bad input (InputError: exit 2 in the CLI, 400 in the HTTP API) and nothing is created.
 */
const workerPath = path.join(__dirname, "fixtures", "fake-worker.js");

describe("the workspace's devcontainer, checked before an up", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-devcontainer-"));
        process.env.FAKE_LOG = path.join(dir, "worker.jsonl");
        mkdirSync(path.join(dir, "repo", ".devcontainer"), { recursive: true });
        writeFileSync(path.join(dir, "repo", ".devcontainer", "devcontainer.json"), '{ "image": "node:24.11.0-bookworm-slim", "capAdd": ["SYS_ADMIN"] }');
        writeFileSync(path.join(dir, "Pulumi.dev-bob.yaml"), "config:\n  catalyst:workspace:\n    enabled: true\n    description: bob's\n    devcontainer: repo\n");
    });
    afterEach(() => {
        delete process.env.FAKE_LOG;
        rmSync(dir, { recursive: true, force: true });
    });

    const make = () => new Automation({ repoRoot: dir, workRoot: path.join(dir, "work"), auditLog: path.join(dir, "audit.log"), workerPath, actor: "t", platformStack: "platform" });
    const message = () => `${path.join(dir, "repo", ".devcontainer", "devcontainer.json")}: capAdd[0]: "SYS_ADMIN": adds Linux capabilities; workspace containers drop all of them (Pod Security restricted)`;

    it("refuses the stack file's devcontainer with the field named, creating no work dir and no audit line", () => {
        let error: unknown;
        try {
            make().up("dev-bob");
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).field).toBe("catalyst:workspace.devcontainer");
        expect((error as Error).message).toBe(`catalyst:workspace.devcontainer: ${message()}`);
        expect(existsSync(path.join(dir, "work"))).toBe(false);
        expect(existsSync(path.join(dir, "audit.log"))).toBe(false);
    });

    it("checks a preview's per-request workspace too, and lets a good devcontainer through", async () => {
        const workspace = { enabled: true, description: "x", devcontainer: "repo" };
        expect(() => make().upPreview({ pr: 5, branch: "main", config: { "catalyst:workspace": workspace } })).toThrow(`catalyst:workspace.devcontainer: ${message()}`);
        writeFileSync(path.join(dir, "repo", ".devcontainer", "devcontainer.json"), '// fine\n{ "image": "node:24.11.0-bookworm-slim", }');
        const result = await make().upPreview({ pr: 5, branch: "main", config: { "catalyst:workspace": workspace } });
        expect(result.status).toBe("succeeded");
        // A request that switches the stack file's workspace off is not held to its devcontainer.
        writeFileSync(path.join(dir, "repo", ".devcontainer", "devcontainer.json"), "{ bad");
        expect(() => make().up("dev-bob", { config: { "catalyst:workspace": { enabled: false } } })).not.toThrow();
    });
});

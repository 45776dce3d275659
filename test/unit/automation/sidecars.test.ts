import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { homedir, tmpdir } from "os";
import * as path from "path";
import { fileBackendRoot, removeEmptySidecars } from "../../../stacks/automation/sidecars";

describe("fileBackendRoot", () => {
    it.each([
        ["file:///var/state", "/var/state"],
        ["file:///var/state?no_tmp_dir=true", "/var/state"],
        ["file://~", homedir()],
        ["file://~/state", path.join(homedir(), "state")],
        ["file:///with%20space", "/with space"],
    ])("%s is %s", (url, root) => {
        expect(fileBackendRoot(url)).toBe(root);
    });

    it.each([[undefined], ["https://api.pulumi.com"], ["s3://bucket"], ["file://"]])("%s is no file backend", (url) => {
        expect(fileBackendRoot(url)).toBeUndefined();
    });
});

describe("removeEmptySidecars", () => {
    let root: string;

    function file(relative: string, content: string): string {
        const full = path.join(root, relative);
        mkdirSync(path.dirname(full), { recursive: true });
        writeFileSync(full, content);
        return full;
    }

    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "sidecars-"));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("removes the empty sidecars of the project's stacks and of the stack's locks and history, nothing else", () => {
        const attrs = '{"user.content_type":"application/octet-stream"}\n';
        file(".pulumi/stacks/catalyst/pr-1.json", "{}");
        const emptyCheckpoint = file(".pulumi/stacks/catalyst/pr-1.json.attrs", "");
        const goodBackup = file(".pulumi/stacks/catalyst/pr-1.json.bak.attrs", attrs);
        const emptyOtherStack = file(".pulumi/stacks/catalyst/pr-2.pulumi-tags.attrs", "");
        const emptyLock = file(".pulumi/locks/catalyst/pr-1/abc.json.attrs", "");
        const emptyHistory = file(".pulumi/history/catalyst/pr-1/pr-1-1.history.json.attrs", "");
        const otherLock = file(".pulumi/locks/catalyst/pr-2/def.json.attrs", "");
        const emptyData = file(".pulumi/stacks/catalyst/pr-3.json", "");

        expect(removeEmptySidecars(root, "catalyst", "pr-1").sort()).toEqual([
            ".pulumi/history/catalyst/pr-1/pr-1-1.history.json.attrs",
            ".pulumi/locks/catalyst/pr-1/abc.json.attrs",
            ".pulumi/stacks/catalyst/pr-1.json.attrs",
            ".pulumi/stacks/catalyst/pr-2.pulumi-tags.attrs",
        ]);
        for (const gone of [emptyCheckpoint, emptyOtherStack, emptyLock, emptyHistory]) expect(existsSync(gone)).toBe(false);
        // A sidecar with content, another stack's lock and an empty object itself stay.
        for (const kept of [goodBackup, otherLock, emptyData]) expect(existsSync(kept)).toBe(true);
    });

    it("only looks at the stacks folder without a stack, and does nothing without a file backend", () => {
        const lock = file(".pulumi/locks/catalyst/pr-1/abc.json.attrs", "");
        const legacy = file(".pulumi/stacks/pr-9.json.attrs", "");
        expect(removeEmptySidecars(root, "catalyst", undefined)).toEqual([".pulumi/stacks/pr-9.json.attrs"]);
        expect(existsSync(lock)).toBe(true);
        expect(existsSync(legacy)).toBe(false);
        expect(removeEmptySidecars(undefined, "catalyst", "pr-1")).toEqual([]);
        expect(removeEmptySidecars(path.join(root, "missing"), "catalyst", "pr-1")).toEqual([]);
    });
});

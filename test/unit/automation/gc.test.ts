import { findOrphanNamespaces, GcDependencies, NamespaceInfo, runGarbageCollection, selectGarbage } from "../../../stacks/automation/gc";
import { EnvironmentRecord, OperationResult } from "../../../stacks/automation/types";

const now = new Date("2026-11-20T12:00:00Z");
const hours = (n: number) => new Date(now.getTime() - n * 3_600_000).toISOString();
const inHours = (n: number) => new Date(now.getTime() + n * 3_600_000).toISOString();

function preview(pr: number, fields: Partial<EnvironmentRecord> = {}): EnvironmentRecord {
    return { stack: `pr-${pr}`, kind: "preview", pr, ...fields };
}

const stacks: EnvironmentRecord[] = [
    preview(1, { createdAt: hours(100), updatedAt: hours(1), expiresAt: inHours(71) }),
    preview(2, { createdAt: hours(80), updatedAt: hours(80), expiresAt: hours(8) }),
    preview(3, { createdAt: hours(10), updatedAt: hours(10), expiresAt: inHours(62) }),
    preview(4, { lastUpdate: hours(30) }),
    { stack: "production", kind: "production", updatedAt: hours(1000) },
    { stack: "staging", kind: "staging" },
    { stack: "dev", kind: "platform" },
];

describe("gc selection (pure)", () => {
    it("selects previews whose own expiresAt passed, and nothing else without ttl or open PRs", () => {
        expect(selectGarbage({ stacks, now })).toEqual([{ stack: "pr-2", pr: 2, reason: "expired", detail: `expired at ${hours(8)}` }]);
    });

    it("with a ttl, also selects previews idle at least that long (last update, else creation, else backend time)", () => {
        const picked = selectGarbage({ stacks, now, ttlMs: 24 * 3_600_000 });
        expect(picked.map((c) => [c.stack, c.reason])).toEqual([["pr-2", "expired"], ["pr-4", "ttl"]]);
    });

    it("with ttl 0, selects every preview and never production, staging or the platform: expired first, then the longest idle", () => {
        const picked = selectGarbage({ stacks, now, ttlMs: 0 });
        expect(picked.map((c) => c.stack)).toEqual(["pr-2", "pr-4", "pr-3", "pr-1"]);
    });

    it("puts the oldest expired first (the order the destroys are queued in), whatever the pull request numbers", () => {
        const expired = [preview(7, { expiresAt: hours(2) }), preview(5, { expiresAt: hours(50) }), preview(6, { expiresAt: hours(9) })];
        expect(selectGarbage({ stacks: expired, now }).map((c) => c.stack)).toEqual(["pr-5", "pr-6", "pr-7"]);
    });

    it("selects previews of pull requests that are not open, first, when the open list is known", () => {
        const picked = selectGarbage({ stacks, now, openPullRequests: [1, 2] });
        expect(picked.map((c) => [c.stack, c.reason])).toEqual([["pr-3", "closed"], ["pr-4", "closed"], ["pr-2", "expired"]]);
    });

    it("never selects another Project's previews (their PRs are of another repository; the controller expires them)", () => {
        const web = { stack: "pr-3--web", kind: "preview" as const, pr: 3, project: "web", expiresAt: hours(1) };
        expect(selectGarbage({ stacks: [...stacks, web], now, ttlMs: 0, openPullRequests: [] }).map((c) => c.stack)).toEqual(["pr-1", "pr-2", "pr-3", "pr-4"]);
    });

    it("counts a preview of unknown age as idle only when a ttl is given", () => {
        const unknown = [preview(9)];
        expect(selectGarbage({ stacks: unknown, now })).toEqual([]);
        expect(selectGarbage({ stacks: unknown, now, ttlMs: 3_600_000 })[0]).toMatchObject({ stack: "pr-9", reason: "ttl" });
    });

    it("finds preview namespaces no stack owns, by label or by name", () => {
        const namespaces: NamespaceInfo[] = [
            { name: "env-pr-1", labels: { "catalyst.dev/environment": "pr-1" } },
            { name: "env-pr-7", labels: { "catalyst.dev/environment": "pr-7" } },
            { name: "env-pr-8", labels: {} },
        ];
        expect(findOrphanNamespaces(namespaces, ["pr-1", "pr-2"]).map((n) => n.name)).toEqual(["env-pr-7", "env-pr-8"]);
    });
});

describe("gc run", () => {
    function fakes(records: EnvironmentRecord[]) {
        const destroyed: string[] = [];
        const deleted: string[] = [];
        const deps: GcDependencies = {
            listPreviews: async () => records.filter((r) => r.kind === "preview" && !destroyed.includes(r.stack)),
            destroyPreview: async (c) => {
                destroyed.push(c.stack);
                return { action: "destroy", stack: c.stack, kind: "preview", status: "succeeded", durations: { totalMs: 1, waitMs: 0, runMs: 1 } } as OperationResult;
            },
            listPreviewNamespaces: async () => [
                { name: "env-pr-3", labels: { "catalyst.dev/environment": "pr-3" } },
                { name: "env-pr-50", labels: { "catalyst.dev/environment": "pr-50" } },
                { name: "env-pr-51", labels: { "catalyst.dev/environment": "pr-51" }, terminating: true },
            ],
            deleteNamespace: async (name) => void deleted.push(name),
        };
        return { deps, destroyed, deleted };
    }

    it("changes nothing when the lookup of open pull requests fails", async () => {
        const { deps, destroyed, deleted } = fakes(stacks);
        const report = await runGarbageCollection(deps, { now, ttlMs: 0, deleteOrphanNamespaces: true, openPullRequests: async () => {
            throw new Error("GitHub API answered 502 Bad Gateway");
        } });
        expect(report.status).toBe("failed");
        expect(report.errors).toEqual(["looking up open pull requests failed, nothing was changed: GitHub API answered 502 Bad Gateway"]);
        expect(destroyed).toEqual([]);
        expect(deleted).toEqual([]);
    });

    it("destroys the candidates, reports orphan namespaces and deletes them only when asked", async () => {
        const run1 = fakes(stacks);
        const report = await runGarbageCollection(run1.deps, { now, openPullRequests: [1, 3, 4] });
        expect(run1.destroyed).toEqual(["pr-2"]);
        expect(report.orphanNamespaces).toEqual(["env-pr-50"]);
        expect(report.deletedNamespaces).toEqual([]);
        expect(run1.deleted).toEqual([]);

        const run2 = fakes(stacks);
        const second = await runGarbageCollection(run2.deps, { now, openPullRequests: [1, 3, 4], deleteOrphanNamespaces: true });
        expect(second.deletedNamespaces).toEqual(["env-pr-50"]);
        expect(run2.deleted).toEqual(["env-pr-50"]);
    });

    it("fails when deleting an orphan namespace fails (defect 3.4)", async () => {
        const report = await runGarbageCollection({
            listPreviews: async () => [],
            destroyPreview: async () => { throw new Error("nothing to destroy"); },
            listPreviewNamespaces: async () => [{ name: "env-pr-9", labels: { "catalyst.dev/environment": "pr-9" } }],
            deleteNamespace: async () => { throw new Error("namespaces \"env-pr-9\" is forbidden"); },
        }, { deleteOrphanNamespaces: true });
        expect(report.status).toBe("failed");
        expect(report.deletedNamespaces).toEqual([]);
        expect(report.errors).toEqual(['deleting namespace env-pr-9 failed: namespaces "env-pr-9" is forbidden']);
    });

    it("destroys nothing on a dry run", async () => {
        const { deps, destroyed, deleted } = fakes(stacks);
        const report = await runGarbageCollection(deps, { now, ttlMs: 0, dryRun: true, deleteOrphanNamespaces: true });
        expect(report.candidates).toHaveLength(4);
        expect(destroyed).toEqual([]);
        expect(deleted).toEqual([]);
    });
});

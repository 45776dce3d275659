import { CLUSTER_TAG } from "../../../stacks/automation/identity";
import { PACK_TAG_PREFIX, readTags, recordFromTags, storedTags, TAG_VALUE_LIMIT, TAGS } from "../../../stacks/automation/tags";

/** What a new preview's first up writes (operations.ts), with the cluster tag and the after-up tags. */
const preview: Record<string, string> = {
    [TAGS.kind]: "preview",
    [TAGS.pr]: "9100",
    [TAGS.branch]: "feat/some-branch-name",
    [TAGS.owner]: "alice",
    [TAGS.sha]: "0123456789abcdef0123456789abcdef01234567",
    [TAGS.image]: "nginxinc/nginx-unprivileged:1.27.5-alpine",
    [TAGS.createdAt]: "2026-12-02T20:00:00.000Z",
    [TAGS.updatedAt]: "2026-12-02T20:00:00.000Z",
    [TAGS.expiresAt]: "2026-12-09T20:00:00.000Z",
    [CLUSTER_TAG]: "6b1f4c9e-2d3a-4b5c-8d7e-9f0a1b2c3d4e",
    [TAGS.namespace]: "env-pr-9100",
    [TAGS.url]: "https://pr-9100.preview.catalyst.localhost",
};

describe("stack tags: packed several to a tag (issue #18)", () => {
    it("stores a preview's twelve tags in a few packs, each within the backend's value limit, and reads them back", () => {
        const stored = storedTags(preview);
        expect(Object.keys(stored).length).toBeLessThanOrEqual(3);
        for (const [name, value] of Object.entries(stored)) {
            expect(name.startsWith(PACK_TAG_PREFIX)).toBe(true);
            expect(Buffer.byteLength(value)).toBeLessThanOrEqual(TAG_VALUE_LIMIT);
        }
        expect(readTags(stored)).toEqual(preview);
    });

    it("puts the tags every up changes in the first pack, so a no-op up rewrites one tag", () => {
        const before = storedTags(preview);
        const after = storedTags({ ...preview, [TAGS.updatedAt]: "2026-12-03T08:00:00.000Z", [TAGS.expiresAt]: "2026-12-10T08:00:00.000Z" }, before);
        const changed = Object.keys(after).filter((name) => after[name] !== before[name]);
        expect(changed).toEqual([`${PACK_TAG_PREFIX}0`]);
    });

    it("reads the one-tag-per-name tags of stacks written before", () => {
        expect(readTags(preview)).toEqual(preview);
        const record = recordFromTags("pr-9100", readTags(preview));
        expect(record).toMatchObject({ pr: 9100, branch: "feat/some-branch-name", owner: "alice", namespace: "env-pr-9100", expiresAt: "2026-12-09T20:00:00.000Z" });
    });

    it("lets a pack win over the old tag of the same name, which the layer no longer writes", () => {
        const old = { ...preview, [TAGS.updatedAt]: "2026-11-01T00:00:00.000Z" };
        const stored = { ...old, ...storedTags({ ...preview }, old) };
        expect(readTags(stored)[TAGS.updatedAt]).toBe(preview[TAGS.updatedAt]);
    });

    it("stores a tag too long for any pack on its own, and empties a pack no longer needed", () => {
        const long = "x".repeat(TAG_VALUE_LIMIT);
        const many = storedTags({ ...preview, [TAGS.branch]: long, [TAGS.url]: `https://${"y".repeat(200)}` });
        expect(many[TAGS.branch]).toBe(long);
        const packs = Object.keys(many).filter((name) => name.startsWith(PACK_TAG_PREFIX));
        const fewer = storedTags({ [TAGS.kind]: "preview" }, many);
        expect(Object.keys(fewer).sort()).toEqual(packs.sort());
        expect(fewer[`${PACK_TAG_PREFIX}1`]).toBe("{}");
        // A value stored alone before and packed now: the pack is read, not the stale tag.
        expect(readTags({ ...many, ...storedTags({ ...preview }, many) })).toEqual(preview);
    });

    it("keeps names outside the catalyst: prefix and ignores a pack that is not a JSON object", () => {
        const tags = { "team:name": "web", [TAGS.kind]: "dev" };
        expect(readTags(storedTags(tags))).toEqual(tags);
        expect(readTags({ [`${PACK_TAG_PREFIX}0`]: "not json", [TAGS.kind]: "dev" })).toEqual({ [TAGS.kind]: "dev" });
    });
});

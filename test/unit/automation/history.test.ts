import { DEFAULT_OPERATIONS_LIMIT, operationsOf, parseOperationsLimit } from "../../../stacks/automation/history";
import { providerUrn, resourcesOf } from "../../../stacks/automation/state-resources";

/** Two entries as `pulumi stack history --json` (3.259, DIY backend) prints them, newest first. */
const HISTORY = [
    {
        version: 0, kind: "update", startTime: "2026-12-07T06:10:00.000Z", endTime: "2026-12-07T06:10:27.000Z", result: "succeeded",
        message: "Add the dashboard's history",
        environment: {
            "exec.kind": "auto.local", "git.head": "23b4a363f2703b59081af62a0c64fbf5b78ca37f", "git.headName": "refs/heads/main", "git.author": "Alice",
            "git.author.email": "alice@example.com", "git.dirty": "false", "pulumi.env.PULUMI_CONFIG_PASSPHRASE": "set", "pulumi.flag.yes": "true", "ci.system": "GitHub", "vcs.repo": "web",
        },
        config: { "catalyst:token": { value: "ciphertext", secret: true }, "catalyst:domain": { value: "example.com", secret: false } },
        resourceChanges: { create: 25, same: 2 },
    },
    { version: 0, kind: "destroy", startTime: 1796623833, result: "in-progress", environment: {}, resourceChanges: { delete: 3 } },
];

describe("operations from the engine's history", () => {
    it("keeps kind, result, times, duration, changes, message and what started it; drops config and the engine's flags", () => {
        const [update, destroy] = operationsOf(HISTORY, 10);
        expect(update).toEqual({
            kind: "update", result: "succeeded", startTime: "2026-12-07T06:10:00.000Z", endTime: "2026-12-07T06:10:27.000Z", durationMs: 27_000,
            changes: { create: 25, same: 2 }, message: "Add the dashboard's history", version: 0,
            startedBy: { "exec.kind": "auto.local", "git.head": "23b4a363f2703b59081af62a0c64fbf5b78ca37f", "git.headName": "refs/heads/main", "git.author": "Alice", "git.dirty": "false", "ci.system": "GitHub", "vcs.repo": "web" },
        });
        expect(JSON.stringify(update)).not.toContain("ciphertext");
        expect(JSON.stringify(update)).not.toContain("alice@example.com");
        // Still running: no end, no duration; epoch seconds read as the stored form.
        expect(destroy).toEqual({ kind: "destroy", result: "in-progress", startTime: "2026-12-07T06:10:33.000Z", changes: { delete: 3 }, startedBy: {}, version: 0 });
    });

    it("takes at most the limit, and nothing from what is not a history", () => {
        expect(operationsOf(HISTORY, 1)).toHaveLength(1);
        expect(operationsOf(null)).toEqual([]);
        expect(operationsOf([null, "x"])).toEqual([]);
        expect(DEFAULT_OPERATIONS_LIMIT).toBe(10);
    });

    it("checks a limit, naming the field", () => {
        expect(parseOperationsLimit("5")).toBe(5);
        expect(parseOperationsLimit(100)).toBe(100);
        expect(() => parseOperationsLimit(0)).toThrow("limit: must be a whole number from 1 to 100, got 0");
        expect(() => parseOperationsLimit("101", "--limit")).toThrow('--limit: must be a whole number from 1 to 100, got "101"');
        expect(() => parseOperationsLimit("1.5")).toThrow('limit: must be a whole number from 1 to 100, got "1.5"');
        expect(() => parseOperationsLimit("abc")).toThrow('limit: must be a whole number from 1 to 100, got "abc"');
    });
});

describe("resources from the stack's state", () => {
    const stackUrn = "urn:pulumi:pr-1::catalyst::pulumi:pulumi:Stack::catalyst-pr-1";
    const providerRef = "urn:pulumi:pr-1::catalyst::pulumi:providers:kubernetes::default_4_25_0::04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const state = {
        resources: [
            { urn: stackUrn, type: "pulumi:pulumi:Stack", custom: false, outputs: { url: "https://pr-1.example.com" } },
            { urn: providerRef.slice(0, providerRef.lastIndexOf("::")), type: "pulumi:providers:kubernetes", custom: true, id: "04da6b54", inputs: { kubeconfig: "secret-kubeconfig" } },
            {
                urn: "urn:pulumi:pr-1::catalyst::catalyst:environment:App$kubernetes:core/v1:Secret::app-db", type: "kubernetes:core/v1:Secret", custom: true, parent: "urn:pulumi:pr-1::catalyst::catalyst:environment:App::app",
                provider: providerRef, inputs: { stringData: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" } }, outputs: { data: "cGFzc3dvcmQ=" },
            },
            { urn: "urn:pulumi:pr-1::catalyst::kubernetes:core/v1:ConfigMap::old", type: "kubernetes:core/v1:ConfigMap", custom: true, delete: true },
            { type: "no-urn" },
        ],
    };

    it("names and links each resource, never its inputs or outputs; replaced halves are not held", () => {
        const resources = resourcesOf(state);
        expect(resources).toEqual([
            { type: "pulumi:pulumi:Stack", name: "catalyst-pr-1", urn: stackUrn, custom: false },
            { type: "pulumi:providers:kubernetes", name: "default_4_25_0", urn: providerRef.slice(0, providerRef.lastIndexOf("::")), custom: true },
            {
                type: "kubernetes:core/v1:Secret", name: "app-db", urn: "urn:pulumi:pr-1::catalyst::catalyst:environment:App$kubernetes:core/v1:Secret::app-db", custom: true,
                parent: "urn:pulumi:pr-1::catalyst::catalyst:environment:App::app", provider: "urn:pulumi:pr-1::catalyst::pulumi:providers:kubernetes::default_4_25_0",
            },
        ]);
        const text = JSON.stringify(resources);
        for (const leak of ["secret-kubeconfig", "v1:abc", "cGFzc3dvcmQ=", "https://pr-1.example.com"]) expect(text).not.toContain(leak);
    });

    it("reads a provider reference's URN, and nothing from what is not a state", () => {
        expect(providerUrn(providerRef)).toBe("urn:pulumi:pr-1::catalyst::pulumi:providers:kubernetes::default_4_25_0");
        expect(providerUrn("urn:pulumi:pr-1::catalyst::pulumi:providers:kubernetes::default")).toBe("urn:pulumi:pr-1::catalyst::pulumi:providers:kubernetes::default");
        expect(resourcesOf(undefined)).toEqual([]);
        expect(resourcesOf({ resources: "x" })).toEqual([]);
    });
});

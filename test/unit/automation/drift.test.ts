import type { EngineEvent } from "@pulumi/pulumi/automation";
import { DriftCollector, driftSummary } from "../../../stacks/automation/drift";

const urn = (type: string, name: string) => `urn:pulumi:pr-7::catalyst::${type}::${name}`;

function step(kind: "resourcePreEvent" | "resOutputsEvent", op: string, type: string, name: string, extra: Record<string, unknown> = {}): EngineEvent {
    return { sequence: 1, timestamp: 1, [kind]: { metadata: { op, urn: urn(type, name), type, provider: "", ...extra }, planning: true } } as unknown as EngineEvent;
}

describe("DriftCollector", () => {
    it("keeps the resources a refresh would change, with their properties; the stack and providers never count", () => {
        const drift = new DriftCollector();
        const events = [
            step("resourcePreEvent", "same", "pulumi:pulumi:Stack", "catalyst-pr-7"),
            step("resourcePreEvent", "update", "pulumi:providers:kubernetes", "k8s"),
            step("resourcePreEvent", "refresh", "kubernetes:apps/v1:Deployment", "app"),
            step("resOutputsEvent", "update", "kubernetes:apps/v1:Deployment", "app", { detailedDiff: { "spec.replicas": { kind: "update" } }, diffs: ["spec"] }),
            step("resOutputsEvent", "same", "kubernetes:core/v1:Service", "app"),
            step("resOutputsEvent", "delete", "kubernetes:core/v1:ConfigMap", "settings"),
            step("resOutputsEvent", "refresh", "kubernetes:core/v1:Secret", "unchanged"),
            step("resOutputsEvent", "refresh", "kubernetes:networking.k8s.io/v1:Ingress", "web", { diffs: ["metadata"] }),
            { sequence: 2, timestamp: 2, summaryEvent: { resourceChanges: { same: 3, update: 2, delete: 1 } } } as unknown as EngineEvent,
        ];
        events.forEach((e) => drift.handle(e));
        expect(drift.resources).toEqual([
            { urn: urn("kubernetes:apps/v1:Deployment", "app"), type: "kubernetes:apps/v1:Deployment", name: "app", op: "update", properties: ["spec.replicas"] },
            { urn: urn("kubernetes:core/v1:ConfigMap", "settings"), type: "kubernetes:core/v1:ConfigMap", name: "settings", op: "delete" },
            { urn: urn("kubernetes:networking.k8s.io/v1:Ingress", "web"), type: "kubernetes:networking.k8s.io/v1:Ingress", name: "web", op: "update", properties: ["metadata"] },
        ]);
        expect(drift.checked).toBe(5);
    });

    it("a later 'same' for a resource clears what an earlier event said", () => {
        const drift = new DriftCollector();
        drift.handle(step("resourcePreEvent", "update", "kubernetes:apps/v1:Deployment", "app"));
        drift.handle(step("resOutputsEvent", "same", "kubernetes:apps/v1:Deployment", "app"));
        expect(drift.resources).toEqual([]);
    });
});

describe("driftSummary", () => {
    const resource = (i: number) => ({ urn: `u${i}`, type: "kubernetes:core/v1:ConfigMap", name: `c${i}`, op: "update", properties: ["data", "metadata", "immutable", "binaryData"] });
    it("names up to five resources and what changed, and counts the rest", () => {
        expect(driftSummary([])).toBe("no resource drifted");
        expect(driftSummary([{ urn: "u", type: "kubernetes:apps/v1:Deployment", name: "app", op: "delete" }])).toBe("1 resource drifted: Deployment app (deleted)");
        expect(driftSummary(Array.from({ length: 7 }, (_, i) => resource(i)))).toBe(
            "7 resources drifted: ConfigMap c0 (update: data, metadata, immutable, ...), ConfigMap c1 (update: data, metadata, immutable, ...), " +
            "ConfigMap c2 (update: data, metadata, immutable, ...), ConfigMap c3 (update: data, metadata, immutable, ...), ConfigMap c4 (update: data, metadata, immutable, ...) and 2 more",
        );
    });
});

import * as pulumi from "@pulumi/pulumi";
import { CNPG_HIBERNATION_ANNOTATION, CUSTOM_ERRORS_ANNOTATION, SKIP_AWAIT_ANNOTATION, SLEEPING_SINCE_ANNOTATION, sleepingProps, sleepTransform } from "../../../components/environment/sleep";
import { OFF_NAMESPACE_ANNOTATIONS } from "../../../components/environment/hosts";
import { captureTransforms, installMocks, recorded, resetRecorded, runEnvironmentProgram, settle } from "./mocks";

/** Stack transforms the program registered (registerResourceTransform), captured under mocks. */
const stackTransforms: pulumi.ResourceTransform[] = [];

beforeAll(() => {
    installMocks();
    captureTransforms();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { callbacks: Record<string, unknown> } };
    state.getStore().callbacks.registerStackTransform = (transform: pulumi.ResourceTransform) => void stackTransforms.push(transform);
});

beforeEach(() => {
    resetRecorded();
    stackTransforms.length = 0;
});

const since = "2026-12-07T04:00:00.000Z";
const apply = (transform: pulumi.ResourceTransform, type: string, props: Record<string, unknown>) =>
    transform({ type, name: "x", custom: true, props, opts: {} }) as { props: Record<string, any> } | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("sleep of an environment (components/environment/sleep.ts)", () => {
    it("scales every Deployment and StatefulSet to zero, suspends CronJobs, hibernates a CNPG cluster and marks Ingresses; nothing else changes", () => {
        expect(sleepingProps("kubernetes:apps/v1:Deployment", { spec: { replicas: 3, template: {} } }, since)).toEqual({ spec: { replicas: 0, template: {} } });
        expect(sleepingProps("kubernetes:apps/v1:StatefulSet", { spec: {} }, since)).toEqual({ spec: { replicas: 0 } });
        expect(sleepingProps("kubernetes:batch/v1:CronJob", { spec: { schedule: "* * * * *" } }, since)).toEqual({ spec: { schedule: "* * * * *", suspend: true } });
        expect(sleepingProps("kubernetes:postgresql.cnpg.io/v1:Cluster", { metadata: { name: "db" } }, since)).toEqual({ metadata: { name: "db", annotations: { [CNPG_HIBERNATION_ANNOTATION]: "on" } } });
        expect(sleepingProps("kubernetes:networking.k8s.io/v1:Ingress", { metadata: { annotations: { keep: "me" } }, spec: { rules: [] } }, since)).toEqual({
            metadata: { annotations: { keep: "me", [CUSTOM_ERRORS_ANNOTATION]: "502,503", [SLEEPING_SINCE_ANNOTATION]: since, [SKIP_AWAIT_ANNOTATION]: "true" } },
            spec: { rules: [] },
        });
        for (const type of ["kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:Secret", "kubernetes:core/v1:Service", "kubernetes:batch/v1:Job", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"]) {
            expect([type, sleepingProps(type, { spec: { x: 1 } }, since)]).toEqual([type, undefined]);
        }
        // Components pass through; the annotation names no address, so admission's own-namespace rule still holds.
        expect(sleepTransform(since)({ type: "catalyst:environment:App", name: "a", custom: false, props: {}, opts: {} })).toBeUndefined();
        expect(OFF_NAMESPACE_ANNOTATIONS).not.toContain(CUSTOM_ERRORS_ANNOTATION);
    });

    it("registers one stack transform when catalyst:sleep is set, which zeroes every workload the program creates", async () => {
        await runEnvironmentProgram("pr-42", { pr: "42", branch: "feat/x", image: "ghcr.io/acme/web:1.0.0", sleep: since });
        await settle();
        expect(stackTransforms).toHaveLength(1);
        const workloads = recorded.filter((r) => /apps\/v1:(Deployment|StatefulSet)$/.test(r.type));
        expect(workloads.map((w) => w.inputs.metadata.name).sort()).toEqual(["app", "redis"]);
        for (const workload of workloads) {
            expect(apply(stackTransforms[0], workload.type, workload.inputs)?.props.spec.replicas).toBe(0);
        }
        const ingress = recorded.find((r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress");
        expect(apply(stackTransforms[0], ingress?.type ?? "", ingress?.inputs ?? {})?.props.metadata.annotations[SLEEPING_SINCE_ANNOTATION]).toBe(since);
    });

    it("registers nothing while awake (unset or empty), and refuses a value that is no time", async () => {
        await runEnvironmentProgram("pr-43", { pr: "43", branch: "feat/x", image: "ghcr.io/acme/web:1.0.0" });
        await runEnvironmentProgram("pr-44", { pr: "44", branch: "feat/x", image: "ghcr.io/acme/web:1.0.0", sleep: "" });
        await settle();
        expect(stackTransforms).toHaveLength(0);
        await expect(runEnvironmentProgram("pr-45", { pr: "45", branch: "feat/x", image: "ghcr.io/acme/web:1.0.0", sleep: "tonight" }))
            .rejects.toThrow("catalyst:sleep: must be an ISO time in UTC like 2026-01-31T20:00:00.000Z (since when it sleeps), or empty (awake)");
    });
});

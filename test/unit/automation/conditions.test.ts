import { environmentConditions, HEALTHY_STATUS, isHealthy, ENVIRONMENT_CONDITION_TYPES } from "../../../stacks/automation/conditions";
import { lastDeployOf } from "../../../stacks/automation/history";
import type { EnvironmentStatus, StackOperation } from "../../../stacks/automation/types";

const NOW = new Date("2026-12-07T12:00:00Z");
const preview: EnvironmentStatus = {
    stack: "pr-7", kind: "preview", pr: 7, namespace: "env-pr-7", outputs: {}, pendingOperations: 0, expiresAt: "2026-12-10T12:00:00.000Z",
    lastDeploy: { kind: "update", result: "succeeded", startTime: "2026-12-07T10:00:00.000Z", endTime: "2026-12-07T10:01:00.000Z", since: "2026-12-06T09:00:00.000Z" },
};
const pods = [{ name: "app-1", ready: true, phase: "Running" }, { name: "app-2", ready: true, phase: "Running" }];
const byType = (status: EnvironmentStatus, extra: Partial<Parameters<typeof environmentConditions>[0]> = {}) =>
    Object.fromEntries(environmentConditions({ status, pods, ...extra }, NOW).map((c) => [c.type, c]));

describe("environment conditions", () => {
    it("a fresh, healthy preview: deployed since its first success, every pod ready, nothing interrupted, awake, expiring later", () => {
        expect(environmentConditions({ status: preview, pods }, NOW)).toEqual([
            { type: "Deployed", status: "True", reason: "UpdateSucceeded", message: "the last update succeeded at 2026-12-07T10:01:00.000Z", lastTransitionTime: "2026-12-06T09:00:00.000Z" },
            { type: "PodsReady", status: "True", reason: "AllReady", message: "2 of 2 pods ready" },
            { type: "Interrupted", status: "False", reason: "NoPendingOperations", message: "no resource operation was left unfinished" },
            { type: "Sleeping", status: "False", reason: "Awake", message: "its workloads run" },
            { type: "Expired", status: "False", reason: "TTLRunning", message: "expires at 2026-12-10T12:00:00.000Z; an up with a new ttl moves it" },
        ]);
        expect(environmentConditions({ status: preview, pods }, NOW).every(isHealthy)).toBe(true);
    });

    it("says why it is not ready: a failed update, pods not ready, interrupted operations, asleep, expired", () => {
        const sick = byType({
            ...preview, pendingOperations: 2, sleepingSince: "2026-12-07T11:00:00.000Z", sleepReason: "idle", expiresAt: "2026-12-07T11:30:00Z",
            lastDeploy: { kind: "update", result: "failed", startTime: "2026-12-07T10:00:00.000Z", endTime: "2026-12-07T10:02:00.000Z", since: "2026-12-07T10:02:00.000Z" },
        }, { pods: [...pods, { name: "db-0", ready: false, phase: "Pending" }] });
        expect(sick.Deployed).toEqual({ type: "Deployed", status: "False", reason: "UpdateFailed", message: "the last update failed at 2026-12-07T10:02:00.000Z; the operation's messages say why, and an up tries again", lastTransitionTime: "2026-12-07T10:02:00.000Z" });
        expect(sick.PodsReady).toEqual({ type: "PodsReady", status: "False", reason: "PodsNotReady", message: "2 of 3 pods ready; not ready: db-0 (Pending)" });
        expect(sick.Interrupted).toEqual({ type: "Interrupted", status: "True", reason: "PendingOperations", message: "2 resource operations were interrupted (an update was killed); the next up or destroy of pr-7 repairs them first" });
        expect(sick.Sleeping).toEqual({
            type: "Sleeping", status: "True", reason: "Idle", lastTransitionTime: "2026-12-07T11:00:00.000Z",
            message: "asleep since 2026-12-07T11:00:00.000Z (idle): workloads scaled to zero, data and URL kept; catalyst preview wake --pr 7 starts them",
        });
        expect(sick.Expired).toEqual({ type: "Expired", status: "True", reason: "TTLPassed", message: "its time to live ended at 2026-12-07T11:30:00Z; garbage collection destroys it", lastTransitionTime: "2026-12-07T11:30:00.000Z" });
        expect(Object.values(sick).filter((c) => !isHealthy(c)).map((c) => c.type)).toEqual(["Deployed", "PodsReady", "Interrupted", "Sleeping", "Expired"]);
    });

    it("running, never deployed, no pods, pods unreadable; kinds without sleep or expiry leave those out", () => {
        expect(byType({ ...preview, updateInProgress: true }).Deployed).toMatchObject({ status: "Unknown", reason: "OperationInProgress" });
        expect(byType({ ...preview, lastDeploy: { kind: "update", result: "in-progress", startTime: "2026-12-07T11:59:00Z" } }).Deployed)
            .toEqual({ type: "Deployed", status: "Unknown", reason: "OperationInProgress", message: "an operation of the stack is running (the update started at 2026-12-07T11:59:00Z)" });
        expect(byType({ ...preview, lastDeploy: undefined }).Deployed).toEqual({ type: "Deployed", status: "False", reason: "NeverDeployed", message: "the stack's history holds no update" });
        expect(byType(preview, { pods: [] }).PodsReady).toEqual({ type: "PodsReady", status: "False", reason: "NoPods", message: "no pods in env-pr-7" });
        expect(byType(preview, { pods: undefined, clusterError: "connect ECONNREFUSED" }).PodsReady).toEqual({ type: "PodsReady", status: "Unknown", reason: "ClusterUnreachable", message: "connect ECONNREFUSED" });
        const production = byType({ stack: "production", kind: "production", outputs: {}, pendingOperations: 0 }, { pods: undefined });
        expect(Object.keys(production)).toEqual(["Deployed", "Interrupted"]);
    });

    it("resource mode: the Environment's conditions first, as the controller wrote them; an unreadable Environment is Ready Unknown", () => {
        const written = { type: "Ready" as const, status: "False" as const, reason: "UpFailed", message: "quota exceeded", lastTransitionTime: "2026-12-07T11:00:00Z", observedGeneration: 3 };
        const conditions = environmentConditions({ status: preview, pods, environment: { conditions: [written, { type: "Stalled", status: "False", reason: "Retrying", message: "", lastTransitionTime: "2026-12-07T11:00:00Z" }] } }, NOW);
        expect(conditions.slice(0, 2)).toEqual([written, { type: "Stalled", status: "False", reason: "Retrying", message: "", lastTransitionTime: "2026-12-07T11:00:00Z" }]);
        expect(conditions.map((c) => c.type)).toEqual(["Ready", "Stalled", ...ENVIRONMENT_CONDITION_TYPES]);
        expect(isHealthy(conditions[0])).toBe(false);
        expect(environmentConditions({ status: preview, pods, environment: { error: "environments.catalyst.dev is forbidden" } }, NOW)[0])
            .toEqual({ type: "Ready", status: "Unknown", reason: "EnvironmentUnreadable", message: "environments.catalyst.dev is forbidden" });
    });

    it("judges each type by its healthy status; unknown types are not marked", () => {
        expect(HEALTHY_STATUS.Interrupted).toBe("False");
        expect(isHealthy({ type: "Drifted", status: "True" })).toBe(false);
        expect(isHealthy({ type: "Deployed", status: "Unknown" })).toBe(false);
        expect(isHealthy({ type: "SomethingElse", status: "False" })).toBe(true);
    });
});

describe("lastDeployOf", () => {
    const op = (kind: string, result: string, end: string): StackOperation => ({ kind, result, startTime: end, endTime: end, changes: {}, startedBy: {} });
    it("the newest update or destroy, since the first of the newest run that ended the same way; refreshes do not count", () => {
        const history = [op("refresh", "failed", "2026-12-07T05:00:00Z"), op("update", "succeeded", "2026-12-07T04:00:00Z"), op("update", "succeeded", "2026-12-07T03:00:00Z"), op("update", "failed", "2026-12-07T02:00:00Z"), op("update", "succeeded", "2026-12-07T01:00:00Z")];
        expect(lastDeployOf(history)).toEqual({ kind: "update", result: "succeeded", startTime: "2026-12-07T04:00:00Z", endTime: "2026-12-07T04:00:00Z", since: "2026-12-07T03:00:00Z" });
        expect(lastDeployOf([op("update", "failed", "2026-12-07T02:00:00Z")])?.since).toBe("2026-12-07T02:00:00Z");
        expect(lastDeployOf([{ kind: "update", result: "in-progress", startTime: "2026-12-07T06:00:00Z", changes: {}, startedBy: {} }])).toEqual({ kind: "update", result: "in-progress", startTime: "2026-12-07T06:00:00Z" });
        expect(lastDeployOf([op("refresh", "succeeded", "2026-12-07T05:00:00Z")])).toBeUndefined();
    });
});

import { previewStackName } from "../../../components/naming";
import { Operation } from "../../../stacks/automation/events";
import type { CallOptions, EnvironmentRecord, EnvironmentStatus, OperationResult, PreviewRef, PreviewUpArgs, SleepReason, StackOperation, StackResource } from "../../../stacks/automation";
import { InputError } from "../../../stacks/automation/validation";
import type { Cluster, Library } from "../../../stacks/api/service";

/** A fake of the automation library: stacks in a map, operations that finish when released. */
export class FakeLibrary implements Library {
    readonly stacks = new Map<string, EnvironmentStatus>();
    readonly calls: { op: string; args: unknown; call?: CallOptions }[] = [];
    /** Operations wait for this promise before finishing (tests hold them to create overlap). */
    gate: Promise<void> = Promise.resolve();

    /** Adds a stack with the outputs the environment program exports for authorization. */
    add(stack: string, kind: EnvironmentStatus["kind"], owner?: string, owners: string[] = owner === undefined ? [] : [owner]): void {
        this.stacks.set(stack, { stack, kind, owner, namespace: `env-${stack}`, outputs: { owners }, pendingOperations: 0 });
    }

    upPreview(args: PreviewUpArgs, call?: CallOptions): Operation<OperationResult> {
        if (!/^[a-z0-9/_.-]+$/.test(args.branch)) throw new InputError("branch", `not a branch name, got "${args.branch}"`);
        this.calls.push({ op: "up", args, call });
        const stack = `pr-${args.pr}`;
        return new Operation(async (emit) => {
            const time = new Date().toISOString();
            emit({ type: "step", stack, step: "updating", message: "updating", time });
            await this.gate;
            emit({ type: "resource", stack, urn: "urn:x", resourceType: "kubernetes:core/v1:Namespace", name: "ns", op: "create", state: "done", done: 1, total: 1, time });
            const owners = Array.isArray(args.owners) ? args.owners : [];
            this.add(stack, "preview", owners[0], owners);
            const result: OperationResult = { action: "up", stack, kind: "preview", status: "succeeded", pr: Number(args.pr), namespace: `env-${stack}`, durations: { totalMs: 1, waitMs: 0, runMs: 1 } };
            emit({ type: "done", stack, status: "succeeded", result, time });
            return result;
        });
    }

    destroyPreview(preview: PreviewRef, call?: CallOptions): Operation<OperationResult> {
        this.calls.push({ op: "destroy", args: preview, call });
        const stack = typeof preview === "object" ? previewStackName(preview.pr, preview.project) : previewStackName(preview);
        return new Operation(async (emit) => {
            await this.gate;
            this.stacks.delete(stack);
            const result: OperationResult = { action: "destroy", stack, kind: "preview", status: "succeeded", durations: { totalMs: 1, waitMs: 0, runMs: 1 } };
            emit({ type: "done", stack, status: "succeeded", result, time: new Date().toISOString() });
            return result;
        });
    }

    sleepPreview(preview: PreviewRef, options?: { reason?: SleepReason }, call?: CallOptions): Operation<OperationResult> {
        return this.setSleep("sleep", preview, call, new Date().toISOString(), options?.reason ?? "manual");
    }

    wakePreview(preview: PreviewRef, call?: CallOptions): Operation<OperationResult> {
        return this.setSleep("wake", preview, call);
    }

    private setSleep(op: string, preview: PreviewRef, call: CallOptions | undefined, since?: string, reason?: string): Operation<OperationResult> {
        this.calls.push({ op, args: preview, call });
        const stack = typeof preview === "object" ? previewStackName(preview.pr, preview.project) : previewStackName(preview);
        return new Operation(async (emit) => {
            await this.gate;
            const status = this.stacks.get(stack);
            if (status !== undefined) this.stacks.set(stack, { ...status, sleepingSince: since, sleepReason: reason });
            const result: OperationResult = { action: "up", stack, kind: "preview", status: "succeeded", changed: true, durations: { totalMs: 1, waitMs: 0, runMs: 1 } };
            emit({ type: "done", stack, status: "succeeded", result, time: new Date().toISOString() });
            return result;
        });
    }

    async listEnvironments(): Promise<EnvironmentRecord[]> {
        return [...this.stacks.values()];
    }

    async getEnvironment(name: string): Promise<EnvironmentStatus | undefined> {
        return this.stacks.get(name);
    }

    /** One operation per stack, recorded when asked: the limit the service passed. */
    async environmentOperations(name: string, limit?: number): Promise<StackOperation[] | undefined> {
        this.calls.push({ op: "operations", args: { name, limit } });
        if (!this.stacks.has(name)) return undefined;
        return [{ kind: "update", result: "succeeded", startTime: "2026-12-07T06:00:00.000Z", endTime: "2026-12-07T06:00:12.000Z", durationMs: 12_000, changes: { create: 3 }, startedBy: { "exec.kind": "auto.local" } }];
    }

    async environmentResources(name: string): Promise<StackResource[] | undefined> {
        if (!this.stacks.has(name)) return undefined;
        return [{ type: "kubernetes:core/v1:Namespace", name: "ns", urn: `urn:pulumi:${name}::catalyst::kubernetes:core/v1:Namespace::ns`, custom: true }];
    }
}

/** A fake cluster recording what it was asked. */
export function fakeCluster(): Cluster & { asked: unknown[] } {
    const asked: unknown[] = [];
    return {
        asked,
        listPods: async (ns) => {
            asked.push(["pods", ns]);
            return [{ name: "app-1", phase: "Running", ready: true, restarts: 0 }];
        },
        recentEvents: async (ns) => {
            asked.push(["events", ns]);
            return [];
        },
        tailLogs: async (ns, target, lines, maxBytes) => {
            asked.push(["logs", ns, target, lines, maxBytes]);
            return { text: "hello\n", truncated: false };
        },
        streamLogs: async (ns, target, options, out) => {
            asked.push(["follow", ns, target, options]);
            out.write("hello\n");
            // A followed stream stays open until the caller stops it.
            return { pod: target.pod ?? "app-1", container: "app", stop: () => out.end() };
        },
        execInPod: async (ns, pod, argv, options) => {
            asked.push(["exec", ns, pod, argv, options]);
            return { exitCode: 0, stdout: argv.join(" "), stderr: "", truncated: false, timedOut: false };
        },
        namespaceKubeconfig: async (ns) => {
            asked.push(["kubeconfig", ns]);
            return `namespace: ${ns}`;
        },
    };
}

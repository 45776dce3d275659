import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { EngineResults, outputsOf } from "../../../stacks/automation/results";

/*
 * The outputs and summary of an operation taken from its engine events (results.ts) instead of
 * `pulumi stack output` and `pulumi stack history`. The events here are shaped like the CLI's
 * event log: a secret is serialized with Pulumi's secret signature and a blinded ciphertext.
 */
const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "[secret]" };

const stackOutputs = (outputs: Record<string, unknown>, planning = false): EngineEvent => ({
    sequence: 1, timestamp: 0,
    resOutputsEvent: {
        planning,
        metadata: { op: "same", urn: "urn:pulumi:pr-1::catalyst::pulumi:pulumi:Stack::catalyst-pr-1", type: "pulumi:pulumi:Stack", provider: "", new: { type: "pulumi:pulumi:Stack", urn: "u", id: "", parent: "", provider: "", inputs: {}, outputs } },
    },
} as unknown as EngineEvent);

const summary = (changes: Record<string, number>): EngineEvent =>
    ({ sequence: 2, timestamp: 0, summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges: changes, PolicyPacks: {} } } as unknown as EngineEvent);

/** A stand-in for the Automation API's Stack: what its outputs() and info() would run on the CLI. */
function fakeStack() {
    const cli = { outputs: 0, info: 0 };
    const stack = {
        async outputs() { cli.outputs++; return { fromCli: { value: 1, secret: false } }; },
        async info() { cli.info++; return { kind: "update", version: 0, resourceChanges: { fromCli: 1 } }; },
    };
    return { stack: stack as unknown as Stack, cli };
}

describe("outputsOf", () => {
    it("flags secret outputs without their value, and blinds secrets nested in plain outputs", () => {
        expect(outputsOf({
            url: "http://pr-1.preview.test",
            kubeconfig: secret,
            masked: "[secret]",
            access: { owners: ["ann"], token: secret, list: [secret, 2] },
        })).toEqual({
            url: { value: "http://pr-1.preview.test", secret: false },
            kubeconfig: { value: "[secret]", secret: true },
            masked: { value: "[secret]", secret: true },
            access: { value: { owners: ["ann"], token: "[secret]", list: ["[secret]", 2] }, secret: false },
        });
    });
});

describe("EngineResults", () => {
    it("answers the stack's outputs() and info() from the events, without the CLI", async () => {
        const { stack, cli } = fakeStack();
        const results = new EngineResults("update");
        const detach = results.attach(stack);
        results.handle(stackOutputs({ namespace: "env-pr-1", kubeconfig: secret }, true)); // a preview step: ignored
        results.handle(stackOutputs({ namespace: "env-pr-1", kubeconfig: secret }));
        results.handle(summary({ same: 27, update: 1 }));
        expect(await stack.outputs()).toEqual({ namespace: { value: "env-pr-1", secret: false }, kubeconfig: { value: "[secret]", secret: true } });
        expect(await stack.info()).toMatchObject({ kind: "update", result: "succeeded", version: 0, resourceChanges: { same: 27, update: 1 } });
        expect(cli).toEqual({ outputs: 0, info: 0 });
        detach();
        await stack.outputs();
        await stack.info();
        expect(cli).toEqual({ outputs: 1, info: 1 });
    });

    it("falls back to the CLI for what the engine did not report", async () => {
        const { stack, cli } = fakeStack();
        const results = new EngineResults("destroy");
        results.attach(stack);
        results.handle(summary({ delete: 28 }));
        expect(await stack.outputs()).toEqual({ fromCli: { value: 1, secret: false } });
        expect(await stack.info()).toMatchObject({ kind: "destroy", resourceChanges: { delete: 28 } });
        expect(cli).toEqual({ outputs: 1, info: 0 });
    });

    it("ignores the outputs of resources other than the root stack", () => {
        const results = new EngineResults("update");
        const event = stackOutputs({ x: 1 });
        (event.resOutputsEvent as unknown as { metadata: { type: string } }).metadata.type = "kubernetes:core/v1:Namespace";
        results.handle(event);
        expect(results.outputs()).toBeUndefined();
        expect(results.summary()).toBeUndefined();
    });
});

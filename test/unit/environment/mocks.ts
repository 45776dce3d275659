import * as pulumi from "@pulumi/pulumi";
import { PlatformOutputs } from "../../../stacks/contract";

/**
 * Mocks shared by the environment unit tests: a recording `newResource`, a StackReference that
 * returns fake platform outputs, and a `call` that refuses every token (the program makes none).
 */

/** One resource the program registered. */
export interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Every resource registered since the last {@link resetRecorded}. */
export const recorded: Recorded[] = [];

/** Forgets the resources recorded so far. */
export function resetRecorded(): void {
    recorded.length = 0;
}

/** The registry credentials of the fake platform. */
export const REGISTRY_HOST = "registry.example.com";

/** What the fake platform stack exports. */
export const platformOutputs: PlatformOutputs = {
    ingressClassName: "nginx",
    ingressNamespace: "ingress-nginx",
    registryHost: REGISTRY_HOST,
    registryNamespace: "registry",
    registryPullSecret: JSON.stringify({
        auths: { [REGISTRY_HOST]: { username: "puller", password: "pull-pass", auth: Buffer.from("puller:pull-pass").toString("base64") } },
    }),
    postgresNamespace: "postgres",
    postgresClusterName: "shared",
    postgresHost: "shared-rw.postgres.svc",
    domain: "example.com",
    previewDomain: "preview.example.com",
    tunnelId: "",
    tunnelCname: "",
};

/** Installs the mocks; call in beforeAll before importing the program. */
export function installMocks(): void {
    pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
                if (args.type.startsWith("pulumi-nodejs:dynamic")) {
                    // GeneratedPassword's built-in generator: its outputs, as its provider would make them.
                    return { id: `${args.name}-id`, state: { ...args.inputs, value: `generated-${args.name}`, bcryptHash: "$2a$10$mock" } };
                }
                if (args.type === "kubernetes:core/v1:Secret" && args.id !== undefined && args.id !== "") {
                    // A read of an existing Secret (the seed source's reader, seed.ts): base64 data, as the API returns it.
                    const b64 = (text: string) => Buffer.from(text).toString("base64");
                    return { id: args.id, state: { data: { username: b64("reader"), password: b64("source-pass") } } };
                }
                switch (args.type) {
                    case "pulumi:pulumi:StackReference":
                        return { id: args.inputs.name, state: { ...args.inputs, outputs: platformOutputs } };
                    case "random:index/randomPassword:RandomPassword":
                        return { id: `${args.name}-id`, state: { ...args.inputs, result: `pw-${args.name}`, bcryptHash: "$2a$10$mock" } };
                    case "docker:index/image:Image":
                        return { id: `${args.name}-id`, state: { ...args.inputs, repoDigest: `${args.inputs.imageName}@sha256:${"0".repeat(64)}` } };
                    default:
                        return { id: `${args.name}-id`, state: args.inputs };
                }
            },
            call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
                throw new Error(`unexpected call to ${args.token}`);
            },
        },
        "catalyst",
        "unit",
        false,
    );
}

/** Transforms the program attached to resources, in registration order. */
export const transforms: pulumi.ResourceTransform[] = [];

/**
 * Lets resources with `transforms` register under mocks, which do not implement the engine's
 * callback service, and keeps each transform so that tests can call it directly. Touches the
 * SDK's internal run state (test-only): mocks refuse transforms outright otherwise.
 */
export function captureTransforms(): void {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };
    const { Callback } = require("@pulumi/pulumi/proto/callback_pb") as { Callback: new () => unknown };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const store = state.getStore();
    store.supportsTransforms = true;
    store.callbacks = {
        registerTransform: async (transform: pulumi.ResourceTransform) => {
            transforms.push(transform);
            return new Callback();
        },
        awaitStackRegistrations: async () => undefined,
        shutdown: () => undefined,
    };
}

/** Waits until no new resource has been registered for a few event-loop turns. */
export async function settle(): Promise<void> {
    let count = -1;
    let quiet = 0;
    while (quiet < 5) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        quiet = recorded.length === count ? quiet + 1 : 0;
        count = recorded.length;
    }
}

/** The value of an Output (or a plain value). */
export function valueOf<T>(input: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(input).apply((value) => {
        resolve(value as T);
        return value;
    }));
}

/** Recorded resources of `type` (a suffix of the type token, like `rbac/v1:Role`). */
export function ofType(type: string): Recorded[] {
    return recorded.filter((r) => r.type.endsWith(type));
}

/** Stack configuration for pulumi.runtime.setAllConfig: `catalyst:` keys, objects as JSON. */
export function configMap(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([key, value]) =>
        [`catalyst:${key}`, typeof value === "string" ? value : JSON.stringify(value)]));
}

/**
 * Runs the environment program of `stack` with `config` (keys without `catalyst:`) under the
 * mocks and returns its outputs once every resource is registered. Call {@link installMocks}
 * first: the program is loaded here, after the mocks are in place.
 */
export async function runEnvironmentProgram(stack: string, config: Record<string, unknown>, secretKeys: string[] = []) {
    const { environmentProgram } = await import("../../../stacks/environment");
    const { parseStackName } = await import("../../../components/naming");
    pulumi.runtime.setAllConfig(configMap({ passwordSource: "random", ...config }), secretKeys.map((k) => `catalyst:${k}`));
    const outputs = environmentProgram(parseStackName(stack));
    await settle();
    return outputs;
}

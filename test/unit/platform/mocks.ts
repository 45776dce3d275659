import * as pulumi from "@pulumi/pulumi";

/**
 * Pulumi mocks shared by the platform unit tests: every registered resource is recorded with its
 * type, name, inputs and provider, in the order registrations complete; calls other than the few
 * the platform makes throw, so an unexpected provider function fails the test.
 */

/** A resource the program registered. */
export interface Recorded {
    type: string;
    name: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    inputs: any;
    /** Dotted paths of inputs that arrived as Pulumi secrets (`stringData`, `spec.token`). */
    secretPaths: string[];
    provider?: string;
}

/** The marker of a serialized secret. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces serialized secrets by their values and collects where they were. */
function unwrapSecrets(value: unknown, path: string, secretPaths: string[]): unknown {
    if (Array.isArray(value)) {
        return value.map((item, i) => unwrapSecrets(item, `${path}[${i}]`, secretPaths));
    }
    if (typeof value === "object" && value !== null) {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG_KEY] === SECRET_SIG) {
            secretPaths.push(path);
            return unwrapSecrets(record.value, path, secretPaths);
        }
        return Object.fromEntries(
            Object.entries(record).map(([key, item]) => [key, unwrapSecrets(item, path === "" ? key : `${path}.${key}`, secretPaths)]),
        );
    }
    return value;
}

/** The id the mocked Cloudflare API gives every tunnel. */
export const MOCK_TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef";
/** The token the mocked Cloudflare API returns for the tunnel. */
export const MOCK_TUNNEL_TOKEN = "eyJhIjoibW9jayJ9";

/** The bcrypt hash every mocked password reports. */
export const MOCK_BCRYPT_HASH = "$2a$10$abcdefghijklmnopqrstuuNZZmockhashmockhashmockhashmo";

/** The recorder of one test file. */
export interface MockRecorder {
    /** Everything registered so far, in completion order. */
    resources: Recorded[];
    /** Completion order of registrations, as `type::name`, including those of delayed types. */
    completed: string[];
    /** Provider function calls, in order. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    calls: { token: string; inputs: any; provider?: string }[];
    /** Registrations the mock is still holding back. */
    pending(): number;
    /** Resources of one type. */
    ofType(type: string): Recorded[];
    /** The one resource of `type` named `name`; fails when missing. */
    get(type: string, name: string): Recorded;
    /** Forgets everything recorded. */
    reset(): void;
}

/** Options of {@link installMocks}. */
export interface MockOptions {
    /** Stack name the program sees. */
    stack?: string;
    /** Types whose registration the mock holds back for a while, to prove ordering. */
    delayed?: string[];
}

/** The smallest valid platform config (tunnel off), as the unit tests set it. */
export const BASE_PLATFORM_CONFIG: Record<string, string> = {
    "catalyst:domain": "example.com",
    "catalyst:passwordSource": "builtin",
    "catalyst:ingress": JSON.stringify({ replicas: 1, admissionWebhooks: false }),
    "catalyst:postgres": JSON.stringify({ operatorWebhooks: false, instances: 1 }),
};

/** Installs the mocks; call it in `beforeAll`, before importing the modules under test. */
export function installMocks(options: MockOptions = {}): MockRecorder {
    const resources: Recorded[] = [];
    const completed: string[] = [];
    let pending = 0;
    const calls: MockRecorder["calls"] = [];
    const recorder: MockRecorder = {
        resources,
        completed,
        calls,
        pending: () => pending,
        ofType: (type) => resources.filter((r) => r.type === type),
        get: (type, name) => {
            const found = resources.find((r) => r.type === type && r.name === name);
            if (found === undefined) {
                const seen = resources.map((r) => `${r.type}::${r.name}`).join("\n  ");
                throw new Error(`no ${type} named ${name}; registered:\n  ${seen}`);
            }
            return found;
        },
        reset: () => {
            resources.length = 0;
            completed.length = 0;
            calls.length = 0;
        },
    };
    pulumi.runtime.setMocks(
        {
            newResource: async (args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> => {
                if (options.delayed?.includes(args.type)) {
                    pending++;
                    await new Promise((resolve) => setTimeout(resolve, 50));
                    pending--;
                }
                const secretPaths: string[] = [];
                const inputs = unwrapSecrets(args.inputs, "", secretPaths);
                resources.push({ type: args.type, name: args.name, inputs, secretPaths, provider: args.provider });
                completed.push(`${args.type}::${args.name}`);
                const state: Record<string, unknown> = { ...(inputs as Record<string, unknown>) };
                let id = `${args.name}-id`;
                if (args.type === "random:index/randomPassword:RandomPassword") {
                    state.result = `random${"x".repeat(args.inputs.length - 6)}`;
                    state.bcryptHash = MOCK_BCRYPT_HASH;
                }
                if (args.type === "pulumi-nodejs:dynamic/catalyst:BuiltinPassword") {
                    state.value = `builtin${"y".repeat(args.inputs.length - 7)}`;
                    state.bcryptHash = MOCK_BCRYPT_HASH;
                }
                if (args.type === "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared") {
                    id = MOCK_TUNNEL_ID;
                }
                return { id, state };
            },
            call: (args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult => {
                calls.push({ token: args.token, inputs: args.inputs, provider: args.provider });
                if (args.token === "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken") {
                    return { accountId: args.inputs.accountId, tunnelId: args.inputs.tunnelId, token: MOCK_TUNNEL_TOKEN };
                }
                throw new Error(`unexpected call to ${args.token}`);
            },
        },
        "catalyst",
        options.stack ?? "platform",
        false,
    );
    return recorder;
}

/** Waits until no new registration has arrived for a while: the program has settled. */
export async function settle(recorder: MockRecorder): Promise<void> {
    let stable = 0;
    let count = -1;
    for (let i = 0; i < 500 && stable < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        stable = recorder.completed.length === count && recorder.pending() === 0 ? stable + 1 : 0;
        count = recorder.completed.length;
    }
}

/** The value of an output (undefined while unknown). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

/** Whether an output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(output);
}

import type { EngineEvent, OutputMap, Stack, UpdateSummary } from "@pulumi/pulumi/automation";

/**
 * An operation's outputs and summary taken from the engine's own events instead of extra CLI
 * calls. After `pulumi up` the Automation API (3.259 `Stack.up`) runs `pulumi stack output`
 * twice (masked, then with `--show-secrets`) and `pulumi stack history --page-size 1` through the
 * stack's `outputs()` and `info()`; `destroy` runs the history one. Each is a `pulumi` process
 * (0.2-0.3 s here, and it decrypts the stack's config). The engine already sent both in the
 * operation's event stream: the root Stack resource's outputs in its `resOutputsEvent` and the
 * change counts in the `summaryEvent`.
 *
 * Secrets: the event stream never carries a secret's value. The CLI serializes every secret in
 * it with a blinding crypter (`{"<secret sig>": ..., "ciphertext": "[secret]"}`, or the plain
 * string `[secret]`), so a secret output is reported as secret and its value is not known here;
 * a secret nested in a plain output is replaced by "[secret]" as well (`stack output --json`
 * would have given its plaintext, which the layer masked only at the top level).
 */

/** Pulumi's marker key of a serialized secret, with its fixed value (sdk/go/common/resource/sig). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): boolean {
    return value === "[secret]" ||
        (typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG);
}

/** `value` with every serialized secret in it, at any depth, replaced by "[secret]". */
function blind(value: unknown): unknown {
    if (isSecretValue(value)) return "[secret]";
    if (Array.isArray(value)) return value.map(blind);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, blind(item)]));
    }
    return value;
}

/** The outputs of a root stack as the Automation API's OutputMap: secret ones flagged, never their values. */
export function outputsOf(raw: Record<string, unknown>): OutputMap {
    const outputs: OutputMap = {};
    for (const [key, value] of Object.entries(raw)) {
        outputs[key] = isSecretValue(value) ? { value: "[secret]", secret: true } : { value: blind(value), secret: false };
    }
    return outputs;
}

/** Collects what one operation's engine events say about its result. */
export class EngineResults {
    private stackOutputs?: Record<string, unknown>;
    private changes?: Record<string, number>;
    private readonly started = new Date();

    constructor(private readonly kind: UpdateSummary["kind"]) {}

    /** Feed every engine event of the operation. */
    handle(event: EngineEvent): void {
        const outputs = event.resOutputsEvent;
        if (outputs && !outputs.planning && outputs.metadata.type === "pulumi:pulumi:Stack") {
            this.stackOutputs = outputs.metadata.new?.outputs ?? {};
        }
        if (event.summaryEvent) {
            this.changes = { ...event.summaryEvent.resourceChanges } as Record<string, number>;
        }
    }

    /** The root stack's outputs, when the engine reported them. */
    outputs(): OutputMap | undefined {
        return this.stackOutputs === undefined ? undefined : outputsOf(this.stackOutputs);
    }

    /**
     * A summary like `pulumi stack history`'s newest entry, when the engine reported one. Its
     * version is 0, as the DIY backends report (engine.ts `updateId` counts the history then).
     */
    summary(): UpdateSummary | undefined {
        if (this.changes === undefined) return undefined;
        return {
            kind: this.kind,
            startTime: this.started,
            endTime: new Date(),
            message: "",
            environment: {},
            config: {},
            result: "succeeded",
            version: 0,
            resourceChanges: this.changes,
        };
    }

    /**
     * Makes `stack`'s `outputs()` and `info()` answer from these events when they can (the
     * Automation API calls both after `up` and `info()` after `destroy`), and fall back to the
     * CLI when the engine did not report what is asked. Returns the function that undoes it.
     */
    attach(stack: Stack): () => void {
        const target = stack as { outputs: Stack["outputs"]; info: Stack["info"] };
        const own = Object.getOwnPropertyDescriptors(target);
        const outputs = stack.outputs.bind(stack);
        const info = stack.info.bind(stack);
        target.outputs = async () => this.outputs() ?? outputs();
        target.info = async (showSecrets?: boolean) => this.summary() ?? info(showSecrets);
        return () => {
            for (const name of ["outputs", "info"] as const) {
                if (own[name] === undefined) delete (target as Partial<typeof target>)[name];
                else Object.defineProperty(target, name, own[name]);
            }
        };
    }
}

import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * Where generated passwords come from:
 * - `random`: `random.RandomPassword` from @pulumi/random (the default for real clusters);
 * - `builtin`: a dynamic provider inside this program, for machines that have no
 *   `pulumi-resource-random` plugin (the local default: see tools/README.md).
 * Both keep the value in the stack state as a Pulumi secret and never change it on later updates.
 */
export type PasswordSource = "random" | "builtin";

/** Arguments of {@link GeneratedPassword}. */
export interface GeneratedPasswordArgs {
    /** Number of characters; letters and digits only, so the value is safe in URLs and htpasswd. */
    length?: number;
    /** Which generator to use; see {@link PasswordSource}. Defaults to `random`. */
    source?: PasswordSource;
}

interface BuiltinPasswordInputs {
    length: number;
}

/**
 * Generates a password once and keeps it. The provider object is serialized into the stack
 * state by Pulumi, so it only uses Node built-ins and bcryptjs, required inside each method.
 */
const builtinPasswordProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: BuiltinPasswordInputs) {
        const crypto = await import("crypto");
        const bcrypt = await import("bcryptjs");
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let value = "";
        while (value.length < inputs.length) {
            // Rejection sampling keeps every character equally likely.
            const byte = crypto.randomBytes(1)[0];
            if (byte < 248) {
                value += alphabet[byte % alphabet.length];
            }
        }
        return {
            id: crypto.randomUUID(),
            outs: { length: inputs.length, value, bcryptHash: bcrypt.hashSync(value, 10) },
        };
    },
    async diff(_id: string, olds: BuiltinPasswordInputs, news: BuiltinPasswordInputs) {
        const replace = olds.length !== news.length;
        return { changes: replace, replaces: replace ? ["length"] : [], deleteBeforeReplace: false };
    },
};

class BuiltinPassword extends pulumi.dynamic.Resource {
    // `declare`: a plain field declaration would reset the outputs that super() set (ES2022
    // class-field semantics).
    declare public readonly value: pulumi.Output<string>;
    declare public readonly bcryptHash: pulumi.Output<string>;

    constructor(name: string, length: number, opts?: pulumi.CustomResourceOptions) {
        super(
            builtinPasswordProvider,
            name,
            { length, value: undefined, bcryptHash: undefined },
            { ...opts, additionalSecretOutputs: ["value", "bcryptHash"] },
            "catalyst",
            "BuiltinPassword",
        );
    }
}

/** A generated password and its bcrypt hash, both Pulumi secrets. */
export class GeneratedPassword extends pulumi.ComponentResource {
    /** The password (secret). */
    public readonly value: pulumi.Output<string>;
    /** The bcrypt hash of the password (secret), for htpasswd files. */
    public readonly bcryptHash: pulumi.Output<string>;

    constructor(name: string, args: GeneratedPasswordArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:shared:GeneratedPassword", name, {}, opts);
        const length = args.length ?? 32;
        if (!Number.isInteger(length) || length < 16 || length > 128) {
            throw new RangeError(`${name}: password length must be a whole number from 16 to 128, got ${length}`);
        }
        if ((args.source ?? "random") === "builtin") {
            const password = new BuiltinPassword(`${name}-builtin`, length, { parent: this });
            this.value = pulumi.secret(password.value);
            this.bcryptHash = pulumi.secret(password.bcryptHash);
        } else {
            const password = new random.RandomPassword(
                `${name}-random`,
                { length, special: false, minLower: 1, minUpper: 1, minNumeric: 1 },
                { parent: this },
            );
            this.value = pulumi.secret(password.result);
            this.bcryptHash = pulumi.secret(password.bcryptHash);
        }
        this.registerOutputs({ value: this.value, bcryptHash: this.bcryptHash });
    }
}

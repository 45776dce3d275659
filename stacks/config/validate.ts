import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/**
 * Thrown when stack configuration is invalid. The message lists every problem, one per line,
 * each naming the configuration key (`catalyst:domain`) and what is allowed. A `RunError`: the
 * Pulumi program reports its message alone, without a stack trace (docs/cli.md shows the text).
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: string[]) {
        super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** The configuration key of a zod issue path under `namespace` (`catalyst:quota.cpu`). */
export function configKey(namespace: string, path: PropertyKey[]): string {
    const [head, ...rest] = path.map(String);
    return `${namespace}:${head ?? ""}${rest.map((p) => (/^[0-9]+$/.test(p) ? `[${p}]` : `.${p}`)).join("")}`;
}

/**
 * Validates `raw` (the stack's configuration bag, values already JSON-parsed) against `schema`.
 * Unknown keys are refused by strict schemas, so a typo never goes unnoticed.
 */
export function parseConfig<T extends z.ZodType>(namespace: string, schema: T, raw: unknown): z.infer<T> {
    const result = schema.safeParse(raw);
    if (result.success) {
        return result.data;
    }
    throw new ConfigError(
        result.error.issues.map((issue) => {
            if (issue.code === "unrecognized_keys") {
                return issue.keys
                    .map((key) => `${configKey(namespace, [...issue.path, key])}: unknown key`)
                    .join("; ");
            }
            return `${configKey(namespace, issue.path)}: ${issue.message}`;
        }),
    );
}

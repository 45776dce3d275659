import { ResourceValidationPolicy } from "@pulumi/policy";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { describeObject, Json, kindOf, PolicyScope, scopeSchema, skipped } from "./kubernetes";
import { podPolicy } from "./podPolicy";

/**
 * Secrets stay in Secrets. A credential written into a container's `env[].value` or a ConfigMap
 * is readable by everyone who may read Deployments or ConfigMaps (observers included) and lands
 * in the object's last-applied annotation. The check is a heuristic on names: a variable or key
 * that sounds like a credential must not carry a literal value.
 */

/** Name parts that mark a credential wherever they appear. */
const SECRET_WORDS = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "PRIVATEKEY"];
/** Name parts that mark a credential when they are a whole word (`API_KEY`, not `MONKEY`). */
const SECRET_WHOLE_WORDS = ["KEY", "PWD", "PASS"];
/** A last word that makes the value a reference, not the secret itself (`PASSWORD_FILE`). */
const REFERENCE_SUFFIXES = ["FILE", "PATH", "DIR", "NAME", "REF", "ID"];

/** Values that are settings, not credentials: booleans, numbers, durations (`15m`, `1h30m`) and nothing at all. */
const SETTING_VALUE = /^\s*(true|false|yes|no|on|off|[0-9]+(\.[0-9]+)?|([0-9]{1,6}(ms|s|m|h|d|w))+)?\s*$/i;

/** True when a literal value could be a credential (not empty, a boolean or a number). */
export function couldBeSecretValue(value: unknown): value is string {
    return typeof value === "string" && !SETTING_VALUE.test(value);
}

/** Configuration of the secret policies. */
export interface SecretPolicyConfig extends PolicyScope {
    /** Exact variable or key names that are not credentials (`PUBLIC_KEY`). */
    allowNames?: string[];
}

/**
 * True when `name` (`DB_PASSWORD`, `apiToken`, `tls.key`) sounds like a credential. Names are
 * split into words at `_`, `-`, `.` and camelCase boundaries.
 */
export function isSecretName(name: string, allowNames: string[] = []): boolean {
    if (allowNames.includes(name)) {
        return false;
    }
    const words = name
        .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
        .toUpperCase()
        .split(/[^A-Z0-9]+/)
        .filter((word) => word !== "");
    if (words.length === 0 || REFERENCE_SUFFIXES.includes(words[words.length - 1])) {
        return false;
    }
    return words.some((word) => SECRET_WHOLE_WORDS.includes(word) || SECRET_WORDS.some((part) => word.includes(part)));
}

const CONFIG_SCHEMA: Record<string, PolicyConfigJSONSchema> = {
    ...scopeSchema(),
    allowNames: {
        type: "array",
        items: { type: "string" },
        default: [] as string[],
        description: "Exact variable or key names that look like credentials but are not.",
    },
};

/** No credential-like environment variable carries a literal value. */
export const noSecretEnvValues = podPolicy({
    name: "no-secret-env-values",
    description: "No container environment variable named like a credential (*PASSWORD*, *TOKEN*, *SECRET*, *KEY*) has a literal value.",
    remediationSteps: "Put the value in a Secret (a Pulumi secret config value) and use env[].valueFrom.secretKeyRef.",
    configSchema: { allowNames: CONFIG_SCHEMA.allowNames },
    container: ({ container }, { config }) =>
        (Array.isArray(container.env) ? container.env : [])
            .filter((entry: Json) => couldBeSecretValue(entry.value))
            .filter((entry: Json) => isSecretName(String(entry.name), (config as SecretPolicyConfig).allowNames))
            // Never the value itself: this message is printed and logged.
            .map((entry: Json) => `sets ${entry.name} to a literal value; use valueFrom.secretKeyRef`),
});

/** `NAME=value` lines of an env file (`export` allowed) whose name sounds like a credential. */
export function secretAssignments(text: string, allowNames: string[] = []): string[] {
    const names: string[] = [];
    for (const line of text.split("\n")) {
        const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S.*)$/.exec(line);
        if (match && couldBeSecretValue(match[2].replace(/^["']|["']$/g, "")) && isSecretName(match[1], allowNames)) {
            names.push(match[1]);
        }
    }
    return names;
}

/** No ConfigMap holds a credential: neither under a credential-like key nor as `NAME=value` lines. */
export const noSecretsInConfigMaps: ResourceValidationPolicy = {
    name: "no-secrets-in-configmaps",
    description: "No ConfigMap key named like a credential has a value, and no ConfigMap value holds credential assignments (DB_PASSWORD=...).",
    remediationSteps: "Move the value to a Secret and mount or reference that instead.",
    enforcementLevel: "mandatory",
    configSchema: { properties: CONFIG_SCHEMA },
    validateResource: (args, report) => {
        const props: Json = args.props;
        const config = args.getConfig<SecretPolicyConfig>() ?? {};
        if (kindOf(args.type) !== "ConfigMap" || skipped(args.type, props, config)) {
            return;
        }
        const subject = describeObject(args.type, props);
        for (const section of ["data", "binaryData"]) {
            for (const [key, value] of Object.entries((props[section] ?? {}) as Record<string, unknown>)) {
                if (!couldBeSecretValue(value)) {
                    continue;
                }
                if (isSecretName(key, config.allowNames)) {
                    report(`${subject}: ${section} key "${key}" looks like a credential; keep it in a Secret`);
                } else if (section === "data") {
                    const names = secretAssignments(value, config.allowNames);
                    if (names.length > 0) {
                        report(`${subject}: data key "${key}" assigns ${names.join(", ")}; keep credentials in a Secret`);
                    }
                }
            }
        }
    },
};

/** The secret policies, in the order they are listed. */
export const secretPolicies: ResourceValidationPolicy[] = [noSecretEnvValues, noSecretsInConfigMaps];

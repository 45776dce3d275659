import {
    DEFAULT_PROJECT,
    NameError,
    PLATFORM_STACKS,
    StackIdentity,
    StackKind,
    parsePullRequestNumber,
    PROJECT_SEPARATOR,
    parseStackName,
    previewStackName,
} from "../../components/naming";
import { imageMessage } from "../../components/environment/image";
import { DURATION_HELP, parseDuration } from "./duration";

/**
 * Validation of everything a caller hands the automation layer: pull request numbers, branches,
 * commit SHAs, images, owners, durations and stack targets. Each input is checked once, here,
 * before anything is created; stack, namespace and host names themselves come from
 * components/naming.ts. Pure functions.
 */

/**
 * Thrown for input that breaks the rules. `field` names the input (`pr`, or `--pr` when the CLI
 * validates), and the message says what is allowed: `--pr: must be a positive whole number, got "abc"`.
 */
export class InputError extends Error {
    constructor(public readonly field: string, detail: string) {
        super(`${field}: ${detail}`);
        this.name = "InputError";
    }
}

/** Where an operation applies: a validated stack name and what it holds. */
export type StackTarget = StackIdentity;

/** Re-labels a NameError from components/naming with the caller's field name. */
function rethrow(err: unknown, field: string): never {
    if (err instanceof NameError) {
        const detail = err.message.slice(err.field.length + 2);
        throw new InputError(field, detail);
    }
    throw err;
}

/** Parses a pull request number (a positive whole number, as a number or a string). */
export function parsePr(value: unknown, field = "pr"): number {
    try {
        return parsePullRequestNumber(value, field);
    } catch (err) {
        return rethrow(err, field);
    }
}

/** The stack of pull request `pr`'s preview: always `pr-<n>` (`pr-<n>--<project>` in another Project), never anything else. */
export function previewTarget(pr: unknown, field = "pr", project: string = DEFAULT_PROJECT): StackTarget {
    const number = parsePr(pr, field);
    let stack: string;
    try {
        stack = previewStackName(number, project);
    } catch (err) {
        return rethrow(err, "project");
    }
    return project === DEFAULT_PROJECT ? { stack, kind: "preview", pr: number } : { stack, kind: "preview", pr: number, project };
}

const ENVIRONMENT_FORMS = "production, staging or dev-<user> (lower case letters, digits and '-'), " +
    `each with ${PROJECT_SEPARATOR}<project> for a Project other than ${DEFAULT_PROJECT} (staging${PROJECT_SEPARATOR}web)`;

/**
 * A named environment: `production`, `staging` or `dev-<user>`. Previews (`pr-<n>`) belong to
 * `catalyst preview` and the platform to `catalyst platform`; both are refused here.
 */
export function environmentTarget(name: unknown, field = "name"): StackTarget {
    if (typeof name !== "string" || name === "") {
        throw new InputError(field, `must be an environment name: ${ENVIRONMENT_FORMS}`);
    }
    let identity: StackIdentity;
    try {
        identity = parseStackName(name);
    } catch {
        throw new InputError(field, `"${name}" is not an environment name; allowed: ${ENVIRONMENT_FORMS}`);
    }
    if (identity.kind === "preview") {
        throw new InputError(field, `"${name}" is a preview; previews are managed with \`catalyst preview\``);
    }
    if (identity.kind === "platform") {
        throw new InputError(field, `"${name}" is the platform stack; use \`catalyst platform\``);
    }
    return identity;
}

/**
 * Any stack of the project by name, for reads (history, resources): `pr-<n>`, `production`,
 * `staging`, `dev-<user>` (each with `--<project>`), or the platform stack.
 */
export function stackTarget(name: unknown, field = "stack"): StackTarget {
    if (typeof name !== "string" || name === "") {
        throw new InputError(field, `must be a stack name: pr-<n>, ${ENVIRONMENT_FORMS}, or the platform stack (${PLATFORM_STACKS.join(", ")})`);
    }
    try {
        return parseStackName(name);
    } catch (err) {
        return rethrow(err, field);
    }
}

/** The platform stack: `platform`, or `dev` for the local embedded default. */
export function platformTarget(name: unknown, field = "stack"): StackTarget {
    if (typeof name !== "string" || !PLATFORM_STACKS.includes(name)) {
        throw new InputError(field, `must be one of ${PLATFORM_STACKS.join(", ")}, got ${JSON.stringify(name)}`);
    }
    return { stack: name, kind: "platform" };
}

/**
 * Checks, once more right before a stack is touched, that `stack` is of one of the `allowed`
 * kinds: a preview call can never reach production or staging even through a bug upstream.
 */
export function assertKind(stack: string, allowed: readonly StackKind[]): StackTarget {
    let identity: StackIdentity;
    try {
        identity = parseStackName(stack);
    } catch (err) {
        return rethrow(err, "stack");
    }
    if (!allowed.includes(identity.kind)) {
        throw new InputError("stack", `"${stack}" is a ${identity.kind} stack; this call only handles ${allowed.join(", ")}`);
    }
    return identity;
}

const MAX_BRANCH = 255;
const BRANCH_HELP =
    `must be a git branch name: printable ASCII without spaces or any of ~^:?*[\\, no "..", "@{" or "//", ` +
    `not starting with "-", "/" or ".", not ending with "/", "." or ".lock", at most ${MAX_BRANCH} characters`;

/** Validates a git branch name (the rules of `git check-ref-format --branch`, ASCII only). */
export function parseBranch(value: unknown, field = "branch"): string {
    const text = typeof value === "string" ? value : "";
    const ok =
        text.length > 0 &&
        text.length <= MAX_BRANCH &&
        /^[\x21-\x7e]+$/.test(text) &&
        !/[~^:?*[\\]/.test(text) &&
        !/\.\.|@\{|\/\//.test(text) &&
        !/^[-/.]/.test(text) &&
        !/(\/|\.|\.lock)$/.test(text) &&
        !/\/\./.test(text) &&
        text !== "@";
    if (!ok) {
        throw new InputError(field, `${BRANCH_HELP}; got ${JSON.stringify(value)}`);
    }
    return text;
}

/** Validates a commit SHA (7 to 40 hex digits, as catalyst:sha allows) and returns it in lower case. */
export function parseSha(value: unknown, field = "sha"): string {
    const text = typeof value === "string" ? value.trim() : "";
    if (!/^[0-9a-fA-F]{7,40}$/.test(text)) {
        throw new InputError(field, `must be a git commit SHA (7 to 40 hex digits), got ${JSON.stringify(value)}`);
    }
    return text.toLowerCase();
}

/**
 * Validates a container image reference with the environment program's own rule
 * (components/environment/image.ts): well formed, pinned by a tag other than `latest` or a digest.
 */
export function parseImage(value: unknown, field = "image"): string {
    const text = typeof value === "string" ? value.trim() : "";
    const problem = text === "" ? "must not be empty" : imageMessage(text);
    if (problem !== undefined) {
        throw new InputError(field, problem);
    }
    return text;
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const MAX_OWNERS = 20;

/** Validates owners: GitHub user names, as a list or one comma-separated string; duplicates removed. */
export function parseOwners(value: unknown, field = "owners"): string[] {
    const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [value];
    const owners = items.map((item) => (typeof item === "string" ? item.trim() : item));
    if (owners.length === 0 || owners.length > MAX_OWNERS || !owners.every((o) => typeof o === "string" && LOGIN.test(o))) {
        throw new InputError(
            field,
            `must be 1 to ${MAX_OWNERS} GitHub user names separated by commas (letters, digits and single ` +
                `hyphens, at most 39 characters each), got ${JSON.stringify(value)}`,
        );
    }
    return [...new Set(owners as string[])];
}

/**
 * Parses a duration: a string such as `72h` or a number of milliseconds. Used for TTLs, timeouts
 * and lock waits.
 */
export function parseDurationInput(value: unknown, field = "ttl"): number {
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
        return value;
    }
    const ms = typeof value === "string" ? parseDuration(value) : undefined;
    if (ms === undefined) {
        throw new InputError(field, `must be ${DURATION_HELP}, got ${JSON.stringify(value)}`);
    }
    return ms;
}

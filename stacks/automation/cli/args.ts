import { parseArgs } from "util";
import { parseDurationInput, parseBranch, parseImage, parseOwners, parsePr, parseSha, environmentTarget, platformTarget, InputError } from "../validation";

/**
 * The `catalyst` command line: one spec per command, from which both the parser and `--help` are
 * built (so help cannot drift from the code), and validation of every value before anything runs.
 * Pure: tests call {@link parseCommandLine} directly.
 */

/** Exit codes, a public contract: other tools branch on them. */
export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3 } as const;

/** Exit codes as the help texts print them. */
export const EXIT_HELP = "Exit codes: 0 ok, 1 failed, 2 bad input, 3 busy or timed out.";

/** Thrown for bad input; the message is the one line the CLI prints before exiting 2. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

interface OptionSpec {
    type: "string" | "boolean";
    /** Placeholder in help (`<n>`). */
    value?: string;
    description: string;
    required?: boolean;
}

interface CommandSpec {
    /** `preview up` */
    name: string;
    summary: string;
    /** Positional argument, if the command takes one. */
    positional?: { name: string; description: string };
    options: Record<string, OptionSpec>;
    /** Extra paragraphs for `--help`. */
    notes?: string[];
}

const json: OptionSpec = { type: "boolean", description: "Print exactly one JSON object on stdout at the end; progress goes to stderr" };
const timeout: OptionSpec = { type: "string", value: "<duration>", description: "Stop the operation after this long: SIGINT, then SIGKILL, then recovery (default 30m)" };
const wait: OptionSpec = { type: "string", value: "<duration>", description: "How long to wait while another operation holds the stack; 0: answer busy at once (default 10m)" };
const platformStack: OptionSpec = { type: "string", value: "<stack>", description: "The platform stack: platform, or dev for the local default (default: CATALYST_PLATFORM_STACK, else dev)" };

/** Every command of the CLI. */
export const COMMANDS: CommandSpec[] = [
    {
        name: "preview up",
        summary: "Create or update the preview environment of a pull request (stack pr-<n>) from Pulumi.pr.yaml.",
        options: {
            pr: { type: "string", value: "<n>", description: "Pull request number", required: true },
            branch: { type: "string", value: "<branch>", description: "The pull request's head branch (git branch name, ASCII)", required: true },
            sha: { type: "string", value: "<sha>", description: "Head commit SHA (7 to 40 hex digits)" },
            image: { type: "string", value: "<image>", description: "Image to run, pinned by tag or digest (default: the template's catalyst:image)" },
            ttl: { type: "string", value: "<duration>", description: "Time to live from this update, e.g. 72h or 7d (default 72h); gc destroys it afterwards" },
            owners: { type: "string", value: "<users>", description: "GitHub users who own the preview, comma-separated" },
            json,
            timeout,
            wait,
        },
        notes: ["Idempotent: running it again with the same values reports no changes. A second call for the same PR waits for the first (see --wait)."],
    },
    {
        name: "preview down",
        summary: "Destroy the preview of a pull request and remove its stack. A preview that does not exist is a successful no-op.",
        options: { pr: { type: "string", value: "<n>", description: "Pull request number", required: true }, json, timeout, wait },
    },
    {
        name: "preview list",
        summary: "List preview stacks with their tags (PR, branch, SHA, owner, created, expires, URL).",
        options: { json },
    },
    {
        name: "preview gc",
        summary: "Destroy previews that expired or whose pull request is closed, always through Pulumi.",
        options: {
            ttl: { type: "string", value: "<duration>", description: "Also destroy previews with no update for this long (0: all previews)" },
            "open-prs": { type: "string", value: "<list>", description: "Open pull requests, comma-separated (previews of other PRs are destroyed), or 'github' to ask the GitHub API (GITHUB_TOKEN, GITHUB_REPOSITORY)" },
            "dry-run": { type: "boolean", description: "Only report what would be destroyed" },
            "delete-orphan-namespaces": { type: "boolean", description: "Also delete namespaces labelled catalyst.dev/type=preview that no stack owns (otherwise only reported)" },
            json,
            timeout,
        },
        notes: ["A failed lookup of open pull requests changes nothing and exits 1."],
    },
    {
        name: "env up",
        summary: "Create or update a named environment: production, staging or dev-<user> (config from Pulumi.<name>.yaml when present).",
        positional: { name: "name", description: "production, staging or dev-<user>" },
        options: {
            image: { type: "string", value: "<image>", description: "Image to deploy, pinned by tag or digest" },
            sha: { type: "string", value: "<sha>", description: "Commit SHA being deployed" },
            branch: { type: "string", value: "<branch>", description: "Branch being deployed" },
            json,
            timeout,
            wait,
        },
    },
    {
        name: "env down",
        summary: "Destroy a named environment's resources; the empty stack and its history are kept.",
        positional: { name: "name", description: "production, staging or dev-<user>" },
        options: { yes: { type: "boolean", description: "Required to destroy production or staging" }, json, timeout, wait },
    },
    {
        name: "env status",
        summary: "Show a named environment: tags, outputs (secrets masked), last update, pending operations.",
        positional: { name: "name", description: "production, staging or dev-<user>" },
        options: { json },
        notes: ["Exits 1 when the environment does not exist."],
    },
    {
        name: "platform up",
        summary: "Create or update the platform stack (config from Pulumi.<stack>.yaml, else Pulumi.dev.yaml).",
        options: { stack: platformStack, json, timeout, wait },
    },
    {
        name: "platform down",
        summary: "Destroy the platform; refused while any environment stack still holds resources.",
        options: { stack: platformStack, json, timeout, wait },
    },
    {
        name: "platform status",
        summary: "Show the platform stack: outputs (secrets masked), last update, pending operations.",
        options: { stack: platformStack, json },
        notes: ["Exits 1 when the platform stack does not exist."],
    },
];

/** A parsed and validated command line. */
export interface Invocation {
    command: string;
    json: boolean;
    timeoutMs?: number;
    waitMs?: number;
    pr?: number;
    branch?: string;
    sha?: string;
    image?: string;
    ttlMs?: number;
    owners?: string[];
    /** Named environment (env commands). */
    name?: string;
    /** Platform stack (platform commands). */
    platformStack?: string;
    /** `github`, or the list of open PRs. */
    openPrs?: number[] | "github";
    dryRun?: boolean;
    deleteOrphanNamespaces?: boolean;
    yes?: boolean;
}

/** What the command line asks for. */
export type ParsedCommandLine = { kind: "help"; text: string } | { kind: "version" } | { kind: "run"; invocation: Invocation };

function flagLabel(name: string, option: OptionSpec): string {
    return option.type === "string" ? `--${name} ${option.value ?? "<value>"}` : `--${name}`;
}

/** The `--help` text of one command, built from its spec. */
export function commandHelp(spec: CommandSpec): string {
    const required = Object.entries(spec.options).filter(([, o]) => o.required).map(([n, o]) => flagLabel(n, o));
    const usage = ["catalyst", spec.name, ...(spec.positional ? [`<${spec.positional.name}>`] : []), ...required, "[options]"].join(" ");
    const rows: [string, string][] = [];
    if (spec.positional) rows.push([`<${spec.positional.name}>`, spec.positional.description]);
    for (const [name, option] of Object.entries(spec.options)) {
        rows.push([flagLabel(name, option), `${option.description}${option.required ? " (required)" : ""}`]);
    }
    rows.push(["-h, --help", "Show this help"]);
    const width = Math.max(...rows.map(([left]) => left.length)) + 2;
    return [
        `Usage: ${usage}`,
        "",
        spec.summary,
        "",
        "Options:",
        ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
        "",
        ...(spec.notes ?? []).flatMap((note) => [note, ""]),
        "Durations: 30m, 72h, 7d, 1h30m (units s, m, h, d, w).",
        EXIT_HELP,
    ].join("\n");
}

/** The first clause of a summary, for the command list. */
function shortSummary(summary: string): string {
    return summary.split(/\. | \(|: /)[0].replace(/\.$/, "");
}

/** The top-level `--help` text. */
export function mainHelp(): string {
    const width = Math.max(...COMMANDS.map((c) => c.name.length + (c.positional ? c.positional.name.length + 3 : 0))) + 4;
    return [
        "Usage: catalyst <command> [options]",
        "",
        "Preview environments, named environments and the platform of Catalyst Environments, driven",
        "through the Pulumi Automation API. Uses the environment of tools/env.sh when PULUMI_BACKEND_URL,",
        "PULUMI_HOME or KUBECONFIG are unset (the local cluster and state).",
        "",
        "Commands:",
        ...COMMANDS.map((c) => `  ${`${c.name}${c.positional ? ` <${c.positional.name}>` : ""}`.padEnd(width)}${shortSummary(c.summary)}`),
        `  ${"serve --port <n>".padEnd(width)}HTTP API over the same library for web apps (docs/api.md)`,
        `  ${"mcp [--port <n>]".padEnd(width)}MCP server for AI agents, on stdio or streamable HTTP (docs/api.md)`,
        `  ${"controller".padEnd(width)}reconciles Environment resources into stacks (docs/controller.md)`,
        "",
        "Run `catalyst <command> --help` for a command's options.",
        EXIT_HELP,
    ].join("\n");
}

function isFlag(token: string, spec: CommandSpec): boolean {
    if (token === "-h" || token === "--help") return true;
    const match = /^--([^=]+)/.exec(token);
    return match !== null && match[1] in spec.options;
}

/** `--pr -1` is read as `--pr=-1`: a value may start with '-' unless it is one of the command's flags. */
function joinValues(args: string[], spec: CommandSpec): string[] {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const match = /^--([^=]+)$/.exec(args[i]);
        if (match && spec.options[match[1]]?.type === "string" && i + 1 < args.length && !isFlag(args[i + 1], spec)) {
            out.push(`${args[i]}=${args[i + 1]}`);
            i++;
        } else {
            out.push(args[i]);
        }
    }
    return out;
}

function field<T>(fn: () => T, prefix: string): T {
    try {
        return fn();
    } catch (err) {
        if (err instanceof InputError) {
            throw new UsageError(`${prefix}: ${err.message}`);
        }
        throw err;
    }
}

/**
 * Parses and validates `argv` (without `node` and the script). Throws {@link UsageError} with one
 * line naming the flag and what is allowed.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
    const [group, action, ...rest] = argv;
    if (group === undefined || group === "-h" || group === "--help" || group === "help") {
        return { kind: "help", text: mainHelp() };
    }
    if (group === "--version" || group === "-v") {
        return { kind: "version" };
    }
    const groups = [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]))];
    if (!groups.includes(group)) {
        throw new UsageError(`catalyst: unknown command "${group}"; commands: ${groups.join(", ")} (see catalyst --help)`);
    }
    const actions = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.split(" ")[1]);
    if (action === undefined || action === "-h" || action === "--help") {
        return { kind: "help", text: COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map(commandHelp).join("\n\n---\n\n") };
    }
    const spec = COMMANDS.find((c) => c.name === `${group} ${action}`);
    if (!spec) {
        throw new UsageError(`catalyst ${group}: unknown command "${action}"; allowed: ${actions.join(", ")} (see catalyst ${group} --help)`);
    }
    const prefix = `catalyst ${spec.name}`;
    if (rest.includes("-h") || rest.includes("--help")) {
        return { kind: "help", text: commandHelp(spec) };
    }
    let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
    try {
        parsed = parseArgs({
            args: joinValues(rest, spec),
            options: Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: o.type }])),
            allowPositionals: true,
            strict: true,
        }) as typeof parsed;
    } catch (err) {
        throw new UsageError(`${prefix}: ${describeParseError(err as Error & { code?: string }, spec)}`);
    }
    const { values, positionals } = parsed;
    const expected = spec.positional ? 1 : 0;
    if (positionals.length > expected) {
        throw new UsageError(`${prefix}: unexpected argument "${positionals[expected]}" (see ${prefix} --help)`);
    }
    if (spec.positional && positionals.length === 0) {
        throw new UsageError(`${prefix}: <${spec.positional.name}> is required: ${spec.positional.description}`);
    }
    for (const [name, option] of Object.entries(spec.options)) {
        if (option.required && values[name] === undefined) {
            const what = option.description.charAt(0).toLowerCase() + option.description.slice(1);
            throw new UsageError(`${prefix}: --${name} is required: ${what}`);
        }
        if (option.type === "string" && values[name] === "" && name !== "open-prs") {
            throw new UsageError(`${prefix}: --${name} must not be empty`);
        }
    }
    const str = (name: string) => values[name] as string | undefined;
    const invocation: Invocation = { command: spec.name, json: values.json === true };
    const at = (name: string) => `--${name}`;
    if (str("pr") !== undefined) invocation.pr = field(() => parsePr(str("pr"), at("pr")), prefix);
    if (str("branch") !== undefined) invocation.branch = field(() => parseBranch(str("branch"), at("branch")), prefix);
    if (str("sha") !== undefined) invocation.sha = field(() => parseSha(str("sha"), at("sha")), prefix);
    if (str("image") !== undefined) invocation.image = field(() => parseImage(str("image"), at("image")), prefix);
    if (str("ttl") !== undefined) invocation.ttlMs = field(() => parseDurationInput(str("ttl"), at("ttl")), prefix);
    if (str("owners") !== undefined) invocation.owners = field(() => parseOwners(str("owners"), at("owners")), prefix);
    if (str("wait") !== undefined) invocation.waitMs = field(() => parseDurationInput(str("wait"), at("wait")), prefix);
    if (str("timeout") !== undefined) {
        invocation.timeoutMs = field(() => parseDurationInput(str("timeout"), at("timeout")), prefix);
        if (invocation.timeoutMs === 0) {
            throw new UsageError(`${prefix}: --timeout: must be longer than 0`);
        }
    }
    if (str("stack") !== undefined) invocation.platformStack = field(() => platformTarget(str("stack"), at("stack")).stack, prefix);
    if (str("open-prs") !== undefined) invocation.openPrs = field(() => parseOpenPrs(str("open-prs") as string), prefix);
    if (values["dry-run"] === true) invocation.dryRun = true;
    if (values["delete-orphan-namespaces"] === true) invocation.deleteOrphanNamespaces = true;
    if (values.yes === true) invocation.yes = true;
    if (spec.positional) {
        invocation.name = field(() => environmentTarget(positionals[0], `<${spec.positional?.name}>`).stack, prefix);
        if (spec.name === "env down" && (invocation.name === "production" || invocation.name === "staging") && !invocation.yes) {
            throw new UsageError(`${prefix}: destroying ${invocation.name} needs --yes`);
        }
    }
    return { kind: "run", invocation };
}

/** `github`, or a comma-separated list of PR numbers (possibly empty: no PR is open). */
function parseOpenPrs(value: string): number[] | "github" {
    if (value.trim() === "github") {
        return "github";
    }
    const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    return items.map((item) => {
        try {
            return parsePr(item, "--open-prs");
        } catch {
            throw new InputError("--open-prs", `must be pull request numbers separated by commas, or github; got ${JSON.stringify(value)}`);
        }
    });
}

function describeParseError(err: Error & { code?: string }, spec: CommandSpec): string {
    const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? "";
    const name = flag.replace(/^-+/, "");
    switch (err.code) {
        case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
            return `unknown option ${flag}; see catalyst ${spec.name} --help`;
        case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
            return spec.options[name]?.type === "boolean" ? `--${name} takes no value` : `--${name} needs a value`;
        default:
            return err.message.split("\n")[0];
    }
}

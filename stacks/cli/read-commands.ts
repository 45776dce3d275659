import { DEFAULT_OPERATIONS_LIMIT, MAX_OPERATIONS_LIMIT, parseOperationsLimit } from "../automation/history";
import { stackTarget } from "../automation/validation";
import { AnyCommand, defineCommand, EXIT, OptionSpec } from "../command";
import type { CliDependencies } from "./commands";
import { describeOperations, describeResources } from "./render";
import { json, session } from "./session";

/**
 * `env history` and `env resources`: reads of any stack of the project (previews, named
 * environments, the platform) from the engine's own records, one `pulumi` process each.
 */

// `name`, not `stack`: session() reads `stack` as the platform stack to run with.
interface HistoryInput {
    name: string;
    limit?: number;
    json: boolean;
}
interface ResourcesInput {
    name: string;
    json: boolean;
}

const anyStack: OptionSpec<string> = {
    value: "<stack>",
    positional: true,
    description: "Any stack of the project: pr-<n>, production, staging, dev-<user>, or the platform stack",
    parse: (text, flag) => stackTarget(text, flag).stack,
};

/** Prints what a read found as `{stack, <key>: value}` (exit 0), or that the stack does not exist (exit 1). */
function printRead<T>(print: (value: unknown, human: string) => void, stack: string, key: string, value: T | undefined, describe: (stack: string, value: T) => string): number {
    if (value === undefined) {
        print({ stack, exists: false }, `${stack}: no such stack\n`);
        return EXIT.failed;
    }
    print({ stack, [key]: value }, describe(stack, value));
    return EXIT.ok;
}

/** The read commands, in the group `group` (the `env` commands' help line). */
export function readCommands(deps: CliDependencies, group: string): AnyCommand[] {
    return [
        defineCommand<HistoryInput>({
            name: "env history",
            group,
            summary: "Show a stack's last operations from the engine's own history: kind, result, start, duration, resource changes, and what started them.",
            options: {
                name: anyStack,
                limit: { value: "<n>", description: `How many, newest first (default ${DEFAULT_OPERATIONS_LIMIT}, max ${MAX_OPERATIONS_LIMIT})`, parse: (text, flag) => parseOperationsLimit(text, flag) },
                json,
            },
            notes: ["Every operation the backend recorded, whoever ran it (this CLI, CI, the API, the controller, pulumi itself). Exits 1 when the stack does not exist."],
            run: (input, context) => session(deps, context, "env history", input, async (automation, _call, print) =>
                printRead(print, input.name, "operations", await automation.environmentOperations(input.name, input.limit), describeOperations)),
        }),
        defineCommand<ResourcesInput>({
            name: "env resources",
            group,
            summary: "List the resources a stack's state holds: type, name, URN, parent, provider (never inputs or outputs).",
            options: { name: anyStack, json },
            notes: ["Exits 1 when the stack does not exist."],
            run: (input, context) => session(deps, context, "env resources", input, async (automation, _call, print) =>
                printRead(print, input.name, "resources", await automation.environmentResources(input.name), describeResources)),
        }),
    ];
}

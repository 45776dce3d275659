import type { Automation, CallOptions } from "../automation/operations";
import type { OperationResult } from "../automation/types";
import { environmentTarget, InputError, parseBranch, parseDurationInput, parseImage, parsePr, parseSha, platformTarget } from "../automation/validation";
import { CommandContext, EXIT, OptionSpec, UsageError } from "../command";
import type { CliDependencies } from "./commands";
import { describeResult, LiveReporter, PlainReporter, Reporter } from "./render";

/**
 * One CLI command's run in direct mode: its automation layer, progress reporter, output and
 * error handling, and the options several commands share: used by the stack commands
 * (commands.ts) and the GitHub adapter (github-commands.ts).
 */

// Options shared by several commands.
export const json: OptionSpec<boolean> = { description: "Print exactly one JSON object on stdout at the end; progress goes to stderr" };
export const duration = (description: string): OptionSpec<number> => ({ value: "<duration>", description, parse: (text, flag) => parseDurationInput(text, flag) });
export const timeout: OptionSpec<number> = {
    value: "<duration>",
    description: "Stop the operation after this long: SIGINT, then SIGKILL, then recovery (default 30m)",
    parse: (text, flag) => {
        const ms = parseDurationInput(text, flag);
        if (ms === 0) throw new InputError(flag, "must be longer than 0");
        return ms;
    },
};
export const wait = duration("How long to wait while another operation holds the stack; 0: answer busy at once (default 10m)");
export const stack: OptionSpec<string> = {
    value: "<stack>",
    description: "The platform stack: platform, or dev for the local default (default: CATALYST_PLATFORM_STACK, else dev)",
    parse: (text, flag) => platformTarget(text, flag).stack,
};
export const pr: OptionSpec<number> = { value: "<n>", description: "Pull request number", required: true, parse: (text, flag) => parsePr(text, flag) };
export const environment: OptionSpec<string> = {
    value: "<name>",
    positional: true,
    description: "production, staging or dev-<user>",
    parse: (text, flag) => environmentTarget(text, flag).stack,
};
export const sha: OptionSpec<string> = { value: "<sha>", description: "Commit SHA (7 to 40 hex digits)", parse: (text, flag) => parseSha(text, flag) };
export const image: OptionSpec<string> = { value: "<image>", description: "Image to run, pinned by tag or digest", parse: (text, flag) => parseImage(text, flag) };
export const branch: OptionSpec<string> = { value: "<branch>", description: "Branch being deployed (git branch name, ASCII)", parse: (text, flag) => parseBranch(text, flag) };


/** The exit code of an operation's status: 0 succeeded, 1 failed, 3 busy or timed out. */
export function exitCode(status: OperationResult["status"]): number {
    return status === "succeeded" ? EXIT.ok : status === "failed" ? EXIT.failed : EXIT.busy;
}

/** One command's run: its automation, reporter and output helpers, and error handling. */
export async function session(
    deps: CliDependencies,
    context: CommandContext,
    name: string,
    input: { json: boolean; timeout?: number; wait?: number; stack?: string },
    body: (automation: Automation, call: CallOptions, print: (value: unknown, human: string) => void) => Promise<number>,
): Promise<number> {
    const { io } = context;
    let automation: Automation;
    try {
        automation = await deps.automation(input.stack);
    } catch (err) {
        io.stderr(`catalyst ${name}: ${(err as Error).message.split("\n")[0]}\n`);
        return EXIT.failed;
    }
    const reporter: Reporter = io.tty ? new LiveReporter(io.tty) : new PlainReporter(io.stderr);
    const call: CallOptions = { onEvent: (e) => reporter.event(e), timeoutMs: input.timeout, lockTimeoutMs: input.wait, signal: context.signal };
    const print = (value: unknown, human: string) => {
        reporter.close();
        io.stdout(input.json ? `${JSON.stringify(value)}\n` : human);
    };
    try {
        return await body(automation, call, print);
    } catch (err) {
        reporter.close();
        io.stderr(`catalyst ${name}: ${(err as Error).message.split("\n")[0]}\n`);
        return err instanceof UsageError || (err as Error).name === "InputError" ? EXIT.usage : EXIT.failed;
    }
}

/** Prints an operation's result and gives its exit code. */
export function finish(print: (value: unknown, human: string) => void, result: OperationResult): number {
    print(result, `${describeResult(result)}\n`);
    return exitCode(result.status);
}


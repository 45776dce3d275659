import { Command, CommanderError, Option } from "commander";

/**
 * The command-line kit every front end declares its commands with (the CLI's stack commands,
 * `serve`, `mcp`, and later `controller`); stacks/main.ts composes them into one program. A command
 * is a table: its options, each with the text-to-value parser that validates it, and a handler
 * typed by the same input interface. The table must name exactly the keys of that interface (a
 * flag nothing reads is an excess property, a key the handler reads but the table lacks is a
 * missing one: both fail to compile). commander (a well-kept parser, pinned in package.json)
 * parses, refuses unknown options and generates `--help` from the table.
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

/** One option (or, with `positional`, the one argument) of a command. */
export interface OptionSpec<T> {
    description: string;
    /** Placeholder of the value in help (`<n>`); without it the option is a boolean flag. */
    value?: string;
    /** Turns the text into the typed value; throws with the reason (the flag is named for it). */
    parse?: (text: string, flag: string) => T;
    required?: boolean;
    /** The value when the option is not given. */
    default?: T;
    /** The command's positional argument rather than a `--flag`. */
    positional?: boolean;
    /** Whether an empty string is a value (otherwise refused). */
    allowEmpty?: boolean;
}

/** The option table of a command whose handler takes `I`: exactly one spec per key of `I`. */
export type OptionTable<I> = { [K in keyof I]-?: OptionSpec<NonNullable<I[K]>> };

/** Where a command writes, and the signal that stops it; tests pass their own. */
export interface CommandIo {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    /** The stream for a live display, when stderr is a terminal. */
    tty?: NodeJS.WriteStream;
}

/** What a handler gets besides its input. */
export interface CommandContext {
    io: CommandIo;
    signal?: AbortSignal;
}

/** One command: `preview up`, `serve`. */
export interface CommandSpec<I> {
    /** Words of the command (`preview up`). */
    name: string;
    summary: string;
    options: OptionTable<I>;
    /** For a command of several words: the help line of its group (`preview`). */
    group?: string;
    /** Extra paragraphs for `--help`. */
    notes?: string[];
    /** Runs the command; resolves with the exit code. */
    run: (input: I, context: CommandContext) => Promise<number>;
}

/** A command of any input, as the program holds them. */
export interface AnyCommand {
    name: string;
    /** For a command of several words: the help line of its group (`preview`). */
    group?: string;
    summary: string;
    options: Record<string, OptionSpec<unknown>>;
    notes?: string[];
    run: (input: never, context: CommandContext) => Promise<number>;
}

/** Declares a command; `I` names the handler's input, and the table must match it exactly. */
export function defineCommand<I>(spec: CommandSpec<I>): AnyCommand {
    return spec as unknown as AnyCommand;
}

/** `openPrs` -> `--open-prs`. */
export function flagOf(key: string): string {
    return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function parseValue(prefix: string, key: string, spec: OptionSpec<unknown>, raw: unknown): unknown {
    const flag = spec.positional ? (spec.value ?? `<${key}>`) : flagOf(key);
    if (spec.value === undefined) return raw === true;
    if (raw === undefined) return spec.default;
    if (typeof raw !== "string") return raw;
    if (raw === "" && !spec.allowEmpty) throw new UsageError(`${prefix}: ${flag} must not be empty`);
    if (spec.parse === undefined) return raw;
    try {
        return spec.parse(raw, flag);
    } catch (err) {
        const message = (err as Error).message;
        throw new UsageError(`${prefix}: ${message.startsWith(flag) ? message : `${flag}: ${message}`}`);
    }
}

const FOOTER = ["", "Durations: 30m, 72h, 7d, 1h30m (units s, m, h, d, w).", EXIT_HELP].join("\n");

/** Adds `spec` to `program` under its words, creating the group commands (`preview`) on the way. */
function addCommand(program: Command, spec: AnyCommand, context: CommandContext, done: (code: number) => void): void {
    const words = spec.name.split(" ");
    let parent = program;
    for (const word of words.slice(0, -1)) {
        const group = `catalyst ${words.slice(0, words.indexOf(word) + 1).join(" ")}`;
        parent = parent.commands.find((c) => c.name() === word) ??
            parent.command(word).description(spec.group ?? `${word} commands`).configureOutput({ outputError: (text, write) => write(`${group}: ${text.replace(/^error: /, "")}`) });
    }
    const command = parent.command(words[words.length - 1]).description(spec.summary);
    const prefix = `catalyst ${spec.name}`;
    const positional = Object.entries(spec.options).find(([, o]) => o.positional);
    if (positional) {
        const [key, option] = positional;
        command.argument(option.value ?? `<${key}>`, option.description);
    }
    for (const [key, option] of Object.entries(spec.options)) {
        if (option.positional) continue;
        const flags = option.value === undefined ? flagOf(key) : `${flagOf(key)} ${option.value}`;
        const entry = new Option(flags, option.description);
        if (option.required) entry.makeOptionMandatory();
        command.addOption(entry);
    }
    command.addHelpText("after", [...(spec.notes ?? []).map((note) => `\n${note}`), FOOTER].join("\n"));
    command.configureOutput({ outputError: (text, write) => write(`${prefix}: ${text.replace(/^error: /, "")}`) });
    command.action(async (...args: unknown[]) => {
        const values = command.opts<Record<string, unknown>>();
        const input: Record<string, unknown> = {};
        for (const [key, option] of Object.entries(spec.options)) {
            input[key] = parseValue(prefix, key, option, option.positional ? args[0] : values[key]);
        }
        done(await spec.run(input as never, context));
    });
}

/**
 * The `catalyst` program over `commands`: parses `argv` (without node and the script), runs the
 * command and resolves with its exit code. Bad input exits 2 before anything is created.
 */
export async function runProgram(commands: readonly AnyCommand[], argv: readonly string[], context: CommandContext, about: { version: string; description: string }): Promise<number> {
    const { io } = context;
    const program = new Command("catalyst")
        .description(about.description)
        .version(`catalyst ${about.version}`, "-v, --version")
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(`catalyst: ${text.replace(/^error: /, "")}`) })
        .showSuggestionAfterError(true)
        .exitOverride()
        .addHelpText("after", `\nRun \`catalyst <command> --help\` for a command's options.\n${EXIT_HELP}`);
    let code: number = EXIT.ok;
    for (const spec of commands) addCommand(program, spec, context, (c) => (code = c));
    // Every command inherits the same error handling; commander copies settings only at creation.
    const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
    for (const command of all(program)) command.exitOverride();
    if (argv.length === 0) {
        io.stdout(program.helpInformation());
        return EXIT.ok;
    }
    try {
        await program.parseAsync([...argv], { from: "user" });
        return code;
    } catch (err) {
        if (err instanceof CommanderError) {
            // Help and version are answers, not errors; a group without its subcommand shows help.
            if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.ok;
            if (err.code === "commander.help") return EXIT.usage;
            return EXIT.usage;
        }
        if (err instanceof UsageError) {
            io.stderr(`${err.message}\n`);
            return EXIT.usage;
        }
        throw err;
    }
}

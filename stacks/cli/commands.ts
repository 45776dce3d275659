import type { Automation } from "../automation/operations";
import { InputError, parseDurationInput, parseOwners, parsePr } from "../automation/validation";
import { AnyCommand, CommandContext, defineCommand, EXIT, OptionSpec, UsageError } from "../command";
import type { EnvironmentResources } from "../resources/client";
import { CONTROL_PLANE_ENV, CONTROL_PLANE_PROJECT_ENV, controlPlaneNamespace, controlPlaneProject, parseResourceName } from "../resources/client";
import { githubCommands } from "./github-commands";
import { readCommands } from "./read-commands";
import { describeAutoSleep, describeGc, describeRecords, describeStatus } from "./render";
import { parseSleepSchedule, SleepSchedule } from "../automation/idle";
import { describeResourcePreviews, listResourcePreviews, resourcePreviewDown, resourcePreviewUp } from "./resources";
import { branch, duration, environment, finish, image, json, pr, session, sha, stack, timeout, wait } from "./session";

/**
 * The CLI front end: the stack commands (preview, env, platform), each a typed table over the
 * automation library. Values are validated by the library's own parsers before anything runs.
 * `preview up|down|list` have two modes: direct (the default: run the stack on this machine) and,
 * with a control-plane namespace, resource mode (write Environment resources, ./resources.ts).
 */

/** How the commands get their automation layer and Environment resources; tests pass fakes. */
export interface CliDependencies {
    automation: (platformStack?: string) => Promise<Automation>;
    resources: (namespace: string) => Promise<EnvironmentResources>;
    /** Where CATALYST_CONTROL_PLANE_NAMESPACE and CATALYST_CONTROL_PLANE_PROJECT are read (default process.env). */
    env?: NodeJS.ProcessEnv;
}

const controlPlane: OptionSpec<string> = {
    value: "<namespace>",
    description: `Resource mode: write the Environment resource in this namespace and wait for \`catalyst controller\` instead of running the stack here (default: ${CONTROL_PLANE_ENV}; unset: direct mode)`,
    parse: (text, flag) => parseResourceName(text, flag),
};
const project: OptionSpec<string> = {
    value: "<name>",
    description: `Resource mode: the Project of the Environment (default: ${CONTROL_PLANE_PROJECT_ENV}, else default); another Project's preview is Environment pr-<n>--<project>`,
    parse: (text, flag) => controlPlaneProject(text, {}, flag),
};
const resourceTimeout: OptionSpec<number> = { ...timeout, description: `${timeout.description}; in resource mode: how long to wait for the controller` };
const RESOURCE_NOTE = `With --control-plane or ${CONTROL_PLANE_ENV} (resource mode) the command writes or reads Environment resources through KUBECONFIG and waits on their status; --timeout bounds the wait (default 30m). See docs/cli.md.`;

const PREVIEW = "Preview environments of pull requests: up, down, sleep, wake, list, gc";
const ENV = "Named environments (production, staging, dev-<user>): up, down, status; any stack's history and resources";
const PLATFORM = "The platform stack: up, down, status";

/** Options of every operation that changes a stack. */
interface OperationInput {
    json: boolean;
    timeout?: number;
    wait?: number;
}

interface PreviewUpInput extends OperationInput {
    pr: number;
    branch: string;
    sha?: string;
    image?: string;
    ttl?: number;
    owners?: string[];
    controlPlane?: string;
    project?: string;
}
interface PreviewDownInput extends OperationInput {
    pr: number;
    controlPlane?: string;
    project?: string;
}
interface PreviewSleepInput extends OperationInput {
    pr: number;
}
interface ListInput {
    json: boolean;
    controlPlane?: string;
}
interface PreviewGcInput {
    ttl?: number;
    sleepIdle?: number;
    sleepSchedule?: SleepSchedule;
    ingressMetrics?: string;
    openPrs?: number[] | "github";
    dryRun: boolean;
    deleteOrphanNamespaces: boolean;
    timeout?: number;
    json: boolean;
}
interface EnvUpInput extends OperationInput {
    name: string;
    image?: string;
    sha?: string;
    branch?: string;
}
interface EnvDownInput extends OperationInput {
    name: string;
    yes: boolean;
}
interface EnvStatusInput {
    name: string;
    json: boolean;
}
interface PlatformInput extends OperationInput {
    stack?: string;
}
interface PlatformStatusInput {
    stack?: string;
    json: boolean;
}

/** `github`, or a comma-separated list of PR numbers (possibly empty: no PR is open). */
function parseOpenPrs(value: string, flag: string): number[] | "github" {
    if (value.trim() === "github") {
        return "github";
    }
    const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    return items.map((item) => {
        try {
            return parsePr(item, flag);
        } catch {
            throw new InputError(flag, `must be pull request numbers separated by commas, or github; got ${JSON.stringify(value)}`);
        }
    });
}

/**
 * The control-plane namespace of a preview command (undefined: direct mode), refusing the flags
 * of the other mode by name.
 */
function resourceMode(deps: CliDependencies, name: string, input: { controlPlane?: string; project?: string; wait?: number }): string | undefined {
    let namespace: string | undefined;
    try {
        namespace = controlPlaneNamespace(input.controlPlane, deps.env ?? process.env);
    } catch (err) {
        throw new UsageError(`catalyst ${name}: ${(err as Error).message}`);
    }
    if (namespace === undefined && input.project !== undefined) {
        throw new UsageError(`catalyst ${name}: --project needs resource mode (--control-plane <namespace> or ${CONTROL_PLANE_ENV})`);
    }
    if (namespace !== undefined && input.wait !== undefined) {
        throw new UsageError(`catalyst ${name}: --wait applies to direct mode only; in resource mode the controller queues the work and --timeout bounds the wait`);
    }
    return namespace;
}

/** One command's run in resource mode: its Environment resources and error handling. */
async function resourceSession(deps: CliDependencies, context: CommandContext, name: string, namespace: string, body: (resources: EnvironmentResources) => Promise<number>): Promise<number> {
    try {
        return await body(await deps.resources(namespace));
    } catch (err) {
        context.io.stderr(`catalyst ${name}: ${(err as Error).message.split("\n")[0]}\n`);
        // 422: the API server's schema or CEL rules refused the spec, naming the field: bad input too.
        const refused = (err as { status?: number }).status === 422;
        return (err as Error).name === "InputError" || refused ? EXIT.usage : EXIT.failed;
    }
}

/** The CLI's commands over `deps`. */
export function cliCommands(deps: CliDependencies): AnyCommand[] {
    return [
        defineCommand<PreviewUpInput>({
            name: "preview up",
            group: PREVIEW,
            summary: "Create or update the preview environment of a pull request (stack pr-<n>) from Pulumi.pr.yaml.",
            options: {
                pr,
                branch: { ...branch, description: "The pull request's head branch (git branch name, ASCII)", required: true },
                sha: { ...sha, description: "Head commit SHA (7 to 40 hex digits)" },
                image: { ...image, description: "Image to run, pinned by tag or digest (default: the template's catalyst:image)" },
                ttl: duration("Time to live from this update, e.g. 72h or 7d (default 72h); gc destroys it afterwards"),
                owners: { value: "<users>", description: "GitHub users who own the preview, comma-separated", parse: (text, flag) => parseOwners(text, flag) },
                json,
                timeout: resourceTimeout,
                wait,
                controlPlane,
                project,
            },
            notes: [
                "Idempotent: running it again with the same values reports no changes. A second call for the same PR waits for the first (see --wait).",
                `${RESOURCE_NOTE} Creates or patches Environment pr-<n> (pr-<n>--<project> for a Project other than default; options left out are removed from its spec) and waits until it is Ready at its new generation (the URL is printed), Stalled, or refused.`,
            ],
            run: async (input, context) => {
                const namespace = resourceMode(deps, "preview up", input);
                if (namespace !== undefined) {
                    return resourceSession(deps, context, "preview up", namespace, (resources) => resourcePreviewUp(resources, {
                        pr: input.pr, branch: input.branch, sha: input.sha, image: input.image, ttlMs: input.ttl, owners: input.owners,
                        project: controlPlaneProject(input.project, deps.env ?? process.env), timeoutMs: input.timeout, json: input.json,
                    }, context));
                }
                return session(deps, context, "preview up", input, async (automation, call, print) =>
                    finish(print, await automation.upPreview({
                        pr: input.pr, branch: input.branch, sha: input.sha, image: input.image, ttl: input.ttl, owners: input.owners,
                    }, call)));
            },
        }),
        defineCommand<PreviewDownInput>({
            name: "preview down",
            group: PREVIEW,
            summary: "Destroy the preview of a pull request and remove its stack. A preview that does not exist is a successful no-op.",
            options: { pr, json, timeout: resourceTimeout, wait, controlPlane, project },
            notes: [`${RESOURCE_NOTE} Deletes Environment pr-<n> (pr-<n>--<project> with --project) and waits until the controller destroyed its stack and the Environment is gone.`],
            run: async (input, context) => {
                const namespace = resourceMode(deps, "preview down", input);
                if (namespace !== undefined) {
                    return resourceSession(deps, context, "preview down", namespace, (resources) => resourcePreviewDown(resources, {
                        pr: input.pr, project: controlPlaneProject(input.project, deps.env ?? process.env), timeoutMs: input.timeout, json: input.json,
                    }, context));
                }
                return session(deps, context, "preview down", input, async (automation, call, print) =>
                    finish(print, await automation.destroyPreview(input.pr, call)));
            },
        }),
        ...(["sleep", "wake"] as const).map((verb) => defineCommand<PreviewSleepInput>({
            name: `preview ${verb}`,
            group: PREVIEW,
            summary: verb === "sleep"
                ? "Put a preview to sleep: every Deployment and StatefulSet to zero replicas; volumes, Secrets, the database and the URL stay, and the URL shows the platform's sleeping page."
                : "Wake a sleeping preview: the replica counts come back as configured.",
            options: { pr, json, timeout, wait },
            notes: [
                verb === "sleep"
                    ? "An ordinary update of the stack with catalyst:sleep set: later `preview up` runs keep it asleep and report no changes; `preview list` shows Sleeping since <time>. Already asleep: a succeeded no-op."
                    : "Already awake: a succeeded no-op.",
                "Runs the stack on this machine (direct mode). Under the controller, set the Environment's spec.sleep instead (true, false, or unset to leave it as it is).",
            ],
            run: (input, context) => session(deps, context, `preview ${verb}`, input, async (automation, call, print) =>
                finish(print, await (verb === "sleep" ? automation.sleepPreview(input.pr, {}, call) : automation.wakePreview(input.pr, call)))),
        })),
        defineCommand<ListInput>({
            name: "preview list",
            group: PREVIEW,
            summary: "List preview stacks with their tags (PR, branch, SHA, owner, created, expires, URL).",
            options: { json, controlPlane },
            notes: [`${RESOURCE_NOTE} Lists the preview Environments of the namespace with their status (ready, progressing, failed, ...) and URL.`],
            run: async (input, context) => {
                const namespace = resourceMode(deps, "preview list", input);
                if (namespace !== undefined) {
                    return resourceSession(deps, context, "preview list", namespace, async (resources) => {
                        const previews = await listResourcePreviews(resources);
                        context.io.stdout(input.json ? `${JSON.stringify({ namespace, previews })}\n` : describeResourcePreviews(previews, namespace));
                        return EXIT.ok;
                    });
                }
                return session(deps, context, "preview list", input, async (automation, _call, print) => {
                    const previews = await automation.listPreviews();
                    print({ previews }, describeRecords(previews));
                    return EXIT.ok;
                });
            },
        }),
        defineCommand<PreviewGcInput>({
            name: "preview gc",
            group: PREVIEW,
            summary: "Destroy previews that expired or whose pull request is closed, always through Pulumi; optionally put idle previews to sleep and apply a sleep schedule.",
            options: {
                ttl: duration("Also destroy previews with no update for this long (0: all previews)"),
                openPrs: {
                    value: "<list>",
                    description: "Open pull requests, comma-separated (previews of other PRs are destroyed), or 'github' to ask the GitHub API (GITHUB_TOKEN, GITHUB_REPOSITORY)",
                    parse: parseOpenPrs,
                    allowEmpty: true,
                },
                sleepIdle: duration("Also put previews to sleep after this long without a deploy or a request through their Ingress (default: CATALYST_SLEEP_IDLE; unset: never)"),
                sleepSchedule: {
                    value: "<sleep>;<wake>[;<tz>]",
                    description: "Also sleep previews between a sleep and a wake time, two cron expressions, e.g. \"0 20 * * 1-5; 0 7 * * 1-5; Europe/Berlin\" for nights and weekends (default: CATALYST_SLEEP_SCHEDULE)",
                    parse: (text, flag) => parseSleepSchedule(text, flag),
                },
                ingressMetrics: { value: "<url>", description: "The ingress controller's Prometheus metrics, for --sleep-idle (default: CATALYST_INGRESS_METRICS_URL)" },
                dryRun: { description: "Only report what would be destroyed (and put to sleep or woken)" },
                deleteOrphanNamespaces: { description: "Also delete namespaces labelled catalyst.dev/type=preview that no stack owns (otherwise only reported)" },
                timeout: { ...timeout, description: "Stop each destroy after this long: SIGINT, then SIGKILL, then recovery (default 30m)" },
                json,
            },
            notes: ["A failed lookup of open pull requests changes nothing and exits 1; so does a failed delete of an orphan namespace."],
            run: (input, context) => session(deps, context, "preview gc", input, async (automation, call, print) => {
                const lookup = input.openPrs === "github" ? async () => (await import("./github")).openPullRequests() : input.openPrs;
                const report = await automation.collectGarbage({
                    ttlMs: input.ttl,
                    openPullRequests: lookup,
                    dryRun: input.dryRun,
                    deleteOrphanNamespaces: input.deleteOrphanNamespaces,
                    timeoutMs: input.timeout,
                    onEvent: call.onEvent,
                });
                const env = deps.env ?? process.env;
                const idleMs = input.sleepIdle ?? (env.CATALYST_SLEEP_IDLE ? parseDurationInput(env.CATALYST_SLEEP_IDLE, "CATALYST_SLEEP_IDLE") : undefined);
                const schedule = input.sleepSchedule ?? (env.CATALYST_SLEEP_SCHEDULE ? parseSleepSchedule(env.CATALYST_SLEEP_SCHEDULE, "CATALYST_SLEEP_SCHEDULE") : undefined);
                const sleep = idleMs === undefined && schedule === undefined ? undefined : await automation.autoSleep({
                    idleMs, schedule, dryRun: input.dryRun, metricsUrl: input.ingressMetrics ?? env.CATALYST_INGRESS_METRICS_URL, onEvent: call.onEvent, timeoutMs: input.timeout,
                });
                print(sleep === undefined ? report : { ...report, sleep }, describeGc(report) + (sleep === undefined ? "" : describeAutoSleep(sleep)));
                const sleepFailed = sleep !== undefined && (sleep.errors.length > 0 || sleep.actions.some((a) => a.status !== undefined && a.status !== "succeeded"));
                if (report.status === "succeeded") return sleepFailed ? EXIT.failed : EXIT.ok;
                const statuses = report.destroyed.map((r) => r.status);
                return statuses.includes("failed") || report.destroyed.length === 0 ? EXIT.failed : EXIT.busy;
            }),
        }),
        defineCommand<EnvUpInput>({
            name: "env up",
            group: ENV,
            summary: "Create or update a named environment: production, staging or dev-<user> (config from Pulumi.<name>.yaml when present).",
            options: {
                name: environment,
                image: { ...image, description: "Image to deploy, pinned by tag or digest" },
                sha: { ...sha, description: "Commit SHA being deployed" },
                branch,
                json,
                timeout,
                wait,
            },
            run: (input, context) => session(deps, context, "env up", input, async (automation, call, print) =>
                finish(print, await automation.up(input.name, { image: input.image, sha: input.sha, branch: input.branch }, call))),
        }),
        defineCommand<EnvDownInput>({
            name: "env down",
            group: ENV,
            summary: "Destroy a named environment's resources; the empty stack and its history are kept.",
            options: { name: environment, yes: { description: "Required to destroy production or staging" }, json, timeout, wait },
            run: async (input, context) => {
                if ((input.name === "production" || input.name === "staging") && !input.yes) {
                    throw new UsageError(`catalyst env down: destroying ${input.name} needs --yes`);
                }
                return session(deps, context, "env down", input, async (automation, call, print) => finish(print, await automation.destroy(input.name, call)));
            },
        }),
        defineCommand<EnvStatusInput>({
            name: "env status",
            group: ENV,
            summary: "Show a named environment: tags, outputs (secrets masked), last update, pending operations.",
            options: { name: environment, json },
            notes: ["Exits 1 when the environment does not exist."],
            run: (input, context) => session(deps, context, "env status", input, async (automation, _call, print) => {
                const status = await automation.status(input.name);
                if (status === undefined) {
                    print({ stack: input.name, exists: false }, `${input.name}: no such stack\n`);
                    return EXIT.failed;
                }
                print({ ...status, exists: true }, describeStatus(status));
                return EXIT.ok;
            }),
        }),
        defineCommand<PlatformInput>({
            name: "platform up",
            group: PLATFORM,
            summary: "Create or update the platform stack (config from Pulumi.<stack>.yaml, else Pulumi.dev.yaml).",
            options: { stack, json, timeout, wait },
            notes: ["Charts: catalyst:charts.<chart> on the stack, else CATALYST_CHART_MIRROR (a directory of <chart>-<version>.tgz), else the upstream Helm repository."],
            run: (input, context) => session(deps, context, "platform up", input, async (automation, call, print) => finish(print, await automation.upPlatform(call))),
        }),
        defineCommand<PlatformInput>({
            name: "platform down",
            group: PLATFORM,
            summary: "Destroy the platform; refused while any environment stack still holds resources.",
            options: { stack, json, timeout, wait },
            run: (input, context) => session(deps, context, "platform down", input, async (automation, call, print) => finish(print, await automation.destroyPlatform(call))),
        }),
        defineCommand<PlatformStatusInput>({
            name: "platform status",
            group: PLATFORM,
            summary: "Show the platform stack: outputs (secrets masked), last update, pending operations.",
            options: { stack, json },
            notes: ["Exits 1 when the platform stack does not exist."],
            run: (input, context) => session(deps, context, "platform status", input, async (automation, _call, print) => {
                const status = await automation.platformStatus();
                if (status === undefined) {
                    print({ stack: automation.platformStack, exists: false }, `${automation.platformStack}: no such stack\n`);
                    return EXIT.failed;
                }
                print({ ...status, exists: true }, describeStatus(status));
                return EXIT.ok;
            }),
        }),
        ...readCommands(deps, ENV),
        ...githubCommands(deps),
    ];
}

/**
 * Which pull-request events get a preview (issue 17 section 3): not a draft (marking it ready
 * for review creates it), the label gate when one is configured, and not a change of
 * documentation only. Pure; the preview workflow asks it through `catalyst github gate` in a job
 * of its own, so that a skipped preview is a skipped job (a passing check) rather than a
 * workflow that never ran (a required check left pending, as `paths-ignore` would leave it).
 */

/** The `pull_request` actions that may deploy; `closed` destroys and is not gated. */
export const DEPLOY_ACTIONS = ["opened", "synchronize", "reopened", "ready_for_review", "labeled"] as const;

/** Where the label gate is configured: the name of the label, unset or empty for no gate. */
export const PREVIEW_LABEL_ENV = "CATALYST_PREVIEW_LABEL";
/** Where the documentation patterns are configured: globs separated by commas or new lines. */
export const PREVIEW_IGNORE_ENV = "CATALYST_PREVIEW_IGNORE";

/** Files whose change alone deploys nothing, by default. */
export const DEFAULT_IGNORED_PATHS = ["docs/**", "**/*.md", "LICENSE", "LICENSE.*", ".github/ISSUE_TEMPLATE/**"];

/** The part of GitHub's `pull_request` event payload the gate reads. */
export interface PullRequestEvent {
    action: string;
    /** The label added, for `labeled`. */
    label?: { name: string };
    pull_request: { number: number; draft?: boolean; labels?: { name: string }[] };
}

/** The gate's settings. */
export interface GateSettings {
    /** Only pull requests with this label get a preview; undefined: every pull request. */
    label?: string;
    /** Globs of files that deploy nothing (default {@link DEFAULT_IGNORED_PATHS}). */
    ignore?: readonly string[];
    /** The files the pull request changes; undefined or empty: unknown, which deploys. */
    files?: readonly string[];
}

/** The settings of `env`: the label and the ignore globs. */
export function gateSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<GateSettings, "label" | "ignore"> {
    const label = env[PREVIEW_LABEL_ENV]?.trim();
    const ignore = env[PREVIEW_IGNORE_ENV]?.split(/[,\n]/).map((g) => g.trim()).filter((g) => g !== "");
    return { label: label === "" ? undefined : label, ignore: ignore === undefined || ignore.length === 0 ? undefined : ignore };
}

/**
 * A glob as a regular expression over a path with `/`: `**` any number of directories, `*` any
 * characters but `/`, `?` one of them; everything else literal.
 */
export function globPattern(glob: string): RegExp {
    let source = "";
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        if (c === "*" && glob[i + 1] === "*") {
            const slash = glob[i + 2] === "/";
            source += slash ? "(?:.*/)?" : ".*";
            i += slash ? 2 : 1;
        } else if (c === "*") {
            source += "[^/]*";
        } else if (c === "?") {
            source += "[^/]";
        } else {
            source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
        }
    }
    return new RegExp(`^${source}$`);
}

/** Whether the event deploys a preview, and why (one line for the log). */
export function previewGate(event: PullRequestEvent, settings: GateSettings = {}): { preview: boolean; reason: string } {
    const pr = event.pull_request;
    if (!(DEPLOY_ACTIONS as readonly string[]).includes(event.action)) return { preview: false, reason: `the action ${event.action} does not deploy` };
    if (pr.draft === true) return { preview: false, reason: "a draft pull request: it gets a preview once it is marked ready for review" };
    if (event.action === "labeled") {
        if (settings.label === undefined) return { preview: false, reason: "a label was added and no label gate is configured: nothing changed" };
        if (event.label?.name !== settings.label) return { preview: false, reason: `a label other than ${settings.label} was added: nothing changed` };
    }
    if (settings.label !== undefined && !(pr.labels ?? []).some((l) => l.name === settings.label)) {
        return { preview: false, reason: `the pull request is not labelled ${settings.label} (${PREVIEW_LABEL_ENV})` };
    }
    const files = settings.files ?? [];
    const patterns = (settings.ignore ?? DEFAULT_IGNORED_PATHS).map(globPattern);
    if (files.length > 0 && files.every((f) => patterns.some((p) => p.test(f)))) {
        return { preview: false, reason: `only documentation changed (${files.length} file(s) matching ${(settings.ignore ?? DEFAULT_IGNORED_PATHS).join(", ")})` };
    }
    return { preview: true, reason: event.action === "ready_for_review" ? "marked ready for review" : `${event.action}: deploying` };
}

import { StackKind, parseStackName } from "../../components/naming";
import { EnvironmentRecord } from "./types";

/**
 * Stack tags the layer writes on every environment stack, and how they read back. Tags live in
 * the backend next to the state (the DIY file backend keeps them in `<stack>.pulumi-tags`), so
 * every machine sharing the backend sees them. Names: at most 40 of [A-Za-z0-9-_.:]; values at
 * most 256 characters.
 */
export const TAGS = {
    kind: "catalyst:kind",
    pr: "catalyst:pr",
    branch: "catalyst:branch",
    sha: "catalyst:sha",
    image: "catalyst:image",
    owner: "catalyst:owner",
    createdAt: "catalyst:createdAt",
    updatedAt: "catalyst:updatedAt",
    expiresAt: "catalyst:expiresAt",
    namespace: "catalyst:namespace",
    url: "catalyst:url",
} as const;

/** Keeps a tag value within the backend's limit. */
export function tagValue(value: string): string {
    return value.length <= 256 ? value : value.slice(0, 256);
}

/** The kind of a stack name, or undefined for stacks this project does not run. */
export function kindOf(stack: string): StackKind | undefined {
    try {
        return parseStackName(stack).kind;
    } catch {
        return undefined;
    }
}

/** An environment record from a stack name, its tags and the backend's summary. */
export function recordFromTags(
    stack: string,
    tags: Record<string, string>,
    summary: { lastUpdate?: string; resourceCount?: number; updateInProgress?: boolean } = {},
): EnvironmentRecord | undefined {
    let identity;
    try {
        identity = parseStackName(stack);
    } catch {
        return undefined;
    }
    const record: EnvironmentRecord = { stack, kind: identity.kind };
    if (identity.pr !== undefined) record.pr = identity.pr;
    if (identity.project !== undefined) record.project = identity.project;
    const copy = (key: keyof typeof TAGS, field: keyof EnvironmentRecord) => {
        const value = tags[TAGS[key]];
        if (value !== undefined && value !== "") {
            (record as unknown as Record<string, unknown>)[field] = value;
        }
    };
    copy("branch", "branch");
    copy("sha", "sha");
    copy("image", "image");
    copy("owner", "owner");
    copy("namespace", "namespace");
    copy("url", "url");
    copy("createdAt", "createdAt");
    copy("updatedAt", "updatedAt");
    copy("expiresAt", "expiresAt");
    if (summary.lastUpdate !== undefined) record.lastUpdate = summary.lastUpdate;
    if (summary.resourceCount !== undefined) record.resourceCount = summary.resourceCount;
    if (summary.updateInProgress) record.updateInProgress = true;
    return record;
}

import { StackKind, parseStackName } from "../../components/naming";
import { CLUSTER_TAG } from "./identity";
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
    /** The owners a preview was created with, comma-separated (sleep and wake rebuild its config from the tags). */
    owners: "catalyst:owners",
    /** Since when the environment sleeps (ISO time); "" while awake (sleep.ts). */
    sleepingSince: "catalyst:sleepingSince",
    /** Why it sleeps: manual, idle or schedule; "" while awake. */
    sleepReason: "catalyst:sleepReason",
} as const;

/** The longest tag value the backends take (Pulumi Cloud's limit; the DIY backends keep to it too). */
export const TAG_VALUE_LIMIT = 256;

/** Keeps a tag value within the backend's limit. */
export function tagValue(value: string): string {
    return value.length <= TAG_VALUE_LIMIT ? value : value.slice(0, TAG_VALUE_LIMIT);
}

/**
 * The layer's tags are stored packed: a JSON object of several tags in each of the tags
 * `catalyst:tags.0`, `catalyst:tags.1`, ... (each value at most {@link TAG_VALUE_LIMIT}), because
 * `pulumi stack tag set` takes one tag per process and each process costs 0.1-0.3 s: a new
 * preview wrote 12 tags one by one, now 2-3 packed tags (issue #18). Inside a pack a tag's name
 * loses the common `catalyst:` prefix. A tag too long for any pack is stored on its own, under its
 * own name, as before. Stacks written before keep their one-tag-per-name tags; {@link readTags}
 * reads both, the packs winning (they are the newer writes).
 */
export const PACK_TAG_PREFIX = "catalyst:tags.";
const PACKED_NAME_PREFIX = "catalyst:";

/**
 * The order tags are packed in, first-fit: the ones every up writes anew (updatedAt, expiresAt)
 * first, so that a no-op up rewrites the first pack alone; unknown names follow, sorted.
 */
const PACK_ORDER = [TAGS.updatedAt, TAGS.expiresAt, TAGS.kind, TAGS.pr, TAGS.createdAt, TAGS.owner, CLUSTER_TAG, TAGS.namespace, TAGS.sha, TAGS.branch, TAGS.image, TAGS.url];

const byteLength = (value: string) => Buffer.byteLength(value, "utf8");

function packedName(name: string): string {
    return name.startsWith(PACKED_NAME_PREFIX) ? name.slice(PACKED_NAME_PREFIX.length) : `=${name}`;
}

function unpackedName(name: string): string {
    return name.startsWith("=") ? name.slice(1) : PACKED_NAME_PREFIX + name;
}

function isPackTag(name: string): boolean {
    return name.startsWith(PACK_TAG_PREFIX) && /^[0-9]+$/.test(name.slice(PACK_TAG_PREFIX.length));
}

/** The tags a stack's stored tags mean: the tags stored one by one, overlaid by the packs in order. */
export function readTags(stored: Record<string, string>): Record<string, string> {
    const tags: Record<string, string> = {};
    const packs: [number, string][] = [];
    for (const [name, value] of Object.entries(stored)) {
        if (isPackTag(name)) packs.push([Number(name.slice(PACK_TAG_PREFIX.length)), value]);
        else tags[name] = value;
    }
    for (const [, value] of packs.sort((a, b) => a[0] - b[0])) {
        let pack: unknown;
        try {
            pack = JSON.parse(value);
        } catch {
            continue; // Not written by this layer: a tag set by hand under a pack's name.
        }
        if (pack === null || typeof pack !== "object" || Array.isArray(pack)) continue;
        for (const [name, packed] of Object.entries(pack as Record<string, unknown>)) {
            if (typeof packed === "string") tags[unpackedName(name)] = packed;
        }
    }
    return tags;
}

/**
 * How `tags` are stored: first-fit into packs in {@link PACK_ORDER}, a tag that fits no pack on
 * its own. `previous` (the stored tags now) only matters for packs it has beyond those needed:
 * they are emptied (`{}`), so that none of their old values overlays a newer one.
 */
export function storedTags(tags: Record<string, string>, previous: Record<string, string> = {}): Record<string, string> {
    const rank = (name: string) => (PACK_ORDER.includes(name) ? PACK_ORDER.indexOf(name) : PACK_ORDER.length);
    const names = Object.keys(tags).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const packs: Record<string, string>[] = [];
    const stored: Record<string, string> = {};
    for (const name of names) {
        const entry = { [packedName(name)]: tags[name] };
        const pack = packs.find((p) => byteLength(JSON.stringify({ ...p, ...entry })) <= TAG_VALUE_LIMIT);
        if (pack !== undefined) Object.assign(pack, entry);
        else if (byteLength(JSON.stringify(entry)) <= TAG_VALUE_LIMIT) packs.push(entry);
        else stored[name] = tags[name];
    }
    packs.forEach((pack, index) => (stored[PACK_TAG_PREFIX + index] = JSON.stringify(pack)));
    for (const name of Object.keys(previous)) {
        if (isPackTag(name) && stored[name] === undefined) stored[name] = "{}";
    }
    return stored;
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
    copy("sleepingSince", "sleepingSince");
    copy("sleepReason", "sleepReason");
    if (summary.lastUpdate !== undefined) record.lastUpdate = summary.lastUpdate;
    if (summary.resourceCount !== undefined) record.resourceCount = summary.resourceCount;
    if (summary.updateInProgress) record.updateInProgress = true;
    return record;
}

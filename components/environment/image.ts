/**
 * Checks of container image references. Every image an environment runs is pinned: a tag other
 * than `latest`, or a digest, so that a rollout never changes what runs by accident.
 */

const REFERENCE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** The tag of an image reference (after the last `:` of the last path element), if any. */
export function imageTag(reference: string): string | undefined {
    const withoutDigest = reference.split("@")[0];
    const last = withoutDigest.split("/").pop() ?? "";
    const colon = last.indexOf(":");
    return colon >= 0 ? last.slice(colon + 1) : undefined;
}

/**
 * What is wrong with an image reference, or undefined when it is pinned: references must be
 * well formed and carry a tag other than `latest`, or a digest.
 */
export function imageMessage(reference: string): string | undefined {
    const example = "like nginx:1.27.4 or registry.example.com/app@sha256:<64 hex>";
    if (!REFERENCE.test(reference)) {
        return `${JSON.stringify(reference)} is not an image reference; use one ${example}`;
    }
    const digest = reference.includes("@sha256:");
    const tag = imageTag(reference);
    if (tag === "latest" && !digest) {
        return `${JSON.stringify(reference)} uses the tag "latest"; pin a version or a digest, ${example}`;
    }
    if (tag === undefined && !digest) {
        return `${JSON.stringify(reference)} has no tag or digest; pin a version or a digest, ${example}`;
    }
    return undefined;
}

/** {@link imageMessage} prefixed with the configuration key the reference came from. */
export function imageProblem(key: string, reference: string): string | undefined {
    const message = imageMessage(reference);
    return message === undefined ? undefined : `${key}: ${message}`;
}

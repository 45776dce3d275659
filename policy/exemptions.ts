/**
 * The only objects the baseline lets break a policy by default, each with its reason. They are
 * platform components the platform stack installs (stacks/platform.ts); environments have none.
 * A policy's `exemptions` configuration replaces its list here, so a stricter cluster can pass
 * `--policy-pack-config` with an empty list.
 */

/** One object that may break one policy. */
export interface Exemption {
    /** The policy's name. */
    policy: string;
    /** `Kind namespace/name`, as the policy's messages name objects. */
    object: string;
    /** Why, in one sentence; shown in docs/security.md. */
    reason: string;
}

/**
 * The default exemptions: none. The platform's containers set limits and run with read-only root
 * file systems like everyone else's (issue 19); the list stays for a cluster that needs one,
 * through the policy's `exemptions` configuration.
 */
export const EXEMPTIONS: readonly Exemption[] = [];

/** The default `exemptions` of `policy`. */
export function defaultExemptions(policy: string): string[] {
    return EXEMPTIONS.filter((e) => e.policy === policy).map((e) => e.object);
}

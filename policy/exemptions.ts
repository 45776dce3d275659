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

const REQUESTS_ONLY = "a platform component the platform stack sizes by its requests (stacks/config/platform.ts); it sets no limits yet";

/** The default exemptions. */
export const EXEMPTIONS: readonly Exemption[] = [
    { policy: "container-resources", object: "Deployment ingress-nginx/ingress-nginx-controller", reason: REQUESTS_ONLY },
    { policy: "container-resources", object: "Deployment cnpg-system/cloudnative-pg", reason: REQUESTS_ONLY },
    { policy: "container-resources", object: "Deployment registry/registry", reason: REQUESTS_ONLY },
    { policy: "container-resources", object: "CronJob registry/registry-gc", reason: REQUESTS_ONLY },
    {
        policy: "read-only-root-filesystem",
        object: "Deployment ingress-nginx/ingress-nginx-controller",
        reason: "the controller writes the nginx configuration it renders into its image's file system (the chart's default)",
    },
];

/** The default `exemptions` of `policy`. */
export function defaultExemptions(policy: string): string[] {
    return EXEMPTIONS.filter((e) => e.policy === policy).map((e) => e.object);
}

import { z } from "zod";
import { parseDuration } from "../automation/duration";
import { DEFAULT_CLIENT_ID, parseIssuer } from "../oidc/settings";

/**
 * `catalyst:oidc` of the platform stack: Catalyst's OpenID provider in production, hosted by the
 * in-cluster HTTP API (`catalyst-api`), with a GitHub OAuth app as the upstream identity provider.
 * The GitHub app's client secret is the secret key {@link OIDC_GITHUB_SECRET_KEY}, never part of
 * this block. The limits mirror what `catalyst serve` accepts (stacks/oidc/settings.ts), so that a
 * value the server would refuse at start is refused by `pulumi preview` already.
 */

/** The secret config key that holds the GitHub OAuth app's client secret. */
export const OIDC_GITHUB_SECRET_KEY = "oidcGithubClientSecret";

/** The shortest token, session and rotation period the server takes (its SettingsError). */
const MIN_DURATION_MS = 60_000;

const duration = z.string().refine((text) => (parseDuration(text) ?? 0) >= MIN_DURATION_MS, "must be a duration of at least 60s such as 15m or 24h");

const issuer = z.string().refine((text) => {
    try {
        parseIssuer(text);
        return true;
    } catch {
        return false;
    }
}, "must be an https URL ending in /oidc (where catalyst serve mounts the provider)");

/** GitHub Enterprise servers and the tests' fake: an http(s) URL without a trailing slash. */
const baseUrl = z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).transform((url) => url.replace(/\/$/, ""));

/** The schema of `catalyst:oidc`. */
export const oidcConfigSchema = z
    .strictObject({
        /** Off by default: the provider needs a GitHub OAuth app the operator registers first. */
        enabled: z.boolean().default(false),
        /** The issuer URL the cluster trusts; `https://<controlPlane.api.host>/oidc` unless set. */
        issuer: issuer.optional(),
        /** The client the cluster trusts (the ID tokens' audience). */
        clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'").default(DEFAULT_CLIENT_ID),
        tokenTtl: duration.default("15m"),
        sessionTtl: duration.default("12h"),
        keyRotation: duration.default("24h"),
        /** The Secret in catalyst-system with the signing keys; the platform creates it empty. */
        keysSecret: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a DNS-1123 label (lower case letters, digits and '-', at most 63 characters)")
            .default("catalyst-oidc-keys"),
        github: z
            .strictObject({
                /** The OAuth app's client id (public; its secret is {@link OIDC_GITHUB_SECRET_KEY}). */
                clientId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "must be the OAuth app's client id (letters, digits, '.', '_' or '-')").optional(),
                /** Only active members of this organization sign in; its teams are the groups. */
                org: z.string().regex(/^[A-Za-z0-9-]{1,39}$/, "must be a GitHub organization name (letters, digits and '-', at most 39 characters)").optional(),
                /** https://github.com unless set (GitHub Enterprise: the server's URL). */
                url: baseUrl.optional(),
                /** https://api.github.com unless set (GitHub Enterprise: `<url>/api/v3`). */
                apiUrl: baseUrl.optional(),
            })
            .prefault({}),
    })
    .superRefine((oidc, ctx) => {
        if (!oidc.enabled) return;
        for (const key of ["clientId", "org"] as const) {
            if (oidc.github[key] === undefined) {
                ctx.addIssue({ code: "custom", path: ["github", key], message: "required when catalyst:oidc.enabled is true" });
            }
        }
    })
    .prefault({});

/** The validated `catalyst:oidc` block. */
export type OidcConfig = z.output<typeof oidcConfigSchema>;

/** What {@link oidcProblems} checks besides the block itself. */
export interface OidcContext {
    /** The secret keys set on the stack. */
    secretKeys: ReadonlySet<string>;
    /** Whether the platform runs the HTTP API in the cluster, which hosts the provider. */
    apiEnabled: boolean;
    /** `catalyst:controlPlane.api.replicas` as set, undefined when left to its default. */
    apiReplicas: number | undefined;
}

/**
 * Problems of an enabled provider that involve other keys, one line each, naming the key:
 * the client secret, the API that hosts the provider, and a single replica (the provider keeps
 * sessions and refresh tokens in process memory, so a second replica would not know them).
 */
export function oidcProblems(namespace: string, oidc: OidcConfig, context: OidcContext): string[] {
    if (!oidc.enabled) return [];
    const problems: string[] = [];
    if (!context.secretKeys.has(OIDC_GITHUB_SECRET_KEY)) {
        problems.push(
            `${namespace}:${OIDC_GITHUB_SECRET_KEY}: required when ${namespace}:oidc.enabled is true ` +
                `(pulumi config set --secret ${namespace}:${OIDC_GITHUB_SECRET_KEY} <the GitHub OAuth app's client secret>)`,
        );
    }
    if (!context.apiEnabled) {
        problems.push(
            `${namespace}:oidc.enabled: needs the HTTP API in the cluster, which hosts the provider ` +
                `(${namespace}:controlPlane.enabled and ${namespace}:controlPlane.api.enabled must be true)`,
        );
    }
    if (context.apiReplicas !== undefined && context.apiReplicas !== 1) {
        problems.push(
            `${namespace}:controlPlane.api.replicas: must be 1 when ${namespace}:oidc.enabled is true ` +
                `(the provider keeps sessions and refresh tokens in process memory), got ${context.apiReplicas}`,
        );
    }
    return problems;
}

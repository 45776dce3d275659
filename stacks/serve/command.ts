import { AnyCommand, defineCommand } from "../command";
import { HOST_OPTION, parsePort } from "../api/command";
import type { ServeArgs } from "./index";

/**
 * `catalyst serve`, declared with the same kit as the CLI's commands; its handler (./index.ts,
 * the composition of the HTTP API, the dashboard and the OpenID provider) loads only when run.
 */

/** `catalyst serve`. */
export function serveCommands(): AnyCommand[] {
    return [
        defineCommand<ServeArgs>({
            name: "serve",
            summary: "HTTP API over the same library for web apps (docs/api.md), with the web dashboard at / (docs/dashboard.md).",
            options: {
                port: { value: "<n>", description: "Port to listen on; 0: any free port (default 8080, or the issuer URL's port with the OpenID provider)", parse: parsePort },
                host: HOST_OPTION,
                localOidc: { description: "Also host the local cluster's OpenID provider at /oidc, over HTTPS on its issuer's port (docs/security.md)" },
            },
            notes: [
                "Tokens: CATALYST_API_TOKENS ('{\"<token>\":\"<user>\"}') or CATALYST_API_TOKENS_FILE. Runs until SIGINT or SIGTERM.",
                "The web dashboard is at / (docs/dashboard.md): sign in with a token; COOKIE_SECRET (32+ characters) signs its sessions, else a random key per run. " +
                    "Sign-outs are kept in CATALYST_DASHBOARD_SIGNED_OUT_FILE (default .catalyst/dashboard/signed-out.jsonl), or in the Secret " +
                    "CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF=<namespace>/<name> shared by replicas; 10 failed sign-ins per address in 5 minutes, then 429.",
                "Single sign-on on the dashboard: with the hosted OpenID provider, or another issuer named by CATALYST_DASHBOARD_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET " +
                    "and CATALYST_DASHBOARD_URL (redirect URI <it>/auth/callback); CATALYST_DASHBOARD_OIDC_CA_FILE: a CA to trust for the issuer.",
                "The OpenID provider is on with CATALYST_OIDC_ISSUER (and the other CATALYST_OIDC_* variables) or --local-oidc.",
                "GitHub webhook at POST /webhooks/github with CATALYST_GITHUB_WEBHOOK_SECRET (at least 16 characters); the preview comment is written with CATALYST_GITHUB_TOKEN " +
                    "(CATALYST_GITHUB_API_URL, default https://api.github.com); pushes to branches matching CATALYST_WEBHOOK_PUSH_BRANCHES get a development environment each.",
            ],
            run: async (input) => (await import("./index")).runServeCommand(input),
        }),
    ];
}

import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as PlatformModule from "../../../stacks/platform";
import { ConfigError } from "../../../stacks/config/validate";
import { parsePlatformConfig, readPlatformConfig } from "../../../stacks/config/platform";
import { apiNamespaceRules } from "../../../components/platform/controlPlaneRbac";
import { noSecretEnvValues } from "../../../policy/secrets";
import { T, violations } from "../policy/harness";
import { BASE_PLATFORM_CONFIG, installMocks, MockRecorder, Recorded, settle } from "./mocks";

/**
 * `catalyst:oidc`: Catalyst's OpenID provider hosted by the in-cluster API, GitHub as upstream.
 * The validation names each missing key; the program keeps the client secret a Pulumi secret
 * inside a Kubernetes Secret, passes it by reference, and lets the API touch exactly one Secret.
 */

const CLIENT_SECRET = "gh-oauth-client-secret-0123456789";
const github = { clientId: "Iv1.0123456789abcdef", org: "acme" };
const nothingExists = { root: "/proj", exists: () => false };
const withSecret = { ...nothingExists, secretKeys: new Set(["oidcGithubClientSecret"]) };

function problemsOf(run: () => unknown): string[] {
    try {
        run();
        return [];
    } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
    }
}

describe("catalyst:oidc configuration", () => {
    it("is off by default, and then the API keeps two replicas", () => {
        const config = parsePlatformConfig({ domain: "example.com" }, nothingExists);
        expect(config.oidc).toEqual({ enabled: false, clientId: "catalyst-cluster", tokenTtl: "15m", sessionTtl: "12h", keyRotation: "24h", keysSecret: "catalyst-oidc-keys", github: {} });
        expect(config.controlPlane.api.replicas).toBe(2);
    });

    it("names the GitHub app's id, its organization and the secret key when enabled without them, one line each", () => {
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", oidc: { enabled: true } }, nothingExists))).toEqual([
            "catalyst:oidc.github.clientId: required when catalyst:oidc.enabled is true",
            "catalyst:oidc.github.org: required when catalyst:oidc.enabled is true",
        ]);
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", oidc: { enabled: true, github } }, nothingExists))).toEqual([
            "catalyst:oidcGithubClientSecret: required when catalyst:oidc.enabled is true " +
                "(pulumi config set --secret catalyst:oidcGithubClientSecret <the GitHub OAuth app's client secret>)",
        ]);
        expect(() => parsePlatformConfig({ domain: "example.com", oidc: { enabled: true, github } }, nothingExists)).toThrow(
            "invalid configuration:\n  - catalyst:oidcGithubClientSecret: required when catalyst:oidc.enabled is true",
        );
    });

    it("runs one API replica with the provider (its sessions live in memory) and refuses more, or no API", () => {
        expect(parsePlatformConfig({ domain: "example.com", oidc: { enabled: true, github } }, withSecret).controlPlane.api.replicas).toBe(1);
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", oidc: { enabled: true, github }, controlPlane: { api: { replicas: 2 } } }, withSecret))).toEqual([
            "catalyst:controlPlane.api.replicas: must be 1 when catalyst:oidc.enabled is true (the provider keeps sessions and refresh tokens in process memory), got 2",
        ]);
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", oidc: { enabled: true, github }, controlPlane: { api: { enabled: false } } }, withSecret))).toEqual([
            "catalyst:oidc.enabled: needs the HTTP API in the cluster, which hosts the provider (catalyst:controlPlane.enabled and catalyst:controlPlane.api.enabled must be true)",
        ]);
    });

    it("refuses what catalyst serve would refuse at start, naming the key", () => {
        const oidc = { enabled: true, issuer: "http://sso.example.com/oidc", tokenTtl: "30s", sessionTtl: "forever", keysSecret: "Keys", clientId: "a b", github: { ...github, org: "not/an/org", url: "ftp://github.example.com", colour: "red" } };
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", oidc }, withSecret))).toEqual([
            "catalyst:oidc.issuer: must be an https URL ending in /oidc (where catalyst serve mounts the provider)",
            "catalyst:oidc.clientId: must be 1-64 letters, digits, '.', '_' or '-'",
            "catalyst:oidc.tokenTtl: must be a duration of at least 60s such as 15m or 24h",
            "catalyst:oidc.sessionTtl: must be a duration of at least 60s such as 15m or 24h",
            "catalyst:oidc.keysSecret: must be a DNS-1123 label (lower case letters, digits and '-', at most 63 characters)",
            "catalyst:oidc.github.org: must be a GitHub organization name (letters, digits and '-', at most 39 characters)",
            "catalyst:oidc.github.url: must be an http or https URL",
            "catalyst:oidc.github.colour: unknown key",
        ]);
    });

    it("reads the client secret as a secret key: never in the validated bag", () => {
        pulumi.runtime.setAllConfig(
            { "catalyst:domain": "example.com", "catalyst:oidc": JSON.stringify({ enabled: true, github }), "catalyst:oidcGithubClientSecret": CLIENT_SECRET },
            ["catalyst:oidcGithubClientSecret"],
        );
        try {
            const config = readPlatformConfig("/proj");
            expect([...config.secretKeys]).toEqual(["oidcGithubClientSecret"]);
            expect(JSON.stringify(config)).not.toContain(CLIENT_SECRET);
        } finally {
            pulumi.runtime.setAllConfig({});
        }
    });
});

describe("platformProgram with catalyst:oidc enabled", () => {
    let mocks: MockRecorder;
    let platform: typeof PlatformModule;
    const mirror = mkdtempSync(path.join(tmpdir(), "catalyst-mirror-"));
    const ofType = (type: string) => mocks.resources.filter((r) => r.type === type);
    const named = (type: string, name: string): Recorded => ofType(type).find((r) => r.inputs.metadata.name === name)!;

    beforeAll(async () => {
        for (const file of ["ingress-nginx-4.15.1.tgz", "cloudnative-pg-0.29.0.tgz"]) writeFileSync(path.join(mirror, file), "");
        process.env.CATALYST_CHART_MIRROR = mirror;
        mocks = installMocks({ stack: "platform" });
        platform = await import("../../../stacks/platform");
        mocks.reset();
        pulumi.runtime.setAllConfig(
            {
                ...BASE_PLATFORM_CONFIG,
                "catalyst:oidc": JSON.stringify({ enabled: true, tokenTtl: "10m", github: { ...github, url: "https://github.acme.dev/", apiUrl: "https://github.acme.dev/api/v3" } }),
                "catalyst:oidcGithubClientSecret": CLIENT_SECRET,
            },
            ["catalyst:oidcGithubClientSecret"],
        );
        await platform.platformProgram();
        await settle(mocks);
    }, 60_000);

    afterAll(() => {
        delete process.env.CATALYST_CHART_MIRROR;
        pulumi.runtime.setAllConfig({});
    });

    it("keeps the GitHub client secret in a Secret of catalyst-system, as a Pulumi secret", () => {
        const secret = named("kubernetes:core/v1:Secret", "catalyst-oidc-github");
        expect(secret.inputs.metadata.namespace).toBe("catalyst-system");
        expect(secret.inputs.stringData).toEqual({ clientSecret: CLIENT_SECRET });
        // The engine receives the whole stringData as one secret value.
        expect(secret.secretPaths).toEqual(["stringData"]);
        // Nowhere else in plain text: not in the Deployment, not in any other object.
        const elsewhere = mocks.resources.filter((r) => r !== secret && JSON.stringify(r.inputs).includes(CLIENT_SECRET));
        expect(elsewhere.map((r) => `${r.type}::${r.name}`)).toEqual([]);
    });

    it("creates the signing-keys Secret empty, for the provider to fill", () => {
        const keys = named("kubernetes:core/v1:Secret", "catalyst-oidc-keys");
        expect(keys.inputs.metadata.namespace).toBe("catalyst-system");
        expect(keys.inputs.data).toBeUndefined();
        expect(keys.inputs.stringData).toBeUndefined();
    });

    it("gives the one API replica the CATALYST_OIDC_* environment, the client secret by reference", () => {
        const deployment = named("kubernetes:apps/v1:Deployment", "catalyst-api").inputs;
        expect(deployment.spec.replicas).toBe(1);
        const env: { name: string; value?: string; valueFrom?: unknown }[] = deployment.spec.template.spec.containers[0].env;
        expect(Object.fromEntries(env.filter((e) => e.name.startsWith("CATALYST_OIDC_")).map((e) => [e.name, e.value ?? e.valueFrom]))).toEqual({
            CATALYST_OIDC_ISSUER: "https://catalyst.example.com/oidc",
            CATALYST_OIDC_CLIENT_ID: "catalyst-cluster",
            CATALYST_OIDC_TOKEN_TTL: "10m",
            CATALYST_OIDC_SESSION_TTL: "12h",
            CATALYST_OIDC_KEY_ROTATION: "24h",
            CATALYST_OIDC_KEYS_SECRET_REF: "catalyst-system/catalyst-oidc-keys",
            CATALYST_OIDC_GITHUB_CLIENT_ID: github.clientId,
            CATALYST_OIDC_GITHUB_ORG: "acme",
            CATALYST_OIDC_GITHUB_URL: "https://github.acme.dev",
            CATALYST_OIDC_GITHUB_API_URL: "https://github.acme.dev/api/v3",
            CATALYST_OIDC_GITHUB_CLIENT_SECRET: { secretKeyRef: { name: "catalyst-oidc-github", key: "clientSecret" } },
        });
    });

    it("passes the policy pack's no-secret-env-values (durations and the keys Secret's reference are settings)", async () => {
        const deployment = named("kubernetes:apps/v1:Deployment", "catalyst-api").inputs;
        expect(await violations(noSecretEnvValues, T.deployment, deployment)).toEqual([]);
    });

    it("lets the API get and update exactly the signing-keys and sign-outs Secrets, by name, and no other Secret", () => {
        const role = named("kubernetes:rbac.authorization.k8s.io/v1:Role", "catalyst-api").inputs;
        const onSecrets = role.rules.filter((r: { resources: string[] }) => r.resources.includes("secrets"));
        expect(onSecrets).toEqual([{ apiGroups: [""], resources: ["secrets"], resourceNames: ["catalyst-dashboard-signed-out", "catalyst-oidc-keys"], verbs: ["get", "update"] }]);
        expect(role.rules).toEqual(apiNamespaceRules("catalyst.dev", { signedOut: "catalyst-dashboard-signed-out", oidcKeys: "catalyst-oidc-keys" }));
        // Without its own Secrets named, the API has no right on any Secret.
        expect(apiNamespaceRules("catalyst.dev").filter((r) => r.resources.includes("secrets"))).toEqual([]);
    });
});

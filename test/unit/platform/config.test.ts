import { readFileSync } from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../../stacks/config/validate";
import { parsePlatformConfig, readPlatformConfig } from "../../../stacks/config/platform";

const root = "/proj";
const mirroredIngress = "/mirror/ingress-nginx-4.15.1.tgz";
const localCnpg = "/charts/cloudnative-pg-0.29.0.tgz";
const nothingExists = { root, exists: () => false };

/** The problems a call reports, or [] when it succeeds. */
function problemsOf(run: () => unknown): string[] {
    try {
        run();
        return [];
    } catch (err) {
        if (err instanceof ConfigError) {
            return err.problems;
        }
        throw err;
    }
}

afterEach(() => pulumi.runtime.setAllConfig({}));

describe("platform configuration", () => {
    it("requires the domain", () => {
        expect(problemsOf(() => parsePlatformConfig({}, nothingExists))).toEqual([
            "catalyst:domain: required: the base domain of deployment environments, e.g. example.com",
        ]);
        expect(() => parsePlatformConfig({}, nothingExists)).toThrow(
            "invalid configuration:\n  - catalyst:domain: required: the base domain of deployment environments, e.g. example.com",
        );
    });

    it("refuses a domain that is not a DNS name", () => {
        expect(problemsOf(() => parsePlatformConfig({ domain: "Example_com" }, nothingExists))).toEqual([
            "catalyst:domain: must be a DNS name of at least two labels, such as example.com (lower case letters, digits, '-' and '.')",
        ]);
    });

    it("refuses a chart path that does not exist, naming the key and where it looked", () => {
        const raw = { domain: "example.com", charts: { ingressNginx: "charts/missing.tgz" } };
        expect(problemsOf(() => parsePlatformConfig(raw, nothingExists))).toEqual([
            'catalyst:charts.ingressNginx: chart "charts/missing.tgz" does not exist (looked for /proj/charts/missing.tgz; ' +
                "a path is relative to the project root; leave the key unset to use CATALYST_CHART_MIRROR or https://kubernetes.github.io/ingress-nginx at version 4.15.1)",
        ]);
    });

    it("resolves a configured chart path against the project root", () => {
        const config = parsePlatformConfig(
            { domain: "example.com", charts: { cloudnativePg: "../charts/cloudnative-pg-0.29.0.tgz" } },
            { root, exists: (file) => file === localCnpg },
        );
        expect(config.charts.cloudnativePg).toEqual({ kind: "local", path: localCnpg });
    });

    it("takes charts from the configured path, else the mirror, else the pinned upstream repository; never from anywhere else", () => {
        const raw = { domain: "example.com", charts: { cloudnativePg: "../charts/cloudnative-pg-0.29.0.tgz" } };
        const config = parsePlatformConfig(raw, { root, exists: (file) => file === mirroredIngress || file === localCnpg, mirror: "/mirror" });
        expect(config.charts.ingressNginx).toEqual({ kind: "local", path: mirroredIngress });
        expect(config.charts.cloudnativePg).toEqual({ kind: "local", path: localCnpg });
        // Without the variable a tarball beside the project is not looked at.
        const seen: string[] = [];
        const upstream = parsePlatformConfig({ domain: "example.com" }, { root, exists: (file) => (seen.push(file), true) });
        expect(seen).toEqual([]);
        expect(upstream.charts.cloudnativePg).toEqual({
            kind: "repository",
            repo: "https://cloudnative-pg.github.io/charts",
            chart: "cloudnative-pg",
            version: "0.29.0",
        });
    });

    it("refuses a mirror that lacks a chart's tarball, naming the variable", () => {
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com" }, { root, exists: (file) => file === mirroredIngress, mirror: "/mirror" }))).toEqual([
            "catalyst:charts.cloudnativePg: CATALYST_CHART_MIRROR=/mirror holds no cloudnative-pg-0.29.0.tgz (looked for /mirror/cloudnative-pg-0.29.0.tgz; " +
                "add the release tarball, set catalyst:charts.cloudnativePg to a chart path, or unset the variable to use https://cloudnative-pg.github.io/charts)",
        ]);
    });

    it("applies the production defaults", () => {
        const config = parsePlatformConfig({ domain: "example.com" }, nothingExists);
        expect(config.previewDomain).toBe("preview.example.com");
        expect(config.passwordSource).toBe("random");
        expect(config.ingress).toMatchObject({ replicas: 2, admissionWebhooks: true, annotationsRiskLevel: "Medium", className: "nginx", serviceType: "LoadBalancer" });
        expect(config.registry.storage).toEqual({ kind: "pvc", size: "20Gi", storageClass: undefined });
        expect(config.postgres).toMatchObject({ operatorWebhooks: true, instances: 3, storageSize: "20Gi", clusterName: "shared" });
        expect(config.cloudflare).toMatchObject({ enabled: false, replicas: 2 });
        expect(config.admission).toEqual({ enabled: true, validationActions: ["Deny"] });
    });

    it("names the admission settings Kubernetes would refuse", () => {
        const admission = (value: unknown) => () => parsePlatformConfig({ domain: "example.com", admission: value }, nothingExists);
        expect(problemsOf(admission({ validationActions: [] }))).toEqual(["catalyst:admission.validationActions: must name at least one of Deny, Warn, Audit"]);
        expect(problemsOf(admission({ validationActions: ["Deny", "Warn"] }))).toEqual([
            "catalyst:admission.validationActions: must not hold both Deny and Warn (Kubernetes refuses the pair)",
        ]);
        expect(problemsOf(admission({ validationActions: ["Block"] }))).toEqual([
            'catalyst:admission.validationActions[0]: Invalid option: expected one of "Deny"|"Warn"|"Audit"',
        ]);
        expect(problemsOf(admission({ enforce: true }))).toEqual(["catalyst:admission.enforce: unknown key"]);
    });

    it("reads the embedded default (Pulumi.dev.yaml) as a small local platform", () => {
        const file = yaml.load(readFileSync(path.join(__dirname, "..", "..", "..", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
        const raw = Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key.replace(/^catalyst:/, ""), value]));
        const config = parsePlatformConfig(raw, { root: "/clone", exists: (f) => f.startsWith("/mirror/"), mirror: "/mirror" });
        expect(config.passwordSource).toBe("builtin");
        // The embedded default names no chart path: charts come from the mirror or upstream.
        expect(file.config["catalyst:charts"]).toBeUndefined();
        expect(config.charts.ingressNginx).toEqual({ kind: "local", path: "/mirror/ingress-nginx-4.15.1.tgz" });
        expect(config.ingress).toMatchObject({ replicas: 1, admissionWebhooks: false, serviceType: "ClusterIP" });
        expect(config.postgres).toMatchObject({ operatorWebhooks: false, instances: 1 });
        expect(config.cloudflare.enabled).toBe(false);
        expect(config.domain).toBe("catalyst.localhost");
        expect(config.previewDomain).toBe("preview.catalyst.localhost");
    });

    it("puts the ingress controller behind the tunnel on ClusterIP", () => {
        const config = parsePlatformConfig(
            { domain: "example.com", cloudflare: { enabled: true, accountId: "0".repeat(32), zoneId: "1".repeat(32) } },
            { ...nothingExists, secretKeys: new Set(["cloudflareApiToken"]) },
        );
        expect(config.ingress.serviceType).toBe("ClusterIP");
    });

    it("requires the account, the zone and the API token for the tunnel", () => {
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", cloudflare: { enabled: true } }, nothingExists))).toEqual([
            "catalyst:cloudflare.accountId: required when the tunnel is enabled",
            "catalyst:cloudflare.zoneId: required when the tunnel is enabled",
        ]);
        const raw = { domain: "example.com", cloudflare: { enabled: true, accountId: "0".repeat(32), zoneId: "1".repeat(32) } };
        expect(problemsOf(() => parsePlatformConfig(raw, nothingExists))).toEqual([
            "catalyst:cloudflareApiToken: required when catalyst:cloudflare.enabled is true (pulumi config set --secret catalyst:cloudflareApiToken <token>)",
        ]);
    });

    it("requires the bucket for S3 storage and both halves of static credentials", () => {
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", registry: { storage: "s3" } }, nothingExists))).toEqual([
            "catalyst:registry.s3: required when storage is s3: { bucket, region, endpoint?, forcePathStyle? }",
        ]);
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com" }, { ...nothingExists, secretKeys: new Set(["registryS3AccessKeyId"]) }))).toEqual([
            "catalyst:registryS3SecretAccessKey: required together with catalyst:registryS3AccessKeyId",
        ]);
    });

    it("names nested keys with the wrong type", () => {
        expect(problemsOf(() => parsePlatformConfig({ domain: "example.com", ingress: { replicas: "two" }, postgres: { storageSize: "lots" } }, nothingExists))).toEqual([
            "catalyst:ingress.replicas: Invalid input: expected number, received string",
            "catalyst:postgres.storageSize: must be a Kubernetes quantity such as 100m, 128Mi or 20Gi",
        ]);
    });
});

describe("readPlatformConfig", () => {
    it("refuses unknown catalyst keys, top-level and nested, and ignores other namespaces", () => {
        pulumi.runtime.setAllConfig({
            "catalyst:domain": "example.com",
            "catalyst:domian": "example.org",
            "catalyst:ingress": JSON.stringify({ replica: 2 }),
            "kubernetes:context": "kind",
        });
        expect(problemsOf(() => readPlatformConfig("/proj"))).toEqual([
            "catalyst:ingress.replica: unknown key",
            "catalyst:domian: unknown key",
        ]);
    });

    it("reads strings, JSON objects and the presence of secrets from the stack configuration", () => {
        pulumi.runtime.setAllConfig(
            {
                "catalyst:domain": "example.com",
                "catalyst:passwordSource": "builtin",
                "catalyst:cloudflare": JSON.stringify({ enabled: true, accountId: "0".repeat(32), zoneId: "1".repeat(32) }),
                "catalyst:cloudflareApiToken": "secret-token",
            },
            ["catalyst:cloudflareApiToken"],
        );
        const config = readPlatformConfig("/proj");
        expect(config.passwordSource).toBe("builtin");
        expect(config.cloudflare.enabled).toBe(true);
        expect([...config.secretKeys]).toEqual(["cloudflareApiToken"]);
        expect(JSON.stringify(config)).not.toContain("secret-token");
    });

    it("refuses an object key whose value is not JSON", () => {
        pulumi.runtime.setAllConfig({ "catalyst:domain": "example.com", "catalyst:registry": "big" });
        expect(problemsOf(() => readPlatformConfig("/proj"))).toEqual(["catalyst:registry: Invalid input: expected object, received string"]);
    });
});

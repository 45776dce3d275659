import * as path from "path";
import { loadEnvironmentConfig } from "../../../stacks/config/environment";
import { ConfigError } from "../../../stacks/config/validate";
import { parseStackName } from "../../../components/naming";
import { configMap } from "./mocks";

const root = path.resolve(__dirname, "..", "..", "..");

/** Loads `values` for `stack`; `secret` keys are marked as stored with --secret. */
function load(stack: string, values: Record<string, unknown>, secret: string[] = []) {
    return loadEnvironmentConfig(parseStackName(stack), configMap(values), {
        secretKeys: secret.map((k) => `catalyst:${k}`),
        root,
    });
}

/** The problems a load reports (one string each). */
function problems(stack: string, values: Record<string, unknown>, secret: string[] = []): string[] {
    try {
        load(stack, values, secret);
    } catch (err) {
        if (err instanceof ConfigError) {
            return err.problems;
        }
        throw err;
    }
    throw new Error("expected a ConfigError");
}

const image = "ghcr.io/acme/web:1.0.0";

describe("environment configuration", () => {
    it("applies the tier's defaults", () => {
        const config = load("pr-3", { image, pr: "3", branch: "feat/x" });
        expect(config.tier).toBe("preview");
        expect(config.quota).toMatchObject({ requestsCpu: "2", requestsMemory: "4Gi", pods: 20, persistentVolumeClaims: 5, storage: "20Gi" });
        expect(config.database.mode).toBe("shared");
        expect(config.redis.persistent).toBe(false);
        expect(config.app.replicas).toBe(1);
        expect(config.platformStack).toBe("organization/catalyst/dev");
        expect(load("production", { image }).database).toMatchObject({ mode: "cluster", instances: 2 });
        expect(load("production", { image }).app.replicas).toBe(2);
    });

    it("takes quota and limit overrides, and a tier from config", () => {
        const config = load("pr-3", { image, tier: "development", quota: { pods: "40", requestsCpu: "3" } });
        expect(config.quota).toMatchObject({ requestsCpu: "3", requestsMemory: "8Gi", pods: 40 });
    });

    it("refuses unknown keys", () => {
        expect(problems("pr-3", { image, imagee: "x" })).toEqual(["catalyst:imagee: unknown key"]);
        expect(problems("pr-3", { image, app: { prot: 80 } })).toEqual(["catalyst:app.prot: unknown key"]);
    });

    it("refuses an unknown tier", () => {
        expect(problems("pr-3", { image, tier: "huge" })).toEqual([
            'catalyst:tier: must be one of preview, development, staging, production; got "huge"',
        ]);
    });

    it("refuses quantities that do not parse", () => {
        expect(problems("pr-3", { image, quota: { requestsCpu: "2 cores" }, limits: { maxMemory: "lots" } })).toEqual([
            'catalyst:quota.requestsCpu: "2 cores" is not a Kubernetes quantity; use a number with an optional suffix, like 500m, 2, 256Mi or 20Gi',
            'catalyst:limits.maxMemory: "lots" is not a Kubernetes quantity; use a number with an optional suffix, like 500m, 2, 256Mi or 20Gi',
        ]);
        expect(problems("pr-3", { image, quota: { limitsCpu: "1" } })).toEqual([
            "catalyst:quota.limitsCpu: must be at least quota.requestsCpu",
        ]);
    });

    it("refuses images without a tag or with latest, naming the key", () => {
        expect(problems("pr-3", { image: "nginx" })).toEqual([
            'catalyst:image: "nginx" has no tag or digest; pin a version or a digest, like nginx:1.27.4 or registry.example.com/app@sha256:<64 hex>',
        ]);
        expect(problems("pr-3", { app: { image: "registry.local:5000/web:latest" } })).toEqual([
            'catalyst:app.image: "registry.local:5000/web:latest" uses the tag "latest"; pin a version or a digest, like nginx:1.27.4 or registry.example.com/app@sha256:<64 hex>',
        ]);
        expect(problems("pr-3", { image, workspace: { enabled: true, description: "x", images: { agent: "agent" } } })).toEqual([
            'catalyst:workspace.images.agent: "agent" has no tag or digest; pin a version or a digest, like nginx:1.27.4 or registry.example.com/app@sha256:<64 hex>',
        ]);
        expect(load("pr-3", { image: `registry.local:5000/web@sha256:${"a".repeat(64)}` }).app.source).toMatchObject({ kind: "image" });
    });

    it("refuses invalid names", () => {
        expect(problems("pr-3", { image, app: { name: "Web_App" } })).toEqual([
            'catalyst:app.name: "Web_App" is not a valid name; use lower case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters',
        ]);
        expect(problems("pr-3", { image, access: { owners: { groups: ["system:masters"] } } })).toEqual([
            'catalyst:access.owners.groups: "system:masters" not allowed; names must be non-empty and not start with "system:"',
        ]);
    });

    it("refuses a chart path that does not exist", () => {
        expect(problems("pr-3", { app: { chart: { path: "charts/missing" } } })).toEqual([
            `catalyst:app.chart.path: no chart at ${path.join(root, "charts/missing")}; give a chart directory or a .tgz file`,
        ]);
        expect(problems("pr-3", { app: { manifests: { directory: "nowhere" } } })).toEqual([
            `catalyst:app.manifests.directory: no directory at ${path.join(root, "nowhere")}`,
        ]);
    });

    it("refuses an empty workspace description", () => {
        expect(problems("pr-3", { image, workspace: { enabled: true, description: "  " } })).toEqual([
            "catalyst:workspace.description: must not be empty; the workspace's name is the sha256 of its description",
        ]);
        expect(problems("pr-3", { image, workspace: { enabled: true } })).toEqual([
            "catalyst:workspace.description: must not be empty; the workspace's name is the sha256 of its description",
        ]);
    });

    it("requires exactly one app source", () => {
        expect(problems("pr-3", {})).toEqual([
            "catalyst:app: needs exactly one source, got none; allowed: an image (catalyst:image or catalyst:app.image, or catalyst:build), app.chart or app.manifests",
        ]);
        expect(problems("pr-3", { image, app: { manifests: { directory: "examples" } } })).toEqual([
            "catalyst:app: needs exactly one source, got image and manifests; allowed: an image (catalyst:image or catalyst:app.image, or catalyst:build), app.chart or app.manifests",
        ]);
    });

    it("keeps owners and workspaces out of production and staging", () => {
        expect(problems("production", { image, access: { owners: { users: ["alice"] } }, workspace: { enabled: true, description: "x" } })).toEqual([
            "catalyst:access.owners: owners only exist in development and preview environments; name them in access.admins",
            "catalyst:workspace.enabled: agent workspaces only exist in development and preview environments",
        ]);
        expect(problems("production", { image, database: { instances: "1" } })).toEqual([
            "catalyst:database.instances: production needs at least 2 instances, got 1",
        ]);
        expect(problems("staging", { image, database: { mode: "shared" } })).toEqual([
            "catalyst:database.mode: staging environments get a dedicated cluster; allowed: cluster, none",
        ]);
    });

    it("requires secret keys to be stored as secrets", () => {
        expect(problems("pr-3", { image, appSecrets: { API_KEY: "x" } })).toEqual([
            "catalyst:appSecrets: holds secrets; set it with `pulumi config set --secret` (or --path --secret per entry)",
        ]);
        expect(load("pr-3", { image, appSecrets: { API_KEY: "x" } }, ["appSecrets"]).app.secretNames).toEqual(["API_KEY"]);
    });

    it("checks the pull request number, the build and variable names", () => {
        expect(problems("pr-3", { image, pr: "4" })).toEqual(["catalyst:pr: 4 does not match the stack pr-3; allowed: 3"]);
        expect(problems("pr-3", { build: { context: "examples/noclaw/worker", repository: "noclaw/worker" } })).toEqual([
            "catalyst:sha: required when catalyst:build is set (the image tag is the git SHA)",
        ]);
        expect(problems("pr-3", { image, app: { env: { DATABASE_URL: "x" } } })).toEqual([
            "catalyst:app.env: DATABASE_URL is already set by a service binding",
        ]);
        expect(problems("pr-3", { image, app: { dataVolume: { mountPath: "/data", size: "1Gi" }, replicas: "2" } })).toEqual([
            "catalyst:app.dataVolume: a ReadWriteOnce data volume needs exactly 1 replica and no autoscaling",
        ]);
    });

    it("reports every problem at once", () => {
        expect(problems("production", { image, tier: "preview", access: { owners: { users: ["a"] } }, database: { mode: "shared" } })).toHaveLength(2);
    });

    it("loads the checked-in preview template and both examples", () => {
        const yaml = jest.requireActual<typeof import("js-yaml")>("js-yaml");
        const fs = jest.requireActual<typeof import("fs")>("fs");
        const read = (file: string) => (yaml.load(fs.readFileSync(path.join(root, file), "utf8")) as { config: Record<string, unknown> }).config;
        const strip = (config: Record<string, unknown>) =>
            Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^catalyst:/, ""), v]));
        expect(load("pr-5", { ...strip(read("Pulumi.pr.yaml")), pr: "5", branch: "main" }).app.source)
            .toEqual({ kind: "image", image: "nginxinc/nginx-unprivileged:1.27.4-alpine" });
        const web = load("production", { ...strip(read("examples/catalyst-web/Pulumi.production.yaml")), appSecretFiles: { "ssh-private-key": "k" } }, ["appSecretFiles"]);
        expect(web.app).toMatchObject({ port: 3001, generatedSecrets: ["CATALYST_SECRET", "COOKIE_SECRET"], egress: [{ cidr: "10.20.0.5/32", port: 22, protocol: "TCP" }] });
        expect(web.app.secretFiles).toEqual([{ key: "ssh-private-key", mountPath: "/app/.ssh", fileName: "id_ed25519", mode: 0o400 }]);
        const noclaw = load("production", strip(read("examples/noclaw/Pulumi.production.yaml")));
        expect(noclaw.app).toMatchObject({ port: 3000, replicas: 1, dataVolume: { mountPath: "/app/data", size: "5Gi" } });
        expect(noclaw.database.mode).toBe("none");
    });
});

import type * as RegistryModule from "../../../components/platform/imageRegistry";
import type * as RegistryConfigModule from "../../../components/platform/registryConfig";
import { installMocks, isSecret, MockRecorder, settle, valueOf } from "./mocks";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SECRET = "kubernetes:core/v1:Secret";
const PVC = "kubernetes:core/v1:PersistentVolumeClaim";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

let mocks: MockRecorder;
let registry: typeof RegistryModule;
let config: typeof RegistryConfigModule;

beforeAll(async () => {
    mocks = installMocks();
    registry = await import("../../../components/platform/imageRegistry");
    config = await import("../../../components/platform/registryConfig");
});

beforeEach(() => mocks.reset());

const pvc = { kind: "pvc", size: "5Gi" } as const;
const s3 = { kind: "s3", bucket: "images", region: "eu-west-1", endpoint: "https://s3.example.com", forcePathStyle: true } as const;

describe("registry configuration", () => {
    it("stores layers on the volume, allows deletes for garbage collection and authenticates with htpasswd", () => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const file = config.registryConfig(pvc) as any;
        expect(file.storage.filesystem).toEqual({ rootdirectory: "/var/lib/registry" });
        expect(file.storage.s3).toBeUndefined();
        expect(file.storage.delete).toEqual({ enabled: true });
        expect(file.auth.htpasswd.path).toBe("/auth/htpasswd");
        expect(file.http.addr).toBe(":5000");
        expect(file.http.debug.prometheus).toEqual({ enabled: true, path: "/metrics" });
    });

    it("keeps S3 credentials out of the configuration file", () => {
        const { text } = config.registryConfigFile(s3);
        const file = JSON.parse(text);
        expect(file.storage.s3).toEqual({ bucket: "images", region: "eu-west-1", regionendpoint: "https://s3.example.com", forcepathstyle: true, secure: true });
        expect(file.storage.filesystem).toBeUndefined();
        expect(text).not.toMatch(/accesskey|secretkey/i);
    });

    it("changes the configuration hash when the storage changes", () => {
        expect(config.registryConfigFile(pvc).hash).not.toBe(config.registryConfigFile(s3).hash);
        expect(config.registryConfigFile(pvc).hash).toBe(config.registryConfigFile({ ...pvc }).hash);
    });

    it("writes an htpasswd line and refuses a user that would break the file", () => {
        expect(config.htpasswdLine("catalyst", "$2a$10$hash")).toBe("catalyst:$2a$10$hash\n");
        expect(() => config.htpasswdLine("a:b", "$2a$10$hash")).toThrow("must not contain ':'");
    });

    it("builds a dockerconfigjson whose auth is base64(user:password)", () => {
        const json = JSON.parse(config.dockerConfigJson("registry.example.com", "catalyst", "s3cret"));
        const entry = json.auths["registry.example.com"];
        expect(entry.username).toBe("catalyst");
        expect(Buffer.from(entry.auth, "base64").toString()).toBe("catalyst:s3cret");
    });
});

describe("ImageRegistry on a volume", () => {
    let component: RegistryModule.ImageRegistry;

    beforeEach(async () => {
        component = new registry.ImageRegistry("registry", {
            domain: "example.com",
            ingressClassName: "nginx",
            storage: pvc,
            passwordSource: "random",
            labels: { "catalyst.dev/stack": "platform" },
        });
        await settle(mocks);
    });

    it("creates the full inventory", () => {
        const kinds = mocks.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => `${r.type}::${r.name}`).sort();
        expect(kinds).toEqual([
            `${DEPLOYMENT}::registry`,
            `${CRONJOB}::registry-gc`,
            "kubernetes:core/v1:ConfigMap::registry-config",
            "kubernetes:core/v1:Namespace::registry-namespace",
            `${PVC}::registry-data`,
            `${SECRET}::registry-auth`,
            `${SECRET}::registry-http`,
            "kubernetes:core/v1:Service::registry",
            `${INGRESS}::registry`,
        ].sort());
        expect(mocks.ofType("catalyst:shared:GeneratedPassword").map((r) => r.name).sort()).toEqual(["registry-http-secret", "registry-password"]);
        expect(mocks.ofType("random:index/randomPassword:RandomPassword")).toHaveLength(2);
    });

    it("runs one restricted replica on the volume, recreated rather than rolled", () => {
        const spec = mocks.get(DEPLOYMENT, "registry").inputs.spec;
        expect(spec.replicas).toBe(1);
        expect(spec.strategy).toEqual({ type: "Recreate" });
        const pod = spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        const container = pod.containers[0];
        expect(container.image).toBe("docker.io/library/registry:3.0.0");
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(container.resources).toEqual({ requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } });
        // Alive while the API port answers; ready only while the storage driver's health check passes.
        expect(container.livenessProbe.httpGet).toEqual({ path: "/", port: "http" });
        expect(container.readinessProbe.httpGet).toEqual({ path: "/debug/health", port: "metrics" });
        const gc = mocks.get(CRONJOB, "registry-gc").inputs.spec.jobTemplate.spec.template.spec.containers[0];
        expect(gc.resources).toEqual({ requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "500m", memory: "512Mi" } });
        expect(pod.volumes.find((v: { name: string }) => v.name === "data").persistentVolumeClaim.claimName).toBe("registry-data");
        expect(container.env.find((e: { name: string }) => e.name === "REGISTRY_HTTP_SECRET").valueFrom.secretKeyRef).toEqual({ name: "registry-http", key: "http-secret" });
        expect(spec.template.metadata.labels["catalyst.dev/stack"]).toBe("platform");
    });

    it("writes the htpasswd file from the generated password's bcrypt hash", () => {
        const auth = mocks.get(SECRET, "registry-auth");
        expect(auth.inputs.stringData.htpasswd).toMatch(/^catalyst:\$2a\$10\$\S+\n$/);
        expect(auth.secretPaths).toContain("stringData");
    });

    it("claims the configured volume size", () => {
        expect(mocks.get(PVC, "registry-data").inputs.spec).toMatchObject({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } });
    });

    it("serves registry.<domain> through the given IngressClass without a body size limit", () => {
        const ingress = mocks.get(INGRESS, "registry").inputs;
        expect(ingress.spec.ingressClassName).toBe("nginx");
        expect(ingress.spec.rules[0].host).toBe("registry.example.com");
        expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: "registry", port: { name: "http" } });
        expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("0");
    });

    it("collects garbage nightly next to the registry pod, which holds the volume", () => {
        const cron = mocks.get(CRONJOB, "registry-gc").inputs.spec;
        expect(cron.schedule).toBe("30 3 * * *");
        expect(cron.concurrencyPolicy).toBe("Forbid");
        const pod = cron.jobTemplate.spec.template.spec;
        expect(pod.containers[0].command).toEqual(["registry", "garbage-collect", "--delete-untagged", "/etc/catalyst-registry/config.yml"]);
        expect(pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe("kubernetes.io/hostname");
        expect(pod.containers[0].securityContext.runAsNonRoot).toBe(true);
        // The collector's pods must not join the registry Service.
        const podLabels = cron.jobTemplate.spec.template.metadata.labels;
        const selector = mocks.get("kubernetes:core/v1:Service", "registry").inputs.spec.selector;
        expect(Object.entries(selector).every(([key, value]) => podLabels[key] === value)).toBe(false);
        expect(podLabels["catalyst.dev/stack"]).toBe("platform");
    });

    it("outputs the host and a secret pull secret for that host", async () => {
        expect(await valueOf(component.host)).toBe("registry.example.com");
        expect(await isSecret(component.pullSecret)).toBe(true);
        const pull = JSON.parse(await valueOf(component.pullSecret));
        const entry = pull.auths["registry.example.com"];
        expect(entry.username).toBe("catalyst");
        expect(entry.password).toMatch(/^randomx+$/);
    });
});

describe("ImageRegistry on S3", () => {
    it("runs two replicas with no volume and passes static credentials from a Secret", async () => {
        new registry.ImageRegistry("images", {
            domain: "example.com",
            ingressClassName: "nginx",
            storage: s3,
            s3Credentials: { accessKeyId: "AKIA", secretAccessKey: "shh" },
        });
        await settle(mocks);
        expect(mocks.ofType(PVC)).toHaveLength(0);
        const spec = mocks.get(DEPLOYMENT, "images").inputs.spec;
        expect(spec.replicas).toBe(2);
        expect(spec.strategy.type).toBe("RollingUpdate");
        const env = spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
        expect(env).toEqual(expect.arrayContaining(["REGISTRY_STORAGE_S3_ACCESSKEY", "REGISTRY_STORAGE_S3_SECRETKEY"]));
        expect(mocks.get(SECRET, "images-http").inputs.stringData).toMatchObject({ "s3-access-key": "AKIA", "s3-secret-key": "shh" });
        expect(mocks.get(CRONJOB, "images-gc").inputs.spec.jobTemplate.spec.template.spec.affinity).toBeUndefined();
    });

    it("uses the built-in password generator when asked", async () => {
        new registry.ImageRegistry("local", { domain: "example.com", ingressClassName: "nginx", storage: pvc, passwordSource: "builtin" });
        await settle(mocks);
        expect(mocks.ofType("random:index/randomPassword:RandomPassword")).toHaveLength(0);
        expect(mocks.ofType("pulumi-nodejs:dynamic/catalyst:BuiltinPassword").map((r) => r.name).sort()).toEqual(["local-http-secret-builtin", "local-password-builtin"]);
    });
});

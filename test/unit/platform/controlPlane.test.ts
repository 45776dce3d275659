import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as PlatformModule from "../../../stacks/platform";
import { apiNamespaceRules, controllerClusterRules, controllerNamespaceRules } from "../../../components/platform/controlPlaneRbac";
import { FORBIDDEN_VERBS } from "../../../components/environment/rbac";
import { projectSpecSchema } from "../../../stacks/resources/types";
import { BASE_PLATFORM_CONFIG, installMocks, MockRecorder, settle } from "./mocks";

const base = BASE_PLATFORM_CONFIG;

let mocks: MockRecorder;
let platform: typeof PlatformModule;

// A chart mirror with both release tarballs, so that no test reaches for the network.
const mirror = mkdtempSync(path.join(tmpdir(), "catalyst-mirror-"));

beforeAll(async () => {
    for (const file of ["ingress-nginx-4.15.1.tgz", "cloudnative-pg-0.29.0.tgz"]) writeFileSync(path.join(mirror, file), "");
    process.env.CATALYST_CHART_MIRROR = mirror;
    mocks = installMocks({ stack: "platform", delayed: ["kubernetes:helm.sh/v4:Chart"] });
    platform = await import("../../../stacks/platform");
    mocks.reset();
    pulumi.runtime.setAllConfig(base);
    platform.platformProgram();
    await settle(mocks);
}, 60_000);

afterAll(() => {
    delete process.env.CATALYST_CHART_MIRROR;
    pulumi.runtime.setAllConfig({});
});

const ofType = (type: string) => mocks.resources.filter((r) => r.type === type);

describe("the control plane in catalyst-system", () => {
    it("installs both CRDs with status, printer columns and short names", () => {
        const crds = ofType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map((r) => r.inputs);
        expect(crds.map((c) => c.metadata.name).sort()).toEqual(["environments.catalyst.dev", "projects.catalyst.dev"]);
        const env = crds.find((c) => c.metadata.name === "environments.catalyst.dev");
        expect(env.spec.names.shortNames).toEqual(["cenv", "cenvs"]);
        expect(env.spec.versions[0].subresources).toEqual({ status: {} });
        // In the SDK's spelling, which the provider turns back into x-kubernetes-validations.
        expect(env.spec.versions[0].schema.openAPIV3Schema.properties.spec.x_kubernetes_validations.length).toBeGreaterThan(3);
        expect(env.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.overrides.x_kubernetes_preserve_unknown_fields).toBe(true);
        expect(env.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual(["Type", "PR", "Owner", "Ready", "URL", "Stack", "Step", "Done", "Total", "Age"]);
    });

    it("runs the controller: 2 replicas, spread, restricted, limited, with a PDB and its own ServiceAccount", () => {
        const deployment = ofType("kubernetes:apps/v1:Deployment").find((r) => r.inputs.metadata.name === "catalyst-controller")!.inputs;
        expect(deployment.metadata.namespace).toBe("catalyst-system");
        expect(deployment.spec.replicas).toBe(2);
        const pod = deployment.spec.template.spec;
        expect(pod.serviceAccountName).toBe("catalyst-controller");
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
        const container = pod.containers[0];
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(container.resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } });
        expect(container.image).toBe("ghcr.io/catalyst-environments/control-plane:0.1.0");
        expect(container.env.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"]));
        const pdb = ofType("kubernetes:policy/v1:PodDisruptionBudget").find((r) => r.inputs.metadata.name === "catalyst-controller")!.inputs;
        expect(pdb.spec.maxUnavailable).toBe(1);
        const ns = ofType("kubernetes:core/v1:Namespace").find((r) => r.inputs.metadata.name === "catalyst-system")!.inputs;
        expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });

    it("creates the default Project with the CRDs, with a spec the Project schema takes", () => {
        const projects = ofType("kubernetes:catalyst.dev/v1alpha1:Project").map((r) => r.inputs);
        expect(projects.map((p) => [p.metadata.namespace, p.metadata.name])).toEqual([["catalyst-system", "default"]]);
        expect(projectSpecSchema.safeParse(projects[0].spec).success).toBe(true);
    });

    it("serves the HTTP API in resource mode behind the ingress at catalyst.<domain>, with tokens from the operator's Secret", () => {
        const named = (type: string) => ofType(type).find((r) => r.inputs.metadata.name === "catalyst-api")!.inputs;
        const deployment = named("kubernetes:apps/v1:Deployment");
        expect(deployment.metadata.namespace).toBe("catalyst-system");
        expect(deployment.spec.replicas).toBe(2);
        const pod = deployment.spec.template.spec;
        expect(pod.serviceAccountName).toBe("catalyst-api");
        const container = pod.containers[0];
        expect(container.args).toEqual(["serve", "--host", "0.0.0.0", "--port", "8080"]);
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(container.resources.limits).toEqual({ cpu: "1", memory: "512Mi" });
        const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
        expect(env).toMatchObject({ CATALYST_CONTROL_PLANE_NAMESPACE: "catalyst-system", CATALYST_API_TOKENS_FILE: "/etc/catalyst/api/tokens.json" });
        expect(pod.volumes.find((v: { name: string }) => v.name === "tokens").secret.secretName).toBe("catalyst-api-tokens");
        // The sleeping page's wake form posts to the public URL; the wake-link key is an optional key of the tokens Secret.
        expect(env.CATALYST_API_URL).toBe("https://catalyst.example.com");
        expect(container.env.find((e: { name: string }) => e.name === "CATALYST_WAKE_KEY").valueFrom).toEqual({ secretKeyRef: { name: "catalyst-api-tokens", key: "wakeKey", optional: true } });
        const ingress = named("kubernetes:networking.k8s.io/v1:Ingress");
        expect(ingress.spec.rules[0].host).toBe("catalyst.example.com");
        expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: "catalyst-api", port: { name: "http" } });
        expect(named("kubernetes:core/v1:Service").spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http" }]);
        // No environment may route the API's host.
        const own = ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy").map((r) => JSON.stringify(r.inputs));
        expect(own.some((text) => text.includes("catalyst.example.com"))).toBe(true);
    });

    it("gives every API replica one COOKIE_SECRET: generated, a Pulumi secret in a Secret, passed by reference", async () => {
        const secret = ofType("kubernetes:core/v1:Secret").find((r) => r.inputs.metadata.name === "catalyst-api-cookie")!;
        expect(secret.inputs.metadata.namespace).toBe("catalyst-system");
        // The engine receives the whole stringData as one secret value.
        expect(secret.secretPaths).toEqual(["stringData"]);
        const value: string = secret.inputs.stringData.cookieSecret;
        expect(value.length).toBeGreaterThanOrEqual(32);
        // From the platform's password source (the built-in generator in this config; random.RandomPassword by default), 48 characters.
        expect(ofType("pulumi-nodejs:dynamic/catalyst:BuiltinPassword").find((r) => r.name === "control-plane-api-cookie-builtin")!.inputs.length).toBe(48);
        const container = ofType("kubernetes:apps/v1:Deployment").find((r) => r.inputs.metadata.name === "catalyst-api")!.inputs.spec.template.spec.containers[0];
        const cookie = container.env.filter((e: { name: string }) => e.name === "COOKIE_SECRET");
        expect(cookie).toEqual([{ name: "COOKIE_SECRET", valueFrom: { secretKeyRef: { name: "catalyst-api-cookie", key: "cookieSecret" } } }]);
        expect(JSON.stringify(container)).not.toContain(value);
    });

    it("keeps the dashboard's sign-outs in a Secret it creates empty and never resets, named to the API", () => {
        const secret = ofType("kubernetes:core/v1:Secret").find((r) => r.inputs.metadata.name === "catalyst-dashboard-signed-out")!;
        expect(secret.inputs.metadata.namespace).toBe("catalyst-system");
        expect(secret.inputs.data).toBeUndefined();
        expect(secret.inputs.stringData).toBeUndefined();
        const container = ofType("kubernetes:apps/v1:Deployment").find((r) => r.inputs.metadata.name === "catalyst-api")!.inputs.spec.template.spec.containers[0];
        expect(container.env.find((e: { name: string }) => e.name === "CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF").value).toBe("catalyst-system/catalyst-dashboard-signed-out");
        const role = ofType("kubernetes:rbac.authorization.k8s.io/v1:Role").find((r) => r.inputs.metadata.name === "catalyst-api")!.inputs;
        expect(role.rules.filter((r: { resources: string[] }) => r.resources.includes("secrets")))
            .toEqual([{ apiGroups: [""], resources: ["secrets"], resourceNames: ["catalyst-dashboard-signed-out"], verbs: ["get", "update"] }]);
    });

    it("gives the API only its own namespace: Environments written, Projects and Events read, never status", () => {
        expect(apiNamespaceRules("catalyst.dev")).toEqual([
            { apiGroups: ["catalyst.dev"], resources: ["environments"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
            { apiGroups: ["catalyst.dev"], resources: ["projects"], verbs: ["get", "list", "watch"] },
            { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
        ]);
        expect(ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").map((r) => r.inputs.metadata.name)).not.toContain("catalyst-api");
    });

    it("grants no wildcard, escalate, bind or impersonate, and nothing on nodes, CRD writes or cluster RBAC", () => {
        const rules = [...controllerClusterRules(), ...controllerNamespaceRules("catalyst.dev"), ...apiNamespaceRules("catalyst.dev")];
        for (const rule of rules) {
            expect([...rule.apiGroups, ...rule.resources, ...rule.verbs].filter((v) => v.includes("*"))).toEqual([]);
            expect(rule.verbs.filter((v) => FORBIDDEN_VERBS.includes(v))).toEqual([]);
            expect(rule.resources).not.toContain("nodes");
            expect(rule.resources).not.toContain("clusterroles");
            expect(rule.resources).not.toContain("clusterrolebindings");
        }
        const crdRule = rules.find((r) => r.resources.includes("customresourcedefinitions"))!;
        expect(crdRule.verbs).toEqual(["get", "list", "watch"]);
    });
});

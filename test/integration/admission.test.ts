import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { countLabelled, kubectlError, kubectlJson, quietOutput, requireTestEnvironment, suffix } from "./harness";

/*
 * The platform's ValidatingAdmissionPolicies (components/platform/admissionPolicies.ts) against
 * the real API server: the component is created by a fixture program through the Automation
 * API, then objects are sent with `kubectl apply --dry-run=server`, which runs admission in full
 * and stores nothing.
 */
jest.setTimeout(10 * 60_000);

const fixture = path.join(__dirname, "fixtures", "admission");
const run = suffix();
const prefix = `catalyst-test-${run}`;
const environment = `env-admission-${run}`;
const other = `admission-other-${run}`;
const hostless = `env-hostless-${run}`;
const ownHost = `app.admission-${run}.example.test`;
const POLICY_COUNT = 21;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

function container(overrides: Json = {}): Json {
    return {
        name: "web",
        image: "registry.k8s.io/pause:3.10",
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
        securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
        ...overrides,
    };
}

function podSpec(overrides: Json = {}, containerOverrides: Json = {}): Json {
    return { securityContext: { runAsUser: 65532 }, containers: [container(containerOverrides)], ...overrides };
}

function deployment(namespace: string, name: string, spec: Json): Json {
    const labels = { app: name };
    return {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace },
        spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
    };
}

/** An Ingress in `namespace` with `spec` (routing to the Service `web` unless `spec` says otherwise). */
function ingress(namespace: string, name: string, spec: Json, annotations: Record<string, string> = {}): Json {
    return { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name, namespace, annotations }, spec };
}

/** A rule of `host` (none when undefined) to the Service `web` on port 80. */
function rule(host?: string): Json {
    const paths = [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }];
    return host === undefined ? { http: { paths } } : { host, http: { paths } };
}

/** `kubectl apply --dry-run=server` of `object`: "" when admitted, else the error. */
function dryRun(object: Json): string {
    return kubectlError(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(object));
}

/** Polls until the policies are in force (the API server loads new policies asynchronously). */
async function untilEnforced(probe: () => string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe().includes(prefix)) {
        if (Date.now() > deadline) {
            throw new Error(`the admission policies were not in force after ${timeoutMs / 1000}s: ${probe()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

describe("admission policies on the local API server", () => {
    let stack: Stack;

    beforeAll(async () => {
        requireTestEnvironment();
        stack = await LocalWorkspace.createOrSelectStack({ stackName: `admission-${run}`, workDir: fixture });
        await stack.setConfig("runId", { value: run });
        const up = await stack.up({ onOutput: quietOutput });
        expect(up.summary.result).toBe("succeeded");
        expect(up.outputs.policyNames.value).toHaveLength(POLICY_COUNT);
        await untilEnforced(() => dryRun(deployment(environment, "probe", podSpec({}, { image: "registry.k8s.io/pause:latest" }))));
    });

    afterAll(async () => {
        if (stack !== undefined) {
            try {
                const destroy = await stack.destroy({ onOutput: quietOutput });
                expect(destroy.summary.result).toBe("succeeded");
                const kinds = "validatingadmissionpolicies,validatingadmissionpolicybindings,namespaces";
                expect(countLabelled(kinds, `catalyst.dev/admission-test=${run}`)).toBe(0);
            } finally {
                await stack.workspace.removeStack(`admission-${run}`);
            }
        }
    });

    it("type-checks every CEL expression against the kinds it matches", async () => {
        // The API server records type errors in each policy's status; wait until all are checked.
        const deadline = Date.now() + 60_000;
        let policies: Json[] = [];
        for (;;) {
            policies = kubectlJson<{ items: Json[] }>(["get", "validatingadmissionpolicies", "-l", `catalyst.dev/admission-test=${run}`]).items;
            if (policies.every((p) => p.status?.observedGeneration === p.metadata.generation) || Date.now() > deadline) {
                break;
            }
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        expect(policies).toHaveLength(POLICY_COUNT);
        const warnings = policies.flatMap((p) => (p.status?.typeChecking?.expressionWarnings ?? []).map((w: Json) => `${p.metadata.name} ${w.fieldRef}: ${w.warning}`));
        expect(warnings).toEqual([]);
    });

    it("denies a latest-tagged Deployment and an untagged Pod with the policy's message", () => {
        expect(dryRun(deployment(environment, "latest", podSpec({}, { image: "registry.k8s.io/pause:latest" }))))
            .toContain(`${prefix}-image-pinned: container web uses registry.k8s.io/pause:latest; pin a version tag or a digest`);
        const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "untagged", namespace: environment }, spec: podSpec({}, { image: "registry.k8s.io/pause" }) };
        expect(dryRun(pod)).toMatch(new RegExp(`ValidatingAdmissionPolicy '${prefix}-image-pinned-pods' .* denied request: ${prefix}-image-pinned: container web uses registry.k8s.io/pause;`));
    });

    it("denies a privileged Pod and a host-network Deployment", () => {
        const privileged = {
            apiVersion: "v1", kind: "Pod", metadata: { name: "privileged", namespace: environment },
            spec: podSpec({}, { securityContext: { privileged: true } }),
        };
        expect(dryRun(privileged)).toContain(`${prefix}-no-privileged-containers: container web must not run privileged`);
        expect(dryRun(deployment(environment, "host", podSpec({ hostNetwork: true, hostPID: true }))))
            .toContain(`${prefix}-no-host-access: the pod must not use hostNetwork, hostPID`);
        const hostPath = podSpec({ volumes: [{ name: "root", hostPath: { path: "/" } }] });
        expect(dryRun(deployment(environment, "hostpath", hostPath))).toContain(`${prefix}-no-host-access: the pod must not use hostPath volume root`);
    });

    it("denies a CronJob whose containers have no limits", () => {
        const cronJob = {
            apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "nightly", namespace: environment },
            spec: {
                schedule: "0 3 * * *",
                jobTemplate: { spec: { template: { spec: { ...podSpec({}, { resources: { requests: { cpu: "10m" } } }), restartPolicy: "Never" } } } },
            },
        };
        expect(dryRun(cronJob)).toContain(`${prefix}-container-limits: container web must set resources.limits.cpu and resources.limits.memory`);
    });

    it("denies NodePort and LoadBalancer Services", () => {
        for (const type of ["NodePort", "LoadBalancer"]) {
            const service = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: environment }, spec: { type, selector: { app: "web" }, ports: [{ port: 80 }] } };
            expect(dryRun(service)).toContain(`${prefix}-no-external-services: Service web must be ClusterIP without externalIPs (type ${type})`);
        }
    });

    it("denies Ingress rules without a host, hosts the namespace does not record, and TLS for them", () => {
        expect(dryRun(ingress(environment, "hostless", { rules: [rule(ownHost), rule()] })))
            .toContain(`${prefix}-ingress-host-required: Ingress hostless has a rule without a host; every rule must name one of the environment's hosts`);
        const allowed = `allowed: app.admission-${run}.example.test, tools.admission-${run}.example.test`;
        // The registry host is recorded, but reserved for the platform.
        for (const host of ["pr-1.preview.catalyst.localhost", "registry.catalyst.localhost", "catalyst.localhost", "www.example.com", `*.admission-${run}.example.test`, `registry.admission-${run}.example.test`]) {
            expect(dryRun(ingress(environment, "foreign", { rules: [rule(host)] })))
                .toContain(`${prefix}-ingress-own-hosts: Ingress foreign names ${host}, not a host of this environment (${allowed})`);
        }
        expect(dryRun(ingress(environment, "tls", { rules: [rule(ownHost)], tls: [{ hosts: [ownHost, "registry.catalyst.localhost"], secretName: "x" }] })))
            .toContain(`${prefix}-ingress-own-hosts: Ingress tls names registry.catalyst.localhost, not a host of this environment`);
        expect(dryRun(ingress(hostless, "any", { rules: [rule("app.example.test")] })))
            .toContain(`${prefix}-ingress-own-hosts: Ingress any names app.example.test, not a host of this environment (none recorded in annotation catalyst.dev/hosts of namespace ${hostless})`);
    });

    it("denies a default backend, resource backends and annotations that proxy elsewhere", () => {
        const backend = { service: { name: "web", port: { number: 80 } } };
        expect(dryRun(ingress(environment, "catch-all", { defaultBackend: backend })))
            .toContain(`${prefix}-ingress-no-default-backend: Ingress catch-all sets spec.defaultBackend, which would catch every host no other Ingress names`);
        const resourceRule = { host: ownHost, http: { paths: [{ path: "/", pathType: "Prefix", backend: { resource: { apiGroup: "example.com", kind: "Bucket", name: "b" } } }] } };
        expect(dryRun(ingress(environment, "resource", { rules: [resourceRule] })))
            .toContain(`${prefix}-ingress-local-backends: Ingress resource must route to Services of its namespace only (found: a resource backend for ${ownHost})`);
        const auth = ingress(environment, "auth", { rules: [rule(ownHost)] }, { "nginx.ingress.kubernetes.io/auth-url": "http://registry.registry.svc.cluster.local:5000/v2/" });
        expect(dryRun(auth))
            .toContain(`${prefix}-ingress-local-backends: Ingress auth must route to Services of its namespace only (found: annotation nginx.ingress.kubernetes.io/auth-url)`);
    });

    it("denies ExternalName Services", () => {
        const service = { apiVersion: "v1", kind: "Service", metadata: { name: "registry", namespace: environment }, spec: { type: "ExternalName", externalName: "registry.registry.svc.cluster.local" } };
        expect(dryRun(service))
            .toContain(`${prefix}-no-externalname-services: Service registry must not be ExternalName (it points at registry.registry.svc.cluster.local)`);
    });

    it("admits compliant objects", () => {
        const digest = `registry.k8s.io/pause@sha256:${"e".repeat(64)}`;
        expect(dryRun(deployment(environment, "compliant", podSpec()))).toBe("");
        expect(dryRun(deployment(environment, "digest", podSpec({}, { image: digest })))).toBe("");
        expect(dryRun({ apiVersion: "v1", kind: "Pod", metadata: { name: "compliant", namespace: environment }, spec: podSpec() })).toBe("");
        const service = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: environment }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } };
        expect(dryRun(service)).toBe("");
        const tls = [{ hosts: [ownHost], secretName: "web-tls" }];
        expect(dryRun(ingress(environment, "own", { rules: [rule(ownHost), rule(`tools.admission-${run}.example.test`)], tls }))).toBe("");
    });

    it("leaves namespaces that are not environments alone", () => {
        expect(dryRun(deployment(other, "latest", podSpec({}, { image: "registry.k8s.io/pause:latest", securityContext: { privileged: true } })))).toBe("");
        expect(dryRun(ingress(other, "catch-all", { defaultBackend: { service: { name: "web", port: { number: 80 } } }, rules: [rule(), rule("registry.catalyst.localhost")] }))).toBe("");
        const externalName = { apiVersion: "v1", kind: "Service", metadata: { name: "registry", namespace: other }, spec: { type: "ExternalName", externalName: "registry.registry.svc.cluster.local" } };
        expect(dryRun(externalName)).toBe("");
    });
});

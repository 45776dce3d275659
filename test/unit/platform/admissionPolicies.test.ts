import type * as AdmissionModule from "../../../components/platform/admissionPolicies";
import { installMocks, MockRecorder, settle, valueOf } from "./mocks";

const POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";

let mocks: MockRecorder;
let admission: typeof AdmissionModule;

beforeAll(async () => {
    mocks = installMocks();
    admission = await import("../../../components/platform/admissionPolicies");
});

beforeEach(() => mocks.reset());

const expectedNames = [
    ...["image-pinned", "container-limits", "no-privileged-containers", "no-host-access", "service-account-use"].flatMap((rule) =>
        ["pods", "workloads", "cronjobs"].map((shape) => `catalyst-${rule}-${shape}`)),
    "catalyst-no-external-services",
    "catalyst-no-externalname-services",
    ...["ingress-host-required", "ingress-own-hosts", "ingress-no-default-backend", "ingress-local-backends"].map((rule) => `catalyst-${rule}`),
];

describe("AdmissionPolicies", () => {
    it("creates one policy and one Deny binding per rule and pod shape, bound to environment namespaces", async () => {
        const component = new admission.AdmissionPolicies("admission", { labels: { "catalyst.dev/stack": "platform" } });
        await settle(mocks);
        expect(await valueOf(component.policyNames)).toEqual(expectedNames);
        const policies = mocks.ofType(POLICY);
        const bindings = mocks.ofType(BINDING);
        expect(policies.map((p) => p.inputs.metadata.name).sort()).toEqual([...expectedNames].sort());
        expect(bindings.map((b) => b.inputs.metadata.name).sort()).toEqual([...expectedNames].sort());
        for (const binding of bindings) {
            expect(binding.inputs.spec.policyName).toBe(binding.inputs.metadata.name);
            expect(binding.inputs.spec.validationActions).toEqual(["Deny"]);
            expect(binding.inputs.spec.matchResources.namespaceSelector).toEqual({
                matchExpressions: [{ key: "catalyst.dev/environment", operator: "Exists" }],
            });
            expect(binding.inputs.metadata.labels).toEqual({ "catalyst.dev/stack": "platform" });
        }
        // Logical names derive from the component's name: two instances never collide.
        expect(policies.map((p) => p.name)).toContain("admission-image-pinned-workloads");
        expect(bindings.map((b) => b.name)).toContain("admission-image-pinned-workloads-binding");
    });

    it("fails closed and names the rule's policy at the start of every message", async () => {
        new admission.AdmissionPolicies("admission", {});
        await settle(mocks);
        for (const policy of mocks.ofType(POLICY)) {
            const rule = (policy.inputs.metadata.name as string).replace(/-(pods|workloads|cronjobs)$/, "");
            expect(policy.inputs.metadata.annotations["catalyst.dev/description"].length).toBeGreaterThan(20);
            expect(policy.inputs.spec.failurePolicy).toBe("Fail");
            const [validation] = policy.inputs.spec.validations;
            expect(validation.messageExpression.startsWith(`'${rule}: ' + `)).toBe(true);
            expect(validation.message.startsWith(`${rule}: `)).toBe(true);
            for (const resourceRule of policy.inputs.spec.matchConstraints.resourceRules) {
                expect(resourceRule.operations).toEqual(["CREATE", "UPDATE"]);
            }
        }
    });

    it("finds the pod spec where each kind keeps it", () => {
        const shapes = Object.fromEntries(admission.POD_SHAPES.map((s) => [s.suffix, s]));
        expect(shapes.pods.podSpec).toBe("object.spec");
        expect(shapes.workloads.podSpec).toBe("object.spec.template.spec");
        expect(shapes.workloads.rules.flatMap((r) => r.resources).sort()).toEqual(
            ["daemonsets", "deployments", "jobs", "replicasets", "replicationcontrollers", "statefulsets"]);
        expect(shapes.cronjobs.podSpec).toBe("object.spec.jobTemplate.spec.template.spec");
        const variables = admission.podVariables(shapes.cronjobs);
        expect(variables.map((v) => v.name)).toEqual(["spec", "containers", "allContainers"]);
        expect(variables[0].expression).toBe("object.spec.jobTemplate.spec.template.spec");
    });

    it("takes a prefix, a namespace selector and observe-only actions", async () => {
        new admission.AdmissionPolicies("observe", {
            prefix: "staging-baseline",
            namespaceSelector: { matchLabels: { team: "a" } },
            validationActions: ["Warn", "Audit"],
        });
        await settle(mocks);
        const binding = mocks.get(BINDING, "observe-no-external-services-binding");
        expect(binding.inputs.metadata.name).toBe("staging-baseline-no-external-services");
        expect(binding.inputs.spec.validationActions).toEqual(["Warn", "Audit"]);
        expect(binding.inputs.spec.matchResources.namespaceSelector).toEqual({ matchLabels: { team: "a" } });
        const policy = mocks.get(POLICY, "observe-no-external-services");
        expect(policy.inputs.spec.validations[0].messageExpression.startsWith("'staging-baseline-no-external-services: '")).toBe(true);
    });

    it("lets only those who may use a ServiceAccount run pods as it, besides trusted controllers", () => {
        const rule = admission.serviceAccountRule(["system:kube-controller-manager", "system:serviceaccount:kube-system:*"]);
        expect(rule.expression).toBe(
            "variables.account == 'default' || (request.userInfo.username == \"system:kube-controller-manager\" || " +
            "request.userInfo.username.startsWith(\"system:serviceaccount:kube-system:\")) || " +
            "authorizer.group('').resource('serviceaccounts').namespace(request.namespace).name(variables.account).check('use').allowed()");
        expect(admission.serviceAccountRule([]).expression).toContain("'default' || false || authorizer");
        expect(admission.DEFAULT_TRUSTED_REQUESTERS).toContain("system:serviceaccount:cnpg-system:cloudnative-pg");
    });

    it("holds Ingresses to the hosts their namespace records, read from its annotation", async () => {
        new admission.AdmissionPolicies("admission", { reservedHosts: ["registry.example.com", "example.com"] });
        await settle(mocks);
        const own = mocks.get(POLICY, "admission-ingress-own-hosts").inputs.spec;
        expect(own.matchConstraints.resourceRules).toEqual([{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], resources: ["ingresses"], operations: ["CREATE", "UPDATE"] }]);
        const variables = Object.fromEntries(own.variables.map((v: { name: string; expression: string }) => [v.name, v.expression]));
        expect(variables.hosts).toContain('namespaceObject.metadata.annotations["catalyst.dev/hosts"].split(\',\')');
        // The platform's hosts never count as recorded.
        expect(variables.reserved).toBe('["registry.example.com", "example.com"]');
        expect(variables.hosts).toContain("!(h in variables.reserved)");
        // Rules and TLS hosts both count.
        expect(variables.foreign).toContain("object.spec.tls");
        expect(own.validations[0].expression).toBe("size(variables.foreign) == 0");
        const local = mocks.get(POLICY, "admission-ingress-local-backends").inputs.spec.variables.find((v: { name: string }) => v.name === "found").expression;
        expect(local).toContain("['nginx.ingress.kubernetes.io/auth-url','nginx.ingress.kubernetes.io/mirror-target']");
        const externalName = mocks.get(POLICY, "admission-no-externalname-services").inputs.spec;
        expect(externalName.matchConstraints.resourceRules[0].resources).toEqual(["services"]);
    });
});

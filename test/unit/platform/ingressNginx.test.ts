import type * as ChartsModule from "../../../components/platform/charts";
import type * as AdmissionModule from "../../../components/platform/ingressNginxAdmission";
import type * as IngressModule from "../../../components/platform/ingressNginx";
import { installMocks, MockRecorder, settle, valueOf } from "./mocks";

const CHART = "kubernetes:helm.sh/v4:Chart";
const NAMESPACE = "kubernetes:core/v1:Namespace";

let mocks: MockRecorder;
let ingress: typeof IngressModule;
let charts: typeof ChartsModule;
let admission: typeof AdmissionModule;

beforeAll(async () => {
    // Charts register slowly here, so that anything not waiting for them shows up first.
    mocks = installMocks({ delayed: [CHART] });
    ingress = await import("../../../components/platform/ingressNginx");
    charts = await import("../../../components/platform/charts");
    admission = await import("../../../components/platform/ingressNginxAdmission");
});

beforeEach(() => mocks.reset());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Values = Record<string, any>;

describe("ingressNginxValues", () => {
    it("hardens the controller by default", () => {
        const values = ingress.ingressNginxValues({}) as Values;
        const controller = values.controller;
        expect(controller.allowSnippetAnnotations).toBe(false);
        expect(controller.enableAnnotationValidations).toBe(true);
        expect(controller.config["annotations-risk-level"]).toBe("Medium");
        expect(controller.config["strict-validate-path-type"]).toBe("true");
        expect(controller.ingressClassResource).toEqual({ name: "nginx", enabled: true, default: true });
        expect(controller.metrics.enabled).toBe(true);
        expect(controller.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } });
        expect(controller.service.type).toBe("ClusterIP");
        expect(values.defaultBackend.enabled).toBe(false);
    });

    it("runs the controller with a read-only root file system, its writable paths on emptyDir volumes", () => {
        const controller = (ingress.ingressNginxValues({ limits: { cpu: "200m", memory: "256Mi" } }) as Values).controller;
        expect(controller.resources.limits).toEqual({ cpu: "200m", memory: "256Mi" });
        expect(controller.image.readOnlyRootFilesystem).toBe(true);
        expect(controller.extraVolumeMounts.map((m: Values) => m.mountPath)).toEqual(["/etc/nginx", "/etc/ingress-controller", "/tmp"]);
        expect(controller.extraVolumes.every((v: Values) => v.emptyDir !== undefined)).toBe(true);
        const [copy] = controller.extraInitContainers;
        // The image's /etc/nginx is copied into the volume that hides it.
        expect(copy.command).toEqual(["cp", "-R", "/etc/nginx/.", "/seed/etc-nginx/"]);
        expect(copy.volumeMounts).toEqual([{ name: "etc-nginx", mountPath: "/seed/etc-nginx" }]);
        expect(copy.image).toBe(ingress.INGRESS_NGINX_CONTROLLER_IMAGE);
        expect(copy.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsUser: 101, capabilities: { drop: ["ALL"] } });
        expect(copy.resources.limits).toEqual({ cpu: "100m", memory: "64Mi" });
        const writable = (ingress.ingressNginxValues({ readOnlyRootFilesystem: false }) as Values).controller;
        expect(writable.extraInitContainers).toBeUndefined();
        expect(writable.image).toBeUndefined();
    });

    it("keeps production defaults: two replicas with a PodDisruptionBudget and the admission webhook", () => {
        const controller = (ingress.ingressNginxValues({}) as Values).controller;
        // The chart renders its PodDisruptionBudget (minAvailable) when replicaCount > 1.
        expect(controller.replicaCount).toBe(2);
        expect(controller.minAvailable).toBe(1);
        expect(controller.admissionWebhooks.enabled).toBe(true);
    });

    it("takes the local-cluster settings: one replica, no webhook, LoadBalancer on request", () => {
        const controller = (ingress.ingressNginxValues({ replicas: 1, admissionWebhooks: false, serviceType: "LoadBalancer" }) as Values).controller;
        expect(controller.replicaCount).toBe(1);
        expect(controller.admissionWebhooks.enabled).toBe(false);
        expect(controller.service.type).toBe("LoadBalancer");
    });

    it("points the default backend at a given Service (the platform's API: a sleeping preview's page), and sets none otherwise", () => {
        expect((ingress.ingressNginxValues({ defaultBackendService: "catalyst-system/catalyst-api" }) as Values).controller.extraArgs).toEqual({ "default-backend-service": "catalyst-system/catalyst-api" });
        expect((ingress.ingressNginxValues({}) as Values).controller.extraArgs).toBeUndefined();
        expect((ingress.ingressNginxValues({}) as Values).defaultBackend).toEqual({ enabled: false });
    });

    it("labels every chart object and pod with the given labels", () => {
        const values = ingress.ingressNginxValues({ labels: { "catalyst.dev/stack": "platform" } }) as Values;
        expect(values.commonLabels).toEqual({ "catalyst.dev/stack": "platform" });
        expect(values.controller.podLabels).toEqual({ "catalyst.dev/stack": "platform" });
    });

    it("merges the values escape hatch over the computed values without dropping siblings", () => {
        const values = ingress.ingressNginxValues({ values: { controller: { config: { "proxy-body-size": "8m" } } } }) as Values;
        expect(values.controller.config).toEqual({
            "annotations-risk-level": "Medium",
            "strict-validate-path-type": "true",
            "server-tokens": "false",
            "proxy-body-size": "8m",
        });
        expect(values.controller.allowSnippetAnnotations).toBe(false);
    });

    it("names the controller Service after the release", () => {
        expect(ingress.ingressNginxServiceName("ingress-nginx")).toBe("ingress-nginx-controller");
        expect(ingress.ingressNginxServiceName("edge")).toBe("edge-ingress-nginx-controller");
    });
});

describe("certgenArgs", () => {
    it("creates the certificate for the admission Service and patches only the validating webhook", () => {
        expect(admission.certgenArgs("ingress-nginx")).toEqual({
            create: [
                "create",
                "--host=ingress-nginx-controller-admission,ingress-nginx-controller-admission.$(POD_NAMESPACE).svc",
                "--namespace=$(POD_NAMESPACE)",
                "--secret-name=ingress-nginx-admission",
            ],
            patch: [
                "patch",
                "--webhook-name=ingress-nginx-admission",
                "--namespace=$(POD_NAMESPACE)",
                "--patch-mutating=false",
                "--secret-name=ingress-nginx-admission",
                "--patch-failure-policy=Fail",
            ],
        });
        expect(admission.ingressNginxFullname("edge")).toBe("edge-ingress-nginx");
    });

    it("names a new chart revision when the chart source changes", () => {
        const v1 = admission.revisionOf({ chart: "/charts/ingress-nginx-4.15.1.tgz" });
        expect(v1).toBe(admission.revisionOf({ chart: "/charts/ingress-nginx-4.15.1.tgz" }));
        expect(v1).not.toBe(admission.revisionOf({ chart: "/charts/ingress-nginx-4.16.0.tgz" }));
    });
});

describe("mergeValues", () => {
    it("replaces arrays and scalars, merges objects, and leaves both inputs alone", () => {
        const base = { a: { b: 1, c: [1, 2] }, d: "x" };
        const override = { a: { c: [3] }, d: "y" };
        expect(charts.mergeValues(base, override)).toEqual({ a: { b: 1, c: [3] }, d: "y" });
        expect(base).toEqual({ a: { b: 1, c: [1, 2] }, d: "x" });
    });
});

describe("IngressNginx", () => {
    it("creates a restricted namespace and the chart from the upstream repository by default", async () => {
        const controller = new ingress.IngressNginx("ingress", {});
        await settle(mocks);
        const namespace = mocks.get(NAMESPACE, "ingress-namespace");
        expect(namespace.inputs.metadata.name).toBe("ingress-nginx");
        expect(namespace.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        const chart = mocks.get(CHART, "ingress-chart");
        expect(chart.inputs.chart).toBe("ingress-nginx");
        expect(chart.inputs.version).toBe("4.15.1");
        expect(chart.inputs.repositoryOpts).toEqual({ repo: "https://kubernetes.github.io/ingress-nginx" });
        expect(chart.inputs.namespace).toBe("ingress-nginx");
        expect(chart.inputs.name).toBe("ingress-nginx");
        expect(chart.inputs.skipAwait).toBe(false);
        expect(chart.inputs.values.controller.allowSnippetAnnotations).toBe(false);
        expect(await valueOf(controller.className)).toBe("nginx");
        expect(await valueOf(controller.serviceName)).toBe("ingress-nginx-controller");
        expect(await valueOf(controller.serviceHost)).toBe("ingress-nginx-controller.ingress-nginx.svc.cluster.local");
    });

    it("makes the admission webhook's certificate with Jobs, since the chart's hook Jobs never run", async () => {
        new ingress.IngressNginx("ingress", {});
        await settle(mocks);
        const created = mocks.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== CHART).map((r) => `${r.type}::${r.name}`).sort();
        expect(created).toEqual([
            "kubernetes:batch/v1:Job::ingress-admission-create",
            "kubernetes:batch/v1:Job::ingress-admission-patch",
            "kubernetes:core/v1:Namespace::ingress-namespace",
            "kubernetes:core/v1:ServiceAccount::ingress-admission-account",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole::ingress-admission-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding::ingress-admission-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role::ingress-admission-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::ingress-admission-role",
        ]);
        const create = mocks.get("kubernetes:batch/v1:Job", "ingress-admission-create").inputs;
        expect(create.metadata).toMatchObject({ name: "ingress-nginx-admission-create", namespace: "ingress-nginx" });
        const pod = create.spec.template.spec;
        expect(pod.serviceAccountName).toBe("ingress-nginx-admission");
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.containers[0].args).toEqual(admission.certgenArgs("ingress-nginx").create);
        expect(pod.containers[0].securityContext.capabilities).toEqual({ drop: ["ALL"] });
        // The webhook configuration only exists once the chart is applied.
        const done = (id: string) => mocks.completed.indexOf(id);
        expect(done("kubernetes:batch/v1:Job::ingress-admission-patch")).toBeGreaterThan(done(`${CHART}::ingress-chart`));
        const clusterRole = mocks.get("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "ingress-admission-cluster-role").inputs;
        expect(clusterRole.rules).toEqual([{
            apiGroups: ["admissionregistration.k8s.io"],
            resources: ["validatingwebhookconfigurations"],
            resourceNames: ["ingress-nginx-admission"],
            verbs: ["get", "update"],
        }]);
    });

    it("creates no Job at all with the webhook off (the local cluster runs no container)", async () => {
        new ingress.IngressNginx("local", { admissionWebhooks: false });
        await settle(mocks);
        expect(mocks.ofType("kubernetes:batch/v1:Job")).toEqual([]);
        expect(mocks.ofType("catalyst:platform:IngressNginxAdmission")).toEqual([]);
    });

    it("installs a local chart tarball with no repository or version", async () => {
        new ingress.IngressNginx("edge", { chart: { kind: "local", path: "/charts/ingress-nginx-4.15.1.tgz" }, namespace: "edge" });
        await settle(mocks);
        const chart = mocks.get(CHART, "edge-chart");
        expect(chart.inputs.chart).toBe("/charts/ingress-nginx-4.15.1.tgz");
        expect(chart.inputs.repositoryOpts).toBeUndefined();
        expect(chart.inputs.version).toBeUndefined();
        expect(mocks.get(NAMESPACE, "edge-namespace").inputs.metadata.name).toBe("edge");
    });
});

import { containerResources, imagePinned, imageProblem } from "../../../policy/resources";
import { compliantPodSpec, deployment, T, violations } from "./harness";

describe("container-resources", () => {
    it("passes containers with CPU and memory requests and limits", async () => {
        expect(await violations(containerResources, T.deployment, deployment())).toEqual([]);
    });

    it("reports a container without limits and an init container without anything", async () => {
        const spec = compliantPodSpec(
            { initContainers: [{ name: "migrate", image: "registry.example.com/web:1.4.2" }] },
            { resources: { requests: { cpu: "10m", memory: "16Mi" } } },
        );
        expect(await violations(containerResources, T.deployment, deployment(spec))).toEqual([
            'Deployment env-pr-1/web: init container "migrate" does not set requests.cpu, requests.memory, limits.cpu, limits.memory',
            'Deployment env-pr-1/web: container "web" does not set limits.cpu, limits.memory',
        ]);
    });

    it("requires only the configured fields", async () => {
        const spec = compliantPodSpec({}, { resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } } });
        expect(await violations(containerResources, T.deployment, deployment(spec), { required: ["requests.cpu", "requests.memory", "limits.memory"] })).toEqual([]);
        expect(await violations(containerResources, T.deployment, deployment(spec))).toEqual(['Deployment env-pr-1/web: container "web" does not set limits.cpu']);
    });
});

describe("image-pinned", () => {
    it("passes tags and digests", async () => {
        expect(await violations(imagePinned, T.deployment, deployment())).toEqual([]);
        const digest = compliantPodSpec({}, { image: `registry.example.com/web@sha256:${"a".repeat(64)}` });
        expect(await violations(imagePinned, T.deployment, deployment(digest))).toEqual([]);
    });

    it("reports latest and untagged images, also in CronJobs", async () => {
        const cronJob = {
            metadata: { name: "nightly", namespace: "env-pr-1" },
            spec: { jobTemplate: { spec: { template: { spec: compliantPodSpec({}, { image: "busybox" }) } } } },
        };
        expect(await violations(imagePinned, T.cronJob, cronJob)).toEqual([
            'CronJob env-pr-1/nightly: container "web" uses the untagged image "busybox"; pin a version tag or a digest',
        ]);
        const latest = compliantPodSpec({}, { image: "registry.example.com:5000/web:latest" });
        expect(await violations(imagePinned, T.deployment, deployment(latest))).toEqual([
            'Deployment env-pr-1/web: container "web" uses the image "registry.example.com:5000/web:latest" with the tag latest; pin a version tag or a digest',
        ]);
    });

    it("checks the image of a CloudNativePG Cluster", async () => {
        const cluster = (imageName?: string) => ({ metadata: { name: "db", namespace: "env-pr-1" }, spec: { instances: 1, imageName } });
        expect(await violations(imagePinned, T.cnpgCluster, cluster("ghcr.io/cloudnative-pg/postgresql:17.5"))).toEqual([]);
        expect(await violations(imagePinned, T.cnpgCluster, cluster())).toEqual([]);
        expect(await violations(imagePinned, T.cnpgCluster, cluster("ghcr.io/cloudnative-pg/postgresql:latest"))).toEqual([
            'Cluster env-pr-1/db: spec.imageName uses the image "ghcr.io/cloudnative-pg/postgresql:latest" with the tag latest; pin a version tag or a digest',
        ]);
    });

    it.each([
        ["nginx:1.27.4", undefined],
        ["localhost:5000/app:v2", undefined],
        [`app@sha256:${"0".repeat(64)}`, undefined],
        [`app:latest@sha256:${"0".repeat(64)}`, undefined],
        ["localhost:5000/app", 'uses the untagged image "localhost:5000/app"; pin a version tag or a digest'],
        ["app:latest", 'uses the image "app:latest" with the tag latest; pin a version tag or a digest'],
        ["", "has no image"],
    ])("imageProblem(%j)", (image, problem) => {
        expect(imageProblem(image)).toBe(problem);
    });
});

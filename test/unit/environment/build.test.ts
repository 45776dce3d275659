import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { configMap, installMocks, ofType, recorded, REGISTRY_HOST, resetRecorded, settle, valueOf } from "./mocks";

type Program = typeof import("../../../stacks/environment");
type Naming = typeof import("../../../components/naming");
let program: Program;
let naming: Naming;
const root = path.resolve(__dirname, "..", "..", "..");
const sha = "0123456789abcdef0123456789abcdef01234567";

beforeAll(async () => {
    installMocks();
    program = await import("../../../stacks/environment");
    naming = await import("../../../components/naming");
});

beforeEach(() => resetRecorded());

async function run(stack: string, config: Record<string, unknown>) {
    pulumi.runtime.setAllConfig(configMap({ passwordSource: "random", ...config }), []);
    const outputs = program.environmentProgram(naming.parseStackName(stack));
    await settle();
    return outputs;
}

describe("image build", () => {
    it("builds the worker image with @pulumi/docker, tags it with the SHA and hands it to the app", async () => {
        const outputs = await run("production", {
            app: { name: "noclaw", image: "ghcr.io/acme/noclaw:0.9.2", port: 3000 },
            database: { mode: "none" },
            build: { context: "examples/noclaw/worker", repository: "noclaw/worker", envVar: "NOCLAW_WORKER_IMAGE" },
            sha,
        });
        const images = ofType("docker:index/image:Image");
        expect(images).toHaveLength(1);
        const image = images[0].inputs;
        expect(image.imageName).toBe(`${REGISTRY_HOST}/noclaw/worker:${sha}`);
        expect(image.build).toMatchObject({
            context: path.join(root, "examples/noclaw/worker"),
            dockerfile: path.join(root, "examples/noclaw/worker/Dockerfile"),
            platform: "linux/amd64",
        });
        // The credentials reach the provider as a secret (the mock sees the secret's envelope).
        const secretSig = "4dabf18193072939515e22adb298388d";
        expect(image.registry[secretSig]).toBeDefined();
        expect(image.registry.value).toEqual({ server: REGISTRY_HOST, username: "puller", password: "pull-pass" });
        const app = ofType("apps/v1:Deployment").find((d) => d.inputs.metadata.name === "noclaw")!.inputs;
        const container = app.spec.template.spec.containers[0];
        expect(container.image).toBe("ghcr.io/acme/noclaw:0.9.2");
        expect(container.env).toContainEqual({ name: "NOCLAW_WORKER_IMAGE", value: `${REGISTRY_HOST}/noclaw/worker:${sha}` });
        expect(await valueOf(outputs.image as pulumi.Output<string>)).toBe(`${REGISTRY_HOST}/noclaw/worker:${sha}`);
    });

    it("runs the built image as the app when no envVar is named", async () => {
        await run("pr-77", { build: { context: "examples/noclaw/worker", repository: "previews/web" }, sha: "abcdef1" });
        const app = ofType("apps/v1:Deployment").find((d) => d.inputs.metadata.name === "app")!.inputs;
        expect(app.spec.template.spec.containers[0].image).toBe(`${REGISTRY_HOST}/previews/web:abcdef1`);
    });

    it("creates no docker resource unless configured", async () => {
        await run("pr-78", { image: "ghcr.io/acme/web:1.0.0" });
        expect(recorded.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
    });
});

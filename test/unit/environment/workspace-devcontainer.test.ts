import * as path from "path";
import { DevcontainerError, parseDevcontainer, readDevcontainer } from "../../../components/environment/workspace-devcontainer";
import { REPOSITORY_DIR, WORKSPACE_PORTS, WORKSPACE_VARIABLES } from "../../../components/environment/workspace-spec";
import { devcontainerProblem } from "../../../stacks/config/environment-workspace";

const fixtures = path.resolve(__dirname, "..", "..", "fixtures", "devcontainer");
const repoRoot = path.resolve(__dirname, "..", "..", "..");
const options = { reservedPorts: WORKSPACE_PORTS, workspaceFolder: REPOSITORY_DIR, reservedVariables: WORKSPACE_VARIABLES };
const parse = (config: unknown, extra: { prebuiltImage?: string } = {}) =>
    parseDevcontainer(JSON.stringify(config), "devcontainer.json", { ...options, ...extra });
const refusal = (config: unknown) => {
    try {
        parse(config);
    } catch (err) {
        expect(err).toBeInstanceOf(DevcontainerError);
        return (err as Error).message;
    }
    throw new Error("accepted");
};
const base = { image: "mcr.microsoft.com/devcontainers/base:1-bookworm" };

describe("devcontainer.json", () => {
    it("reads the fixture checkout (comments, trailing commas): image, env, uid, ports, lifecycle, features", () => {
        const dc = readDevcontainer(path.join(fixtures, "good"), options);
        expect(dc).toEqual({
            file: path.join(fixtures, "good", ".devcontainer", "devcontainer.json"),
            image: "mcr.microsoft.com/devcontainers/typescript-node:1-22-bookworm",
            env: { NODE_ENV: "development", REPO_DIR: "/workspace/repo" },
            uid: 1000,
            forwardPorts: [3000, 5173],
            createCommands: ["npm ci"],
            startCommands: ["npm run dev:prepare"],
            toolchains: ["go"],
            createHash: expect.stringMatching(/^[0-9a-f]{12}$/),
        });
    });

    it("takes a build's prebuilt image and a numeric remoteUser", () => {
        const dc = readDevcontainer(path.join(fixtures, "build", "devcontainer.json"), { ...options, prebuiltImage: "ghcr.io/acme/web-dev:2.0.1" });
        expect([dc.image, dc.uid]).toEqual(["ghcr.io/acme/web-dev:2.0.1", 1001]);
        expect(() => readDevcontainer(path.join(fixtures, "build"), options)).toThrow(
            /build: a workspace does not build images; .* set catalyst:workspace.devcontainer.image to it$/);
    });

    it("runs named and exec-form commands as shell lines, create commands in lifecycle order", () => {
        const dc = parse({ ...base, onCreateCommand: { a: "make deps", b: ["echo", "it's here"] }, postCreateCommand: "make" });
        expect(dc.createCommands).toEqual(["make deps", "echo 'it'\\''s here'", "make"]);
        expect(parse({ ...base, postCreateCommand: "make other" }).createHash).not.toBe(dc.createHash);
    });

    it.each([
        ["privileged", path.join(fixtures, "privileged"), "privileged: privileged containers are not allowed (Pod Security restricted)"],
        ["runArgs with capabilities", path.join(fixtures, "cap-add"),
            'runArgs[0]: "--cap-add=SYS_PTRACE" asks for capabilities, privilege or host namespaces, which Pod Security restricted forbids'],
        ["a host mount", path.join(fixtures, "host-mount"),
            "mounts[0]: host mounts are not allowed; the workspace's volumes are /workspace and the home directory"],
        ["bad JSON", path.join(fixtures, "bad-json"), "(file): not valid JSON with comments at line 3, column 3: CommaExpected"],
    ])("refuses %s naming the field", (_what, location, message) => {
        expect(() => readDevcontainer(location, options)).toThrow(`${path.join(location, "devcontainer.json")}: ${message}`);
    });

    it("refuses what a restricted pod cannot honour, naming the field and what is allowed", () => {
        expect(refusal({ ...base, capAdd: ["NET_ADMIN"] })).toBe(
            'devcontainer.json: capAdd[0]: "NET_ADMIN": adds Linux capabilities; workspace containers drop all of them (Pod Security restricted)');
        expect(refusal({ ...base, runArgs: ["-v", "/:/host"] })).toBe('devcontainer.json: runArgs[0]: "-v" mounts a host path, which is not allowed');
        expect(refusal({ ...base, remoteUser: "root" })).toBe(
            "devcontainer.json: remoteUser: root is not allowed: workspace containers run as a non-root user (Pod Security restricted)");
        expect(refusal({ ...base, remoteUser: "bob" })).toBe(
            'devcontainer.json: remoteUser: "bob" has no known uid; use a numeric uid ("1000") or one of node, vscode, codespace, agent');
        expect(refusal({ ...base, features: { "ghcr.io/devcontainers/features/docker-in-docker:2": {} } })).toBe(
            'devcontainer.json: features["ghcr.io/devcontainers/features/docker-in-docker:2"]: runs a Docker daemon, which needs a privileged container; not allowed in a workspace');
        expect(refusal({ ...base, features: { "ghcr.io/acme/features/thing:1": {} } })).toMatch(
            /^devcontainer.json: features\["ghcr.io\/acme\/features\/thing:1"\]: is not a feature the workspace provides; known: ghcr.io\/devcontainers\/features\/go, /);
        expect(refusal({ ...base, forwardPorts: [8080] })).toBe("devcontainer.json: forwardPorts[0]: 8080 is the workspace's http port");
        expect(refusal({ ...base, forwardPorts: ["db:5432"] })).toBe(
            'devcontainer.json: forwardPorts[0]: "db:5432" is not a port of this container; use a number from 1 to 65535 (or "localhost:<port>")');
        expect(refusal({ ...base, containerEnv: { HOME: "/root" } })).toBe("devcontainer.json: containerEnv.HOME: is set by the workspace itself");
        expect(refusal({ ...base, containerEnv: { TOKEN: "${localEnv:TOKEN}" } })).toBe(
            "devcontainer.json: containerEnv.TOKEN: ${localEnv:TOKEN} refers to the host that starts the container; a workspace has none");
        expect(refusal({ image: "node" })).toMatch(/^devcontainer.json: image: "node" has no tag or digest; pin a version or a digest/);
        expect(refusal({})).toBe("devcontainer.json: image: required (a pinned image reference), or build with catalyst:workspace.devcontainer.image");
        expect(refusal({ ...base, initializeCommand: "make" })).toBe(
            "devcontainer.json: initializeCommand: runs on the host that starts the container; a workspace has no such host");
        expect(refusal({ ...base, dockerComposeFile: "compose.yml" })).toBe("devcontainer.json: dockerComposeFile: Docker Compose is not available; use image or build");
        expect(refusal({ ...base, shmSize: "2g" })).toMatch(/^devcontainer.json: shmSize: unknown or unsupported key; the workspace honours image, build, /);
        expect(refusal({ ...base, workspaceFolder: "/workspaces/web" })).toBe(
            "devcontainer.json: workspaceFolder: the repository is at /workspace/repo in a workspace; remove the key or set it to that");
        expect(refusal([base])).toBe("devcontainer.json: (file): must hold one JSON object");
    });

    it("is checked before an up from a raw catalyst:workspace value, relative to the project root", () => {
        expect(devcontainerProblem({ enabled: true, devcontainer: "test/fixtures/devcontainer/good" }, repoRoot)).toBeUndefined();
        expect(devcontainerProblem({ enabled: false, devcontainer: "test/fixtures/devcontainer/privileged" }, repoRoot)).toBeUndefined();
        expect(devcontainerProblem({ enabled: "true", devcontainer: { path: "test/fixtures/devcontainer/privileged" } }, repoRoot)).toBe(
            `catalyst:workspace.devcontainer: ${path.join(repoRoot, "test/fixtures/devcontainer/privileged/devcontainer.json")}: privileged: privileged containers are not allowed (Pod Security restricted)`);
        expect(devcontainerProblem({ enabled: true, devcontainer: "no/such/dir" }, repoRoot)).toBe(
            `catalyst:workspace.devcontainer: ${path.join(repoRoot, "no/such/dir")}: path: no such file or directory`);
        expect(devcontainerProblem({ enabled: true, devcontainer: 7 }, repoRoot)).toBe("catalyst:workspace.devcontainer: must be a path, or an object with path and image");
    });
});

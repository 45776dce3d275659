import { createHash } from "crypto";
import { existsSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { parse, ParseError, printParseErrorCode } from "jsonc-parser";
import { imageMessage } from "./image";

/**
 * A repository's `devcontainer.json`, read as far as a Kubernetes workspace can honour it.
 * The file is JSON with comments (the Dev Container specification's format), parsed with
 * `jsonc-parser`, the parser VS Code itself uses; the reference CLI (`@devcontainers/cli
 * read-configuration`) would need Docker to resolve features, which the deploy never has.
 *
 * What it shapes: the image of a `devcontainer` toolchain container (`image`, or the prebuilt
 * image of a `build`), its environment (`containerEnv`, `remoteEnv`), its user (`remoteUser`,
 * `containerUser`) as a uid, `forwardPorts` as ports of the workspace's Service, the lifecycle
 * commands as an init step, and known features as the workspace's toolchain containers. What
 * needs more than a restricted pod (privileged, capabilities, host mounts, Docker) is refused
 * with a message naming the field; so is anything unknown, rather than silently ignored.
 */

/** Thrown for a devcontainer file that is bad or asks for what a workspace cannot honour. */
export class DevcontainerError extends Error {
    constructor(public readonly file: string, public readonly field: string, detail: string) {
        super(`${file}: ${field}: ${detail}`);
        this.name = "DevcontainerError";
    }
}

/** Toolchain containers a feature can turn on. */
export type DevcontainerToolchain = "go" | "typescript";

/** Features the workspace provides, by OCI reference without the version. */
export const KNOWN_FEATURES: Readonly<Record<string, DevcontainerToolchain>> = {
    "ghcr.io/devcontainers/features/go": "go",
    "ghcr.io/devcontainers/features/node": "typescript",
    "ghcr.io/devcontainers-extra/features/typescript": "typescript",
    "ghcr.io/devcontainers-contrib/features/typescript": "typescript",
};

/** Features refused with the reason. */
const REFUSED_FEATURES: Readonly<Record<string, string>> = {
    "ghcr.io/devcontainers/features/docker-in-docker": "runs a Docker daemon, which needs a privileged container",
    "ghcr.io/devcontainers/features/docker-outside-of-docker": "mounts the host's Docker socket, a host mount",
};

/** User names of common dev container images whose uid is 1000. */
export const KNOWN_USERS: Readonly<Record<string, number>> = { node: 1000, vscode: 1000, codespace: 1000, agent: 1000 };

/** Keys that change nothing in a pod (editor settings, port labels, attach-time behaviour). */
const IGNORED_KEYS = new Set([
    "$schema", "name", "customizations", "portsAttributes", "otherPortsAttributes", "postAttachCommand", "waitFor",
    "shutdownAction", "overrideCommand", "updateRemoteUserUID", "userEnvProbe", "hostRequirements", "settings", "extensions",
    "init",
]);

/** Keys refused whatever their value, with the reason. */
const REFUSED_KEYS: Readonly<Record<string, string>> = {
    initializeCommand: "runs on the host that starts the container; a workspace has no such host",
    dockerComposeFile: "Docker Compose is not available; use image or build",
    service: "Docker Compose is not available; use image or build",
    runServices: "Docker Compose is not available; use image or build",
    appPort: "publishes ports on the host; use forwardPorts",
    workspaceMount: "mounts a host directory; the workspace's repository is cloned into /workspace/repo",
};

/** Ports of the workspace pod itself, which a forwarded port must not take. */
export type ReservedPorts = Readonly<Record<string, number>>;

/** What a devcontainer file contributes to the workspace. */
export interface DevcontainerWorkspace {
    /** The file it was read from. */
    file: string;
    /** The toolchain container's image (pinned). */
    image: string;
    /** `containerEnv` and `remoteEnv`, merged. */
    env: Record<string, string>;
    /** The uid the container and its lifecycle step run as. */
    uid: number;
    /** Ports the workspace's Service exposes. */
    forwardPorts: number[];
    /** Shell commands run once, when the workspace is first created (onCreate, updateContent, postCreate). */
    createCommands: string[];
    /** Shell commands run at every start of the pod (postStartCommand). */
    startCommands: string[];
    /** Toolchain containers its features turn on. */
    toolchains: DevcontainerToolchain[];
    /** First 12 hex characters of sha256 of the create commands: a changed list runs again. */
    createHash: string;
}

/** Options of {@link parseDevcontainer}. */
export interface DevcontainerOptions {
    /** The prebuilt image of a `build`-based file (`catalyst:workspace.devcontainer.image`). */
    prebuiltImage?: string;
    /** Ports the pod uses already, by what uses them. */
    reservedPorts: ReservedPorts;
    /** Where the repository is in the container (`${containerWorkspaceFolder}`). */
    workspaceFolder: string;
    /** Variables the workspace sets itself, which the file must not replace. */
    reservedVariables: readonly string[];
}

/**
 * The devcontainer file for `location`: the file itself, or in a directory (a checkout of the
 * repository) `.devcontainer/devcontainer.json`, then `.devcontainer.json` (the specification's
 * lookup order), then `devcontainer.json` (the `.devcontainer` folder itself). Throws a
 * DevcontainerError when there is none.
 */
export function findDevcontainerFile(location: string): string {
    if (!existsSync(location)) {
        throw new DevcontainerError(location, "path", "no such file or directory");
    }
    if (!statSync(location).isDirectory()) {
        return location;
    }
    const candidates = [".devcontainer/devcontainer.json", ".devcontainer.json", "devcontainer.json"].map((name) => path.join(location, name));
    for (const candidate of candidates) {
        if (existsSync(candidate)) {
            return candidate;
        }
    }
    throw new DevcontainerError(location, "path", "holds none of .devcontainer/devcontainer.json, .devcontainer.json, devcontainer.json");
}

/** Reads and checks the devcontainer file at `location` (see {@link findDevcontainerFile}). */
export function readDevcontainer(location: string, options: DevcontainerOptions): DevcontainerWorkspace {
    const file = findDevcontainerFile(location);
    return parseDevcontainer(readFileSync(file, "utf8"), file, options);
}

function position(text: string, offset: number): string {
    const before = text.slice(0, offset).split("\n");
    return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A POSIX shell word for `value`. */
function shellQuote(value: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/** A lifecycle command (string: shell; array: exec form; object: named commands) as shell lines. */
function commandLines(file: string, field: string, value: unknown): string[] {
    if (value === undefined) {
        return [];
    }
    if (typeof value === "string") {
        return value.trim() === "" ? [] : [value];
    }
    if (Array.isArray(value)) {
        if (value.length === 0 || value.some((v) => typeof v !== "string")) {
            throw new DevcontainerError(file, field, "must be a command: a string, a non-empty array of strings, or an object of those");
        }
        return [value.map((v) => shellQuote(v as string)).join(" ")];
    }
    if (isObject(value)) {
        // The specification runs named commands in parallel; here they run one after another.
        return Object.entries(value).flatMap(([name, command]) => commandLines(file, `${field}.${name}`, command));
    }
    throw new DevcontainerError(file, field, "must be a command: a string, a non-empty array of strings, or an object of those");
}

/** Substitutes the container variables the workspace knows and refuses the host's. */
function substitute(file: string, field: string, value: string, workspaceFolder: string): string {
    const host = /\$\{(localEnv|localWorkspaceFolder|localWorkspaceFolderBasename|devcontainerId)[^}]*\}/.exec(value);
    if (host) {
        throw new DevcontainerError(file, field, `${host[0]} refers to the host that starts the container; a workspace has none`);
    }
    return value
        .replace(/\$\{containerWorkspaceFolder\}/g, workspaceFolder)
        .replace(/\$\{containerWorkspaceFolderBasename\}/g, path.posix.basename(workspaceFolder));
}

function userId(file: string, field: string, value: unknown): number {
    if (typeof value !== "string" || value.trim() === "") {
        throw new DevcontainerError(file, field, "must be a user name or a numeric uid");
    }
    const [user] = value.split(":");
    if (user === "root" || user === "0") {
        throw new DevcontainerError(file, field, "root is not allowed: workspace containers run as a non-root user (Pod Security restricted)");
    }
    if (/^[0-9]+$/.test(user)) {
        return Number(user);
    }
    const uid = KNOWN_USERS[user];
    if (uid === undefined) {
        throw new DevcontainerError(file, field, `${JSON.stringify(user)} has no known uid; use a numeric uid ("1000") or one of ${Object.keys(KNOWN_USERS).join(", ")}`);
    }
    return uid;
}

function environment(file: string, field: string, value: unknown, options: DevcontainerOptions): Record<string, string> {
    if (value === undefined) {
        return {};
    }
    if (!isObject(value)) {
        throw new DevcontainerError(file, field, "must be an object of variable names to strings");
    }
    const env: Record<string, string> = {};
    for (const [name, raw] of Object.entries(value)) {
        const where = `${field}.${name}`;
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
            throw new DevcontainerError(file, where, "is not an environment variable name (letters, digits, '_', not starting with a digit)");
        }
        if (options.reservedVariables.includes(name)) {
            throw new DevcontainerError(file, where, "is set by the workspace itself");
        }
        if (typeof raw !== "string") {
            throw new DevcontainerError(file, where, "must be a string");
        }
        env[name] = substitute(file, where, raw, options.workspaceFolder);
    }
    return env;
}

function ports(file: string, value: unknown, reserved: ReservedPorts): number[] {
    if (value === undefined) {
        return [];
    }
    if (!Array.isArray(value)) {
        throw new DevcontainerError(file, "forwardPorts", "must be a list of ports");
    }
    const result: number[] = [];
    value.forEach((entry, index) => {
        const field = `forwardPorts[${index}]`;
        const text = typeof entry === "number" ? String(entry) : typeof entry === "string" ? entry.replace(/^localhost:/, "") : "";
        if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
            throw new DevcontainerError(file, field, `${JSON.stringify(entry)} is not a port of this container; use a number from 1 to 65535 (or "localhost:<port>")`);
        }
        const port = Number(text);
        const taken = Object.entries(reserved).find(([, p]) => p === port);
        if (taken) {
            throw new DevcontainerError(file, field, `${port} is the workspace's ${taken[0]} port`);
        }
        if (!result.includes(port)) {
            result.push(port);
        }
    });
    return result;
}

function toolchains(file: string, value: unknown): DevcontainerToolchain[] {
    if (value === undefined) {
        return [];
    }
    if (!isObject(value)) {
        throw new DevcontainerError(file, "features", "must be an object of feature references to options");
    }
    const result: DevcontainerToolchain[] = [];
    for (const reference of Object.keys(value)) {
        const field = `features[${JSON.stringify(reference)}]`;
        const id = reference.replace(/@sha256:[0-9a-f]+$/, "").replace(/:[^/:]+$/, "");
        const refused = REFUSED_FEATURES[id];
        if (refused !== undefined) {
            throw new DevcontainerError(file, field, `${refused}; not allowed in a workspace`);
        }
        const toolchain = KNOWN_FEATURES[id];
        if (toolchain === undefined) {
            throw new DevcontainerError(file, field, `is not a feature the workspace provides; known: ${Object.keys(KNOWN_FEATURES).join(", ")}`);
        }
        if (!result.includes(toolchain)) {
            result.push(toolchain);
        }
    }
    return result;
}

function image(file: string, config: Record<string, unknown>, prebuilt: string | undefined): string {
    const fromBuild = config.build !== undefined;
    if (fromBuild && config.image !== undefined) {
        throw new DevcontainerError(file, "build", "set either image or build, not both");
    }
    if (fromBuild) {
        if (!isObject(config.build)) {
            throw new DevcontainerError(file, "build", "must be an object");
        }
        if (prebuilt === undefined) {
            throw new DevcontainerError(file, "build",
                "a workspace does not build images; build and push this one (devcontainer build --image-name <ref> --push) and set catalyst:workspace.devcontainer.image to it");
        }
        return prebuilt;
    }
    if (typeof config.image !== "string") {
        throw new DevcontainerError(file, "image", "required (a pinned image reference), or build with catalyst:workspace.devcontainer.image");
    }
    const problem = imageMessage(config.image);
    if (problem !== undefined) {
        throw new DevcontainerError(file, "image", problem);
    }
    return config.image;
}

/** Refuses what a restricted pod cannot honour: privilege, capabilities, security options, docker flags, mounts. */
function refuseUnsafe(file: string, config: Record<string, unknown>): void {
    if (config.privileged !== undefined && config.privileged !== false) {
        throw new DevcontainerError(file, "privileged", "privileged containers are not allowed (Pod Security restricted)");
    }
    const list = (key: string, reason: string) => {
        const value = config[key];
        if (value === undefined) {
            return;
        }
        if (!Array.isArray(value)) {
            throw new DevcontainerError(file, key, "must be a list");
        }
        if (value.length > 0) {
            throw new DevcontainerError(file, `${key}[0]`, `${JSON.stringify(value[0])}: ${reason}`);
        }
    };
    list("capAdd", "adds Linux capabilities; workspace containers drop all of them (Pod Security restricted)");
    list("securityOpt", "changes the container's security options; workspaces run with RuntimeDefault seccomp and no privilege escalation");
    const runArgs = config.runArgs;
    if (runArgs !== undefined) {
        if (!Array.isArray(runArgs)) {
            throw new DevcontainerError(file, "runArgs", "must be a list");
        }
        runArgs.forEach((arg, index) => {
            const text = String(arg);
            const reason = /^--(cap-add|privileged|security-opt|device|pid|ipc|network|net|userns|cgroupns|uts)\b/.test(text)
                ? "asks for capabilities, privilege or host namespaces, which Pod Security restricted forbids"
                : /^(-v|--volume|--mount)\b/.test(text)
                    ? "mounts a host path, which is not allowed"
                    : "is a docker run flag, which a Kubernetes workspace cannot apply";
            throw new DevcontainerError(file, `runArgs[${index}]`, `${JSON.stringify(text)} ${reason}`);
        });
    }
    const mounts = config.mounts;
    if (mounts !== undefined) {
        if (!Array.isArray(mounts)) {
            throw new DevcontainerError(file, "mounts", "must be a list");
        }
        mounts.forEach((mount, index) => {
            const text = typeof mount === "string" ? mount : JSON.stringify(mount);
            const bind = /type=bind|"type":"bind"/.test(text) || /source=\//.test(text);
            throw new DevcontainerError(file, `mounts[${index}]`, bind
                ? "host mounts are not allowed; the workspace's volumes are /workspace and the home directory"
                : "extra volumes are not supported; the workspace's volumes are /workspace and the home directory");
        });
    }
}

const SUPPORTED_KEYS = new Set([
    "image", "build", "containerEnv", "remoteEnv", "remoteUser", "containerUser", "forwardPorts", "features",
    "onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "workspaceFolder",
    "privileged", "capAdd", "securityOpt", "runArgs", "mounts",
]);

/**
 * Parses devcontainer.json `text` (JSON with comments and trailing commas) read from `file` and
 * checks every field the workspace honours; throws a DevcontainerError naming the first bad one.
 */
export function parseDevcontainer(text: string, file: string, options: DevcontainerOptions): DevcontainerWorkspace {
    const errors: ParseError[] = [];
    const config: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
    if (errors.length > 0) {
        const first = errors[0];
        throw new DevcontainerError(file, "(file)", `not valid JSON with comments at ${position(text, first.offset)}: ${printParseErrorCode(first.error)}`);
    }
    if (!isObject(config)) {
        throw new DevcontainerError(file, "(file)", "must hold one JSON object");
    }
    for (const key of Object.keys(config)) {
        const refused = REFUSED_KEYS[key];
        if (refused !== undefined) {
            throw new DevcontainerError(file, key, refused);
        }
        if (!SUPPORTED_KEYS.has(key) && !IGNORED_KEYS.has(key)) {
            throw new DevcontainerError(file, key, `unknown or unsupported key; the workspace honours ${[...SUPPORTED_KEYS].join(", ")}`);
        }
    }
    refuseUnsafe(file, config);
    if (config.workspaceFolder !== undefined && config.workspaceFolder !== options.workspaceFolder) {
        throw new DevcontainerError(file, "workspaceFolder", `the repository is at ${options.workspaceFolder} in a workspace; remove the key or set it to that`);
    }
    const uid = config.remoteUser !== undefined
        ? userId(file, "remoteUser", config.remoteUser)
        : config.containerUser !== undefined ? userId(file, "containerUser", config.containerUser) : 1000;
    if (config.remoteUser !== undefined && config.containerUser !== undefined) {
        userId(file, "containerUser", config.containerUser);
    }
    const createCommands = ["onCreateCommand", "updateContentCommand", "postCreateCommand"]
        .flatMap((field) => commandLines(file, field, config[field]));
    return {
        file,
        image: image(file, config, options.prebuiltImage),
        env: { ...environment(file, "containerEnv", config.containerEnv, options), ...environment(file, "remoteEnv", config.remoteEnv, options) },
        uid,
        forwardPorts: ports(file, config.forwardPorts, options.reservedPorts),
        createCommands,
        startCommands: commandLines(file, "postStartCommand", config.postStartCommand),
        toolchains: toolchains(file, config.features),
        createHash: createHash("sha256").update(JSON.stringify(createCommands)).digest("hex").slice(0, 12),
    };
}

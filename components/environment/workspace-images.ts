/**
 * Where every image of an agent workspace comes from. Two kinds, and nothing else:
 *
 * - images this repository builds from `images/<directory>/Dockerfile` (the agent and the three
 *   MCP sidecars); the images workflow (.github/workflows/images.yml) pushes them as
 *   `<registry>/<name>:<tag>` and records their digests. The default reference of each follows
 *   from `catalyst:workspace.imageRegistry` and `catalyst:workspace.imageTag`;
 * - public images at a pinned tag, run as they are (the toolchains, the git and init steps).
 *
 * docs/workspaces.md lists both with their sources and licences; a unit test checks that every
 * default reference is pinned and either built by a Dockerfile here or listed as public there.
 */

/** Containers of a workspace whose image is configurable (`catalyst:workspace.images.<role>`). */
export interface WorkspaceImages {
    /** Claude Code with git, an SSH client, ripgrep and Node. */
    agent: string;
    /** The Context7 documentation MCP server. */
    docs: string;
    /** The Playwright MCP server with Chromium. */
    playwright: string;
    /** The Docker Hub MCP server. */
    dockerhub: string;
    /** Go toolchain (feature `go`). */
    go: string;
    /** Node/TypeScript toolchain (feature `typescript`). */
    typescript: string;
    /** Postgres client (feature `postgres`). */
    postgres: string;
    /** Hasura GraphQL engine (feature `hasura`). */
    hasura: string;
    /** The git clone init step. */
    git: string;
    /** The SSH setup init step. */
    init: string;
}

/** An image this repository builds: its Dockerfile's directory under `images/` is its name. */
export type BuiltImage = "agent" | "context7-mcp" | "playwright-mcp" | "dockerhub-mcp";

/** The roles filled by images built here, and the image each one runs. */
export const BUILT_WORKSPACE_IMAGES = {
    agent: "agent",
    docs: "context7-mcp",
    playwright: "playwright-mcp",
    dockerhub: "dockerhub-mcp",
} as const satisfies Partial<Record<keyof WorkspaceImages, BuiltImage>>;

/** The roles filled by public images, at pinned tags (never `latest`). */
export const PUBLIC_WORKSPACE_IMAGES = {
    go: "golang:1.26.0-alpine3.23",
    typescript: "node:24.11.0-alpine3.22",
    postgres: "postgres:16.10-alpine3.22",
    hasura: "hasura/graphql-engine:v2.48.5",
    git: "alpine/git:v2.49.1",
    init: "busybox:1.37.0",
} as const satisfies Omit<Record<keyof WorkspaceImages, string>, keyof typeof BUILT_WORKSPACE_IMAGES>;

/**
 * The registry the images workflow pushes to when this repository is
 * github.com/catalyst-environments/catalyst (`ghcr.io/<owner>/<repository>`); a fork or a mirror
 * sets `catalyst:workspace.imageRegistry` to its own.
 */
export const DEFAULT_IMAGE_REGISTRY = "ghcr.io/catalyst-environments/catalyst";

/**
 * The tag of the built images by default: the project's version (package.json; a unit test keeps
 * the two equal). The workflow pushes it when the tag `v<version>` is pushed.
 */
export const DEFAULT_IMAGE_TAG = "0.1.0";

/** The default reference of every workspace image, for a registry and tag of the built ones. */
export function defaultWorkspaceImages(registry: string = DEFAULT_IMAGE_REGISTRY, tag: string = DEFAULT_IMAGE_TAG): WorkspaceImages {
    const built = (image: BuiltImage) => `${registry}/${image}:${tag}`;
    return {
        agent: built(BUILT_WORKSPACE_IMAGES.agent),
        docs: built(BUILT_WORKSPACE_IMAGES.docs),
        playwright: built(BUILT_WORKSPACE_IMAGES.playwright),
        dockerhub: built(BUILT_WORKSPACE_IMAGES.dockerhub),
        ...PUBLIC_WORKSPACE_IMAGES,
    };
}

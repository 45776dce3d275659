import { existsSync, readFileSync } from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { imageMessage } from "../../../components/environment/image";
import {
    BUILT_WORKSPACE_IMAGES,
    DEFAULT_IMAGE_REGISTRY,
    DEFAULT_IMAGE_TAG,
    defaultWorkspaceImages,
    PUBLIC_WORKSPACE_IMAGES,
    WorkspaceImages,
} from "../../../components/environment/workspace-images";
import { imageDockerfiles, lintDockerfile } from "../../../tools/lint-dockerfiles";

const root = path.resolve(__dirname, "..", "..", "..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

/** The rows of the images table in docs/workspaces.md: role -> its cells. */
function documentedImages(): Record<string, { reference: string; kind: string; source: string; licence: string }> {
    const section = read("docs/workspaces.md").split("\n## Images")[1].split("\n## ")[0];
    const rows = section.split("\n").filter((line) => /^\| [a-z]+ \| `/.test(line));
    return Object.fromEntries(rows.map((line) => {
        const [role, reference, kind, source, licence] = line.split("|").slice(1, -1).map((cell) => cell.trim());
        return [role, { reference: reference.replace(/`/g, ""), kind, source, licence }];
    }));
}

describe("workspace images", () => {
    const defaults = defaultWorkspaceImages();
    const documented = documentedImages();
    const roles = Object.keys(defaults) as (keyof WorkspaceImages)[];

    it("pins every default reference (a tag other than latest, or a digest)", () => {
        expect(roles.map((role) => [role, imageMessage(defaults[role])])).toEqual(roles.map((role) => [role, undefined]));
    });

    it("either builds each default image from a Dockerfile here or lists it as public, with source and licence", () => {
        for (const role of roles) {
            const built = (BUILT_WORKSPACE_IMAGES as Record<string, string>)[role];
            const row = documented[role];
            expect([role, row !== undefined && row.source !== "" && row.licence !== ""]).toEqual([role, true]);
            if (built !== undefined) {
                expect([role, existsSync(path.join(root, "images", built, "Dockerfile"))]).toEqual([role, true]);
                expect(defaults[role]).toBe(`${DEFAULT_IMAGE_REGISTRY}/${built}:${DEFAULT_IMAGE_TAG}`);
                expect([role, row.kind, row.reference, row.source.includes(`images/${built}/Dockerfile`)])
                    .toEqual([role, "built", `<registry>/${built}:<tag>`, true]);
            } else {
                expect([role, row.kind, row.reference]).toEqual([role, "public", defaults[role]]);
            }
        }
        expect(Object.keys(documented).sort()).toEqual([...roles].sort());
    });

    it("follows the configured registry and tag, and defaults the tag to the project's version", () => {
        const images = defaultWorkspaceImages("registry.example.com:5000/team/catalyst", "1.2.3");
        expect(images.agent).toBe("registry.example.com:5000/team/catalyst/agent:1.2.3");
        expect(images.playwright).toBe("registry.example.com:5000/team/catalyst/playwright-mcp:1.2.3");
        expect(images.go).toBe(PUBLIC_WORKSPACE_IMAGES.go);
        expect(DEFAULT_IMAGE_TAG).toBe(JSON.parse(read("package.json")).version);
        expect(JSON.stringify(defaults)).not.toContain("catalyst-dev/");
    });

    it("builds exactly the images/ Dockerfiles in the images workflow, pushing only from main and tags", () => {
        const workflow = yaml.load(read(".github/workflows/images.yml")) as {
            jobs: { build: { strategy: { matrix: { image: string[] } }; env: { PUSH: string } } };
        };
        const dirs = imageDockerfiles(root).map((file) => path.basename(path.dirname(file)));
        expect([...workflow.jobs.build.strategy.matrix.image].sort()).toEqual(dirs);
        expect([...Object.values(BUILT_WORKSPACE_IMAGES)].sort()).toEqual(dirs);
        expect(workflow.jobs.build.env.PUSH).toBe("${{ github.event_name == 'push' && (github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/v')) }}");
    });

    it("pins the npm packages and the source commit the Dockerfiles install", () => {
        const pins: Record<string, RegExp> = {
            agent: /^ARG CLAUDE_CODE_VERSION=2\.1\.332$/m,
            "playwright-mcp": /^ARG PLAYWRIGHT_MCP_VERSION=0\.0\.83$/m,
            "context7-mcp": /^ARG CONTEXT7_MCP_VERSION=4\.1\.1$/m,
            "dockerhub-mcp": /^ARG HUB_MCP_COMMIT=[0-9a-f]{40}$/m,
        };
        for (const [image, pin] of Object.entries(pins)) {
            expect([image, pin.test(read(`images/${image}/Dockerfile`))]).toEqual([image, true]);
        }
    });

    it("passes the Dockerfile linter, which catches what the images must not do", () => {
        for (const file of imageDockerfiles(root)) {
            expect([path.relative(root, file), lintDockerfile(readFileSync(file, "utf8"))]).toEqual([path.relative(root, file), []]);
        }
        const bad = "FROM node:latest AS build\nARG NPM_TOKEN\nRUN echo hi\nFROM debian\nMAINTAINER me\nCMD [\"a\"]\nCMD [\"b\"]\n";
        expect(lintDockerfile(bad).map((p) => `${p.line}: ${p.message}`)).toEqual(expect.arrayContaining([
            expect.stringMatching(/^1: base image "node:latest" uses the tag "latest"/),
            "2: ARG NPM_TOKEN: a secret must not be baked into a layer; pass it at run time",
            expect.stringMatching(/^4: base image "debian" has no tag or digest/),
            "5: MAINTAINER has been deprecated",
            "1: the final stage must set USER to a non-root numeric uid (like 1000:1000)",
        ]));
        expect(lintDockerfile("FROM node:24.11.0-bookworm-slim\nUSER 0\n").map((p) => p.message)).toEqual([
            "must be a multi-stage build (a build stage and a runtime stage)",
            "the final stage must set USER to a non-root numeric uid (like 1000:1000)",
        ]);
    });
});

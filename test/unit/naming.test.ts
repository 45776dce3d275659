import * as fc from "fast-check";
import {
    DEFAULT_PROJECT,
    developmentStackName,
    environmentResourceStackName,
    MAX_PROJECT_LENGTH,
    namedStackName,
    hostName,
    isDnsLabel,
    namespaceName,
    NameError,
    parseProjectName,
    parseStackName,
    previewStackName,
    stackOfNamespace,
    toDnsLabel,
    toLabelValue,
} from "../../components/naming";

const domains = { domain: "example.com", previewDomain: "preview.example.com" };

describe("naming", () => {
    it("gives every pull request number a valid stack, namespace and host label", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 99_999_999 }), (pr) => {
                const stack = previewStackName(pr);
                expect(parseStackName(stack)).toEqual({ stack, kind: "preview", pr });
                expect(isDnsLabel(namespaceName(stack))).toBe(true);
                expect(isDnsLabel(hostName(stack, domains).split(".")[0])).toBe(true);
            }),
        );
    });

    it("turns any text into a DNS-1123 label of at most the requested length", () => {
        fc.assert(
            fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.integer({ min: 8, max: 63 }), (raw, max) => {
                const label = toDnsLabel(raw, max);
                expect(isDnsLabel(label)).toBe(true);
                expect(label.length).toBeLessThanOrEqual(max);
            }),
        );
    });

    it("keeps different branches apart even when their slugs collide", () => {
        expect(toDnsLabel("feat/x")).not.toEqual(toDnsLabel("feat-x"));
        expect(toDnsLabel("feat-x")).toBe("feat-x");
    });

    it("gives any user a development stack whose namespace is a valid label", () => {
        fc.assert(
            fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ""), (user) => {
                const stack = developmentStackName(user);
                expect(parseStackName(stack).kind).toBe("development");
                expect(isDnsLabel(namespaceName(stack))).toBe(true);
            }),
        );
    });

    // Project names as the Project CRD admits them (a DNS label of at most 30 characters without "--").
    const projectName = fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+)*$/)
        .filter((p) => p.length <= MAX_PROJECT_LENGTH && p !== DEFAULT_PROJECT);

    it("gives every Project's environments their own stack, namespace and host, and reads the Project back", () => {
        fc.assert(
            fc.property(projectName, fc.integer({ min: 1, max: 99_999_999 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }).filter((s) => s.trim() !== ""), (project, pr, user) => {
                const preview = previewStackName(pr, project);
                const development = developmentStackName(user, project);
                for (const stack of [preview, development, namedStackName("staging", project), namedStackName("production", project)]) {
                    const identity = parseStackName(stack);
                    expect(identity.project).toBe(project);
                    expect(isDnsLabel(namespaceName(stack))).toBe(true);
                    expect(stackOfNamespace(namespaceName(stack))).toBe(stack);
                    const label = hostName(stack, domains).split(".")[0];
                    expect(isDnsLabel(label)).toBe(true);
                    // IDNA reserves "--" at a label's 3rd and 4th characters (xn--).
                    expect(label.slice(2, 4)).not.toBe("--");
                }
                expect(parseStackName(preview)).toEqual({ stack: preview, kind: "preview", pr, project });
                expect(parseStackName(development).kind).toBe("development");
                // Never the default Project's stacks, which carry no project.
                expect(preview).not.toBe(previewStackName(pr));
                expect(namespaceName(development)).not.toBe(namespaceName(developmentStackName(user)));
                expect(parseStackName(previewStackName(pr)).project).toBeUndefined();
            }),
        );
    });

    it("gives two Projects' pull request 5 two stacks, and the default Project today's names", () => {
        const of = (project: string, type: "preview" | "development" | "staging" | "production") =>
            environmentResourceStackName({ project, type, pullRequest: type === "preview" ? 5 : undefined, name: "dev-alice" });
        expect([of("web", "preview"), of("api", "preview"), of(DEFAULT_PROJECT, "preview")]).toEqual(["pr-5--web", "pr-5--api", "pr-5"]);
        expect([of("web", "development"), of(DEFAULT_PROJECT, "development")]).toEqual(["dev-alice--web", "dev-alice"]);
        expect([of("web", "staging"), of("web", "production"), of(DEFAULT_PROJECT, "production")]).toEqual(["staging--web", "production--web", "production"]);
        expect(hostName("production--web", domains, "app")).toBe("web.example.com");
        expect(hostName("staging--web", domains, "app")).toBe("web-staging.example.com");
        expect(hostName("pr-5--web", domains)).toBe("pr-5--web.preview.example.com");
    });

    it.each([
        ["a--b", "project: must be a project name"],
        ["Web", `project: must be a project name: lower case letters, digits and single '-', at most 30 characters (no '--'), got "Web"`],
        ["x".repeat(31), "project: must be a project name"],
    ])("refuses the project name %s", (project, message) => {
        expect(() => previewStackName(1, project)).toThrow(NameError);
        expect(() => previewStackName(1, project)).toThrow(message);
    });

    it("takes as a project name exactly a DNS label of at most 30 characters without '--'", () => {
        // The one pattern (also the CRD's) against the rule it stands for, over text made of the
        // characters that matter.
        const text = fc.string({ unit: fc.constantFrom("a", "z", "0", "9", "-", "A", "_", "."), maxLength: 34 });
        fc.assert(
            fc.property(text, (value) => {
                const expected = isDnsLabel(value) && value.length <= 30 && !value.includes("--");
                let taken = true;
                try {
                    parseProjectName(value);
                } catch {
                    taken = false;
                }
                expect([value, taken]).toEqual([value, expected]);
            }),
            { numRuns: 2000 },
        );
    });

    it("gives any text a valid label value", () => {
        fc.assert(
            fc.property(fc.string({ unit: "binary", maxLength: 200 }), (raw) => {
                const value = toLabelValue(raw);
                expect(value.length).toBeLessThanOrEqual(63);
                expect(value === "" || /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(value)).toBe(true);
            }),
        );
    });

    it.each([
        ["pr-0", "stack: must be between 1 and 99999999, got 0"],
        ["pr-007", 'stack: preview stacks are named pr-<n> without leading zeros, got "pr-007"'],
        ["pr-abc", 'stack: must be a positive whole number, got "abc"'],
        ["dev-kube-system", 'stack: "kube-system" is a reserved name'],
        ["dev-default", 'stack: "default" is a reserved name'],
        ["default", 'stack: "default" is not a stack name this project runs; allowed: platform, dev, production'],
        ["Prod", 'stack: "Prod" is not a stack name this project runs'],
        ["pr-5--default", 'stack: "pr-5--default": the default project\'s stacks carry no project suffix; use "pr-5"'],
        ["dev--web", 'stack: "dev--web": the platform stack "dev" belongs to no project'],
        ["pr-5--Web", "stack: must be a project name"],
        ["pr-5--web--x", "stack: must be a project name"],
        ["nope--web", 'stack: "nope" is not a stack name this project runs'],
        [`dev-${"a".repeat(52)}--web`, "is longer than 59 characters, so its namespace would not be a DNS label"],
    ])("refuses the stack name %s", (stack, message) => {
        expect(() => parseStackName(stack)).toThrow(NameError);
        expect(() => parseStackName(stack)).toThrow(message);
    });

    it.each([[-1], ["abc"], ["1.5"], [0], [""]])("refuses the pull request number %p", (pr) => {
        expect(() => previewStackName(pr)).toThrow(/^pr: must be/);
    });

    it("derives hosts per kind", () => {
        expect(hostName("pr-12", domains)).toBe("pr-12.preview.example.com");
        expect(hostName("production", domains, "web")).toBe("web.example.com");
        expect(hostName("staging", domains, "web")).toBe("web-staging.example.com");
        expect(() => hostName("platform", domains)).toThrow('stack: the platform stack "platform" has no environment host');
    });
});

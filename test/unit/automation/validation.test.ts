import * as fc from "fast-check";
import { assertKind, environmentTarget, parseBranch, parseOwners, platformTarget, previewTarget } from "../../../stacks/automation/validation";

describe("targets and inputs", () => {
    it("maps any pull request number to pr-<n> and never to another kind of stack", () => {
        fc.assert(
            fc.property(fc.oneof(fc.integer({ min: 1, max: 99_999_999 }), fc.string()), (pr) => {
                let target;
                try {
                    target = previewTarget(pr);
                } catch {
                    return;
                }
                expect(target.kind).toBe("preview");
                expect(target.stack).toBe(`pr-${target.pr}`);
            }),
        );
        for (const name of ["production", "staging", "platform", "dev", "dev-alice", "pr-1", "../pr-1"]) {
            expect(() => previewTarget(name)).toThrow(/^pr: must be a positive whole number/);
        }
    });

    it("accepts only production, staging and dev-<user> as named environments", () => {
        expect(environmentTarget("production")).toEqual({ stack: "production", kind: "production" });
        expect(environmentTarget("staging")).toEqual({ stack: "staging", kind: "staging" });
        expect(environmentTarget("dev-alice")).toEqual({ stack: "dev-alice", kind: "development", user: "alice" });
        expect(() => environmentTarget("pr-3")).toThrow('name: "pr-3" is a preview; previews are managed with `catalyst preview`');
        expect(() => environmentTarget("platform")).toThrow('name: "platform" is the platform stack; use `catalyst platform`');
        expect(() => environmentTarget("dev-kube-system")).toThrow(/is not an environment name/);
        expect(() => environmentTarget("dev-default")).toThrow(/is not an environment name/);
        expect(() => environmentTarget("../etc")).toThrow(/is not an environment name/);
        expect(environmentTarget("staging--web")).toEqual({ stack: "staging--web", kind: "staging", project: "web" });
        expect(() => environmentTarget("Prod")).toThrow("each with --<project> for a Project other than default (staging--web)");
        expect(platformTarget("dev")).toEqual({ stack: "dev", kind: "platform" });
    });

    it("checks a stack's kind again right before it is touched", () => {
        expect(assertKind("pr-4", ["preview"]).pr).toBe(4);
        expect(() => assertKind("production", ["preview"])).toThrow('stack: "production" is a production stack; this call only handles preview');
        expect(() => assertKind("staging", ["preview"])).toThrow('stack: "staging" is a staging stack; this call only handles preview');
    });

    it.each(["main", "feat/x", "feature/JIRA-12_fix.v2", "dependabot/npm_and_yarn/zod-4.1.0", "a"])("accepts the branch %j", (branch) => {
        expect(parseBranch(branch)).toBe(branch);
    });

    it.each(["", "feat x", "feat\tx", "féat", "a..b", "a//b", "-x", "/x", ".x", "x/", "x.", "x.lock", "x/.y", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a@{b", "@", "x".repeat(256)])(
        "refuses the branch %j",
        (branch) => {
            expect(() => parseBranch(branch)).toThrow(/^branch: must be a git branch name/);
        },
    );

    it("parses owners as GitHub user names", () => {
        expect(parseOwners("alice, bob-2,alice")).toEqual(["alice", "bob-2"]);
        expect(parseOwners(["carol"])).toEqual(["carol"]);
        for (const bad of ["", "a--b", "-a", "a b", "x".repeat(40)]) {
            expect(() => parseOwners(bad)).toThrow(/^owners: must be 1 to 20 GitHub user names/);
        }
    });
});

import * as fc from "fast-check";
import {
    developmentStackName,
    hostName,
    isDnsLabel,
    namespaceName,
    NameError,
    parseStackName,
    previewStackName,
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

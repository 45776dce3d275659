import { existsSync, readFileSync } from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { EXEMPTIONS } from "../../../policy/exemptions";
import { POLICY_PACK_DIR, policyPackOptions } from "../../../policy/options";
import { policies, policyPackArgs } from "../../../policy/policies";

describe("the policy pack", () => {
    const names = policies.map((p) => p.name);

    it("names every policy once, in kebab case, with a description and remediation steps", () => {
        expect(new Set(names).size).toBe(names.length);
        for (const policy of policies) {
            expect([policy.name, /^[a-z][a-z0-9-]+$/.test(policy.name)]).toEqual([policy.name, true]);
            expect(policy.description.length).toBeGreaterThan(20);
            expect(policy.remediationSteps?.length ?? 0).toBeGreaterThan(20);
        }
    });

    it("makes every policy mandatory by default", () => {
        expect(policyPackArgs.enforcementLevel).toBe("mandatory");
        expect(policies.filter((p) => p.enforcementLevel !== "mandatory").map((p) => p.name)).toEqual([]);
    });

    it("covers the baseline's concerns", () => {
        expect(names).toEqual(expect.arrayContaining([
            "run-as-non-root", "no-privilege-escalation", "drop-all-capabilities", "seccomp-runtime-default",
            "read-only-root-filesystem", "no-privileged-containers", "no-host-namespaces", "no-host-path-volumes",
            "no-host-ports", "container-resources", "image-pinned", "environment-namespace-guardrails",
            "no-external-services", "no-tenant-cluster-role-bindings", "tenant-role-rules",
            "service-account-token-opt-in", "no-secret-env-values", "no-secrets-in-configmaps",
        ]));
    });

    it("keeps enforcementLevel out of config schemas (the engine owns it) and gives defaults", () => {
        for (const policy of policies) {
            const properties = policy.configSchema?.properties ?? {};
            expect(Object.keys(properties)).not.toContain("enforcementLevel");
            for (const [key, schema] of Object.entries(properties)) {
                expect([policy.name, key, schema.default !== undefined]).toEqual([policy.name, key, true]);
            }
        }
    });

    it("exempts nothing by default: the platform keeps the rules it sets for tenants", () => {
        expect(EXEMPTIONS).toEqual([]);
        for (const policy of policies) {
            expect([policy.name, policy.configSchema?.properties.exemptions?.default ?? []]).toEqual([policy.name, []]);
        }
    });

    it("exempts objects only from policies that exist and take exemptions, each with a reason", () => {
        for (const exemption of EXEMPTIONS) {
            const policy = policies.find((p) => p.name === exemption.policy);
            expect(policy?.configSchema?.properties.exemptions?.default).toContain(exemption.object);
            expect(exemption.reason.length).toBeGreaterThan(20);
        }
    });

    it("is a nodejs policy pack with a version", () => {
        const project = yaml.load(readFileSync(path.join(__dirname, "../../../policy/PulumiPolicy.yaml"), "utf8")) as {
            runtime: { name: string; options: { typescript: boolean; nodeargs: string } };
        };
        // Loaded through the project's transpile cache, which must exist where nodeargs says.
        expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: false, nodeargs: "--require ../tools/register.js" } });
        expect(existsSync(path.join(POLICY_PACK_DIR, "..", "tools", "register.js"))).toBe(true);
        const manifest = JSON.parse(readFileSync(path.join(__dirname, "../../../policy/package.json"), "utf8"));
        expect(manifest.version).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+$/);
    });
});

describe("policyPackOptions", () => {
    it("points at the pack's directory, and adds a configuration file when one is named", () => {
        expect(POLICY_PACK_DIR).toBe(path.resolve(__dirname, "../../../policy"));
        expect(policyPackOptions({})).toEqual({ policyPacks: [POLICY_PACK_DIR] });
        expect(policyPackOptions({ CATALYST_POLICY_CONFIG: "/etc/catalyst/policy.json" })).toEqual({
            policyPacks: [POLICY_PACK_DIR],
            policyPackConfigs: ["/etc/catalyst/policy.json"],
        });
    });
});

import { Policies, PolicyPackArgs } from "@pulumi/policy";
import { ingressPolicies } from "./ingress";
import { isolationPolicies } from "./isolation";
import { podSecurityPolicies } from "./podSecurity";
import { resourcePolicies } from "./resources";
import { secretPolicies } from "./secrets";

/**
 * The catalyst security baseline as data: every policy of the pack, grouped by concern. Tests
 * import this module; only index.ts starts the pack's server.
 */

/** Name of the policy pack, as the engine prints it. */
export const POLICY_PACK_NAME = "catalyst-security";

/** Every policy of the pack. */
export const policies: Policies = [...podSecurityPolicies, ...resourcePolicies, ...isolationPolicies, ...ingressPolicies, ...secretPolicies];

/** The PolicyPack's arguments. Each policy is mandatory unless configured otherwise. */
export const policyPackArgs: PolicyPackArgs = {
    description: "Catalyst security baseline: pod security, resources and images, environment isolation, secret hygiene.",
    enforcementLevel: "mandatory",
    policies,
};

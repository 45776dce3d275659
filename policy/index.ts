import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policyPackArgs } from "./policies";

/*
 * Entry point of the policy pack: `pulumi preview --policy-pack policy/` (or `policyPacks` in the
 * Automation API) starts this program, which serves the policies to the engine. Levels are
 * changed per policy with `--policy-pack-config <file.json>`, e.g. {"read-only-root-filesystem": "advisory"}.
 */
new PolicyPack(POLICY_PACK_NAME, policyPackArgs);

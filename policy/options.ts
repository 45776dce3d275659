import * as path from "path";

/**
 * How callers run the policy pack: the Automation API options that add it to a preview or an
 * update. Not part of the pack's program (index.ts never imports it).
 */

/** The policy pack's directory, absolute: what `--policy-pack` and `policyPacks` take. */
export const POLICY_PACK_DIR = path.resolve(__dirname);

/** Environment variable naming a policy configuration file (levels, exemptions) to apply. */
export const POLICY_CONFIG_ENV = "CATALYST_POLICY_CONFIG";

/** Options for `stack.preview()` / `stack.up()`: the baseline, plus `$CATALYST_POLICY_CONFIG` when set. */
export function policyPackOptions(env: NodeJS.ProcessEnv = process.env): { policyPacks: string[]; policyPackConfigs?: string[] } {
    const config = env[POLICY_CONFIG_ENV];
    return config !== undefined && config !== ""
        ? { policyPacks: [POLICY_PACK_DIR], policyPackConfigs: [path.resolve(config)] }
        : { policyPacks: [POLICY_PACK_DIR] };
}

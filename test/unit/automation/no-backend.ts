import { Automation } from "../../../stacks/automation/operations";

/**
 * Unit tests run the fake worker without a backend: an up reads the preview's tags first (its
 * sleep state, sleep.ts), which here answers "no such stack", as for a new preview.
 */
export function withoutBackend(automation: Automation): Automation {
    jest.spyOn(automation.catalog, "tags").mockResolvedValue(undefined);
    return automation;
}

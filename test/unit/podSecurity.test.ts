import { podSecurityLabels as environmentLabels } from "../../components/environment/namespace";
import { podSecurityLabels as platformLabels } from "../../components/platform/workload";

describe("Pod Security version (defect 3.7)", () => {
    it("is pinned by one rule for platform and environment namespaces alike", () => {
        const platform = platformLabels("restricted")["pod-security.kubernetes.io/enforce-version"];
        const environment = environmentLabels()["pod-security.kubernetes.io/enforce-version"];
        expect(platform).toBe(environment);
        expect(platform).toMatch(/^v1\.[0-9]+$/);
    });
});

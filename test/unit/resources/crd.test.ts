import { customResourceDefinitions, SchemaNode } from "../../../stacks/resources/crd";
import { environmentSpecSchema } from "../../../stacks/resources/types";
import { environmentLeaseName, environmentResourceStackName, isDnsLabel } from "../../../components/naming";

function walk(node: unknown, visit: (node: SchemaNode, path: string) => void, path = ""): void {
    if (typeof node !== "object" || node === null) return;
    visit(node as SchemaNode, path);
    for (const [key, value] of Object.entries(node)) walk(value, visit, `${path}.${key}`);
}

describe("CRDs generated from the zod schemas", () => {
    const [project, environment] = customResourceDefinitions();
    const schema = (crd: SchemaNode) => (crd.spec as { versions: { schema: { openAPIV3Schema: SchemaNode } }[] }).versions[0].schema.openAPIV3Schema;

    it("are structural: no additionalProperties false, no $schema, free-form maps preserved", () => {
        for (const crd of [project, environment]) {
            walk(schema(crd), (node, path) => {
                expect([path, node.additionalProperties]).not.toEqual([path, false]);
                expect(node.$schema).toBeUndefined();
            });
        }
        const spec = (schema(environment).properties as Record<string, SchemaNode>).spec;
        expect((spec.properties as Record<string, SchemaNode>).overrides).toMatchObject({ type: "object", "x-kubernetes-preserve-unknown-fields": true });
        expect(spec.required).toEqual(["project", "type"]);
    });

    it("carry the CEL rules and the limits of the zod schema", () => {
        const spec = (schema(environment).properties as Record<string, SchemaNode>).spec;
        const properties = spec.properties as Record<string, SchemaNode>;
        expect(properties.pullRequest).toMatchObject({ type: "integer", minimum: 1, maximum: 99_999_999 });
        expect((properties.image["x-kubernetes-validations"] as { rule: string }[])[0].rule).toContain("self.matches(");
        expect((spec["x-kubernetes-validations"] as { fieldPath?: string; message: string }[]).map((r) => `${r.fieldPath} ${r.message}`)).toContain(".pullRequest is required when type is preview");
        expect(properties.sleep).toMatchObject({ type: "boolean" });
        expect((spec["x-kubernetes-validations"] as { rule: string; fieldPath?: string }[]).find((r) => r.fieldPath === ".sleep")?.rule).toBe("self.type == 'preview' || !has(self.sleep)");
    });

    it("check a Project's name where CEL sees it, and spec.project with the same pattern", () => {
        expect(schema(project)["x-kubernetes-validations"]).toEqual([{
            rule: "self.metadata.name.size() <= 30 && self.metadata.name.matches('^[a-z0-9]+(-[a-z0-9]+)*$')",
            message: "metadata.name must be a project name: lower case letters, digits and single '-', at most 30 characters (no '--')",
        }]);
        expect(schema(environment)["x-kubernetes-validations"]).toBeUndefined();
        const spec = (schema(environment).properties as Record<string, SchemaNode>).spec;
        expect((spec.properties as Record<string, SchemaNode>).project).toMatchObject({ type: "string", maxLength: 30, pattern: "^[a-z0-9]+(-[a-z0-9]+)*$" });
        expect(environmentSpecSchema.safeParse({ project: "a--b", type: "staging" }).error?.issues.map((i) => i.message))
            .toEqual(["must be a project name: lower case letters, digits and single '-', at most 30 characters (no '--')"]);
    });

    it("the zod schema itself refuses what the API server refuses", () => {
        const bad = environmentSpecSchema.safeParse({ project: "web", type: "preview", pullRequest: -1, image: "nginx" });
        expect(bad.success).toBe(false);
        expect(bad.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
            "pullRequest: Too small: expected number to be >=1",
            'image: "nginx" has no tag or digest; pin a version or a digest, like nginx:1.27.4 or registry.example.com/app@sha256:<64 hex>',
        ]);
    });
});

describe("names of the control plane's resources", () => {
    it("maps Environments to today's stacks and Leases to DNS labels", () => {
        expect(environmentResourceStackName({ project: "default", type: "preview", pullRequest: 12, name: "x" })).toBe("pr-12");
        expect(environmentResourceStackName({ project: "default", type: "development", name: "alice" })).toBe("dev-alice");
        expect(environmentResourceStackName({ project: "default", type: "staging", name: "s" })).toBe("staging");
        expect(environmentResourceStackName({ project: "web", type: "preview", pullRequest: 12, name: "x" })).toBe("pr-12--web");
        const lease = environmentLeaseName("catalyst-system", "a".repeat(80));
        expect(isDnsLabel(lease)).toBe(true);
        expect(lease).not.toBe(environmentLeaseName("catalyst-system", "a".repeat(81)));
    });
});

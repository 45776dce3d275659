import * as pulumi from "@pulumi/pulumi";
import { deletedWithNamespace } from "../../../components/environment/namespace";

/** deletedWithNamespace: only Kubernetes objects inside the environment's namespace go with it. */
describe("deletedWithNamespace", () => {
    const namespace = new pulumi.DependencyResource("urn:pulumi:pr-1::catalyst::kubernetes:core/v1:Namespace::pr-1-namespace-namespace");
    const transform = deletedWithNamespace("env-pr-1", namespace);
    const args = (type: string, props: Record<string, unknown>, custom = true): pulumi.ResourceTransformArgs =>
        ({ type, name: "x", custom, props, opts: { protect: false } });

    it("marks objects in the namespace, keeping their props and other options", () => {
        const props = { metadata: { name: "app", namespace: "env-pr-1" }, spec: { replicas: 1 } };
        const result = transform(args("kubernetes:apps/v1:Deployment", props)) as pulumi.ResourceTransformResult;
        expect(result.props).toBe(props);
        expect(result.opts).toEqual({ protect: false, deletedWith: namespace });
    });

    it("leaves objects elsewhere, cluster-scoped objects, components and other providers alone", () => {
        expect(transform(args("kubernetes:postgresql.cnpg.io/v1:Database", { metadata: { name: "d", namespace: "postgres" } }))).toBeUndefined();
        expect(transform(args("kubernetes:core/v1:Namespace", { metadata: { name: "env-pr-1" } }))).toBeUndefined();
        expect(transform(args("catalyst:environment:App", { metadata: { namespace: "env-pr-1" } }, false))).toBeUndefined();
        expect(transform(args("pulumi-nodejs:dynamic:Resource", { metadata: { namespace: "env-pr-1" } }))).toBeUndefined();
    });
});

import { z } from "zod";
import { DEFAULT_PROJECT } from "../../components/naming";
import {
    API_GROUP,
    API_GROUP_VERSION,
    CelRule,
    PROJECT_NAME_RULE,
    API_VERSION,
    environmentSpecSchema,
    environmentStatusSchema,
    projectSpecSchema,
    projectStatusSchema,
    RESOURCE_KINDS,
} from "./types";

/**
 * The CustomResourceDefinitions of the control plane, generated from the zod schemas of types.ts
 * with `z.toJSONSchema` and turned into Kubernetes structural schemas: `additionalProperties:
 * false` dropped (the API server prunes and, with strict field validation, refuses unknown
 * fields), free-form maps marked `x-kubernetes-preserve-unknown-fields`, and JSON-Schema-only
 * keywords removed. Pure: the platform stack installs what this returns.
 */

/** A JSON Schema node as z.toJSONSchema writes it and the API server reads it. */
export type SchemaNode = { [key: string]: unknown };

const DROPPED = new Set(["$schema", "id", "$id", "$ref", "definitions", "$defs"]);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Turns one JSON Schema node (recursively) into a structural OpenAPI v3 schema node. */
export function toStructural(node: SchemaNode): SchemaNode {
    const out: SchemaNode = {};
    for (const [key, value] of Object.entries(node)) {
        if (DROPPED.has(key)) continue;
        if (key === "properties") {
            out.properties = Object.fromEntries(Object.entries(value as Record<string, SchemaNode>).map(([k, v]) => [k, toStructural(v)]));
        } else if (key === "items") {
            out.items = toStructural(value as SchemaNode);
        } else if (key === "additionalProperties") {
            if (value === false) continue;
            const inner = value as SchemaNode;
            if (Object.keys(inner).length === 0) {
                out["x-kubernetes-preserve-unknown-fields"] = true;
            } else {
                out.additionalProperties = toStructural(inner);
            }
        } else if ((key === "maximum" && value === MAX_SAFE) || (key === "minimum" && value === -MAX_SAFE)) {
            // zod's int() bounds: not a rule of ours.
            continue;
        } else {
            out[key] = value;
        }
    }
    if (out["x-kubernetes-preserve-unknown-fields"] === true && out.type === undefined) {
        out.type = "object";
    }
    return out;
}

/** The structural OpenAPI schema of a zod schema (what the value looks like on input). */
export function openApiSchema(schema: z.ZodType): SchemaNode {
    return toStructural(z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "any" }) as SchemaNode);
}

interface KindInfo {
    kind: string;
    plural: string;
    singular: string;
    shortNames: readonly string[];
}

/** A printer column of `kubectl get`. */
interface PrinterColumn {
    name: string;
    type: string;
    jsonPath: string;
    priority?: number;
}

function definition(info: KindInfo, spec: z.ZodType, status: z.ZodType, columns: PrinterColumn[], description: string, rootRules: CelRule[] = []): SchemaNode {
    return {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${info.plural}.${API_GROUP}` },
        spec: {
            group: API_GROUP,
            scope: "Namespaced",
            names: { kind: info.kind, plural: info.plural, singular: info.singular, shortNames: [...info.shortNames], categories: ["catalyst"] },
            versions: [{
                name: API_VERSION,
                served: true,
                storage: true,
                subresources: { status: {} },
                additionalPrinterColumns: columns,
                schema: {
                    openAPIV3Schema: {
                        type: "object",
                        description,
                        required: ["spec"],
                        ...(rootRules.length > 0 ? { "x-kubernetes-validations": rootRules } : {}),
                        properties: {
                            apiVersion: { type: "string" },
                            kind: { type: "string" },
                            metadata: { type: "object" },
                            spec: openApiSchema(spec),
                            status: openApiSchema(status),
                        },
                    },
                },
            }],
        },
    };
}

const READY = '.status.conditions[?(@.type=="Ready")].status';
const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

/** The Project CRD. */
export function projectDefinition(): SchemaNode {
    return definition(RESOURCE_KINDS.project, projectSpecSchema, projectStatusSchema, [
        { name: "Repository", type: "string", jsonPath: ".spec.repository" },
        { name: "Ready", type: "string", jsonPath: READY },
        AGE,
    ], "A Catalyst project: one application and its repository, with the template and limits of its environments.", [PROJECT_NAME_RULE]);
}

/** The Environment CRD. */
export function environmentDefinition(): SchemaNode {
    return definition(RESOURCE_KINDS.environment, environmentSpecSchema, environmentStatusSchema, [
        { name: "Type", type: "string", jsonPath: ".spec.type" },
        { name: "PR", type: "integer", jsonPath: ".spec.pullRequest" },
        { name: "Owner", type: "string", jsonPath: ".spec.owners[0]" },
        { name: "Ready", type: "string", jsonPath: READY },
        { name: "URL", type: "string", jsonPath: ".status.url" },
        { name: "Stack", type: "string", jsonPath: ".status.stack", priority: 1 },
        { name: "Step", type: "string", jsonPath: ".status.operation.step", priority: 1 },
        { name: "Done", type: "integer", jsonPath: ".status.operation.resourcesDone", priority: 1 },
        { name: "Total", type: "integer", jsonPath: ".status.operation.resourcesTotal", priority: 1 },
        AGE,
    ], "A Catalyst environment: reconciled by `catalyst controller` into its Pulumi stack.");
}

/** Both CRDs, in install order. */
export function customResourceDefinitions(): SchemaNode[] {
    return [projectDefinition(), environmentDefinition()];
}

/**
 * The Project the platform creates beside the CRDs: {@link DEFAULT_PROJECT}, today's one app,
 * whose Environments take their source, services and template from the stack config. Without it
 * an Environment of the default Project would wait for an operator to create it.
 */
export function defaultProjectManifest(namespace: string): SchemaNode {
    return {
        apiVersion: API_GROUP_VERSION,
        kind: RESOURCE_KINDS.project.kind,
        metadata: { name: DEFAULT_PROJECT, namespace },
        spec: {},
    };
}

import { ResourceValidationPolicy } from "@pulumi/policy";
import { describeObject, Json, PolicyScope, skipped } from "./kubernetes";
import { checkPods, podPolicy, PodPolicyArgs } from "./podPolicy";

/**
 * Resources and images: every container says what it needs and may use, so that the scheduler
 * and the namespace's ResourceQuota can do their jobs, and every image is pinned, so that a
 * rollout never changes what runs by accident.
 */

/** The fields {@link containerResources} requires by default. */
export const DEFAULT_REQUIRED_RESOURCES = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"];

/** Configuration of {@link containerResources}. */
export interface ContainerResourcesConfig extends PolicyScope {
    /** Which of requests.cpu, requests.memory, limits.cpu, limits.memory must be set. */
    required?: string[];
}

/** Every (init) container sets CPU and memory requests and limits. */
export const containerResources = podPolicy({
    name: "container-resources",
    description: "Every container and init container sets CPU and memory requests and limits.",
    remediationSteps: "Set resources.requests and resources.limits (cpu and memory) on every container.",
    configSchema: {
        required: {
            type: "array",
            items: { type: "string", enum: DEFAULT_REQUIRED_RESOURCES },
            default: DEFAULT_REQUIRED_RESOURCES,
            description: "Which resource fields every container must set.",
        },
    },
    container: ({ container, label }, { config }) => {
        // Ephemeral (debug) containers may not declare resources at all.
        if (label.startsWith("ephemeral")) {
            return [];
        }
        const required: string[] = (config as ContainerResourcesConfig).required ?? DEFAULT_REQUIRED_RESOURCES;
        const missing = required.filter((field) => {
            const [section, name] = field.split(".");
            const value = container.resources?.[section]?.[name];
            return value === undefined || value === null || value === "";
        });
        return missing.length > 0 ? [`does not set ${missing.join(", ")}`] : [];
    },
});

const DIGEST = /@sha256:[a-f0-9]{64}$/;

/**
 * What is wrong with an image reference, or undefined when it is pinned: a digest, or a tag
 * other than `latest`. The tag is what follows the last `:` after the last `/` (a registry's
 * port is not a tag).
 */
export function imageProblem(image: unknown): string | undefined {
    if (typeof image !== "string" || image.trim() === "") {
        return "has no image";
    }
    if (DIGEST.test(image)) {
        return undefined;
    }
    const name = image.split("@")[0];
    const last = name.slice(name.lastIndexOf("/") + 1);
    const colon = last.lastIndexOf(":");
    if (colon < 0) {
        return `uses the untagged image "${image}"; pin a version tag or a digest`;
    }
    if (last.slice(colon + 1) === "latest") {
        return `uses the image "${image}" with the tag latest; pin a version tag or a digest`;
    }
    return undefined;
}

/** The pod part of {@link imagePinned}. */
const imagePinnedPods: PodPolicyArgs = {
    name: "image-pinned",
    description: "Every container image is pinned to a version tag or a digest, never latest or untagged.",
    remediationSteps: "Use an image reference like registry.example.com/app:1.4.2 or registry.example.com/app@sha256:<digest>.",
    container: ({ container }) => {
        const problem = imageProblem(container.image);
        return problem === undefined ? [] : [problem];
    },
};

/**
 * Every container image is pinned to a tag other than latest, or to a digest; so is the Postgres
 * image of a CloudNativePG `Cluster`, whose pods the operator creates from `spec.imageName`.
 */
export const imagePinned: ResourceValidationPolicy = {
    ...podPolicy(imagePinnedPods),
    validateResource: [
        (args, report) => checkPods(imagePinnedPods, args, report),
        (args, report) => {
            if (args.type !== "kubernetes:postgresql.cnpg.io/v1:Cluster" || skipped(args.type, args.props, args.getConfig<PolicyScope>() ?? {})) {
                return;
            }
            const imageName = (args.props as Json).spec?.imageName;
            // Without imageName the operator runs its own pinned default image.
            if (imageName !== undefined && imageName !== null) {
                const problem = imageProblem(imageName);
                if (problem !== undefined) {
                    report(`${describeObject(args.type, args.props)}: spec.imageName ${problem}`);
                }
            }
        },
    ],
};

/** The resource policies, in the order they are listed. */
export const resourcePolicies: ResourceValidationPolicy[] = [containerResources, imagePinned];

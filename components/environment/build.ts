import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { registryCredentials } from "./app-spec";

/** Arguments of {@link ImageBuild}. */
export interface ImageBuildArgs {
    /** Build context directory (resolved against the project root). */
    context: string;
    /** Dockerfile path, relative to the context (default `Dockerfile`). */
    dockerfile?: string;
    /** Repository inside the platform registry (`noclaw-worker`). */
    repository: string;
    /** The git commit being built: the image tag. */
    sha: string;
    /** Target platform (`linux/amd64`). */
    platform: string;
    /** Host of the platform registry (`registry.<domain>`). */
    registryHost: pulumi.Input<string>;
    /** `.dockerconfigjson` of the registry (secret), for push credentials. */
    registryPullSecret: pulumi.Input<string>;
}

/** `<registryHost>/<repository>:<sha>`. */
export function builtImageName(registryHost: string, repository: string, sha: string): string {
    return `${registryHost}/${repository}:${sha}`;
}

/**
 * Builds an image from a context with `@pulumi/docker` and pushes it to the platform registry,
 * tagged with the git SHA so that every commit gets its own immutable tag. Only created when
 * the configuration names a build context: the docker provider (and a Docker engine) is
 * otherwise never needed.
 */
export class ImageBuild extends pulumi.ComponentResource {
    /** The pushed image reference (`<registry>/<repository>:<sha>`). */
    public readonly imageName: pulumi.Output<string>;

    constructor(name: string, args: ImageBuildArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:ImageBuild", name, {}, opts);
        const credentials = pulumi.all([args.registryPullSecret, args.registryHost]).apply(([json, host]) =>
            registryCredentials(json, host));
        const image = new docker.Image(`${name}-image`, {
            imageName: pulumi.output(args.registryHost).apply((host) => builtImageName(host, args.repository, args.sha)),
            build: { context: args.context, dockerfile: args.dockerfile, platform: args.platform },
            registry: {
                server: args.registryHost,
                username: credentials.apply((c) => c.username),
                password: pulumi.secret(credentials.apply((c) => c.password)),
            },
        }, { parent: this });
        this.imageName = image.imageName;
        this.registerOutputs({ imageName: this.imageName });
    }
}

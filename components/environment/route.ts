import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { hostName } from "../naming";
import { objectLabels } from "./labels";

/** Arguments of {@link Route}. */
export interface RouteArgs {
    /** The environment's stack name, for labels. */
    stack: string;
    /** The environment's namespace. */
    namespace: pulumi.Input<string>;
    /** The public host name (see {@link routeHost}). */
    host: pulumi.Input<string>;
    /** The platform's IngressClass. */
    ingressClassName: pulumi.Input<string>;
    /** The Service traffic goes to. */
    serviceName: pulumi.Input<string>;
    /** The Service port (number or name). */
    servicePort: number | string;
    /** Name of the Ingress object; defaults to the Service's name. */
    ingressName?: string;
    /** Component label of the Ingress (app, workspace). */
    component?: string;
}

/**
 * The host of an environment: the configured override, or the project's naming rule
 * (`<stack>.<previewDomain>` for previews and development, `<app>.<domain>` in production,
 * `<app>-staging.<domain>` in staging).
 */
export function routeHost(
    stack: string,
    domains: { domain: pulumi.Input<string>; previewDomain: pulumi.Input<string> },
    app: string,
    override?: string,
): pulumi.Output<string> {
    if (override) {
        return pulumi.output(override);
    }
    return pulumi.all([domains.domain, domains.previewDomain]).apply(([domain, previewDomain]) =>
        hostName(stack, { domain, previewDomain }, app));
}

/** The host of an agent workspace: `<instance>.<devDomain>`. */
export function workspaceHost(instance: string, devDomain: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`${instance}.${devDomain}`;
}

/** The Ingress rule of one host to one Service port. */
export function ingressRule(host: pulumi.Input<string>, serviceName: pulumi.Input<string>, port: number | string) {
    const backendPort = typeof port === "number" ? { number: port } : { name: port };
    return {
        host,
        http: {
            paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: serviceName, port: backendPort } } }],
        },
    };
}

/**
 * An Ingress on the platform's class for one host. No `tls` block: TLS ends at Cloudflare, and
 * the tunnel reaches the ingress controller inside the cluster.
 */
export class Route extends pulumi.ComponentResource {
    /** `https://<host>`. */
    public readonly url: pulumi.Output<string>;
    /** The host name. */
    public readonly host: pulumi.Output<string>;

    constructor(name: string, args: RouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:Route", name, {}, opts);
        const ingress = new k8s.networking.v1.Ingress(`${name}-ingress`, {
            metadata: {
                name: args.ingressName ?? args.serviceName,
                namespace: args.namespace,
                labels: objectLabels(args.stack, args.component ?? "app"),
            },
            spec: {
                ingressClassName: args.ingressClassName,
                rules: [ingressRule(args.host, args.serviceName, args.servicePort)],
            },
        }, { parent: this });
        this.host = pulumi.output(ingress.spec.rules).apply((rules) => rules[0].host ?? "");
        this.url = pulumi.interpolate`https://${this.host}`;
        this.registerOutputs({ url: this.url, host: this.host });
    }
}

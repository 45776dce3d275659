import * as pulumi from "@pulumi/pulumi";

/**
 * What the rest of the platform and the environments need from an ingress controller. ingress-nginx
 * was retired upstream in March 2026, so nothing outside `ingressNginx.ts` may depend on it: a
 * replacement (Traefik, HAProxy, a Gateway API implementation, ...) implements this interface and
 * the stack program swaps one line.
 */
export interface IngressControllerOutputs {
    /** IngressClass that Ingresses attach to (`nginx`). */
    readonly className: pulumi.Output<string>;
    /** Namespace the controller runs in; environments admit ingress traffic from it. */
    readonly namespace: pulumi.Output<string>;
    /** Name of the controller's Service that receives traffic (from the tunnel or a load balancer). */
    readonly serviceName: pulumi.Output<string>;
    /** In-cluster DNS name of that Service (`<service>.<namespace>.svc.cluster.local`). */
    readonly serviceHost: pulumi.Output<string>;
}

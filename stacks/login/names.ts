/** The commands stacks/login serves (the CLI dispatches them; `oidc add-user` is two words). */
export const LOGIN_COMMANDS: readonly string[] = ["login", "logout", "kube-credential", "kubeconfig", "oidc add-user"];

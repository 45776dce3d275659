# The local cluster's trust in Catalyst's OpenID provider; sourced by tools/cluster.sh (which
# defines pki, data, repo, die and issue). The API server gets a structured authentication
# configuration (--authentication-config) with one JWT authenticator: tokens of the issuer
# `catalyst serve --local-oidc` hosts on https://127.0.0.1:$oidc_port/oidc, for the client
# catalyst-cluster, with user names and groups prefixed `oidc:` as the environments' RoleBindings
# expect. The issuer need not run when the API server starts: the authenticator retries discovery
# every 10 s in the background and refuses its tokens (401) until it has succeeded once.

oidc_client_id=catalyst-cluster
oidc_issuer() { echo "https://127.0.0.1:$oidc_port/oidc"; }

# make_oidc_trust: the issuer's certificate (from the cluster CA), the authentication
# configuration, and .catalyst/cluster/oidc.json for `catalyst serve --local-oidc`, `catalyst login`
# and `catalyst kubeconfig` (the issuer, the API server and the CA that signed both).
make_oidc_trust() {
  issue oidc "/CN=catalyst-oidc" serverAuth "IP:127.0.0.1,DNS:localhost"
  local ca
  ca=$(sed 's/^/      /' "$pki/ca.crt")
  # Claim rules: a user name that is a plain name (nothing that could read as a system
  # identity), groups as a list, and no token living longer than an hour whatever the issuer says.
  (umask 077 && cat >"$data/authentication.yaml") <<YAML
apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: $(oidc_issuer)
    audiences: [$oidc_client_id]
    audienceMatchPolicy: MatchAny
    certificateAuthority: |
$ca
  claimValidationRules:
  - expression: "has(claims.preferred_username) && claims.preferred_username.matches('^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}\$')"
    message: "preferred_username must be a plain user name"
  - expression: "!has(claims.groups) || type(claims.groups) == list"
    message: "groups must be a list"
  - expression: "double(claims.exp) - double(claims.iat) <= 3600.0"
    message: "tokens may live at most one hour"
  claimMappings:
    username:
      claim: preferred_username
      prefix: "oidc:"
    groups:
      claim: groups
      prefix: "oidc:"
    uid:
      claim: sub
YAML
  cat >"$data/oidc.json" <<JSON
{"issuer": "$(oidc_issuer)", "clientId": "$oidc_client_id", "port": $oidc_port, "server": "https://127.0.0.1:$api_port", "caFile": "$pki/ca.crt", "certFile": "$pki/oidc.crt", "keyFile": "$pki/oidc.key"}
JSON
}

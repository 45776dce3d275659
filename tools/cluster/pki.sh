# Certificates and kubeconfigs of the local cluster; sourced by tools/cluster.sh.
# Every up makes a fresh CA: the cluster is disposable, so nothing here is meant to outlive it.
# Keys are ECDSA P-256: generated in milliseconds (RSA would cost seconds on two cores), and
# accepted everywhere Kubernetes takes a key, service-account signing (ES256) included.

# new_key FILE: a private key only the owner can read.
new_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null) ||
    die "openssl could not generate a key ($1)"
}

# issue NAME SUBJECT USAGES [SANS]: NAME.key and NAME.crt signed by the cluster CA.
# The subject's O is the Kubernetes group, its CN the user name (x509 client authentication).
# `-config /dev/null` keeps the distribution's openssl.cnf from adding its own extensions.
issue() {
  local name=$1 subject=$2 usages=$3 sans=${4:-}
  local ext=(-addext basicConstraints=critical,CA:FALSE -addext keyUsage=critical,digitalSignature
    -addext "extendedKeyUsage=$usages")
  [[ -n "$sans" ]] && ext+=(-addext "subjectAltName=$sans")
  new_key "$pki/$name.key"
  openssl req -x509 -new -config /dev/null -key "$pki/$name.key" -subj "$subject" -days 825 \
    -CA "$pki/ca.crt" -CAkey "$pki/ca.key" "${ext[@]}" -out "$pki/$name.crt" 2>/dev/null ||
    die "openssl could not issue the certificate $name"
}

# make_pki: the CA, the service-account key pair and one certificate per identity.
make_pki() {
  command -v openssl >/dev/null || die "openssl is needed to make the cluster's certificates"
  mkdir -p "$pki"
  new_key "$pki/ca.key"
  openssl req -x509 -new -config /dev/null -key "$pki/ca.key" -subj "/CN=catalyst-local-ca" -days 825 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -addext subjectKeyIdentifier=hash -out "$pki/ca.crt" 2>/dev/null || die "openssl could not make the CA"
  # Service-account tokens (TokenRequest API and legacy token Secrets): the API server signs
  # with the private key and verifies with the public one.
  new_key "$pki/sa.key"
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null || die "openssl could not derive sa.pub"

  # 10.96.0.1 is the `kubernetes` Service (first address of --service-cluster-ip-range).
  issue apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # The local admin: system:masters is the group RBAC lets do everything.
  issue admin "/O=system:masters/CN=catalyst-admin" clientAuth
  # The identities the built-in RBAC roles expect (system:kube-controller-manager and
  # system:kube-scheduler ClusterRoleBindings ship with the API server).
  issue controller-manager "/CN=system:kube-controller-manager" clientAuth
  issue scheduler "/CN=system:kube-scheduler" clientAuth
  # The API server's identity towards "kubelets" (kwok's server) for logs and exec.
  issue apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" clientAuth
  # kwok plays the kubelet of every simulated node and stages any resource (Ingress and Service
  # status included), so it gets the admin group rather than a node identity; the same
  # certificate serves its kubelet-like HTTPS endpoint on 127.0.0.1.
  issue kwok "/O=system:masters/CN=kwok-controller" clientAuth,serverAuth "IP:127.0.0.1,DNS:localhost"
}

# write_kubeconfig FILE IDENTITY: a self-contained kubeconfig (certificates embedded, so it can
# be copied, and `kubectl config view --raw` shows the CA data) for IDENTITY.
write_kubeconfig() {
  local file=$1 who=$2
  (umask 077 && cat >"$file") <<EOF
apiVersion: v1
kind: Config
clusters:
- name: catalyst-local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $who
  user:
    client-certificate-data: $(base64 -w0 "$pki/$who.crt")
    client-key-data: $(base64 -w0 "$pki/$who.key")
contexts:
- name: catalyst-local
  context: {cluster: catalyst-local, user: $who}
current-context: catalyst-local
EOF
}

/**
 * The shell scripts of the workspace's init steps, as pure strings: clone the repository, set up
 * the SSH key, run the devcontainer's lifecycle commands. Each runs under `set -eu`, so a failing
 * command fails the step and Kubernetes retries it.
 */

/** The agent's home directory (a PVC). */
export const WORKSPACE_HOME = "/home/agent";
/** Where the repository is cloned. */
export const REPOSITORY_DIR = "/workspace/repo";

/** Clones `$REPO_URL` at `$BRANCH` into {@link REPOSITORY_DIR}, or fast-forwards an existing clone. */
export const CLONE_SCRIPT = `set -eu
dest=${REPOSITORY_DIR}
auth=""
if [ -n "\${GITHUB_TOKEN:-}" ]; then
  auth="Authorization: Basic $(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\\n')"
fi
# The token travels as a header for one command, so it is never written into .git/config.
g() { if [ -n "$auth" ]; then git -c http.extraHeader="$auth" "$@"; else git "$@"; fi; }
if [ -d "$dest/.git" ]; then
  g -C "$dest" fetch --prune origin "$BRANCH"
  git -C "$dest" checkout "$BRANCH" 2>/dev/null || git -C "$dest" checkout -b "$BRANCH" "origin/$BRANCH"
  g -C "$dest" pull --ff-only origin "$BRANCH" || echo "local commits on $BRANCH: not fast-forwarded"
else
  g clone --branch "$BRANCH" "$REPO_URL" "$dest"
fi
`;

/** Copies the mounted SSH key into the home volume with the modes ssh insists on. */
export const SSH_SCRIPT = `set -eu
mkdir -p ${WORKSPACE_HOME}/.ssh
cp /etc/catalyst/ssh/id_key ${WORKSPACE_HOME}/.ssh/id_ed25519
chmod 700 ${WORKSPACE_HOME}/.ssh
chmod 600 ${WORKSPACE_HOME}/.ssh/id_ed25519
printf 'Host *\\n  IdentityFile ${WORKSPACE_HOME}/.ssh/id_ed25519\\n  StrictHostKeyChecking accept-new\\n' > ${WORKSPACE_HOME}/.ssh/config
`;

/**
 * Runs a devcontainer's create commands once per workspace volume and list of commands (a marker
 * named by `createHash` on the volume), then its start commands at every start, in `directory`.
 */
export function devcontainerSetupScript(createCommands: string[], startCommands: string[], createHash: string, directory: string): string {
    const marker = `/workspace/.catalyst/devcontainer-created-${createHash}`;
    const lines = ["set -eu", `cd ${directory} 2>/dev/null || cd /workspace`];
    if (createCommands.length > 0) {
        lines.push(`if [ ! -f ${marker} ]; then`, ...createCommands.map((c) => `  ${c}`), `  mkdir -p /workspace/.catalyst && touch ${marker}`, "fi");
    }
    lines.push(...startCommands);
    return `${lines.join("\n")}\n`;
}

// The agent container's main process: a small HTTP server on $PORT whose health endpoint
// ($CATALYST_HEALTH_PATH, default /health) answers 200 once Claude Code and its managed
// configuration are in place, so the pod is Ready only when `claude` would work. People and
// agents use the workspace with `kubectl exec -it <pod> -c agent -- claude`.
import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? "8080");
// Every interface in the pod: the kubelet probes the pod's IP.
const host = process.env.HOST ?? "0.0.0.0";
const healthPath = process.env.CATALYST_HEALTH_PATH ?? "/health";
const configDir = process.env.CATALYST_CLAUDE_CONFIG_DIR ?? "/etc/claude-code";
const required = [`${configDir}/managed-mcp.json`, `${configDir}/managed-settings.json`];

// The binary does not change under a running container: once it answered, its version is kept,
// so the readiness probe (every few seconds) does not start a process each time.
let knownVersion;
function claudeVersion() {
  if (knownVersion !== undefined) {
    return Promise.resolve(knownVersion);
  }
  return new Promise((resolve) => {
    execFile("claude", ["--version"], { timeout: 10_000 }, (error, stdout) => {
      knownVersion = error ? undefined : stdout.trim();
      resolve(knownVersion);
    });
  });
}

async function health() {
  const missing = [];
  for (const file of required) {
    try {
      await access(file);
    } catch {
      missing.push(file);
    }
  }
  const version = await claudeVersion();
  return { ok: missing.length === 0 && version !== undefined, claude: version ?? null, missing };
}

const server = createServer(async (request, response) => {
  if (request.method === "GET" && request.url === healthPath) {
    const result = await health();
    response.writeHead(result.ok ? 200 : 503, { "content-type": "application/json" });
    response.end(JSON.stringify(result));
    return;
  }
  response.writeHead(404, { "content-type": "text/plain" });
  response.end("not found\n");
});

server.listen(port, host, () => process.stdout.write(`agent: health on :${server.address().port}${healthPath}\n`));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

import { isSecretName, noSecretEnvValues, noSecretsInConfigMaps, secretAssignments } from "../../../policy/secrets";
import { compliantPodSpec, deployment, T, violations } from "./harness";

describe("no-secret-env-values", () => {
    it("passes secretKeyRef credentials, plain settings and reference variables", async () => {
        const spec = compliantPodSpec({}, {
            env: [
                { name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: "database", key: "password" } } },
                { name: "LOG_LEVEL", value: "info" },
                { name: "API_TOKEN_FILE", value: "/run/secrets/token" },
                { name: "SECRET_NAME", value: "database" },
                { name: "REQUIRE_TOKEN", value: "true" },
                { name: "TOKEN_TTL", value: "15m" },
                { name: "KEY_ROTATION", value: "1h30m" },
            ],
        });
        expect(await violations(noSecretEnvValues, T.deployment, deployment(spec))).toEqual([]);
    });

    it("reports a literal credential without repeating its value", async () => {
        const spec = compliantPodSpec({}, { env: [{ name: "STRIPE_API_KEY", value: "sk_live_not_real" }] });
        const messages = await violations(noSecretEnvValues, T.deployment, deployment(spec));
        expect(messages).toEqual(['Deployment env-pr-1/web: container "web" sets STRIPE_API_KEY to a literal value; use valueFrom.secretKeyRef']);
        expect(messages.join()).not.toContain("sk_live_not_real");
    });

    it("lets configuration allow a name", async () => {
        const spec = compliantPodSpec({}, { env: [{ name: "PUBLIC_KEY", value: "ssh-ed25519 AAAA" }] });
        expect(await violations(noSecretEnvValues, T.deployment, deployment(spec), { allowNames: ["PUBLIC_KEY"] })).toEqual([]);
    });
});

describe("no-secrets-in-configmaps", () => {
    const configMap = (data: Record<string, string>) => ({ metadata: { name: "settings", namespace: "env-pr-1" }, data });

    it("passes settings", async () => {
        expect(await violations(noSecretsInConfigMaps, T.configMap, configMap({ "server-tokens": "false", "app.env": "LOG_LEVEL=info\nPORT=8080" }))).toEqual([]);
    });

    it("reports credential keys and credential assignments in env files", async () => {
        const messages = await violations(noSecretsInConfigMaps, T.configMap, configMap({
            "db-password": "hunter2-not-real",
            "app.env": "PORT=8080\nexport SESSION_SECRET='abc-not-real'\n",
        }));
        expect(messages).toEqual([
            'ConfigMap env-pr-1/settings: data key "db-password" looks like a credential; keep it in a Secret',
            'ConfigMap env-pr-1/settings: data key "app.env" assigns SESSION_SECRET; keep credentials in a Secret',
        ]);
    });
});

describe("isSecretName", () => {
    it.each([
        ["DB_PASSWORD", true], ["apiToken", true], ["GITHUB_TOKEN", true], ["tls.key", true], ["AWS_SECRET_ACCESS_KEY", true],
        ["client-secret", true], ["PASSWORD_FILE", false], ["AWS_ACCESS_KEY_ID", false], ["MONKEY_COUNT", false],
        ["KEYBOARD_LAYOUT", false], ["LOG_LEVEL", false], ["SECRET_NAME", false],
    ])("%s -> %s", (name, expected) => {
        expect(isSecretName(name)).toBe(expected);
    });

    it("finds assignments in env files, ignoring empty and boolean values", () => {
        expect(secretAssignments('A=1\nDB_PASSWORD=""\nUSE_TOKEN=yes\nexport API_KEY=abc\n# TOKEN=x\n')).toEqual(["API_KEY"]);
    });
});

/** Unit tests run with mocks in parallel; integration tests drive the real engine against the
 *  local cluster and run one file at a time (see tools/test.sh). */

// commander (the CLI parser), @kubernetes/client-node 2.x and a few of its dependencies ship only as ES modules. Node 24
// require()s them natively, but jest's own module loader does not (without
// --experimental-vm-modules), so jest compiles just these packages to CommonJS with ts-jest.
const ESM_PACKAGES = ["commander", "@kubernetes/client-node", "openid-client", "oauth4webapi", "jose", "jsonpath-plus", "rfc4648", "socks-proxy-agent", "agent-base"];

const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
    "^.+\\.js$": ["ts-jest", { diagnostics: false, tsconfig: { allowJs: true, module: "commonjs" } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join("|")})/)`],
};

module.exports = {
  testSequencer: "<rootDir>/test/integration/sequencer.js",
  projects: [
    // A first import of the Pulumi SDK under mocks takes seconds on a busy 2-core machine.
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"], testTimeout: 30_000 },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      slowTestThreshold: 120,
    },
  ],
};

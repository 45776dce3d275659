/** Unit tests run with mocks in parallel; integration tests drive the real engine against the
 *  local cluster and run one file at a time (see tools/test.sh). */
// commander (the CLI's parser) ships ES modules only; Node >= 22 loads them with require(), jest's
// module loader does not, so jest transpiles that one package to CommonJS.
const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
    "/node_modules/commander/.+\\.js$": ["ts-jest", { diagnostics: false, tsconfig: { allowJs: true, module: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!commander/)"],
};

module.exports = {
  testSequencer: "<rootDir>/test/integration/sequencer.js",
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      slowTestThreshold: 120,
    },
  ],
};

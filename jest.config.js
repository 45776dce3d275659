/** Unit tests run with mocks in parallel; integration tests drive the real engine against the
 *  local cluster and run one file at a time (see tools/test.sh). */
const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
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

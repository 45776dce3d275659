// Integration test order: the toolchain smoke test first (it says whether anything can work),
// then everything else by name, then the shared platform's own checks and teardown, and the
// cluster restart at the very end (it recreates the local cluster under every other stack).
const Sequencer = require("@jest/test-sequencer").default;

const LAST = ["zz-platform.test.ts", "cluster-restart.test.ts"];
const rank = (file) => {
  if (file.endsWith("smoke.test.ts")) return 0;
  const last = LAST.findIndex((name) => file.endsWith(name));
  return last < 0 ? 1 : 2 + last;
};

class IntegrationSequencer extends Sequencer {
    sort(tests) {
        return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
    }
}

module.exports = IntegrationSequencer;

// Integration test order: the toolchain smoke test first (it says whether anything can work),
// the shared platform's own checks and teardown last, everything else by name in between.
const Sequencer = require("@jest/test-sequencer").default;

const rank = (file) => (file.endsWith("smoke.test.ts") ? 0 : file.endsWith("zz-platform.test.ts") ? 2 : 1);

class IntegrationSequencer extends Sequencer {
    sort(tests) {
        return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
    }
}

module.exports = IntegrationSequencer;

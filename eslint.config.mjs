// Lint rules: typescript-eslint's recommended set, plus the project's own conventions.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "results/**", ".catalyst/**", "coverage/**", "jest.config.js"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Defaults use `??`: `||` turns 0, "" and false into the default.
      "no-restricted-syntax": ["error", {
        selector: "LogicalExpression[operator='||'][right.type=/Literal|ObjectExpression|ArrayExpression/]",
        message: "Use `??` for defaults: `||` also replaces 0, \"\" and false.",
      }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // Plain CommonJS files (jest config, the CLI shim, the test sequencer) load with require().
    files: ["**/*.js"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);

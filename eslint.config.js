// SPDX-License-Identifier: Apache-2.0
// Flat ESLint config: typed typescript-eslint rules over hand-written TypeScript; generated
// proto types and build output are not linted.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

// Package dependency rules the build enforces (docs/architecture.md "Dependency rules"). Each
// rule set is complete for its files: a later flat-config block replaces, not merges, a rule.
// tests/ is the end-to-end test package: all of it is test code.
const testFiles = ["**/*.test.ts", "**/test-utils/**", "testkit/**", "tests/**"];
const noNodeTest = {
  name: "node:test",
  message: "node:test belongs to tests, test-utils/ and @hmx/testkit, never to product code.",
};
const noHypervisor = {
  group: ["@hmx/hypervisor", "@hmx/hypervisor/*"],
  message: "A guest never loads the hypervisor service (only its tests may).",
};
const virtioCore = {
  group: ["@hmx/*", "!@hmx/virtio", "!@hmx/virtio/*", "!@hmx/proto", "!@hmx/proto/*", "@grpc/*"],
  message: "@hmx/virtio is the transport-free VirtIO core: no Argo, hypercall or gRPC code.",
};
const restrict = (paths, patterns) => ({
  "no-restricted-imports": ["error", { paths, patterns }],
});

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "proto/src/gen/**",
      "bench-results/**",
      "deploy/docker/.stage/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "no-console": "error",
      // node:test's test()/describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: [
                "test",
                "describe",
                "it",
                "suite",
                "before",
                "after",
                "beforeEach",
                "afterEach",
              ],
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
  },
  {
    files: ["**/*.test.ts", "scripts/**", "proto/scripts/**", "bench/**", "cli/**"],
    rules: { "no-console": "off" },
  },
  {
    files: ["*/src/**/*.ts"],
    ignores: testFiles,
    rules: restrict([noNodeTest], []),
  },
  {
    files: ["guest-agent/src/**/*.ts"],
    ignores: testFiles,
    rules: restrict([noNodeTest], [noHypervisor]),
  },
  {
    files: ["virtio/src/**/*.ts"],
    rules: restrict([], [virtioCore]),
  },
  {
    files: ["virtio/src/**/*.ts"],
    ignores: testFiles,
    rules: restrict([noNodeTest], [virtioCore]),
  },
  prettier,
);

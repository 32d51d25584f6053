import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The Conduit app the real-app benchmark runs is someone else's code, kept as published (bench/real-app/app/README.md),
// and its Prisma client is generated.
const vendored = ["bench/real-app/app/src/app/", "bench/real-app/app/src/main.ts", "bench/real-app/app/generated/"];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "test/generated/", "prisma/sqlite/", "coverage/", ...vendored] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setImmediate: "readonly",
        performance: "readonly",
        URL: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
);

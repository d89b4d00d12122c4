import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core CI machine: keep parallelism modest, emulator tests do real HTTPS.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Twice the 2 cores of the CI machine: most e2e files spend their time waiting on the
    // CLI child process (and on the emulator's injected delays), so two more files in
    // flight keep both cores busy. Measured on the whole suite: README "Development".
    maxWorkers: 4,
  },
});

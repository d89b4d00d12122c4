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
    // Files share worker processes instead of each importing src/ afresh: about a quarter
    // less CPU for the in-process tests. No test mocks modules or timers; the process-wide
    // state of src/ (redact's secrets) is reset before each file by the setup file.
    isolate: false,
    setupFiles: ['test/setup/per-file.ts'],
  },
});

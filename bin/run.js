#!/usr/bin/env node
// oclif entry point. Exit-code mapping (usage errors → 64) lives in src/cli/main.ts.
import { main } from '../dist/cli/main.js';

await main(process.argv.slice(2), import.meta.url);

/**
 * Runs before every test file. Test files share worker processes (vitest.config.ts:
 * isolate false), so what src/ keeps for the whole process is reset here: the set of
 * secrets redact() hides, which loadConfig and the clients add to. Without this, a
 * value one file registered would turn into *** in another file's output.
 */
import { clearSecrets } from '../../src/redact.js';

clearSecrets();

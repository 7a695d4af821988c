/** Conformance and fuzz cases on yuge-clm920 (suite.ts; replay: FUZZ_SEED=… FUZZ_PATH=… npx vitest run this file). */
import { conformanceSuite } from './suite.js';

conformanceSuite('yuge-clm920');

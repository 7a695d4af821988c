/** Conformance and fuzz cases on quectel-ec200 (suite.ts; replay: FUZZ_SEED=… FUZZ_PATH=… npx vitest run this file). */
import { conformanceSuite } from './suite.js';

conformanceSuite('quectel-ec200');

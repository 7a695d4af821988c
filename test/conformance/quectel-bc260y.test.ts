/** Conformance and fuzz cases on quectel-bc260y (suite.ts; replay: FUZZ_SEED=… FUZZ_PATH=… npx vitest run this file). */
import { conformanceSuite } from './suite.js';

conformanceSuite('quectel-bc260y');
